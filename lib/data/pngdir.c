/* PNG class folders: dir/<class>/<image>.png. Classes are numbered in sorted
 * folder-name order (of dir itself, or of the training set's folder so that
 * a test set maps its classes by name); images are read in sorted file-name
 * order. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "parse.h"

/* Largest PNG file read (a gzip-wrapped file could otherwise inflate without bound). */
#define PNG_MAX_BYTES ((size_t)256 << 20)

typedef struct {
    char **names;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        lpci_free(l->names[i]);
    lpci_free(l->names);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **p = lpci_realloc(l->names, cap * sizeof *p);
        if (!p)
            return -1;
        l->names = p;
        l->cap = cap;
    }
    size_t len = strlen(s) + 1;
    char *copy = lpci_malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    l->names[l->n++] = copy;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_png_name(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcasecmp(s + n - 4, ".png") == 0;
}

/* Sorted entries of `dir`: sub-folders (want_dirs) or regular *.png files.
 * Hidden entries are skipped. A *.png that cannot be followed (a dangling
 * or looping symbolic link, a path too long) is an error naming it. */
static lpc_status list_dir(const char *dir, int want_dirs, name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return lpci_error(LPC_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (!want_dirs && !is_png_name(e->d_name)))
            continue;
        struct stat st;
        int too_long = snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path;
        if (too_long || stat(path, &st) != 0) {
            int err = too_long ? ENAMETOOLONG : errno;
            if (want_dirs)
                continue;
            /* The message first: closedir frees e. */
            lpc_status s = lpci_error(LPC_E_IO, "%s/%s: cannot read the image: %s%s", dir,
                                      e->d_name, strerror(err),
                                      err == ENOENT || err == ELOOP
                                          ? " (a dangling or looping symbolic link)"
                                          : "");
            closedir(d);
            names_free(out);
            return s;
        }
        if (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
            continue;
        if (names_push(out, e->d_name) != 0) {
            closedir(d);
            names_free(out);
            return lpci_error(LPC_E_NOMEM, "%s: out of memory listing the folder", dir);
        }
    }
    closedir(d);
    if (out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_names);
    return LPC_OK;
}

/* Every image path, with its class index, and the class names. */
typedef struct {
    name_list paths;
    int32_t *labels;
    name_list classes; /* sorted; the label is the index here */
} png_listing;

/* The sorted class folder names of dir (at least one). */
static lpc_status list_classes(const char *dir, name_list *classes)
{
    lpc_status s = list_dir(dir, 1, classes);
    if (s == LPC_OK && classes->n == 0)
        s = lpci_error(LPC_E_FORMAT, "%s: no class folders", dir);
    if (s != LPC_OK)
        names_free(classes);
    return s;
}

/* classes_dir NULL: dir's own folders are the classes. */
static lpc_status list_images(const char *dir, const char *classes_dir, png_listing *li)
{
    name_list here, files;
    memset(li, 0, sizeof *li);
    lpc_status s = list_classes(dir, &here);
    if (s == LPC_OK && classes_dir)
        s = list_classes(classes_dir, &li->classes);
    if (s != LPC_OK) {
        names_free(&here);
        return s;
    }
    const name_list *classes = classes_dir ? &li->classes : &here;
    char path[4096];
    for (size_t h = 0; h < here.n && s == LPC_OK; h++) {
        snprintf(path, sizeof path, "%s/%s", dir, here.names[h]);
        const char *key = here.names[h];
        char **hit = bsearch(&key, classes->names, classes->n, sizeof *classes->names,
                             cmp_names);
        if (!hit) {
            s = lpci_error(LPC_E_FORMAT, "%s: class '%s' is not a class of %s", path,
                           here.names[h], classes_dir);
            break;
        }
        size_t k = (size_t)(hit - classes->names);
        s = list_dir(path, 0, &files);
        if (s != LPC_OK)
            break;
        if (files.n == 0)
            s = lpci_error(LPC_E_FORMAT, "%s: class folder has no .png files", path);
        int32_t *lab = s == LPC_OK ? lpci_realloc(li->labels, (li->paths.n + files.n) *
                                                                 sizeof *lab)
                                   : NULL;
        if (s == LPC_OK && !lab)
            s = lpci_error(LPC_E_NOMEM, "%s: out of memory", dir);
        if (lab)
            li->labels = lab;
        for (size_t i = 0; i < files.n && s == LPC_OK; i++) {
            char file[4096];
            if (snprintf(file, sizeof file, "%s/%s", path, files.names[i]) >= (int)sizeof file)
                s = lpci_error(LPC_E_ARG, "%s: path too long", path);
            else if (names_push(&li->paths, file) != 0)
                s = lpci_error(LPC_E_NOMEM, "%s: out of memory", dir);
            else
                li->labels[li->paths.n - 1] = (int32_t)k;
        }
        names_free(&files);
    }
    if (!classes_dir)
        li->classes = here; /* handed over */
    else
        names_free(&here);
    if (s != LPC_OK) {
        names_free(&li->paths);
        names_free(&li->classes);
        lpci_free(li->labels);
        li->labels = NULL;
    }
    return s;
}

