#include "json.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "../common/files.h"

/* ---- writer ---- */

void jw_init(jw *w, FILE *f)
{
    *w = (jw){.f = f};
}

/* Adds item under key to the innermost open container (or makes it the root). */
static void add(jw *w, const char *key, cJSON *item)
{
    if (!item) {
        w->failed = 1;
        return;
    }
    if (w->depth == 0) {
        cJSON_Delete(item); /* only objects and arrays may be roots */
        w->failed = 1;
    } else if (cJSON_IsArray(w->stack[w->depth - 1])) {
        cJSON_AddItemToArray(w->stack[w->depth - 1], item);
    } else {
        cJSON_AddItemToObject(w->stack[w->depth - 1], key ? key : "", item);
    }
}

static void open_nest(jw *w, const char *key, cJSON *item)
{
    if (!item || w->depth == JW_MAX_DEPTH) {
        cJSON_Delete(item);
        w->failed = 1;
        return;
    }
    if (w->depth > 0)
        add(w, key, item);
    w->stack[w->depth++] = item;
}

static void close_nest(jw *w)
{
    if (w->depth == 0) {
        w->failed = 1;
        return;
    }
    if (--w->depth > 0)
        return;
    char *text = w->failed ? NULL : cJSON_Print(w->stack[0]);
    if (text) {
        fputs(text, w->f);
        fputc('\n', w->f);
    } else {
        w->failed = 1;
    }
    cJSON_free(text);
    cJSON_Delete(w->stack[0]);
}

void jw_obj(jw *w, const char *key) { open_nest(w, key, cJSON_CreateObject()); }
void jw_arr(jw *w, const char *key) { open_nest(w, key, cJSON_CreateArray()); }
void jw_end_obj(jw *w) { close_nest(w); }
void jw_end_arr(jw *w) { close_nest(w); }

void jw_num(jw *w, const char *key, double v)
{
    add(w, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

void jw_int(jw *w, const char *key, long long v)
{
    add(w, key, cJSON_CreateNumber((double)v));
}

void jw_str(jw *w, const char *key, const char *s)
{
    add(w, key, cJSON_CreateString(s ? s : ""));
}

void jw_null(jw *w, const char *key)
{
    add(w, key, cJSON_CreateNull());
}

/* ---- reader ---- */

static jv *fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why)
        vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return NULL;
}

jv *jv_load(const char *path, size_t max_bytes, char *why, size_t why_size)
{
    size_t size = 0;
    FILE *f = ex_fopen_regular(path, &size, why, why_size);
    if (!f)
        return NULL;
    if (size > max_bytes) {
        fclose(f);
        return fail(why, why_size, "damaged: %zu bytes, more than the %zu its settings allow",
                    size, max_bytes);
    }
    char *buf = malloc(size + 1);
    size_t got = buf ? fread(buf, 1, size + 1, f) : 0;
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || err || got != size) {
        free(buf);
        return fail(why, why_size, "%s", !buf ? strerror(ENOMEM) : err ? strerror(err)
                                                                   : "it changed while read");
    }
    buf[size] = '\0';
    const char *end = NULL;
    jv *v = cJSON_ParseWithLengthOpts(buf, size, &end, 0);
    if (!v) {
        long at = end ? (long)(end - buf) : 0;
        free(buf);
        return fail(why, why_size, "damaged: not valid JSON near byte %ld of %ld", at, (long)size);
    }
    /* Only whitespace may follow the value. */
    while (end && (size_t)(end - buf) < size && strchr(" \t\r\n", *end))
        end++;
    if (end && (size_t)(end - buf) < size) {
        long at = (long)(end - buf);
        cJSON_Delete(v);
        free(buf);
        return fail(why, why_size, "damaged: trailing data at byte %ld of %ld", at, (long)size);
    }
    free(buf);
    return v;
}

void jv_free(jv *v)
{
    cJSON_Delete(v);
}

const jv *jv_get(const jv *v, const char *path)
{
    char key[256];
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof key || !cJSON_IsObject(v))
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        v = cJSON_GetObjectItemCaseSensitive(v, key);
        path = dot ? dot + 1 : NULL;
    }
    return v;
}

double jv_num(const jv *v, const char *path, double fallback)
{
    const jv *x = jv_get(v, path);
    return cJSON_IsNumber(x) ? x->valuedouble : fallback;
}

const char *jv_str(const jv *v, const char *path)
{
    const jv *x = jv_get(v, path);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}
