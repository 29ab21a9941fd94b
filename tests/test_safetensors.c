/* safetensors: bit-identical round trips of a ResNet in both name styles,
 * metadata, refusal of files that do not fit the module (naming the first
 * mismatch, module unchanged), the parser on hand-made headers, atomic
 * saves and misuse of every function. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "io/safetensors_parse.h"
#include "lpct.h"

static lpc_module *resnet(int in_channels, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *m = lpc_resnet_small_new(in_channels, rng);
    /* Buffers (running statistics) get non-default values too. */
    for (int i = 0; i < lpc_module_num_buffers(m); i++) {
        lpc_tensor *b = lpc_module_buffer(m, i);
        float *d = lpc_tensor_data(b);
        for (int64_t j = 0; j < lpc_tensor_numel(b); j++)
            d[j] = 0.5f + (float)lpc_rng_uniform(rng);
    }
    lpc_rng_free(rng);
    ck_assert_ptr_nonnull(m);
    return m;
}

static int same_module(lpc_module *a, lpc_module *b)
{
    int np = lpc_module_num_params(a), nb = lpc_module_num_buffers(a);
    if (np != lpc_module_num_params(b) || nb != lpc_module_num_buffers(b))
        return 0;
    for (int i = 0; i < np + nb; i++) {
        lpc_tensor *x = i < np ? lpc_module_param(a, i) : lpc_module_buffer(a, i - np);
        lpc_tensor *y = i < np ? lpc_module_param(b, i) : lpc_module_buffer(b, i - np);
        if (lpc_tensor_numel(x) != lpc_tensor_numel(y) ||
            memcmp(lpc_tensor_cdata(x), lpc_tensor_cdata(y),
                   (size_t)lpc_tensor_numel(x) * sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

static int find(const lpc_safetensors *st, const char *name)
{
    for (int i = 0; i < lpc_safetensors_num_tensors(st); i++)
        if (strcmp(lpc_safetensors_tensor_name(st, i), name) == 0)
            return i;
    return -1;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A file image: 8-byte length, header, data. */
static size_t image(uint8_t *out, const char *header, const void *data, size_t n)
{
    size_t h = strlen(header);
    for (int k = 0; k < 8; k++)
        out[k] = (uint8_t)((uint64_t)h >> (8 * k));
    memcpy(out + 8, header, h);
    if (n)
        memcpy(out + 8 + h, data, n);
    return 8 + h + n;
}

START_TEST(round_trip_native)
{
    lpc_module *a = resnet(3, 1), *b = resnet(3, 2);
    char *path = lpct_tmpfile("native.safetensors");
    ck_assert_int_eq(lpc_safetensors_save_module(path, a, NULL, LPC_NAMES_NATIVE, "resnet \"small\"\n"),
                     LPC_OK);
    lpc_safetensors *st = NULL;
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    ck_assert_int_eq(lpc_safetensors_num_tensors(st),
                     lpc_module_num_params(a) + lpc_module_num_buffers(a));
    ck_assert_str_eq(lpc_safetensors_tensor_name(st, 0), lpc_module_param_name(a, 0));
    ck_assert_str_eq(lpc_safetensors_tensor_dtype(st, 0), "F32");
    ck_assert_int_eq(lpc_safetensors_tensor_ndim(st, 0), 4);
    ck_assert_int_eq(lpc_safetensors_tensor_dim(st, 0, 0), 32);
    ck_assert_int_eq(lpc_safetensors_tensor_dim(st, 0, 1), 3);
    ck_assert_int_ge(find(st, "layer2.0.shortcut.0.weight"), 0);
    ck_assert_str_eq(lpc_safetensors_metadata(st, "liblpc_version"), lpc_version_string());
    ck_assert_str_eq(lpc_safetensors_metadata(st, "description"), "resnet \"small\"\n");
    ck_assert_str_eq(lpc_safetensors_metadata(st, "format"), "pt");
    ck_assert_ptr_null(lpc_safetensors_metadata(st, "nothing"));
    ck_assert(!same_module(a, b));
    ck_assert_int_eq(lpc_safetensors_restore_module(st, NULL, b, LPC_NAMES_NATIVE), LPC_OK);
    ck_assert(same_module(a, b));
    lpc_safetensors_free(st);
    lpc_module_free(a);
    lpc_module_free(b);
    free(path);
}
END_TEST


/* Saves m with description d; LPC_OK only when the file loads back with d. */
static lpc_status save_and_reload(lpc_module *m, const char *prefix, const char *d)
{
    char *path = lpct_tmpfile("strings.safetensors");
    lpc_status s = lpc_safetensors_save_module(path, m, prefix, LPC_NAMES_NATIVE, d);
    if (s == LPC_OK) {
        lpc_safetensors *st = NULL;
        ck_assert_msg(lpc_safetensors_load(path, &st) == LPC_OK, "written but unreadable: %s",
                      lpc_last_error());
        ck_assert_str_eq(lpc_safetensors_metadata(st, "description"), d);
        lpc_safetensors_free(st);
    }
    free(path);
    return s;
}

/* Every string the writer accepts, the reader reads back: the limit is the
 * reader's (1024 bytes as written, escapes included) and the text UTF-8. */
START_TEST(string_limits)
{
    lpc_rng *rng = lpc_rng_new(5);
    lpc_module *m = lpc_linear_new(2, 2, 1, rng);
    char d[2100];
    const struct { const char *unit; int units; size_t escaped; } cases[] = {
        {"a", 1024, 1}, {"\"", 512, 2}, {"\\", 512, 2}, {"\xc3\xa9", 512, 2},
        {"\xe2\x82\xac", 341, 3}, {"\xf0\x9f\x98\x80", 256, 4}, {"\n", 170, 6}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        d[0] = '\0';
        for (int u = 0; u < cases[i].units; u++)
            strcat(d, cases[i].unit);
        size_t pad = 1024 - cases[i].units * cases[i].escaped; /* exactly at the limit */
        memset(d + strlen(d), 'x', pad);
        d[cases[i].units * strlen(cases[i].unit) + pad] = '\0';
        ck_assert_msg(save_and_reload(m, NULL, d) == LPC_OK, "case %zu at the limit: %s", i,
                      lpc_last_error());
        strcat(d, "x"); /* one byte over */
        LPCT_EXPECT_ERR(save_and_reload(m, NULL, d), LPC_E_ARG);
        ck_assert_msg(strstr(lpc_last_error(), "the description takes 1025 bytes"), "%s",
                      lpc_last_error());
    }
    const char *bad[] = {"\xff", "ok\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
                         "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        LPCT_EXPECT_ERR(save_and_reload(m, NULL, bad[i]), LPC_E_ARG);
        ck_assert_msg(strstr(lpc_last_error(), "the description is not UTF-8"), "%s",
                      lpc_last_error());
    }
    /* Tensor names: the prefix counts, escaped. */
    char prefix[700];
    memset(prefix, '"', 600);
    prefix[600] = '\0';
    LPCT_EXPECT_ERR(save_and_reload(m, prefix, "d"), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), "tensor name"), "%s", lpc_last_error());
    prefix[500] = '\0'; /* 1000 escaped bytes + "weight" */
    ck_assert_int_eq(save_and_reload(m, prefix, "d"), LPC_OK);
    lpc_module_free(m);
    lpc_rng_free(rng);
}
END_TEST

START_TEST(round_trip_torchvision_names)
{
    lpc_module *a = resnet(3, 3), *b = resnet(3, 4);
    char *path = lpct_tmpfile("tv.safetensors");
    ck_assert_int_eq(lpc_safetensors_save_module(path, a, "backbone.", LPC_NAMES_TORCHVISION, NULL),
                     LPC_OK);
    lpc_safetensors *st = NULL;
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    ck_assert_int_lt(find(st, "backbone.layer2.0.shortcut.0.weight"), 0);
    ck_assert_int_ge(find(st, "backbone.layer2.0.downsample.1.running_var"), 0);
    int k = find(st, "backbone.layer2.0.downsample.1.num_batches_tracked");
    ck_assert_int_ge(k, 0);
    ck_assert_str_eq(lpc_safetensors_tensor_dtype(st, k), "I64");
    ck_assert_int_eq(lpc_safetensors_tensor_ndim(st, k), 0);
    ck_assert_int_ge(find(st, "backbone.bn1.num_batches_tracked"), 0);
    ck_assert_ptr_null(lpc_safetensors_metadata(st, "description"));
    /* Native names do not fit: the first mismatch is the first shortcut. */
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, "backbone.", b, LPC_NAMES_NATIVE),
                    LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "'backbone.layer2.0.shortcut.0.weight'"));
    ck_assert(!same_module(a, b));
    ck_assert_int_eq(lpc_safetensors_restore_module(st, "backbone.", b, LPC_NAMES_TORCHVISION),
                     LPC_OK);
    ck_assert(same_module(a, b));
    lpc_safetensors_free(st);
    lpc_module_free(a);
    lpc_module_free(b);
    free(path);
}
END_TEST

