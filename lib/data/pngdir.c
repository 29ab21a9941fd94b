/* PNG class folders: dir/<class>/<image>.png, listed by classdir.c (classes
 * in sorted folder-name order, images in sorted file-name order). */
#include <stdio.h>
#include <string.h>
#include "classdir.h"

/* Largest PNG file read (a gzip-wrapped file could otherwise inflate without bound). */
#define PNG_MAX_BYTES ((size_t)256 << 20)

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

static int is_png_name(const char *s) { return lpci_has_suffix(s, ".png"); }

static lpc_status load_pngdir(const char *dir, const char *classes_dir, lpc_dataset **out)
{
    lpci_class_listing li;
    lpc_status s = lpci_list_class_dir(dir, classes_dir, is_png_name, ".png", &li);
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
    lpci_class_listing_free(&li);
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
