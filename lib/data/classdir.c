/* Class folders: dir/<class>/<image>. Classes are numbered in sorted
 * folder-name order (of dir itself, or of the training set's folder so that
 * a test set maps its classes by name); images are listed in sorted
 * file-name order. Shared by the PNG and the image-folder readers. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "classdir.h"

void lpci_names_free(lpci_name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        lpci_free(l->names[i]);
    lpci_free(l->names);
    memset(l, 0, sizeof *l);
}

static int names_push(lpci_name_list *l, const char *s)
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

int lpci_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcasecmp(s + n - k, suffix) == 0;
}

/* Sorted entries of `dir`: sub-folders (accept NULL) or regular files whose
 * name `accept` takes. Hidden entries are skipped. An image name that cannot
 * be followed (a dangling or looping symbolic link, a path too long) is an
 * error naming it. */
static lpc_status list_dir(const char *dir, int (*accept)(const char *), lpci_name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return lpci_error(LPC_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (accept && !accept(e->d_name)))
            continue;
        struct stat st;
        int too_long = snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path;
        if (too_long || stat(path, &st) != 0) {
            int err = too_long ? ENAMETOOLONG : errno;
            if (!accept)
                continue;
            /* The message first: closedir frees e. */
            lpc_status s = lpci_error(LPC_E_IO, "%s/%s: cannot read the image: %s%s", dir,
                                      e->d_name, strerror(err),
                                      err == ENOENT || err == ELOOP
                                          ? " (a dangling or looping symbolic link)"
                                          : "");
            closedir(d);
            lpci_names_free(out);
            return s;
        }
        if (!accept ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
            continue;
        if (names_push(out, e->d_name) != 0) {
            closedir(d);
            lpci_names_free(out);
            return lpci_error(LPC_E_NOMEM, "%s: out of memory listing the folder", dir);
        }
    }
    closedir(d);
    if (out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_names);
    return LPC_OK;
}

/* The sorted class folder names of dir (at least one). */
static lpc_status list_classes(const char *dir, lpci_name_list *classes)
{
    lpc_status s = list_dir(dir, NULL, classes);
    if (s == LPC_OK && classes->n == 0)
        s = lpci_error(LPC_E_FORMAT, "%s: no class folders", dir);
    if (s != LPC_OK)
        lpci_names_free(classes);
    return s;
}

lpc_status lpci_list_class_dir(const char *dir, const char *classes_dir,
                               int (*accept)(const char *), const char *what,
                               lpci_class_listing *li)
{
    lpci_name_list here, files;
    memset(li, 0, sizeof *li);
    lpc_status s = list_classes(dir, &here);
    if (s == LPC_OK && classes_dir)
        s = list_classes(classes_dir, &li->classes);
    if (s != LPC_OK) {
        lpci_names_free(&here);
        return s;
    }
    const lpci_name_list *classes = classes_dir ? &li->classes : &here;
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
        s = list_dir(path, accept, &files);
        if (s != LPC_OK)
            break;
        if (files.n == 0)
            s = lpci_error(LPC_E_FORMAT, "%s: class folder has no %s files", path, what);
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
        lpci_names_free(&files);
    }
    if (!classes_dir)
        li->classes = here; /* handed over */
    else
        lpci_names_free(&here);
    if (s != LPC_OK)
        lpci_class_listing_free(li);
    return s;
}

void lpci_class_listing_free(lpci_class_listing *li)
{
    lpci_names_free(&li->paths);
    lpci_names_free(&li->classes);
    lpci_free(li->labels);
    li->labels = NULL;
}