START_TEST(mismatches_named_module_unchanged)
{
    lpc_module *a = resnet(3, 5), *gray = resnet(1, 6), *gray_before = resnet(1, 6);
    char *path = lpct_tmpfile("mismatch.safetensors");
    ck_assert_int_eq(lpc_safetensors_save_module(path, a, "model.", LPC_NAMES_NATIVE, NULL),
                     LPC_OK);
    lpc_safetensors *st = NULL;
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, "model.", gray, LPC_NAMES_NATIVE),
                    LPC_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "'model.conv1.weight' has shape [32, 3, 3, 3]"));
    ck_assert(same_module(gray, gray_before));
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, NULL, a, LPC_NAMES_NATIVE), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "no tensor 'conv1.weight'"));
    /* A module with fewer tensors: the file's first extra one is named. */
    lpc_module *stem = lpc_sequential_new();
    lpc_rng *rng = lpc_rng_new(1);
    lpc_sequential_add(stem, "conv1", lpc_conv2d_new(3, 32, 3, 1, 1, 0, rng));
    lpc_rng_free(rng);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, "model.", stem, LPC_NAMES_NATIVE),
                    LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "tensor 'model.bn1.weight' that the module does not have"));
    lpc_safetensors_free(st);
    lpc_module_free(stem);
    lpc_module_free(a);
    lpc_module_free(gray);
    lpc_module_free(gray_before);
    free(path);
}
END_TEST

