/* Image class folders (JPEG and PNG): listing and labels, conversion and
 * resizing (Pillow's bilinear filter, hand-computed), thread-count
 * independence, and the refusals: damaged files named, bad signatures,
 * sizes that differ, bad options; the batcher's random resized crop. Images are written here with libjpeg and
 * libpng. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lpct.h"
#include "imgwrite.h"
#include "data/parse.h"

#define CLASSES 3
#define PER_CLASS 100 /* 300 images */

static char *root;

static void rm_rf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static char *path_in(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

static void make_root(void)
{
    root = lpct_tmpfile("imagedir");
    rm_rf(root);
    ck_assert_int_eq(mkdir(root, 0755), 0);
    ck_assert_int_eq(lpct_make_jpeg_folder(path_in("train"), CLASSES, PER_CLASS, 24, 20, 20, 7), 0);
}

static void drop_root(void)
{
    rm_rf(root);
    free(root);
}

/* Mean of channel j over the images of class k. */
static double class_mean(const lpc_dataset *ds, int k, int j)
{
    int64_t n = lpc_dataset_size(ds), plane = (int64_t)lpc_dataset_height(ds) * lpc_dataset_width(ds);
    int c = lpc_dataset_channels(ds);
    double sum = 0.0, count = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (lpc_dataset_labels(ds)[i] != k)
            continue;
        const uint8_t *img = lpc_dataset_images(ds) + i * c * plane + j * plane;
        for (int64_t p = 0; p < plane; p++)
            sum += img[p];
        count += (double)plane;
    }
    return sum / count;
}

START_TEST(folders_sizes_and_classes)
{
    make_root();
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), NULL, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), CLASSES * PER_CLASS);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), CLASSES);
    ck_assert_int_eq(lpc_dataset_channels(ds), 3);
    ck_assert_int_eq(lpc_dataset_height(ds), 24);
    ck_assert_int_eq(lpc_dataset_width(ds), 20);
    ck_assert_str_eq(lpc_dataset_class_name(ds, 2), "class2");
    for (int64_t i = 0; i < lpc_dataset_size(ds); i++)
        ck_assert_int_eq(lpc_dataset_labels(ds)[i], (int32_t)(i / PER_CLASS));
    /* Each class keeps its colour through JPEG (noise +-20 averages out). */
    for (int k = 0; k < CLASSES; k++)
        for (int j = 0; j < 3; j++)
            ck_assert(fabs(class_mean(ds, k, j) - lpct_class_colour(k, j)) < 6.0);
    lpc_dataset_free(ds);

    /* Resized to 12 x 10 and converted to grey: the class means stay (a
     * linear filter), grey = 0.299 R + 0.587 G + 0.114 B. */
    lpc_imagedir_options o;
    lpc_imagedir_options_init(&o);
    ck_assert_uint_eq(o.size, sizeof o);
    o.height = 12;
    o.width = 10;
    o.channels = 1;
    lpc_set_num_threads(1);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_channels(ds), 1);
    ck_assert_int_eq(lpc_dataset_height(ds), 12);
    ck_assert_int_eq(lpc_dataset_width(ds), 10);
    for (int k = 0; k < CLASSES; k++) {
        double grey = 0.299 * lpct_class_colour(k, 0) + 0.587 * lpct_class_colour(k, 1) +
                      0.114 * lpct_class_colour(k, 2);
        ck_assert(fabs(class_mean(ds, k, 0) - grey) < 6.0);
    }
    /* The same bytes with two threads. */
    lpc_dataset *two = NULL;
    lpc_set_num_threads(2);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &two), LPC_OK);
    ck_assert_int_eq(memcmp(lpc_dataset_images(ds), lpc_dataset_images(two),
                            (size_t)lpc_dataset_size(ds) * 120), 0);
    lpc_dataset_free(two);
    lpc_dataset_free(ds);

    /* A test folder labelled by the training folder's classes. */
    char dst[4096];
    ck_assert_int_eq(mkdir(path_in("test"), 0755), 0);
    ck_assert_int_eq(lpct_make_jpeg_folder(path_in("test2"), CLASSES, 2, 24, 20, 0, 3), 0);
    snprintf(dst, sizeof dst, "%s", path_in("test/class2"));
    ck_assert_int_eq(rename(path_in("test2/class2"), dst), 0);
    lpc_imagedir_options_init(&o);
    char classes[4096];
    snprintf(classes, sizeof classes, "%s", path_in("train"));
    o.classes_dir = classes;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("test"), &o, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 2);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), CLASSES);
    ck_assert_int_eq(lpc_dataset_labels(ds)[0], 2);
    lpc_dataset_free(ds);
    drop_root();
}
END_TEST

