/* Fuzz target bodies (see targets.h). */
#include "targets.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../lib/data/parse.h"
#include "../../lib/io/checkpoint_parse.h"
#include "../../lib/io/npy_parse.h"
#include "../../lib/io/safetensors_parse.h"
#include "../../examples/ablation/result.h"

/* The bytes in a fresh temporary file (for the readers that take a path);
 * returns 0 and the path in buf, which the caller unlinks. */
static int temp_file(const uint8_t *data, size_t size, char buf[64])
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, 64, "%s/lpcf-XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(buf);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    if (off != size) {
        unlink(buf);
        return -1;
    }
    return 0;
}

int lpcf_idx(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
               (size_t)data[3] << 24;
    data += 4;
    size -= 4;
    if (n > size)
        n = size;
    lpc_dataset *ds = NULL;
    if (lpci_parse_idx(data, n, "images", data + n, size - n, "labels", 0, &ds) != LPC_OK)
        return 0;
    lpc_dataset_free(ds);
    return 1;
}

int lpcf_idx_gz(const uint8_t *data, size_t size)
{
    char path[64];
    if (temp_file(data, size, path) != 0)
        return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    int ok = 0;
    if (lpci_read_file(path, 1u << 20, &buf, &len) == LPC_OK) {
        ok = lpcf_idx(buf, len);
        lpci_free(buf);
    }
    unlink(path);
    return ok;
}

int lpcf_cifar(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    lpci_cifar_kind kind = data[0] % 3 == 0   ? LPCI_CIFAR10
                           : data[0] % 3 == 1 ? LPCI_CIFAR100_FINE
                                              : LPCI_CIFAR100_COARSE;
    lpc_dataset *ds = NULL;
    if (lpci_parse_cifar(data + 1, size - 1, "cifar", kind, &ds) != LPC_OK)
        return 0;
    lpc_dataset_free(ds);
    return 1;
}

int lpcf_png(const uint8_t *data, size_t size)
{
    int c = 0, h = 0, w = 0;
    uint8_t *pixels = NULL;
    if (lpci_parse_png(data, size, "image.png", &c, &h, &w, &pixels) != LPC_OK)
        return 0;
    /* Touch the last pixel: the buffer must hold c*h*w bytes. */
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    volatile uint8_t last = n ? pixels[n - 1] : 0;
    (void)last;
    lpci_free(pixels);
    return 1;
}

int lpcf_jpeg(const uint8_t *data, size_t size)
{
    int c = 0, h = 0, w = 0;
    uint8_t *pixels = NULL;
    if (lpci_parse_jpeg(data, size, "image.jpg", &c, &h, &w, &pixels) != LPC_OK)
        return 0;
    /* Touch the last pixel, and resize (the image-folder reader's next step). */
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    volatile uint8_t last = n ? pixels[n - 1] : 0;
    (void)last;
    uint8_t small[3 * 5 * 7];
    lpci_resize_bilinear(pixels, c, h, w, small, 5, 7);
    lpci_free(pixels);
    return 1;
}

int lpcf_checkpoint(const uint8_t *data, size_t size)
{
    lpc_checkpoint *ck = NULL;
    if (lpci_checkpoint_parse(data, size, "fuzz.ckpt", &ck) != LPC_OK)
        return 0;
    for (int i = 0; i < lpc_checkpoint_num_tensors(ck); i++) {
        const lpc_tensor *t = lpc_checkpoint_tensor(ck, lpc_checkpoint_tensor_name(ck, i));
        if (t && lpc_tensor_numel(t) > 0) {
            volatile float last = lpc_tensor_cdata(t)[lpc_tensor_numel(t) - 1];
            (void)last;
        }
    }
    for (int i = 0; i < ck->n_entries; i++) {
        const lpci_ck_entry *e = &ck->entries[i];
        uint64_t u;
        double f;
        size_t n;
        if (e->kind == LPCI_CK_SCALAR) {
            lpc_checkpoint_get_u64(ck, e->name, &u);
            lpc_checkpoint_get_f64(ck, e->name, &f);
        } else if (e->kind == LPCI_CK_BLOB) {
            const uint8_t *b = lpc_checkpoint_blob(ck, e->name, &n);
            if (b && n > 0) {
                volatile uint8_t last = b[n - 1];
                (void)last;
            }
        } else if (e->kind == LPCI_CK_RNG) {
            lpc_rng *r = lpc_rng_new(1);
            if (r) {
                lpc_checkpoint_restore_rng(ck, e->name, r);
                lpc_rng_free(r);
            }
        }
    }
    lpc_checkpoint_free(ck);
    return 1;
}