/* Decodes one file and checks it against the first image's layout. */
static lpc_status load_one(const char *path, lpc_dataset *ds, int64_t i)
{
    uint8_t *buf, *px;
    size_t len;
    int c, h, w;
    lpc_status s = lpci_read_file(path, PNG_MAX_BYTES, &buf, &len);
    if (s != LPC_OK)
        return s;
    s = lpci_parse_png(buf, len, path, &c, &h, &w, &px);
    lpci_free(buf);
    if (s != LPC_OK)
        return s;
    if (c != ds->c || h != ds->h || w != ds->w)
        s = lpci_error(LPC_E_FORMAT, "%s: image is %dx%dx%d (CxHxW) but the first image is "
                       "%dx%dx%d", path, c, h, w, ds->c, ds->h, ds->w);
    else
        memcpy(ds->images + (size_t)i * lpci_dataset_image_bytes(ds), px,
               lpci_dataset_image_bytes(ds));
    lpci_free(px);
    return s;
}

static lpc_status load_pngdir(const char *dir, const char *classes_dir, lpc_dataset **out)
{
    png_listing li;
    lpc_status s = list_images(dir, classes_dir, &li);
    if (s != LPC_OK)
        return s;
    /* The first image fixes the layout of the whole set. */
    uint8_t *buf, *px = NULL;
    size_t len;
    int c = 0, h = 0, w = 0;
    s = lpci_read_file(li.paths.names[0], PNG_MAX_BYTES, &buf, &len);
    if (s == LPC_OK) {
        s = lpci_parse_png(buf, len, li.paths.names[0], &c, &h, &w, &px);
        lpci_free(buf);
        lpci_free(px);
    }
    lpc_dataset *ds = NULL;
    if (s == LPC_OK)
        s = lpci_dataset_alloc((int64_t)li.paths.n, c, h, w, (int)li.classes.n, dir, &ds);
    if (s == LPC_OK) {
        /* The names move into the dataset (lpc_dataset_class_name). */
        ds->class_names = li.classes.names;
        li.classes.names = NULL;
        li.classes.n = 0;
    }
    for (size_t i = 0; i < li.paths.n && s == LPC_OK; i++) {
        s = load_one(li.paths.names[i], ds, (int64_t)i);
        ds->labels[i] = li.labels[i];
    }
    names_free(&li.paths);
    names_free(&li.classes);
    lpci_free(li.labels);
    if (s != LPC_OK) {
        lpc_dataset_free(ds);
        return s;
    }
    *out = ds;
    return LPC_OK;
}

lpc_status lpc_dataset_load_pngdir(const char *dir, lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_pngdir: out is NULL");
    *out = NULL;
    if (!dir)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_pngdir: dir is NULL");
    return load_pngdir(dir, NULL, out);
}

lpc_status lpc_dataset_load_pngdir_classes(const char *dir, const char *classes_dir,
                                           lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_pngdir_classes: out is NULL");
    *out = NULL;
    if (!dir || !classes_dir)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_pngdir_classes: dir or classes_dir "
                          "is NULL");
    return load_pngdir(dir, classes_dir, out);
}