/* Pillow's bilinear filter, hand-computed: shrinking 4 -> 2 is a tent of
 * half-width 2 (weights 0.75, 0.75, 0.25 over 1.75); enlarging 2 -> 4 the
 * plain tent. */
START_TEST(resize_bilinear)
{
    uint8_t row[4] = {0, 100, 200, 255}, out[4];
    ck_assert_int_eq(lpci_resize_bilinear(row, 1, 1, 4, out, 1, 2), LPC_OK);
    ck_assert_int_eq(out[0], 71);  /* (75 + 50) / 1.75 = 71.4 */
    ck_assert_int_eq(out[1], 209); /* (25 + 150 + 191.25) / 1.75 = 209.3 */
    uint8_t two[2] = {0, 100};
    ck_assert_int_eq(lpci_resize_bilinear(two, 1, 1, 2, out, 1, 4), LPC_OK);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(out[1], 25);
    ck_assert_int_eq(out[2], 75);
    ck_assert_int_eq(out[3], 100);
    /* Columns the same as rows; a constant image stays constant. */
    ck_assert_int_eq(lpci_resize_bilinear(row, 1, 4, 1, out, 2, 1), LPC_OK);
    ck_assert_int_eq(out[0], 71);
    ck_assert_int_eq(out[1], 209);
    uint8_t flat[3 * 7 * 5], small[3 * 3 * 2];
    memset(flat, 131, sizeof flat);
    ck_assert_int_eq(lpci_resize_bilinear(flat, 3, 7, 5, small, 3, 2), LPC_OK);
    for (size_t i = 0; i < sizeof small; i++)
        ck_assert_int_eq(small[i], 131);
}
END_TEST

START_TEST(mixed_formats_and_refusals)
{
    make_root();
    lpc_dataset *ds = (lpc_dataset *)&ds; /* set to NULL on failure */
    uint8_t grey[24 * 20];
    memset(grey, 90, sizeof grey);
    /* A grey PNG among RGB JPEGs: refused without a channel count (naming
     * it), read with one. */
    ck_assert_int_eq(lpct_write_png(path_in("train/class1/zz.png"), grey, 24, 20, 1), 0);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), NULL, &ds), LPC_E_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "class1/zz.png"));
    lpc_imagedir_options o;
    lpc_imagedir_options_init(&o);
    o.channels = 3;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), CLASSES * PER_CLASS + 1);
    int64_t last = PER_CLASS * 2 - 1 + 1; /* class1's files sorted: img000..img099, zz.png */
    ck_assert_int_eq(lpc_dataset_labels(ds)[last], 1);
    ck_assert_int_eq(lpc_dataset_images(ds)[last * 3 * 480 + 2 * 480 + 7], 90);
    lpc_dataset_free(ds);
    ck_assert_int_eq(unlink(path_in("train/class1/zz.png")), 0);

    /* A different size is named unless a size is asked for. */
    uint8_t rgb[30 * 30 * 3];
    memset(rgb, 60, sizeof rgb);
    ck_assert_int_eq(lpct_write_jpeg(path_in("train/class0/zz.jpeg"), rgb, 30, 30, 3, 90), 0);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), NULL, &ds), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "class0/zz.jpeg"));
    o.height = 24;
    o.width = 20;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_OK);
    lpc_dataset_free(ds);
    ck_assert_int_eq(unlink(path_in("train/class0/zz.jpeg")), 0);

    /* A truncated JPEG, decoded on two threads, is named. */
    char victim[4096];
    snprintf(victim, sizeof victim, "%s", path_in("train/class2/img050.jpg"));
    struct stat st;
    ck_assert_int_eq(stat(victim, &st), 0);
    ck_assert_int_eq(truncate(victim, st.st_size / 2), 0);
    lpc_set_num_threads(2);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "class2/img050.jpg"));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "corrupt JPEG"));
    lpc_set_num_threads(1);
    /* Not an image at all. */
    FILE *f = fopen(victim, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("hello", f);
    fclose(f);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "neither a JPEG nor a PNG"));
    ck_assert_int_eq(unlink(victim), 0);
    /* Non-regular files are skipped (as the PNG reader): a FIFO is never opened. */
    ck_assert_int_eq(mkfifo(victim, 0644), 0);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), CLASSES * PER_CLASS - 1);
    lpc_dataset_free(ds);
    /* A class folder without images. */
    ck_assert_int_eq(mkdir(path_in("train/empty"), 0755), 0);
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("train"), &o, &ds), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "no .jpg, .jpeg or .png files"));
    drop_root();
}
END_TEST