int lpcf_npy(const uint8_t *data, size_t size)
{
    lpci_npy_header h;
    if (lpci_npy_parse(data, size, &h) != LPC_OK)
        return 0;
    /* A valid header: the whole reader, file to converted values. */
    char path[64];
    if (temp_file(data, size, path) != 0)
        return 0;
    lpc_npy *a = NULL;
    int ok = lpc_npy_load(path, &a) == LPC_OK;
    if (ok) {
        int64_t n = lpc_npy_numel(a);
        for (int i = 0; i < lpc_npy_ndim(a); i++)
            lpc_npy_dim(a, i);
        void *dst = malloc(n > 0 ? (size_t)n * sizeof(double) : 1);
        if (dst) {
            lpc_npy_copy_f32(a, dst, n);
            lpc_npy_copy_f64(a, dst, n);
            lpc_npy_copy_i32(a, dst, n);
            free(dst);
        }
        lpc_npy_free(a);
    }
    unlink(path);
    return ok;
}

int lpcf_safetensors(const uint8_t *data, size_t size)
{
    lpc_safetensors *st = NULL;
    if (lpci_safetensors_parse(data, size, "fuzz.safetensors", &st) != LPC_OK)
        return 0;
    for (int i = 0; i < lpc_safetensors_num_tensors(st); i++) {
        lpc_safetensors_tensor_dtype(st, i);
        for (int d = 0; d < lpc_safetensors_tensor_ndim(st, i); d++)
            lpc_safetensors_tensor_dim(st, i, d);
        const char *name = lpc_safetensors_tensor_name(st, i);
        volatile char last = name[strlen(name) - 1];
        (void)last;
    }
    lpc_safetensors_metadata(st, "description");
    if (st->data_len > 0) {
        volatile uint8_t last = st->data[st->data_len - 1];
        (void)last;
    }
    /* Restoring into a small module runs the name matching on any header. */
    lpc_rng *rng = lpc_rng_new(1);
    lpc_module *lin = rng ? lpc_linear_new(2, 2, 1, rng) : NULL;
    if (lin) {
        lpc_safetensors_restore_module(st, NULL, lin, LPC_NAMES_NATIVE);
        lpc_safetensors_restore_module(st, "fc.", lin, LPC_NAMES_TORCHVISION);
    }
    lpc_module_free(lin);
    lpc_rng_free(rng);
    lpc_safetensors_free(st);
    return 1;
}

/* lpc.read_shapes on a parsed file: every name, shape and dtype. */
static void list_checkpoint(const lpc_checkpoint *ck)
{
    for (int i = 0; i < lpc_checkpoint_num_tensors(ck); i++) {
        const lpc_tensor *t = lpc_checkpoint_tensor(ck, lpc_checkpoint_tensor_name(ck, i));
        for (int d = 0; t && d < lpc_tensor_ndim(t); d++)
            lpc_tensor_dim(t, d);
    }
}

static void list_safetensors(const lpc_safetensors *st)
{
    for (int i = 0; i < lpc_safetensors_num_tensors(st); i++) {
        lpc_safetensors_tensor_name(st, i);
        lpc_safetensors_tensor_dtype(st, i);
        for (int d = 0; d < lpc_safetensors_tensor_ndim(st, i); d++)
            lpc_safetensors_tensor_dim(st, i, d);
    }
    static const char *const keys[] = {"format", "liblpc_version", "description"};
    for (int k = 0; k < 3; k++)
        lpc_safetensors_metadata(st, keys[k]);
}

