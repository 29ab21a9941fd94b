/* .npy writer/reader: NumPy's exact header bytes, round trips, dtype
 * conversion, and a catalogue of malformed files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lpct.h"
#include "io/npy_parse.h"

#define ASSERT_FAILS(call, code)                                                          \
    do {                                                                                  \
        lpc_clear_error();                                                                \
        ck_assert_int_eq((call), (code));                                                 \
        ck_assert_msg(lpc_last_error()[0] != '\0', #call ": no error message");           \
    } while (0)

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len + 1);
    ck_assert_uint_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void spill(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* A file image: magic, version major.0, the header text as given (no
 * padding added), then nbytes of data. */
static uint8_t *image(int major, const char *header, const void *data, size_t nbytes, size_t *len)
{
    size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
    uint8_t *b = malloc(pre + hl + nbytes + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)major;
    b[7] = 0;
    b[8] = (uint8_t)(hl & 0xff);
    b[9] = (uint8_t)(hl >> 8);
    if (major != 1) {
        b[10] = (uint8_t)(hl >> 16);
        b[11] = (uint8_t)(hl >> 24);
    }
    memcpy(b + pre, header, hl);
    if (nbytes)
        memcpy(b + pre + hl, data, nbytes);
    *len = pre + hl + nbytes;
    return b;
}

/* What NumPy 1.24 writes: dict, room for shape[0] to grow to 21 digits,
 * spaces up to a multiple of 64 bytes, newline. */
static void expect_header(const uint8_t *got, const char *dict, int first_dim_digits)
{
    char want[256];
    size_t len = strlen(dict);
    memcpy(want, "\x93NUMPY\x01\x00", 8);
    memcpy(want + 10, dict, len);
    size_t used = 10 + len + (first_dim_digits ? 21 - (size_t)first_dim_digits : 0) + 1;
    size_t total = used + (64 - used % 64);
    memset(want + 10 + len, ' ', total - 10 - len - 1);
    want[total - 1] = '\n';
    want[8] = (char)((total - 10) & 0xff);
    want[9] = (char)((total - 10) >> 8);
    ck_assert_msg(memcmp(got, want, total) == 0, "header differs from NumPy's for %s", dict);
}

START_TEST(header_bytes_match_numpy)
{
    char *path = lpct_tmpfile("hdr.npy");
    const float f[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    ck_assert_int_eq(lpc_npy_save_f32(path, f, 2, (int64_t[]){3, 2}), LPC_OK);
    uint8_t *b = slurp(path, &len);
    ck_assert_uint_eq(len, 128 + sizeof f);
    /* The exact bytes np.save(np.zeros((3, 2), np.float32)) starts with. */
    static const char numpy_start[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', "
                                      "'fortran_order': False, 'shape': (3, 2), }";
    ck_assert(memcmp(b, numpy_start, sizeof numpy_start - 1) == 0);
    expect_header(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 1);
    ck_assert(memcmp(b + 128, f, sizeof f) == 0);
    free(b);

    const int32_t y[5] = {0, 1, 2, 3, -4};
    ck_assert_int_eq(lpc_npy_save_i32(path, y, 5), LPC_OK);
    b = slurp(path, &len);
    expect_header(b, "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", 1);
    ck_assert(memcmp(b + 128, y, sizeof y) == 0);
    free(b);

    const float one = 7;
    ck_assert_int_eq(lpc_npy_save_f32(path, &one, 0, NULL), LPC_OK);
    b = slurp(path, &len);
    expect_header(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0);
    free(b);

    float *big = calloc(60000 * 4, sizeof *big);
    ck_assert_int_eq(lpc_npy_save_f32(path, big, 2, (int64_t[]){60000, 4}), LPC_OK);
    b = slurp(path, &len);
    expect_header(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 4), }", 5);
    ck_assert_uint_eq(len % 64, 0);
    free(b);
    free(big);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(round_trips)
{
    char *path = lpct_tmpfile("rt.npy");
    float f[24];
    for (int i = 0; i < 24; i++)
        f[i] = (float)i * 0.25f - 3.0f;
    ck_assert_int_eq(lpc_npy_save_f32(path, f, 3, (int64_t[]){2, 3, 4}), LPC_OK);
    lpc_npy *a = NULL;
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_dtype_of(a), LPC_NPY_FLOAT32);
    ck_assert_int_eq(lpc_npy_ndim(a), 3);
    ck_assert_int_eq(lpc_npy_dim(a, 0), 2);
    ck_assert_int_eq(lpc_npy_dim(a, 2), 4);
    ck_assert_int_eq(lpc_npy_dim(a, 3), -1);
    ck_assert_int_eq(lpc_npy_numel(a), 24);
    float g[24];
    double d[24];
    ck_assert_int_eq(lpc_npy_copy_f32(a, g, 24), LPC_OK);
    ck_assert(memcmp(f, g, sizeof f) == 0);
    ck_assert_int_eq(lpc_npy_copy_f64(a, d, 24), LPC_OK);
    ck_assert(d[5] == (double)f[5]);
    int32_t lab[24];
    ASSERT_FAILS(lpc_npy_copy_i32(a, lab, 24), LPC_E_FORMAT);
    ASSERT_FAILS(lpc_npy_copy_f32(a, g, 23), LPC_E_SHAPE);
    lpc_npy_free(a);

    const int32_t y[4] = {3, -1, 2147483647, 0};
    ck_assert_int_eq(lpc_npy_save_i32(path, y, 4), LPC_OK);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_ndim(a), 1);
    ck_assert_int_eq(lpc_npy_copy_i32(a, lab, 4), LPC_OK);
    ck_assert(memcmp(y, lab, sizeof y) == 0);
    ASSERT_FAILS(lpc_npy_copy_f32(a, g, 4), LPC_E_FORMAT);
    lpc_npy_free(a);

    /* Empty arrays and tensors. */
    ck_assert_int_eq(lpc_npy_save_f32(path, f, 2, (int64_t[]){0, 5}), LPC_OK);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_numel(a), 0);
    lpc_npy_free(a);
    lpc_tensor *t = lpc_tensor_new(2, (int64_t[]){2, 3});
    lpc_tensor_copy_in(t, f, 6);
    ck_assert_int_eq(lpc_npy_save_tensor(path, t), LPC_OK);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_dim(a, 1), 3);
    ck_assert_int_eq(lpc_npy_copy_f32(a, g, 6), LPC_OK);
    ck_assert(memcmp(f, g, 6 * sizeof *f) == 0);
    lpc_npy_free(a);
    lpc_tensor_free(t);
    unlink(path);
    free(path);
}
END_TEST