/* Bounds of the decoder itself: signature, header-declared size. */
START_TEST(jpeg_decoder_bounds)
{
    int c, h, w;
    uint8_t *px = (uint8_t *)&c;
    static const uint8_t junk[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00};
    ck_assert_int_eq(lpci_parse_jpeg(junk, 2, "a.jpg", &c, &h, &w, &px), LPC_E_FORMAT);
    ck_assert_ptr_null(px);
    ck_assert_int_eq(lpci_parse_jpeg(junk, sizeof junk, "a.jpg", &c, &h, &w, &px), LPC_E_FORMAT);
    ck_assert_ptr_null(px);
    /* A valid 1 x 1 grey JPEG decodes; its width patched to 60000 is refused
     * before any pixel is decoded. */
    char *path = lpct_tmpfile("one.jpg");
    uint8_t v = 77;
    ck_assert_int_eq(lpct_write_jpeg(path, &v, 1, 1, 1, 100), 0);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(lpci_read_file(path, 1 << 20, &buf, &len), LPC_OK);
    ck_assert_int_eq(lpci_parse_jpeg(buf, len, path, &c, &h, &w, &px), LPC_OK);
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(h, 1);
    ck_assert_int_eq(w, 1);
    ck_assert_int_eq(px[0], 77);
    lpci_free(px);
    for (size_t i = 0; i + 8 < len; i++)
        if (buf[i] == 0xFF && buf[i + 1] == 0xC0) { /* SOF0: length, precision, height, width */
            buf[i + 7] = 0xEA;
            buf[i + 8] = 0x60;
        }
    ck_assert_int_eq(lpci_parse_jpeg(buf, len, path, &c, &h, &w, &px), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "too large"));
    lpci_free(buf);
    /* A valid progressive JPEG of 379 scans is refused by the scan limit. */
    ck_assert_int_eq(lpct_write_jpeg_many_scans(path), 0);
    ck_assert_int_eq(lpci_read_file(path, 1 << 20, &buf, &len), LPC_OK);
    ck_assert_int_eq(lpci_parse_jpeg(buf, len, path, &c, &h, &w, &px), LPC_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "more than 256 progressive scans"));
    lpci_free(buf);
    unlink(path);
    free(path);
}
END_TEST

/* torchvision's Resize(S) + CenterCrop: a lossless 10 x 14 PNG to 6 x 6 with
 * center_crop 0.75: shorter side 10 -> S = 8, longer int(8 * 14 / 10) = 11,
 * offsets round(1) = 1 and round(2.5) = 2 (halves to even). */
START_TEST(center_crop)
{
    make_root();
    uint8_t rgb[10 * 14 * 3], planar[3 * 10 * 14], big[3 * 8 * 11];
    for (int i = 0; i < 10 * 14 * 3; i++)
        rgb[i] = (uint8_t)((i * 53) % 256);
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 140; p++)
            planar[k * 140 + p] = rgb[p * 3 + k];
    ck_assert_int_eq(mkdir(path_in("crop"), 0755), 0);
    ck_assert_int_eq(mkdir(path_in("crop/a"), 0755), 0);
    ck_assert_int_eq(lpct_write_png(path_in("crop/a/x.png"), rgb, 10, 14, 3), 0);
    lpc_imagedir_options o;
    lpc_imagedir_options_init(&o);
    ck_assert(o.center_crop == 1.0);
    o.height = o.width = 6;
    o.center_crop = 0.75;
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("crop"), &o, &ds), LPC_OK);
    ck_assert_int_eq(lpci_resize_bilinear(planar, 3, 10, 14, big, 8, 11), LPC_OK);
    const uint8_t *got = lpc_dataset_images(ds);
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
                ck_assert_int_eq(got[(k * 6 + y) * 6 + x], big[(k * 8 + 1 + y) * 11 + 2 + x]);
    lpc_dataset_free(ds);
    o.center_crop = 0.01;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("crop"), &o, &ds), LPC_E_ARG);
    o.center_crop = 0.5;
    o.height = o.width = 0;
    ck_assert_int_eq(lpc_dataset_load_imagedir(path_in("crop"), &o, &ds), LPC_E_ARG);
    drop_root();
}
END_TEST

/* Random resized crop in the batcher. */
static lpc_dataset *ramp_images(int n, int c, int h, int w)
{
    uint8_t *px = malloc((size_t)n * c * h * w);
    int32_t *y = calloc((size_t)n, sizeof *y);
    for (int i = 0; i < n * c * h * w; i++)
        px[i] = (uint8_t)((i * 37 + i / w * 11) % 251);
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(px, y, n, c, h, w, 1, &ds), LPC_OK);
    free(px);
    free(y);
    return ds;
}

