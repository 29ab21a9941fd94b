#include "options.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "imagedir[-HxW[xC][cF]]:DIR": JPEG/PNG class folders DIR/train and
 * DIR/test, resized to H x W and converted to C channels when given; F < 1:
 * the test set through torchvision's Resize + CenterCrop (the training set
 * is resized whole, for the batcher's crops). `size` is the text between
 * "imagedir" and the colon. */
static int parse_image_size(const char *size, size_t len, lpc_imagedir_options *o)
{
    char buf[64], *p = buf, *end;
    if (len == 0)
        return 1;
    if (len >= sizeof buf || size[0] != '-')
        return 0;
    memcpy(buf, size, len);
    buf[len] = '\0';
    long v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (*p != (i ? 'x' : '-'))
            break;
        v[i] = strtol(p + 1, &end, 10);
        if (end == p + 1 || v[i] < 1 || v[i] > 16384)
            return 0;
        p = end;
    }
    if (!v[1])
        return 0;
    o->height = (int)v[0];
    o->width = (int)v[1];
    o->channels = (int)v[2];
    if (*p == 'c') {
        o->center_crop = strtod(p + 1, &end);
        if (end == p + 1 || !(o->center_crop >= 0.05 && o->center_crop <= 1))
            return 0;
        p = end;
    }
    return *p == '\0';
}

static lpc_status load_imagedir(const char *size, size_t len, const char *dir, int train,
                                lpc_dataset **out)
{
    lpc_imagedir_options o;
    lpc_imagedir_options_init(&o);
    if (!parse_image_size(size, len, &o)) {
        fprintf(stderr, "error: image folder size '%.*s' is not -HxW, -HxWxC (C 1 or 3) with "
                "an optional cF (centre crop fraction F of the test images in [0.05, 1])\n",
                (int)len, size);
        return LPC_E_ARG;
    }
    if (train)
        o.center_crop = 1.0;
    /* A test set's classes are the training folders' names (it may lack one). */
    char path[4096], classes[4096];
    snprintf(path, sizeof path, "%s/%s", dir, train ? "train" : "test");
    snprintf(classes, sizeof classes, "%s/train", dir);
    o.classes_dir = train ? NULL : classes;
    return lpc_dataset_load_imagedir(path, &o, out);
}

static lpc_status load_dataset(const char *spec, int train, lpc_dataset **out)
{
    const char *colon = strchr(spec, ':');
    const char *dir = colon ? colon + 1 : NULL;
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len == 13 && strncmp(spec, "fashion-mnist", len) == 0)
        return lpc_dataset_load_mnist_dir(dir, train, out);
    if (len == 5 && strncmp(spec, "mnist", len) == 0 && dir)
        return lpc_dataset_load_mnist_dir(dir, train, out);
    if (len == 7 && strncmp(spec, "cifar10", len) == 0 && dir)
        return lpc_dataset_load_cifar10(dir, train, out);
    if (len == 8 && strncmp(spec, "cifar100", len) == 0 && dir)
        return lpc_dataset_load_cifar100(dir, train, 0, out);
    if (len == 15 && strncmp(spec, "cifar100-coarse", len) == 0 && dir)
        return lpc_dataset_load_cifar100(dir, train, 1, out);
    if (len == 6 && strncmp(spec, "pngdir", len) == 0 && dir) {
        /* A PNG tree has DIR/train and DIR/test; test classes are the
         * training folders' names (a test set may lack a class). */
        char path[4096], classes[4096];
        snprintf(path, sizeof path, "%s/%s", dir, train ? "train" : "test");
        snprintf(classes, sizeof classes, "%s/train", dir);
        return train ? lpc_dataset_load_pngdir(path, out)
                     : lpc_dataset_load_pngdir_classes(path, classes, out);
    }
    if (len >= 8 && strncmp(spec, "imagedir", 8) == 0 && dir)
        return load_imagedir(spec + 8, len - 8, dir, train, out);
    fprintf(stderr, "error: unknown dataset '%s' (fashion-mnist, mnist:DIR, cifar10:DIR, "
                    "cifar100:DIR, cifar100-coarse:DIR, pngdir:DIR, imagedir[-HxW[xC][cF]]:DIR)\n",
            spec);
    return LPC_E_ARG;
}

