/* A tiny JSON writer (for result.json and summary.json) and a reader for the
 * files it writes: objects, arrays, numbers, strings, true/false/null. */
#ifndef AB_JSON_H
#define AB_JSON_H
#include <stdio.h>

/* ---- writer: keys are NULL inside arrays; non-finite numbers become null ---- */
#define JW_MAX_DEPTH 32
typedef struct {
    FILE *f;
    int depth, count[JW_MAX_DEPTH];
} jw;

void jw_init(jw *w, FILE *f);
void jw_obj(jw *w, const char *key); /* opens an object */
void jw_arr(jw *w, const char *key); /* opens an array */
void jw_end_obj(jw *w);
void jw_end_arr(jw *w);
void jw_num(jw *w, const char *key, double v);
void jw_int(jw *w, const char *key, long long v);
void jw_str(jw *w, const char *key, const char *s);
void jw_null(jw *w, const char *key);

/* ---- reader ---- */
typedef enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ } jv_type;
typedef struct jv jv;
struct jv {
    jv_type type;
    double num;  /* JV_NUM, JV_BOOL (0/1) */
    char *str;   /* JV_STR */
    int n;       /* JV_ARR, JV_OBJ: number of items */
    char **keys; /* JV_OBJ */
    jv **items;
};

/* Parses a whole text; NULL on a syntax error or no memory. */
jv *jv_parse(const char *text);
/* Reads and parses a file; NULL when it cannot be read or parsed. */
jv *jv_load(const char *path);
void jv_free(jv *v);
/* Member of an object by a dotted path ("final.train.R"), NULL when absent. */
const jv *jv_get(const jv *v, const char *path);
/* Number at path, or `fallback` when absent or not a number (null). */
double jv_num(const jv *v, const char *path, double fallback);
/* String at path, or NULL. */
const char *jv_str(const jv *v, const char *path);

/* Writes text to path atomically (path.tmp, fsync, rename); 0 on success. */
int ab_write_atomic(const char *path, const char *text, size_t len);
#endif
