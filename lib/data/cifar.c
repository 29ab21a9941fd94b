/* CIFAR-10/100 binary batches: fixed-size records of label byte(s) followed
 * by 3072 image bytes (1024 red, 1024 green, 1024 blue, each row-major 32x32),
 * which is already C x H x W. */
#include <stdio.h>
#include <string.h>
#include "parse.h"

#define CIFAR_SIDE 32
#define CIFAR_IMAGE (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR10_TRAIN_FILES 5
/* No official file holds more (CIFAR-100 train.bin has 50000): the bound on
 * what one file may decompress to. */
#define CIFAR_MAX_RECORDS 60000

static size_t label_bytes(lpci_cifar_kind kind) { return kind == LPCI_CIFAR10 ? 1 : 2; }

static int num_classes(lpci_cifar_kind kind)
{
    return kind == LPCI_CIFAR10 ? 10 : kind == LPCI_CIFAR100_FINE ? 100 : 20;
}

lpc_status lpci_cifar_count(size_t len, const char *name, lpci_cifar_kind kind, int64_t *count)
{
    size_t rec = label_bytes(kind) + CIFAR_IMAGE;
    if (len == 0)
        return lpci_error(LPC_E_FORMAT, "%s: empty file", name);
    if (len % rec != 0)
        return lpci_error(LPC_E_FORMAT,
                          "%s: size %zu is not a multiple of the %zu-byte record (%zu records "
                          "and %zu bytes left over)", name, len, rec, len / rec, len % rec);
    *count = (int64_t)(len / rec);
    return LPC_OK;
}

lpc_status lpci_cifar_decode(const uint8_t *buf, int64_t count, const char *name,
                             lpci_cifar_kind kind, uint8_t *images, int32_t *labels)
{
    size_t lb = label_bytes(kind), rec = lb + CIFAR_IMAGE;
    /* CIFAR-100 records start with the coarse label, then the fine one. */
    size_t which = kind == LPCI_CIFAR100_FINE ? 1 : 0;
    int k = num_classes(kind);
    for (int64_t i = 0; i < count; i++) {
        const uint8_t *r = buf + (size_t)i * rec;
        if (r[which] >= k)
            return lpci_error(LPC_E_FORMAT, "%s: record %lld has %s label %d (must be < %d)",
                              name, (long long)i,
                              kind == LPCI_CIFAR10 ? "class" : which ? "fine" : "coarse",
                              r[which], k);
        labels[i] = r[which];
        memcpy(images + (size_t)i * CIFAR_IMAGE, r + lb, CIFAR_IMAGE);
    }
    return LPC_OK;
}

lpc_status lpci_parse_cifar(const uint8_t *buf, size_t len, const char *name,
                            lpci_cifar_kind kind, lpc_dataset **out)
{
    *out = NULL;
    int64_t count = 0;
    lpc_status s = lpci_cifar_count(len, name, kind, &count);
    if (s != LPC_OK)
        return s;
    lpc_dataset *ds;
    s = lpci_dataset_alloc(count, 3, CIFAR_SIDE, CIFAR_SIDE, num_classes(kind), name, &ds);
    if (s != LPC_OK)
        return s;
    s = lpci_cifar_decode(buf, count, name, kind, ds->images, ds->labels);
    if (s != LPC_OK) {
        lpc_dataset_free(ds);
        return s;
    }
    *out = ds;
    return LPC_OK;
}

/* Reads the named batch files of dir and concatenates their records. */
static lpc_status load_files(const char *who, const char *dir, const char *const *names,
                             int nfiles, lpci_cifar_kind kind, lpc_dataset **out)
{
    uint8_t *bufs[CIFAR10_TRAIN_FILES] = {0};
    int64_t counts[CIFAR10_TRAIN_FILES] = {0}, total = 0;
    char paths[CIFAR10_TRAIN_FILES][4096];
    lpc_status s = LPC_OK;
    for (int f = 0; f < nfiles && s == LPC_OK; f++) {
        size_t len = 0;
        if (snprintf(paths[f], sizeof paths[f], "%s/%s", dir, names[f]) >= (int)sizeof paths[f])
            s = lpci_error(LPC_E_ARG, "%s: directory name too long", who);
        if (s == LPC_OK)
            s = lpci_read_file(paths[f], CIFAR_MAX_RECORDS * (label_bytes(kind) + CIFAR_IMAGE),
                               &bufs[f], &len);
        if (s == LPC_OK)
            s = lpci_cifar_count(len, paths[f], kind, &counts[f]);
        total += counts[f];
    }
    lpc_dataset *ds = NULL;
    if (s == LPC_OK)
        s = lpci_dataset_alloc(total, 3, CIFAR_SIDE, CIFAR_SIDE, num_classes(kind), who, &ds);
    int64_t at = 0;
    for (int f = 0; f < nfiles && s == LPC_OK; at += counts[f], f++)
        s = lpci_cifar_decode(bufs[f], counts[f], paths[f], kind,
                              ds->images + (size_t)at * CIFAR_IMAGE, ds->labels + at);
    for (int f = 0; f < nfiles; f++)
        lpci_free(bufs[f]);
    if (s != LPC_OK) {
        lpc_dataset_free(ds);
        return s;
    }
    *out = ds;
    return LPC_OK;
}

lpc_status lpc_dataset_load_cifar10(const char *dir, int train, lpc_dataset **out)
{
    static const char *const train_names[CIFAR10_TRAIN_FILES] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
        "data_batch_5.bin"};
    static const char *const test_names[1] = {"test_batch.bin"};
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_cifar10: out is NULL");
    *out = NULL;
    if (!dir)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_cifar10: dir is NULL");
    return load_files("lpc_dataset_load_cifar10", dir, train ? train_names : test_names,
                      train ? CIFAR10_TRAIN_FILES : 1, LPCI_CIFAR10, out);
}

lpc_status lpc_dataset_load_cifar100(const char *dir, int train, int coarse, lpc_dataset **out)
{
    const char *name = train ? "train.bin" : "test.bin";
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_cifar100: out is NULL");
    *out = NULL;
    if (!dir)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_cifar100: dir is NULL");
    return load_files("lpc_dataset_load_cifar100", dir, &name, 1,
                      coarse ? LPCI_CIFAR100_COARSE : LPCI_CIFAR100_FINE, out);
}
