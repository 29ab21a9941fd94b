/* Checkpoints: bit-identical round trip of a model, AdamW state, RNG and
 * scalars; refusal of corrupt, truncated, foreign and future files; restores
 * that change nothing on error; atomic saves that never damage an old file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "io/checkpoint_parse.h"
#include "lpct.h"

/* 4 -> hidden -> SiLU -> 3 (and a third layer when deep). */
static lpc_module *mlp(int64_t hidden, int deep, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *m = lpc_sequential_new();
    lpc_sequential_add(m, NULL, lpc_linear_new(4, hidden, 1, rng));
    lpc_sequential_add(m, NULL, lpc_silu_new());
    lpc_sequential_add(m, NULL, lpc_linear_new(hidden, 3, 1, rng));
    if (deep)
        lpc_sequential_add(m, NULL, lpc_linear_new(3, 3, 0, rng));
    lpc_rng_free(rng);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Optimizer with the last layer's parameters in group 1. */
static lpc_adamw *adamw_for(lpc_module *m)
{
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_adamw_add_group(opt, 1e-2, 5e-4);
    lpc_adamw_add_group(opt, 2e-2, 0.0);
    int n = lpc_module_num_params(m);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(lpc_adamw_add_param(opt, i >= n - 2, lpc_module_param(m, i)), LPC_OK);
    return opt;
}

static void train_step(lpc_module *m, lpc_adamw *opt, uint64_t seed)
{
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_module_zero_grad(m);
    float x[8];
    lpc_rng *r = lpc_rng_new(seed);
    for (int i = 0; i < 8; i++)
        x[i] = (float)lpc_rng_normal(r);
    lpc_rng_free(r);
    lpc_tensor *y = lpc_module_forward(m, ctx, lpc_tensor_from(ctx, 2, (int64_t[]){2, 4}, x, 8));
    ck_assert_int_eq(lpc_backward(ctx, lpct_project(ctx, y, seed)), LPC_OK);
    ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
    lpc_ctx_free(ctx);
}

static int same_data(const lpc_tensor *a, const lpc_tensor *b)
{
    return lpc_tensor_numel(a) == lpc_tensor_numel(b) &&
           memcmp(lpc_tensor_cdata(a), lpc_tensor_cdata(b),
                  (size_t)lpc_tensor_numel(a) * sizeof(float)) == 0;
}

static void assert_same_module(lpc_module *a, lpc_module *b)
{
    ck_assert_int_eq(lpc_module_num_params(a), lpc_module_num_params(b));
    for (int i = 0; i < lpc_module_num_params(a); i++)
        ck_assert(same_data(lpc_module_param(a, i), lpc_module_param(b, i)));
}

/* A full checkpoint of a trained model; the caller frees everything. */
typedef struct {
    lpc_module *m;
    lpc_adamw *opt;
    lpc_rng *rng;
    lpc_checkpoint *ck;
} fixture;

static fixture make_fixture(void)
{
    fixture f = {mlp(8, 0, 1), NULL, lpc_rng_new(99), lpc_checkpoint_new()};
    f.opt = adamw_for(f.m);
    train_step(f.m, f.opt, 10);
    train_step(f.m, f.opt, 11);
    lpc_rng_u64(f.rng);
    ck_assert_int_eq(lpc_checkpoint_add_module(f.ck, "model.", f.m), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_add_adamw(f.ck, "opt", f.opt), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_add_rng(f.ck, "rng", f.rng), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_set_u64(f.ck, "epoch", 7), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_set_u64(f.ck, "global_step", 12345678901ULL), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_set_f64(f.ck, "gamma", 0.0105), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_add_blob(f.ck, "config", "lr=1e-4", 7), LPC_OK);
    return f;
}

static void free_fixture(fixture *f)
{
    lpc_checkpoint_free(f->ck);
    lpc_adamw_free(f->opt);
    lpc_module_free(f->m);
    lpc_rng_free(f->rng);
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *b = malloc(*n + 1);
    ck_assert_uint_eq(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}

static void write_all(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

/* Writes bytes to a file and expects the load to be refused with a reason. */
static void expect_refused(const void *b, size_t n, const char *reason)
{
    char *path = lpct_tmpfile("bad.ckpt");
    write_all(path, b, n);
    lpc_checkpoint *ck = (lpc_checkpoint *)1;
    ck_assert_int_eq(lpc_checkpoint_load(path, &ck), LPC_E_FORMAT);
    ck_assert_ptr_null(ck);
    ck_assert_msg(strstr(lpc_last_error(), path) && strstr(lpc_last_error(), reason),
                  "message '%s' lacks '%s'", lpc_last_error(), reason);
    unlink(path);
    free(path);
}

START_TEST(round_trip_is_bit_identical)
{
    fixture f = make_fixture();
    char *path = lpct_tmpfile("rt.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, path), LPC_OK);
    ck_assert_int_eq(lpct_count_temps(path), 0); /* renamed away */

    lpc_checkpoint *ck = NULL;
    ck_assert_int_eq(lpc_checkpoint_load(path, &ck), LPC_OK);
    lpc_module *m2 = mlp(8, 0, 2);
    lpc_adamw *opt2 = adamw_for(m2);
    lpc_adamw_set_lr(opt2, 1, 0.5);
    lpc_rng *rng2 = lpc_rng_new(5);
    ck_assert_int_eq(lpc_checkpoint_restore_module(ck, "model.", m2), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_restore_adamw(ck, "opt", opt2), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_restore_rng(ck, "rng", rng2), LPC_OK);
    assert_same_module(f.m, m2);
    ck_assert_int_eq(lpc_adamw_steps(opt2), 2);
    ck_assert(lpc_adamw_get_lr(opt2, 1) == 2e-2);
    for (int i = 0; i < lpc_adamw_num_params(opt2); i++)
        for (int w = 1; w <= 2; w++)
            ck_assert(same_data(lpc_adamw_moment(f.opt, i, w), lpc_adamw_moment(opt2, i, w)));
    ck_assert_uint_eq(lpc_rng_u64(rng2), lpc_rng_u64(f.rng));
    uint64_t u;
    double d;
    ck_assert_int_eq(lpc_checkpoint_get_u64(ck, "epoch", &u), LPC_OK);
    ck_assert_uint_eq(u, 7);
    ck_assert_int_eq(lpc_checkpoint_get_u64(ck, "global_step", &u), LPC_OK);
    ck_assert_uint_eq(u, 12345678901ULL);
    ck_assert_int_eq(lpc_checkpoint_get_f64(ck, "gamma", &d), LPC_OK);
    ck_assert(d == 0.0105);
    size_t n;
    const char *blob = lpc_checkpoint_blob(ck, "config", &n);
    ck_assert_uint_eq(n, 7);
    ck_assert_mem_eq(blob, "lr=1e-4", 7);
    ck_assert_int_eq(lpc_checkpoint_num_tensors(ck), 4);
    ck_assert_str_eq(lpc_checkpoint_tensor_name(ck, 0), "model.0.weight");
    ck_assert_int_eq(lpc_tensor_dim(lpc_checkpoint_tensor(ck, "model.2.weight"), 1), 8);

    /* Training continues identically from the restored state. */
    train_step(f.m, f.opt, 12);
    train_step(m2, opt2, 12);
    assert_same_module(f.m, m2);

    /* Saving the loaded checkpoint reproduces the file byte for byte. */
    char *path2 = lpct_tmpfile("rt2.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(ck, path2), LPC_OK);
    size_t n1, n2;
    uint8_t *b1 = read_all(path, &n1), *b2 = read_all(path2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(b1, b2, n1);
    free(b1);
    free(b2);
    unlink(path);
    unlink(path2);
    free(path);
    free(path2);
    lpc_checkpoint_free(ck);
    lpc_module_free(m2);
    lpc_adamw_free(opt2);
    lpc_rng_free(rng2);
    free_fixture(&f);
}
END_TEST

/* Byte offsets of each section's tag in a saved image. */
static void section_offsets(const uint8_t *b, size_t n, size_t off[LPCI_CK_KINDS])
{
    size_t o = LPCI_CK_HEADER_BYTES;
    for (int k = 0; k < LPCI_CK_KINDS; k++) {
        off[k] = o;
        ck_assert_mem_eq(b + o, lpci_ck_tags[k], 4);
        uint64_t len = 0;
        for (int i = 0; i < 8; i++)
            len |= (uint64_t)b[o + 4 + i] << (8 * i);
        o += 12 + len + 4;
    }
    ck_assert_uint_eq(o, n);
}

START_TEST(corruption_is_refused)
{
    fixture f = make_fixture();
    char *path = lpct_tmpfile("c.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, path), LPC_OK);
    size_t n, off[LPCI_CK_KINDS];
    uint8_t *b = read_all(path, &n);
    section_offsets(b, n, off);
    /* One changed payload byte per section. */
    for (int k = 0; k < LPCI_CK_KINDS; k++) {
        size_t at = off[k] + 12 + 4 + (k == 0 ? 40 : 0);
        b[at] ^= 0x20;
        expect_refused(b, n, "corrupt");
        b[at] ^= 0x20;
    }
    b[21] ^= 1; /* header CRC */
    expect_refused(b, n, "header CRC");
    b[21] ^= 1;
    /* Every single-bit flip anywhere, through the in-memory parser. */
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            lpc_checkpoint *ck = NULL;
            lpc_status s = lpci_checkpoint_parse(b, n, "flip", &ck);
            ck_assert_msg(s == LPC_E_FORMAT && !ck, "flip of bit %d at byte %zu accepted", bit, i);
            b[i] ^= (uint8_t)(1u << bit);
        }
    lpc_checkpoint *ck = NULL;
    ck_assert_int_eq(lpci_checkpoint_parse(b, n, "intact", &ck), LPC_OK);
    lpc_checkpoint_free(ck);
    free(b);
    unlink(path);
    free(path);
    free_fixture(&f);
}
END_TEST

START_TEST(truncated_foreign_and_future_files)
{
    fixture f = make_fixture();
    char *path = lpct_tmpfile("t.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, path), LPC_OK);
    size_t n;
    uint8_t *b = read_all(path, &n);
    expect_refused(b, 0, "too short");
    expect_refused(b, 23, "too short");
    for (size_t cut = 24; cut < n; cut += 1 + cut / 3)
        expect_refused(b, cut, "truncated");
    expect_refused(b, n - 1, "truncated");
    uint8_t *longer = malloc(n + 3);
    memcpy(longer, b, n);
    memcpy(longer + n, "xyz", 3);
    expect_refused(longer, n + 3, "after the last section");
    free(longer);

    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                  'I',  'H', 'D', 'R', 0,    0,    0,    1,    0, 0, 0, 1,
                                  8,    2,   0,   0,   0,    0x90, 0x77, 0x53, 0xde};
    expect_refused(png, sizeof png, "bad magic");
    expect_refused("hello world, this is a text file\n", 33, "bad magic");

    b[8] = 2; /* version 2 with a consistent header CRC */
    uint32_t crc = (uint32_t)crc32(0, b, 20);
    for (int i = 0; i < 4; i++)
        b[20 + i] = (uint8_t)(crc >> (8 * i));
    expect_refused(b, n, "version 2 is not supported");
    b[8] = 1;
    memcpy(b + 12, "\x0a\x0b\x0c\x0d", 4); /* big-endian mark */
    expect_refused(b, n, "byte-order mark");
    free(b);
    unlink(path);
    free(path);
    free_fixture(&f);
}
END_TEST

START_TEST(failed_restore_changes_nothing)
{
    fixture f = make_fixture();
    /* A deeper model lacks "model.3.weight" in the checkpoint. */
    lpc_module *deep = mlp(8, 1, 3), *copy = mlp(8, 1, 3);
    ck_assert_int_eq(lpc_checkpoint_restore_module(f.ck, "model.", deep), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "model.3.weight"));
    assert_same_module(deep, copy);
    /* A wider hidden layer: shape mismatch on the first tensor, nothing copied. */
    lpc_module *wide = mlp(9, 0, 3), *wide_copy = mlp(9, 0, 3);
    ck_assert_int_eq(lpc_checkpoint_restore_module(f.ck, "model.", wide), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "model.0.weight"));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "8x4"));
    assert_same_module(wide, wide_copy);
    ck_assert_int_eq(lpc_checkpoint_restore_module(f.ck, "other.", wide), LPC_E_FORMAT);
    /* Optimizers of another model are refused and left alone. */
    lpc_adamw *opt_deep = adamw_for(deep), *opt_wide = adamw_for(wide);
    lpc_adamw_set_steps(opt_wide, 5);
    ck_assert_int_eq(lpc_checkpoint_restore_adamw(f.ck, "opt", opt_deep), LPC_E_SHAPE);
    ck_assert_int_eq(lpc_checkpoint_restore_adamw(f.ck, "opt", opt_wide), LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "parameter 0"));
    ck_assert_int_eq(lpc_adamw_steps(opt_wide), 5);
    ck_assert_int_eq(lpc_checkpoint_restore_adamw(f.ck, "nope", opt_wide), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "nope"));
    lpc_adamw_free(opt_deep);
    lpc_adamw_free(opt_wide);
    lpc_module_free(deep);
    lpc_module_free(copy);
    lpc_module_free(wide);
    lpc_module_free(wide_copy);
    free_fixture(&f);
}
END_TEST

