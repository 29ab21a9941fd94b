/* IDX files (MNIST, Fashion-MNIST): big-endian header of magic 0x000008NN
 * (0x08 = unsigned bytes, NN = number of dimensions) and one 32-bit size per
 * dimension, then the bytes. Images are n x rows x cols, labels n. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "parse.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define MNIST_CLASSES 10

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks magic and dimensions; *count = dim 0, *item = product of the rest. */
static lpc_status idx_header(const uint8_t *b, size_t len, const char *name, uint32_t magic,
                             const char *what, uint32_t *dims, uint64_t *count)
{
    int nd = (int)(magic & 0xffu);
    size_t hdr = 4 + 4 * (size_t)nd;
    if (len < 4)
        return lpci_error(LPC_E_FORMAT, "%s: %zu bytes is too short for an IDX header", name,
                          len);
    if (be32(b) != magic)
        return lpci_error(LPC_E_FORMAT, "%s: magic 0x%08x is not the IDX %s magic 0x%08x", name,
                          (unsigned)be32(b), what, (unsigned)magic);
    if (len < hdr)
        return lpci_error(LPC_E_FORMAT, "%s: header truncated (%zu of %zu bytes)", name, len,
                          hdr);
    uint64_t item = 1;
    for (int i = 0; i < nd; i++) {
        dims[i] = be32(b + 4 + 4 * i);
        if (dims[i] == 0)
            return lpci_error(LPC_E_FORMAT, "%s: dimension %d is zero", name, i);
        if (i > 0) {
            if (dims[i] > 65536)
                return lpci_error(LPC_E_FORMAT, "%s: dimension %d is %u (images that large "
                                  "are not supported)", name, i, (unsigned)dims[i]);
            item *= dims[i];
        }
    }
    /* Both factors are below 2^32, so the product fits in 64 bits. */
    uint64_t body = len - hdr, want = (uint64_t)dims[0] * item;
    if (body < want)
        return lpci_error(LPC_E_FORMAT, "%s: header says %u %s, file has %llu", name,
                          (unsigned)dims[0], what, (unsigned long long)(body / item));
    if (body > want)
        return lpci_error(LPC_E_FORMAT, "%s: trailing data after the %u %s its header announces",
                          name, (unsigned)dims[0], what);
    *count = dims[0];
    return LPC_OK;
}

lpc_status lpci_parse_idx(const uint8_t *img, size_t img_len, const char *img_name,
                          const uint8_t *lab, size_t lab_len, const char *lab_name,
                          int num_classes, lpc_dataset **out)
{
    *out = NULL;
    uint32_t idim[3], ldim[1];
    uint64_t n_img = 0, n_lab = 0;
    lpc_status s = idx_header(img, img_len, img_name, IDX_IMAGES_MAGIC, "images", idim, &n_img);
    if (s != LPC_OK)
        return s;
    s = idx_header(lab, lab_len, lab_name, IDX_LABELS_MAGIC, "labels", ldim, &n_lab);
    if (s != LPC_OK)
        return s;
    if (n_img != n_lab)
        return lpci_error(LPC_E_FORMAT, "%s: %llu labels for %llu images in %s", lab_name,
                          (unsigned long long)n_lab, (unsigned long long)n_img, img_name);
    const uint8_t *labels = lab + 8;
    int max_label = 0;
    for (uint64_t i = 0; i < n_lab; i++) {
        if (num_classes > 0 && labels[i] >= num_classes)
            return lpci_error(LPC_E_FORMAT, "%s: record %llu has label %d (must be < %d)",
                              lab_name, (unsigned long long)i, labels[i], num_classes);
        if (labels[i] > max_label)
            max_label = labels[i];
    }
    lpc_dataset *ds;
    s = lpci_dataset_alloc((int64_t)n_img, 1, (int)idim[1], (int)idim[2],
                           num_classes > 0 ? num_classes : max_label + 1, img_name, &ds);
    if (s != LPC_OK)
        return s;
    memcpy(ds->images, img + 16, (size_t)n_img * idim[1] * idim[2]);
    for (uint64_t i = 0; i < n_lab; i++)
        ds->labels[i] = labels[i];
    *out = ds;
    return LPC_OK;
}