START_TEST(dtype_refused)
{
    lpc_rng *rng = lpc_rng_new(1);
    lpc_module *lin = lpc_linear_new(2, 1, 0, rng);
    lpc_rng_free(rng);
    uint8_t buf[256];
    double w[2] = {1.0, 2.0};
    size_t n = image(buf, "{\"weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]}}",
                     w, sizeof w);
    char *path = lpct_tmpfile("f64.safetensors");
    write_bytes(path, buf, n);
    lpc_safetensors *st = NULL;
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, NULL, lin, LPC_NAMES_NATIVE), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "'weight' is F64, the module needs F32"));
    lpc_safetensors_free(st);
    /* The same as F32 (little-endian bytes) restores. */
    float f[2] = {1.5f, -2.0f};
    n = image(buf, "{\"weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}    ",
              f, sizeof f);
    write_bytes(path, buf, n);
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    ck_assert_int_eq(lpc_safetensors_restore_module(st, NULL, lin, LPC_NAMES_NATIVE), LPC_OK);
    ck_assert_float_eq(lpc_tensor_cdata(lpc_module_param(lin, 0))[1], -2.0f);
    lpc_safetensors_free(st);
    lpc_module_free(lin);
    free(path);
}
END_TEST

/* Headers the parser must accept (with what it decodes) or refuse. */
START_TEST(parser_cases)
{
    uint8_t buf[512], data[16] = {0};
    lpc_safetensors *st = NULL;
    size_t n = image(buf, " {\"__metadata__\":{\"k\\u00e9y\":\"v\\\"\\ud83d\\ude00\"},"
                          "\"a\\/b\":{\"shape\":[],\"data_offsets\":[8,16],\"dtype\":\"I64\"},"
                          "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                          "\"c\":{\"dtype\":\"U8\",\"shape\":[2,4],\"data_offsets\":[0,8]}}",
                     data, 16);
    ck_assert_int_eq(lpci_safetensors_parse(buf, n, "ok", &st), LPC_OK);
    ck_assert_int_eq(lpc_safetensors_num_tensors(st), 3);
    ck_assert_str_eq(lpc_safetensors_tensor_name(st, 0), "a/b");
    ck_assert_str_eq(lpc_safetensors_metadata(st, "k\xc3\xa9y"), "v\"\xf0\x9f\x98\x80");
    ck_assert_int_eq(lpc_safetensors_tensor_dim(st, 1, 0), 0);
    lpc_safetensors_free(st);
    static const char *bad[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",           /* size */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[4,12]}}",             /* overlap */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[8,16]}}",            /* hole */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",             /* short */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]},"
        "\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[16,16]}}",            /* twice */
        "{\"a\":{\"dtype\":\"X9\",\"shape\":[16],\"data_offsets\":[0,16]}}",           /* dtype */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16],\"x\":1}}",   /* key */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[-16],\"data_offsets\":[0,16]}}",          /* sign */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[016],\"data_offsets\":[0,16]}}",          /* zero */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16.0],\"data_offsets\":[0,16]}}",         /* float */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[16,0]}}",           /* order */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16]}}",                                  /* missing */
        "{\"a\\u0000\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}}",    /* NUL */
        "{\"a\\udc00\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}}",    /* lone */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}} x",        /* tail */
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]},}",         /* comma */
        "{\"__metadata__\":{\"k\":1}}",                                               /* value */
        "{\"__metadata__\":{},\"__metadata__\":{}}",                                 /* twice */
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = image(buf, bad[i], data, 16);
        lpc_clear_error();
        ck_assert_msg(lpci_safetensors_parse(buf, n, "bad", &st) == LPC_E_FORMAT,
                      "case %zu accepted", i);
        ck_assert_ptr_null(st);
        ck_assert_ptr_nonnull(strstr(lpc_last_error(), "'bad' refused"));
    }
    /* A header length beyond the file. */
    n = image(buf, "{}", NULL, 0);
    buf[0] = 200;
    LPCT_EXPECT_ERR(lpci_safetensors_parse(buf, n, "bad", &st), LPC_E_FORMAT);
    LPCT_EXPECT_ERR(lpci_safetensors_parse(buf, 7, "bad", &st), LPC_E_FORMAT);
}
END_TEST

