/* JSON for result.json and summary.json through cJSON (Debian's
 * libcjson-dev): a streaming-style writer that builds a cJSON tree and
 * prints it when the outermost object closes, and dotted-path getters on a
 * parsed tree. */
#ifndef AB_JSON_H
#define AB_JSON_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* ---- writer: keys are NULL inside arrays; non-finite numbers become null ---- */
#define JW_MAX_DEPTH 32
typedef struct {
    FILE *f;
    int depth, failed; /* failed: out of memory or unbalanced; nothing is printed */
    cJSON *stack[JW_MAX_DEPTH];
} jw;

void jw_init(jw *w, FILE *f);
void jw_obj(jw *w, const char *key); /* opens an object */
void jw_arr(jw *w, const char *key); /* opens an array */
void jw_end_obj(jw *w);              /* closing the outermost one prints the tree to f */
void jw_end_arr(jw *w);
void jw_num(jw *w, const char *key, double v);
void jw_int(jw *w, const char *key, long long v);
void jw_str(jw *w, const char *key, const char *s);
void jw_null(jw *w, const char *key);

/* ---- reader ---- */
typedef cJSON jv;
/* Reads and parses a JSON file of at most max_bytes: a regular file only
 * (a FIFO, device or folder is refused without waiting on it). NULL when it
 * cannot be read (why: the cause) or is larger or not valid JSON (why:
 * "damaged: ..." with the size or the byte offset). */
jv *jv_load(const char *path, size_t max_bytes, char *why, size_t why_size);
void jv_free(jv *v);
/* Member of an object by a dotted path ("final.train.R"), NULL when absent. */
const jv *jv_get(const jv *v, const char *path);
/* Number at path, or `fallback` when absent or not a number (null). */
double jv_num(const jv *v, const char *path, double fallback);
/* String at path, or NULL. */
const char *jv_str(const jv *v, const char *path);
#endif