static void one_batch(lpc_dataset *ds, uint64_t seed, int rrc, float *out)
{
    lpc_batcher *b = lpc_batcher_new(ds, lpc_dataset_size(ds), 0, seed, NULL, NULL);
    ck_assert_ptr_nonnull(b);
    if (rrc)
        ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0.08, 1.0, 0.75, 4.0 / 3), LPC_OK);
    ck_assert_int_eq(lpc_batcher_set_augment(b, 0, 1), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x;
    const int32_t *y;
    ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &y), lpc_dataset_size(ds));
    memcpy(out, lpc_tensor_cdata(x), (size_t)lpc_tensor_numel(x) * sizeof *out);
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
}

START_TEST(random_resized_crop)
{
    /* A 2 x 2 crop of a 4 x 4 image (scale 1/4, ratio 1) is the crop
     * enlarged by the tent: per axis a, .75a + .25b, .25a + .75b, b. */
    lpc_dataset *ds = ramp_images(1, 1, 4, 4);
    lpc_batcher *b = lpc_batcher_new(ds, 1, 0, 5, NULL, NULL);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0.25, 0.25, 1.0, 1.0), LPC_OK);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x;
    const int32_t *y;
    const uint8_t *img = lpc_dataset_images(ds);
    static const double wt[4][2] = {{1, 0}, {0.75, 0.25}, {0.25, 0.75}, {0, 1}};
    for (int round = 0; round < 8; round++) {
        ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &y), 1);
        const float *o = lpc_tensor_cdata(x);
        int matches = 0;
        for (int cy = 0; cy <= 2; cy++)
            for (int cx = 0; cx <= 2; cx++) {
                int ok = 1;
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) {
                        double v = 0;
                        for (int j = 0; j < 2; j++)
                            for (int t = 0; t < 2; t++)
                                v += wt[r][j] * wt[q][t] * img[(cy + j) * 4 + cx + t];
                        ok &= fabs(o[r * 4 + q] - v / 255.0) < 1e-5;
                    }
                matches += ok;
            }
        ck_assert_int_ge(matches, 1);
        ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &y), 0); /* end of the epoch */
        lpc_ctx_reset(ctx);
    }
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0.5, 0.25, 1, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0.5, 1.5, 1, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0.5, 1, 0, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(NULL, 0.5, 1, 1, 1), LPC_E_ARG);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(b, 0, 0, 0, 0), LPC_OK); /* off */
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
    lpc_dataset_free(ds);

    /* The whole image (scale 1, ratio 1 of a square) is the image itself. */
    ds = ramp_images(6, 3, 9, 9);
    size_t len = (size_t)6 * 3 * 81;
    float *plain = malloc(len * sizeof *plain), *crop = malloc(len * sizeof *crop);
    lpc_batcher *p = lpc_batcher_new(ds, 6, 0, 1, NULL, NULL);
    ctx = lpc_ctx_new();
    ck_assert_int_eq(lpc_batcher_next(p, ctx, &x, &y), 6);
    memcpy(plain, lpc_tensor_cdata(x), len * sizeof *plain);
    lpc_batcher_free(p);
    p = lpc_batcher_new(ds, 6, 0, 1, NULL, NULL);
    ck_assert_int_eq(lpc_batcher_set_random_resized_crop(p, 1, 1, 1, 1), LPC_OK);
    ck_assert_int_eq(lpc_batcher_next(p, ctx, &x, &y), 6);
    for (size_t i = 0; i < len; i++)
        ck_assert(fabsf(lpc_tensor_cdata(x)[i] - plain[i]) < 1e-6f);
    lpc_batcher_free(p);
    lpc_ctx_free(ctx);
    /* Seeded: the same seed gives the same batch on 1 and 2 threads; another
     * seed another batch. */
    lpc_set_num_threads(1);
    one_batch(ds, 42, 1, plain);
    lpc_set_num_threads(2);
    one_batch(ds, 42, 1, crop);
    ck_assert_int_eq(memcmp(plain, crop, len * sizeof *plain), 0);
    one_batch(ds, 43, 1, crop);
    ck_assert_int_ne(memcmp(plain, crop, len * sizeof *plain), 0);
    lpc_set_num_threads(1);
    free(plain);
    free(crop);
    lpc_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("imagedir");
    TCase *tc = tcase_create("imagedir");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, folders_sizes_and_classes);
    tcase_add_test(tc, resize_bilinear);
    tcase_add_test(tc, mixed_formats_and_refusals);
    tcase_add_test(tc, jpeg_decoder_bounds);
    tcase_add_test(tc, random_resized_crop);
    tcase_add_test(tc, center_crop);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