START_TEST(failed_save_keeps_old_file)
{
    fixture f = make_fixture();
    char *path = lpct_tmpfile("keep.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, path), LPC_OK);
    size_t n0;
    uint8_t *before = read_all(path, &n0);
    lpc_checkpoint *big = lpc_checkpoint_new();
    lpc_tensor *t = lpc_tensor_new(1, (int64_t[]){100000});
    lpc_checkpoint_add_tensor(big, "big", t);

    /* Temporary names are unique: a fixed "path.tmp" of another writer (or a
     * directory in its way, which made the save fail before) is not touched. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, path), LPC_OK);
    struct stat tst;
    ck_assert_int_eq(stat(tmp, &tst), 0);
    ck_assert(S_ISDIR(tst.st_mode));
    rmdir(tmp);

    /* The write fails half-way (file size limit): the temp file is removed. */
    lpct_limit_file_size(50000);
    ck_assert_int_eq(lpc_checkpoint_save(big, path), LPC_E_IO);
    lpct_limit_file_size(0);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "writing"));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "File too large"));
    ck_assert_int_eq(lpct_count_temps(path), 0);

    size_t n1;
    uint8_t *after = read_all(path, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_mem_eq(before, after, n0);
    lpc_checkpoint *ck = NULL;
    ck_assert_int_eq(lpc_checkpoint_load(path, &ck), LPC_OK);
    lpc_checkpoint_free(ck);

    /* The target is a directory: refused, the directory is untouched. */
    char *dir = lpct_tmpfile("ckdir");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, dir), LPC_E_IO);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(lpc_checkpoint_load(dir, &ck), LPC_E_IO);
    rmdir(dir);
    ck_assert_int_eq(lpc_checkpoint_save(f.ck, "/nonexistent-dir/x.ckpt"), LPC_E_IO);

    free(dir);
    free(before);
    free(after);
    lpc_tensor_free(t);
    lpc_checkpoint_free(big);
    unlink(path);
    free(path);
    free_fixture(&f);
}
END_TEST

