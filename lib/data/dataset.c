/* The in-memory dataset: uint8 N x C x H x W images and int32 labels. */
#include <math.h>
#include <string.h>
#include "parse.h"

lpc_status lpci_dataset_alloc(int64_t n, int c, int h, int w, int num_classes, const char *who,
                              lpc_dataset **out)
{
    *out = NULL;
    if (n < 1 || c < 1 || h < 1 || w < 1 || num_classes < 1)
        return lpci_error(LPC_E_ARG,
                          "%s: invalid dataset size n=%lld c=%d h=%d w=%d classes=%d", who,
                          (long long)n, c, h, w, num_classes);
    size_t img, total, lab;
    if (lpci_mul_size((size_t)c, (size_t)h, &img) || lpci_mul_size(img, (size_t)w, &img) ||
        (uint64_t)n > SIZE_MAX || lpci_mul_size(img, (size_t)n, &total) ||
        lpci_mul_size((size_t)n, sizeof(int32_t), &lab))
        return lpci_error(LPC_E_ARG, "%s: dataset of %lld x %dx%dx%d is too large", who,
                          (long long)n, c, h, w);
    lpc_dataset *ds = lpci_calloc(1, sizeof *ds);
    if (!ds)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    ds->images = lpci_malloc(total);
    ds->labels = lpci_malloc(lab);
    if (!ds->images || !ds->labels) {
        lpc_dataset_free(ds);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for %zu bytes of images", who, total);
    }
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->num_classes = num_classes;
    *out = ds;
    return LPC_OK;
}

lpc_status lpc_dataset_from_memory(const uint8_t *images, const int32_t *labels, int64_t n,
                                   int c, int h, int w, int num_classes, lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_from_memory: out is NULL");
    *out = NULL;
    if (!images || !labels)
        return lpci_error(LPC_E_ARG, "lpc_dataset_from_memory: images or labels is NULL");
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= num_classes)
            return lpci_error(LPC_E_ARG,
                              "lpc_dataset_from_memory: label %d of sample %lld is not in [0, %d)",
                              (int)labels[i], (long long)i, num_classes);
    lpc_dataset *ds;
    lpc_status s = lpci_dataset_alloc(n, c, h, w, num_classes, "lpc_dataset_from_memory", &ds);
    if (s != LPC_OK)
        return s;
    memcpy(ds->images, images, lpci_dataset_image_bytes(ds) * (size_t)n);
    memcpy(ds->labels, labels, (size_t)n * sizeof(int32_t));
    *out = ds;
    return LPC_OK;
}

void lpc_dataset_free(lpc_dataset *ds)
{
    if (!ds)
        return;
    for (int k = 0; ds->class_names && k < ds->num_classes; k++)
        lpci_free(ds->class_names[k]);
    lpci_free(ds->class_names);
    lpci_free(ds->images);
    lpci_free(ds->labels);
    lpci_free(ds);
}

int64_t lpc_dataset_size(const lpc_dataset *ds) { return ds ? ds->n : -1; }
int lpc_dataset_channels(const lpc_dataset *ds) { return ds ? ds->c : -1; }
int lpc_dataset_height(const lpc_dataset *ds) { return ds ? ds->h : -1; }
int lpc_dataset_width(const lpc_dataset *ds) { return ds ? ds->w : -1; }
int lpc_dataset_num_classes(const lpc_dataset *ds) { return ds ? ds->num_classes : -1; }
const uint8_t *lpc_dataset_images(const lpc_dataset *ds) { return ds ? ds->images : NULL; }
const int32_t *lpc_dataset_labels(const lpc_dataset *ds) { return ds ? ds->labels : NULL; }

const char *lpc_dataset_class_name(const lpc_dataset *ds, int k)
{
    if (!ds || !ds->class_names || k < 0 || k >= ds->num_classes)
        return NULL;
    return ds->class_names[k];
}

lpc_status lpc_dataset_truncate(lpc_dataset *ds, int64_t n)
{
    if (!ds)
        return lpci_error(LPC_E_ARG, "lpc_dataset_truncate: dataset is NULL");
    if (n < 1 || n > ds->n)
        return lpci_error(LPC_E_ARG, "lpc_dataset_truncate: %lld is not in [1, %lld]",
                          (long long)n, (long long)ds->n);
    if (n == ds->n)
        return LPC_OK;
    /* Give the tail back; a failed shrink just keeps the larger blocks. */
    uint8_t *img = lpci_realloc(ds->images, lpci_dataset_image_bytes(ds) * (size_t)n);
    if (img)
        ds->images = img;
    int32_t *lab = lpci_realloc(ds->labels, (size_t)n * sizeof(int32_t));
    if (lab)
        ds->labels = lab;
    ds->n = n;
    return LPC_OK;
}

lpc_status lpc_dataset_channel_stats(const lpc_dataset *ds, double *mean, double *std)
{
    if (!ds || !mean || !std)
        return lpci_error(LPC_E_ARG, "lpc_dataset_channel_stats: NULL argument");
    const int64_t n = ds->n;
    const size_t plane = (size_t)ds->h * (size_t)ds->w, img = lpci_dataset_image_bytes(ds);
    for (int ch = 0; ch < ds->c; ch++) {
        /* Exact integer sums: the reduction order cannot change the result. */
        uint64_t s = 0, ss = 0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) reduction(+ : s, ss)
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = ds->images + (size_t)i * img + (size_t)ch * plane;
            uint64_t a = 0, b = 0;
            for (size_t k = 0; k < plane; k++) {
                a += p[k];
                b += (uint64_t)p[k] * p[k];
            }
            s += a;
            ss += b;
        }
        double count = (double)n * (double)plane;
        double m = (double)s / count;
        double var = (double)ss / count - m * m;
        mean[ch] = m / 255.0;
        std[ch] = sqrt(var > 0.0 ? var : 0.0) / 255.0;
    }
    return LPC_OK;
}