void ex_report_empty_classes(const char *spec, int train, const lpc_dataset *ds)
{
    int k = lpc_dataset_num_classes(ds), empty = 0;
    int64_t n = lpc_dataset_size(ds);
    const int32_t *y = lpc_dataset_labels(ds);
    unsigned char *seen = calloc((size_t)k, 1);
    if (!seen)
        return;
    for (int64_t i = 0; i < n; i++)
        seen[y[i]] = 1;
    for (int c = 0; c < k; c++) {
        if (seen[c])
            continue;
        if (empty++ == 0)
            fprintf(stderr, "%s: the %s set of %s has no sample of class", train ? "warning" : "note",
                    train ? "training" : "test", spec);
        const char *name = lpc_dataset_class_name(ds, c);
        fprintf(stderr, "%s %d%s%s%s", empty > 1 ? "," : "", c, name ? " (" : "", name ? name : "",
                name ? ")" : "");
    }
    if (empty)
        fprintf(stderr, " (%d of %d classes)\n", empty, k);
    free(seen);
}

const char *ex_status_reason(lpc_status s)
{
    const char *why = lpc_last_error();
    if (why && why[0])
        return why;
    return s == LPC_E_NOMEM ? "out of memory" : "the message above says why";
}

int ex_enough_classes(const char *spec, const lpc_dataset *ds)
{
    int k = lpc_dataset_num_classes(ds);
    if (k >= 2)
        return 1;
    const char *name = k == 1 ? lpc_dataset_class_name(ds, 0) : NULL;
    fprintf(stderr, "error: the training set of %s has %d class%s%s%s%s; a classifier needs at "
            "least 2\n", spec, k, k == 1 ? "" : "es", name ? " (" : "", name ? name : "",
            name ? ")" : "");
    return 0;
}

lpc_status ex_load_dataset(const char *spec, int train, lpc_dataset **out)
{
    lpc_status s = load_dataset(spec, train, out);
    if (s == LPC_OK)
        ex_report_empty_classes(spec, train, *out);
    return s;
}

int ex_parse_backbone(const char *name, ex_backbone *out)
{
    static const struct { const char *name; ex_backbone b; } table[] = {
        {"mlp", EX_BACKBONE_MLP}, {"resnet-small", EX_BACKBONE_RESNET_SMALL},
        {"resnet18", EX_BACKBONE_RESNET18}, {"resnet50", EX_BACKBONE_RESNET50},
        {"wrn50-2", EX_BACKBONE_WRN50_2}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *out = table[i].b;
            return 1;
        }
    fprintf(stderr, "error: unknown backbone '%s' (mlp, resnet-small, resnet18, resnet50, "
                    "wrn50-2)\n", name);
    return 0;
}

int ex_parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "error: %s needs an integer in [%ld, %ld], got '%s'\n", opt, lo, hi,
                s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

int ex_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "error: %s needs a number in [%g, %g], got '%s'\n", opt, lo, hi,
                s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

int ex_parse_widths(const char *s, int widths[3])
{
    long v[3];
    char buf[64];
    if (!s || strlen(s) >= sizeof buf)
        goto bad;
    strcpy(buf, s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < 3; i++, tok = strtok_r(NULL, ",", &save))
        if (!tok || !ex_parse_long("--widths", tok, 1, 65536, &v[i]))
            goto bad;
    if (tok)
        goto bad;
    for (int i = 0; i < 3; i++)
        widths[i] = (int)v[i];
    return 1;
bad:
    fprintf(stderr, "error: --widths needs MID,WIDE,NARROW (e.g. 64,128,16)\n");
    return 0;
}

int ex_parse_protocol(const char *s, lpc_protocol *out)
{
    if (s && strcmp(s, "paper") == 0)
        *out = LPC_PROTOCOL_PAPER;
    else if (s && strcmp(s, "compressed") == 0)
        *out = LPC_PROTOCOL_COMPRESSED;
    else if (s && strcmp(s, "ramp") == 0)
        *out = LPC_PROTOCOL_RAMP;
    else {
        fprintf(stderr, "error: --protocol is paper, compressed or ramp\n");
        return 0;
    }
    return 1;
}