/* A FIFO is refused at once (fopen used to wait for a writer forever). */
START_TEST(fifo_refused)
{
    char *path = lpct_tmpfile("fifo.ckpt");
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    lpc_checkpoint *ck = NULL;
    lpc_clear_error();
    ck_assert_int_eq(lpc_checkpoint_load(path, &ck), LPC_E_IO);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "not a regular file (a FIFO)"));
    unlink(path);
    free(path);
}
END_TEST

/* What the writer takes, the reader reads back: names at the limit (255
 * printable bytes) and an empty blob round-trip; one byte more is refused
 * when added, not when loaded. */
START_TEST(limits_round_trip)
{
    char name[300];
    memset(name, 'n', 255);
    name[255] = '\0';
    lpc_checkpoint *ck = lpc_checkpoint_new();
    ck_assert_int_eq(lpc_checkpoint_add_blob(ck, name, "abc", 3), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_add_blob(ck, "empty", NULL, 0), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_set_u64(ck, name, 7), LPC_OK);
    name[255] = 'n';
    name[256] = '\0';
    LPCT_EXPECT_ERR(lpc_checkpoint_add_blob(ck, name, "abc", 3), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_set_u64(ck, name, 7), LPC_E_ARG);
    name[255] = '\0';
    char *path = lpct_tmpfile("limits.ckpt");
    ck_assert_int_eq(lpc_checkpoint_save(ck, path), LPC_OK);
    lpc_checkpoint *back = NULL;
    ck_assert_msg(lpc_checkpoint_load(path, &back) == LPC_OK, "%s", lpc_last_error());
    size_t n = 9;
    const void *b = lpc_checkpoint_blob(back, name, &n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(b, "abc", 3);
    ck_assert_ptr_nonnull(lpc_checkpoint_blob(back, "empty", &n));
    ck_assert_uint_eq(n, 0);
    uint64_t u = 0;
    ck_assert_int_eq(lpc_checkpoint_get_u64(back, name, &u), LPC_OK);
    ck_assert_uint_eq(u, 7);
    lpc_checkpoint_free(back);
    lpc_checkpoint_free(ck);
    remove(path);
    free(path);
}
END_TEST

START_TEST(misuse)
{
    lpc_checkpoint_free(NULL);
    lpc_checkpoint *ck = lpc_checkpoint_new();
    lpc_tensor *t = lpc_tensor_new(1, (int64_t[]){3});
    lpc_rng *rng = lpc_rng_new(1);
    char long_name[300];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(NULL, "a", t), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, NULL, t), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, "a", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, "", t), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, "has space", t), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, long_name, t), LPC_E_ARG);
    ck_assert_int_eq(lpc_checkpoint_add_tensor(ck, "a", t), LPC_OK);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_tensor(ck, "a", t), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_module(ck, NULL, NULL), LPC_E_ARG);
    /* A module whose names collide with existing tensors is added not at all. */
    lpc_module *m = mlp(2, 0, 1);
    lpc_checkpoint_add_tensor(ck, "p.2.bias", t);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_module(ck, "p.", m), LPC_E_ARG);
    ck_assert_int_eq(lpc_checkpoint_num_tensors(ck), 2);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_module(ck, long_name, m), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_adamw(ck, "o", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_rng(ck, "r", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_add_blob(ck, "b", NULL, 3), LPC_E_ARG);
    ck_assert_int_eq(lpc_checkpoint_add_blob(ck, "empty", NULL, 0), LPC_OK);
    LPCT_EXPECT_ERR(lpc_checkpoint_set_u64(ck, "bad name", 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_checkpoint_set_f64(ck, "x", 1.5), LPC_OK);
    ck_assert_int_eq(lpc_checkpoint_set_u64(ck, "x", 3), LPC_OK); /* replaces */
    uint64_t u;
    double d;
    ck_assert_int_eq(lpc_checkpoint_get_u64(ck, "x", &u), LPC_OK);
    ck_assert_uint_eq(u, 3);
    LPCT_EXPECT_ERR(lpc_checkpoint_get_f64(ck, "x", &d), LPC_E_FORMAT);
    LPCT_EXPECT_ERR(lpc_checkpoint_get_u64(ck, "epoch", &u), LPC_E_FORMAT);
    LPCT_EXPECT_ERR(lpc_checkpoint_get_u64(ck, "x", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_get_u64(NULL, "x", &u), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_restore_rng(ck, "r", rng), LPC_E_FORMAT);
    LPCT_EXPECT_ERR(lpc_checkpoint_restore_rng(ck, "r", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_restore_module(NULL, NULL, m), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_restore_adamw(ck, "o", NULL), LPC_E_ARG);
    size_t n = 9;
    ck_assert_ptr_null(lpc_checkpoint_blob(ck, "missing", &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(lpc_checkpoint_blob(ck, "empty", &n));
    ck_assert_ptr_null(lpc_checkpoint_tensor(ck, "zzz"));
    ck_assert_ptr_null(lpc_checkpoint_tensor_name(ck, 5));
    ck_assert_int_lt(lpc_checkpoint_num_tensors(NULL), 0);
    LPCT_EXPECT_ERR(lpc_checkpoint_save(NULL, "x"), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_save(ck, ""), LPC_E_ARG);
    lpc_checkpoint *out = NULL;
    LPCT_EXPECT_ERR(lpc_checkpoint_load(NULL, &out), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_load("x", NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_checkpoint_load("/nonexistent/file.ckpt", &out), LPC_E_IO);
    ck_assert_ptr_null(out);
    lpc_module_free(m);
    lpc_rng_free(rng);
    lpc_tensor_free(t);
    lpc_checkpoint_free(ck);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_test(tc, round_trip_is_bit_identical);
    tcase_add_test(tc, corruption_is_refused);
    tcase_add_test(tc, truncated_foreign_and_future_files);
    tcase_add_test(tc, failed_restore_changes_nothing);
    tcase_add_test(tc, failed_save_keeps_old_file);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, limits_round_trip);
    tcase_add_test(tc, fifo_refused);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