/* Model.forward on a batch of zeros: the restored weights in use. */
static void forward_zeros(lpc_module *net, const int64_t *shape, int ndim)
{
    lpc_ctx *ctx = lpc_ctx_new();
    if (!ctx)
        return;
    lpc_ctx_set_grad(ctx, 0);
    float x[2 * 16] = {0};
    lpc_tensor *t = lpc_tensor_from(ctx, ndim, shape, x, ndim == 2 ? 8 : 32);
    const char *parts[] = {"backbone", "penultimate", "classifier"};
    for (int i = 0; i < 3; i++) {
        lpc_module *m = lpc_module_find(net, parts[i]);
        if (m)
            t = lpc_module_forward(m, ctx, t);
    }
    if (lpc_ctx_status(ctx) == LPC_OK) {
        volatile float last = lpc_tensor_cdata(t)[lpc_tensor_numel(t) - 1];
        (void)last;
    }
    lpc_ctx_free(ctx);
}

int lpcf_model_file(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    data++, size--;
    const char *prefix = sel & 4 ? "model." : "";
    int64_t shape[4];
    int ndim = 0, ok = 0;
    lpc_module *net = lpcf_model_new(sel & 3, shape, &ndim);
    if (!net)
        return 0;
    if (size >= 8 && memcmp(data, LPCI_CK_MAGIC, 8) == 0) {
        lpc_checkpoint *ck = NULL;
        if (lpci_checkpoint_parse(data, size, "fuzz.lpcc", &ck) == LPC_OK) {
            list_checkpoint(ck);
            ok = lpc_checkpoint_restore_module(ck, prefix, net) == LPC_OK;
            lpc_checkpoint_free(ck);
        }
    } else {
        lpc_safetensors *st = NULL;
        if (lpci_safetensors_parse(data, size, "fuzz.safetensors", &st) == LPC_OK) {
            list_safetensors(st);
            ok = lpc_safetensors_restore_module(st, prefix, net, sel & 8 ? LPC_NAMES_TORCHVISION
                                                                         : LPC_NAMES_NATIVE) ==
                 LPC_OK;
            lpc_safetensors_free(st);
        }
    }
    if (ok)
        forward_zeros(net, shape, ndim);
    lpc_module_free(net);
    return ok;
}

/* What `lpc-ablation report` reads of a result.json: every metric and every
 * field of the epoch log. */
int lpcf_result_json(const uint8_t *data, size_t size)
{
    char path[64], why[256];
    if (temp_file(data, size, path) != 0)
        return 0;
    jv *v = NULL;
    /* The seed minimal-own-identity.json is a one-epoch cell of identity "fuzz". */
    ab_result_state st = ab_result_load(path, "fuzz", 1, &v, why, sizeof why);
    jv *all = st == AB_RESULT_DAMAGED ? NULL : jv_load(path, 1 << 20, why, sizeof why);
    static const char *const paths[] = {"final.acc_test", "final.acc_train", "final.train.R",
                                        "final.test.R", "final.train.sigma_w",
                                        "final.robustness", "config.identity.x", ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        jv_num(all, paths[i], 0);
    const jv *log = jv_get(all, "log");
    const jv *entry;
    cJSON_ArrayForEach(entry, log) { /* as the report reads it: in one pass */
        jv_num(entry, "gamma", 0);
        jv_num(entry, "acc_test_head", 0);
    }
    jv_free(v);
    jv_free(all);
    unlink(path);
    return st == AB_RESULT_OK || st == AB_RESULT_FOREIGN;
}

const lpcf_target lpcf_targets[] = {
    {"idx", lpcf_idx},           {"idx_gz", lpcf_idx_gz},
    {"cifar", lpcf_cifar},       {"png", lpcf_png},   {"jpeg", lpcf_jpeg},
    {"checkpoint", lpcf_checkpoint}, {"npy", lpcf_npy},
    {"safetensors", lpcf_safetensors}, {"model_file", lpcf_model_file},
    {"result_json", lpcf_result_json},
};
const int lpcf_num_targets = (int)(sizeof lpcf_targets / sizeof lpcf_targets[0]);