/* float64 / int64 files as NumPy writes them, with converting reads. */
START_TEST(wide_dtypes)
{
    char *path = lpct_tmpfile("wide.npy");
    const double dv[3] = {0.1, -2.5, 1e300};
    size_t len;
    uint8_t *b = image(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", dv,
                       sizeof dv, &len);
    spill(path, b, len);
    free(b);
    lpc_npy *a;
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ck_assert_int_eq(lpc_npy_dtype_of(a), LPC_NPY_FLOAT64);
    double d[3];
    float f[3];
    ck_assert_int_eq(lpc_npy_copy_f64(a, d, 3), LPC_OK);
    ck_assert(memcmp(d, dv, sizeof d) == 0);
    ASSERT_FAILS(lpc_npy_copy_f32(a, f, 3), LPC_E_FORMAT); /* 1e300 */
    lpc_npy_free(a);

    const int64_t iv[3] = {4, -7, 1};
    b = image(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n", iv, sizeof iv,
              &len);
    spill(path, b, len);
    free(b);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    int32_t y[3];
    ck_assert_int_eq(lpc_npy_copy_i32(a, y, 3), LPC_OK);
    ck_assert(y[0] == 4 && y[1] == -7 && y[2] == 1);
    lpc_npy_free(a);
    const int64_t huge[1] = {(int64_t)1 << 40};
    b = image(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", huge,
              sizeof huge, &len);
    spill(path, b, len);
    free(b);
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK);
    ASSERT_FAILS(lpc_npy_copy_i32(a, y, 1), LPC_E_FORMAT);
    lpc_npy_free(a);
    unlink(path);
    free(path);
}
END_TEST

/* Spellings NumPy's reader accepts. */
START_TEST(header_variants)
{
    const float f[2] = {1, 2};
    const char *ok[] = {
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}\n",
        "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}        \n",
        "{'descr':'<f4','fortran_order':False,'shape':(1,2,),}",
        "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 1 ) , }\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t len;
        uint8_t *b = image(1, ok[i], f, sizeof f, &len);
        lpci_npy_header h;
        ck_assert_msg(lpci_npy_parse(b, len, &h) == LPC_OK, "%s: %s", ok[i], lpc_last_error());
        ck_assert_int_eq(h.numel, 2);
        ck_assert_int_eq(h.dtype, LPC_NPY_FLOAT32);
        free(b);
    }
    size_t len;
    uint8_t *b = image(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", f,
                       sizeof f, &len);
    lpci_npy_header h;
    ck_assert_int_eq(lpci_npy_parse(b, len, &h), LPC_OK);
    ck_assert_int_eq(h.data_offset, len - sizeof f);
    free(b);
}
END_TEST