/* Reads one IDX file: its header, then at most the bytes the header
 * announces plus one (which shows trailing data), so a decompression bomb
 * behind a small header costs no more memory than the header says. */
static lpc_status read_idx(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    lpci_file *f;
    lpc_status s = lpci_file_open(path, &f);
    if (s != LPC_OK)
        return s;
    uint8_t *b = lpci_malloc(16);
    size_t hdr = 4, got = 0, more = 0, max = 4;
    if (!b)
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", path);
    if (s == LPC_OK)
        s = lpci_file_read(f, b, 4, &got);
    /* Unsigned-byte IDX with 1 to 3 dimensions; for anything else only the
     * magic is read and the parser refuses it. */
    if (s == LPC_OK && got == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] >= 1 &&
        b[3] <= 3) {
        hdr = 4 + 4 * (size_t)b[3];
        s = lpci_file_read(f, b + 4, hdr - 4, &more);
        got += more;
        uint64_t total = 1;
        for (size_t i = 4; got == hdr && i < hdr; i += 4) {
            uint64_t d = be32(b + i);
            total = d && total > UINT64_MAX / d ? UINT64_MAX : total * d;
        }
        max = total > SIZE_MAX - hdr - 1 ? hdr : hdr + (size_t)total;
    }
    *buf = b;
    *len = got;
    if (s == LPC_OK && got == hdr)
        s = lpci_file_read_all(f, max, buf, len);
    lpci_file_close(f);
    if (s != LPC_OK) {
        lpci_free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return s;
}

/* Loads an IDX pair; num_classes 0: largest label + 1. */
static lpc_status load_idx(const char *images_path, const char *labels_path, int num_classes,
                           lpc_dataset **out)
{
    uint8_t *img = NULL, *lab = NULL;
    size_t img_len = 0, lab_len = 0;
    lpc_status s = read_idx(images_path, &img, &img_len);
    if (s == LPC_OK)
        s = read_idx(labels_path, &lab, &lab_len);
    if (s == LPC_OK)
        s = lpci_parse_idx(img, img_len, images_path, lab, lab_len, labels_path, num_classes,
                           out);
    lpci_free(img);
    lpci_free(lab);
    return s;
}

lpc_status lpc_dataset_load_idx(const char *images_path, const char *labels_path,
                                lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_idx: out is NULL");
    *out = NULL;
    if (!images_path || !labels_path)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_idx: NULL path");
    return load_idx(images_path, labels_path, 0, out);
}

lpc_status lpc_dataset_load_mnist_dir(const char *dir, int train, lpc_dataset **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_dataset_load_mnist_dir: out is NULL");
    *out = NULL;
    if (!dir)
        dir = LPC_FASHION_MNIST_DIR;
    const char *prefix = train ? "train" : "t10k";
    char img[4096], lab[4096];
    /* The official names end in .gz; fall back to unpacked copies. */
    const char *ext = ".gz";
    for (int attempt = 0; attempt < 2; attempt++, ext = "") {
        if (snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte%s", dir, prefix, ext) >=
                (int)sizeof img ||
            snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte%s", dir, prefix, ext) >=
                (int)sizeof lab)
            return lpci_error(LPC_E_ARG, "lpc_dataset_load_mnist_dir: directory name of %zu "
                              "bytes is too long (at most %zu)", strlen(dir),
                              sizeof img - sizeof "/train-images-idx3-ubyte.gz");
        if (access(img, F_OK) == 0)
            break;
        /* Anything but "no such file" (EACCES on the folder...) is the answer. */
        if (errno != ENOENT)
            return lpci_error(LPC_E_IO, "lpc_dataset_load_mnist_dir: %s: %s", img,
                              strerror(errno));
    }
    if (access(img, F_OK) != 0)
        return lpci_error(LPC_E_IO,
                          "lpc_dataset_load_mnist_dir: no %s-images-idx3-ubyte[.gz] in %s",
                          prefix, dir);
    /* The MNIST family (MNIST, Fashion-MNIST, KMNIST) has ten classes. */
    return load_idx(img, lab, MNIST_CLASSES, out);
}