/* No temporary file is left next to a saved file; a save into a missing
 * directory fails with the reason and leaves nothing. */
START_TEST(atomic_save)
{
    lpc_module *a = resnet(1, 7);
    char *path = lpct_tmpfile("atomic-dir");
    char file[4096];
    snprintf(file, sizeof file, "%s/missing/m.safetensors", path);
    LPCT_EXPECT_ERR(lpc_safetensors_save_module(file, a, NULL, LPC_NAMES_NATIVE, NULL), LPC_E_IO);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "No such file or directory"));
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(file, sizeof file, "%s/m.safetensors", path);
    for (int round = 0; round < 2; round++)
        ck_assert_int_eq(lpc_safetensors_save_module(file, a, NULL, LPC_NAMES_NATIVE, "x"), LPC_OK);
    DIR *d = opendir(path);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 1);
    lpc_module_free(a);
    free(path);
}
END_TEST

START_TEST(misuse)
{
    lpc_module *a = resnet(1, 8);
    lpc_safetensors *st = NULL;
    char *path = lpct_tmpfile("misuse.safetensors");
    LPCT_EXPECT_ERR(lpc_safetensors_save_module(NULL, a, NULL, LPC_NAMES_NATIVE, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_save_module(path, NULL, NULL, LPC_NAMES_NATIVE, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_save_module(path, a, NULL, (lpc_name_style)7, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_load(NULL, &st), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_load(path, NULL), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_load(path, &st), LPC_E_IO); /* not written yet */
    ck_assert_ptr_null(st);
    write_bytes(path, "\x02\0\0\0\0\0\0\0{]", 10);
    LPCT_EXPECT_ERR(lpc_safetensors_load(path, &st), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), path));
    ck_assert_int_eq(lpc_safetensors_save_module(path, a, NULL, LPC_NAMES_NATIVE, NULL), LPC_OK);
    ck_assert_int_eq(lpc_safetensors_load(path, &st), LPC_OK);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(NULL, NULL, a, LPC_NAMES_NATIVE), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, NULL, NULL, LPC_NAMES_NATIVE), LPC_E_ARG);
    LPCT_EXPECT_ERR(lpc_safetensors_restore_module(st, NULL, a, (lpc_name_style)-1), LPC_E_ARG);
    ck_assert_int_eq(lpc_safetensors_num_tensors(NULL), -1);
    ck_assert_ptr_null(lpc_safetensors_tensor_name(NULL, 0));
    ck_assert_ptr_null(lpc_safetensors_tensor_name(st, -1));
    ck_assert_ptr_null(lpc_safetensors_tensor_dtype(st, 1 << 20));
    ck_assert_int_eq(lpc_safetensors_tensor_ndim(NULL, 0), -1);
    ck_assert_int_eq(lpc_safetensors_tensor_dim(st, 0, 4), -1);
    ck_assert_int_eq(lpc_safetensors_tensor_dim(st, 0, -1), -1);
    ck_assert_ptr_null(lpc_safetensors_metadata(NULL, "format"));
    ck_assert_ptr_null(lpc_safetensors_metadata(st, NULL));
    lpc_safetensors_free(st);
    lpc_safetensors_free(NULL);
    lpc_module_free(a);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_test(tc, round_trip_native);
    tcase_add_test(tc, round_trip_torchvision_names);
    tcase_add_test(tc, mismatches_named_module_unchanged);
    tcase_add_test(tc, dtype_refused);
    tcase_add_test(tc, parser_cases);
    tcase_add_test(tc, atomic_save);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, string_limits);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