START_TEST(malformed_files)
{
    const float f[2] = {1, 2};
    const struct {
        const char *header;
        size_t nbytes;
    } bad[] = {
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8},
        {"{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", 4},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 7},  /* truncated */
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8},  /* trailing */
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8},   /* int, not tuple */
        {"{'descr': '<f4', 'fortran_order': False}", 8},                   /* no shape */
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,) }x", 8},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", 8},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2)}", 8},
        {"['<f4', False, (2,)]", 8},
        {"", 8},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), \x80}", 8},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        uint8_t *b = image(1, bad[i].header, f, bad[i].nbytes > 8 ? 8 : bad[i].nbytes, &len);
        lpci_npy_header h;
        lpc_clear_error();
        ck_assert_msg(lpci_npy_parse(b, len, &h) == LPC_E_FORMAT, "accepted: %s", bad[i].header);
        ck_assert(lpc_last_error()[0] != '\0');
        free(b);
    }
    /* Byte-level damage to a good image. */
    size_t len;
    uint8_t *b = image(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f,
                       sizeof f, &len);
    lpci_npy_header h;
    ck_assert_int_eq(lpci_npy_parse(b, len, &h), LPC_OK);
    for (size_t cut = 0; cut < len; cut++)
        ck_assert_int_eq(lpci_npy_parse(b, cut, &h), LPC_E_FORMAT);
    b[0] = 'X';
    ASSERT_FAILS(lpci_npy_parse(b, len, &h), LPC_E_FORMAT);
    b[0] = 0x93;
    b[6] = 9;
    ASSERT_FAILS(lpci_npy_parse(b, len, &h), LPC_E_FORMAT);
    b[6] = 1;
    b[7] = 1;
    ASSERT_FAILS(lpci_npy_parse(b, len, &h), LPC_E_FORMAT);
    b[7] = 0;
    b[9] = 0x7f; /* header length past the end */
    ASSERT_FAILS(lpci_npy_parse(b, len, &h), LPC_E_FORMAT);
    b[9] = 0;
    /* Through a file: the same error, naming the path. */
    char *path = lpct_tmpfile("bad.npy");
    b[0] = 'X';
    spill(path, b, len);
    lpc_npy *a = (lpc_npy *)1;
    ASSERT_FAILS(lpc_npy_load(path, &a), LPC_E_FORMAT);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), path));
    unlink(path);
    free(path);
    free(b);
}
END_TEST

START_TEST(io_errors_and_misuse)
{
    lpc_npy *a = NULL;
    const float f[2] = {1, 2};
    float g[2];
    ASSERT_FAILS(lpc_npy_load("/nonexistent/dir/z.npy", &a), LPC_E_IO);
    ck_assert_ptr_null(a);
    ASSERT_FAILS(lpc_npy_load("/", &a), LPC_E_IO);
    ASSERT_FAILS(lpc_npy_save_f32("/nonexistent/dir/z.npy", f, 1, (int64_t[]){2}), LPC_E_IO);
    ASSERT_FAILS(lpc_npy_load(NULL, &a), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_load("x.npy", NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_f32(NULL, f, 1, (int64_t[]){2}), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_f32("x.npy", NULL, 1, (int64_t[]){2}), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_f32("x.npy", f, 1, NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_f32("x.npy", f, 9, (int64_t[9]){0}), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_f32("x.npy", f, 1, (int64_t[]){-1}), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_i32("x.npy", NULL, 2), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_i32("x.npy", (int32_t[]){1}, -1), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_save_tensor("x.npy", NULL), LPC_E_ARG);
    ASSERT_FAILS(lpc_npy_copy_f32(NULL, g, 2), LPC_E_ARG);
    ASSERT_FAILS(lpci_npy_parse(NULL, 0, NULL), LPC_E_ARG);
    ck_assert_int_eq(lpc_npy_ndim(NULL), -1);
    ck_assert_int_eq(lpc_npy_dim(NULL, 0), -1);
    ck_assert_int_eq(lpc_npy_numel(NULL), -1);
    ck_assert_int_eq(lpc_npy_dtype_of(NULL), -1);
    lpc_npy_free(NULL);
}
END_TEST

/* Issue 12 item 12: a write that fails half-way (the file size limit stands
 * in for a full disk) names the file and the errno text, leaves no partial
 * file and keeps the previous one; temporary names are unique. */
START_TEST(failed_save_is_atomic)
{
    char *path = lpct_tmpfile("atomic.npy"), tmp[4096];
    const float small[3] = {1, 2, 3};
    ck_assert_int_eq(lpc_npy_save_f32(path, small, 1, (int64_t[]){3}), LPC_OK);
    ck_assert_int_eq(lpct_count_temps(path), 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *other = fopen(tmp, "w"); /* another writer's fixed temp name */
    ck_assert_ptr_nonnull(other);
    fputs("other", other);
    fclose(other);

    float *big = calloc(100000, sizeof *big);
    lpct_limit_file_size(40000);
    lpc_status s = lpc_npy_save_f32(path, big, 1, (int64_t[]){100000});
    lpct_limit_file_size(0);
    ck_assert_int_eq(s, LPC_E_IO);
    ck_assert_msg(strstr(lpc_last_error(), path) && strstr(lpc_last_error(), "File too large"),
                  "message '%s' lacks the file or the cause", lpc_last_error());

    lpc_npy *a = NULL;
    ck_assert_int_eq(lpc_npy_load(path, &a), LPC_OK); /* the previous file is intact */
    ck_assert_int_eq(lpc_npy_numel(a), 3);
    lpc_npy_free(a);
    ck_assert_int_eq(lpct_count_temps(path), 1); /* only the other writer's */
    ck_assert_int_eq(unlink(tmp), 0);
    unlink(path);
    free(big);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_test(tc, header_bytes_match_numpy);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, wide_dtypes);
    tcase_add_test(tc, header_variants);
    tcase_add_test(tc, malformed_files);
    tcase_add_test(tc, io_errors_and_misuse);
    tcase_add_test(tc, failed_save_is_atomic);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
