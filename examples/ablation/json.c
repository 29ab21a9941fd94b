#include "json.h"
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- writer ---- */

void jw_init(jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Separator, indentation and key of the next item at the current depth. */
static void item(jw *w, const char *key)
{
    if (w->count[w->depth]++)
        fputc(',', w->f);
    if (w->depth) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    if (key) {
        put_string(w->f, key);
        fputs(": ", w->f);
    }
}

static void open_nest(jw *w, const char *key, char c)
{
    item(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->count[++w->depth] = 0;
}

static void close_nest(jw *w, char c)
{
    int had = w->count[w->depth];
    if (w->depth)
        w->depth--;
    if (had) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    fputc(c, w->f);
    if (!w->depth)
        fputc('\n', w->f);
}

void jw_obj(jw *w, const char *key) { open_nest(w, key, '{'); }
void jw_arr(jw *w, const char *key) { open_nest(w, key, '['); }
void jw_end_obj(jw *w) { close_nest(w, '}'); }
void jw_end_arr(jw *w) { close_nest(w, ']'); }

void jw_num(jw *w, const char *key, double v)
{
    item(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.12g", v);
    else
        fputs("null", w->f);
}

void jw_int(jw *w, const char *key, long long v)
{
    item(w, key);
    fprintf(w->f, "%lld", v);
}

void jw_str(jw *w, const char *key, const char *s)
{
    item(w, key);
    put_string(w->f, s ? s : "");
}

void jw_null(jw *w, const char *key)
{
    item(w, key);
    fputs("null", w->f);
}

/* ---- reader: recursive descent over the text ---- */

typedef struct {
    const char *p;
    int depth;
} parser;

static void skip_ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')
        ps->p++;
}

static char *parse_string(parser *ps)
{
    if (*ps->p != '"')
        return NULL;
    const char *s = ++ps->p;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    while (out && *s && *s != '"') {
        char c = *s++;
        if (c == '\\') {
            char e = *s++;
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
            if (e == 'u') { /* only the control characters the writer escapes */
                unsigned code;
                if (sscanf(s, "%4x", &code) != 1 || code > 0x7f) {
                    free(out);
                    return NULL;
                }
                c = (char)code;
                s += 4;
            } else if (!e) {
                break;
            }
        }
        if (n + 2 > cap) {
            char *grown = realloc(out, cap *= 2);
            if (!grown)
                free(out);
            out = grown;
            if (!out)
                return NULL;
        }
        out[n++] = c;
    }
    if (!out || *s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    ps->p = s + 1;
    return out;
}

static jv *parse_value(parser *ps);

static int push(jv *v, char *key, jv *child)
{
    jv **items = realloc(v->items, (size_t)(v->n + 1) * sizeof *items);
    if (!items)
        return 0;
    v->items = items;
    if (v->type == JV_OBJ) {
        char **keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *keys);
        if (!keys)
            return 0;
        v->keys = keys;
        keys[v->n] = key;
    }
    items[v->n++] = child;
    return 1;
}

static jv *parse_container(parser *ps, jv *v, char close)
{
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (v->type == JV_OBJ) {
            if (!(key = parse_string(ps)))
                break;
            skip_ws(ps);
            if (*ps->p++ != ':') {
                free(key);
                break;
            }
        }
        jv *child = parse_value(ps);
        if (!child || !push(v, key, child)) {
            free(key);
            jv_free(child);
            break;
        }
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return v;
        }
        break;
    }
    jv_free(v);
    return NULL;
}

static jv *parse_value(parser *ps)
{
    skip_ws(ps);
    if (++ps->depth > 64)
        return NULL;
    jv *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    const char *p = ps->p;
    jv *out = v;
    if (*p == '{' || *p == '[') {
        v->type = *p == '{' ? JV_OBJ : JV_ARR;
        out = parse_container(ps, v, *p == '{' ? '}' : ']');
    } else if (*p == '"') {
        v->type = JV_STR;
        if (!(v->str = parse_string(ps)))
            out = NULL;
    } else if (strncmp(p, "null", 4) == 0) {
        ps->p += 4;
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        v->type = JV_BOOL;
        v->num = *p == 't';
        ps->p += *p == 't' ? 4 : 5;
    } else {
        char *end;
        v->type = JV_NUM;
        v->num = strtod(p, &end);
        if (end == p)
            out = NULL;
        ps->p = end;
    }
    if (!out && v->type != JV_OBJ && v->type != JV_ARR)
        jv_free(v);
    ps->depth--;
    return out;
}

jv *jv_parse(const char *text)
{
    parser ps = {text, 0};
    jv *v = parse_value(&ps);
    if (v) {
        skip_ws(&ps);
        if (*ps.p) {
            jv_free(v);
            v = NULL;
        }
    }
    return v;
}

jv *jv_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    jv *v = jv_parse(buf);
    free(buf);
    return v;
}

void jv_free(jv *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        jv_free(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->str);
    free(v);
}

const jv *jv_get(const jv *v, const char *path)
{
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const jv *next = NULL;
        for (int i = 0; v->type == JV_OBJ && i < v->n; i++)
            if (strlen(v->keys[i]) == len && strncmp(v->keys[i], path, len) == 0)
                next = v->items[i];
        v = next;
        path = dot ? dot + 1 : NULL;
    }
    return v;
}

double jv_num(const jv *v, const char *path, double fallback)
{
    const jv *x = jv_get(v, path);
    return x && x->type == JV_NUM ? x->num : fallback;
}

const char *jv_str(const jv *v, const char *path)
{
    const jv *x = jv_get(v, path);
    return x && x->type == JV_STR ? x->str : NULL;
}

int ab_write_atomic(const char *path, const char *text, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}
