/* Data sets (IDX, CIFAR, PNG folders, memory) and the batcher. Files are
 * written at run time in the official layouts under a fresh temp folder. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "data/parse.h"
#include "lpct.h"

/* ---- fixtures ---- */

static char *g_root; /* per-test temp folder */

static char *path_of(const char *rel)
{
    size_t n = strlen(g_root) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", g_root, rel);
    return p;
}

static void mkdir_rel(const char *rel)
{
    char *p = path_of(rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    free(p);
}

static void write_rel(const char *rel, const void *data, size_t len)
{
    char *p = path_of(rel);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

static void write_gz_rel(const char *rel, const void *data, size_t len)
{
    char *p = path_of(rel);
    gzFile f = gzopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
    gzclose(f);
    free(p);
}

static void setup(void)
{
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "data-%d", counter++);
    g_root = lpct_tmpfile(name);
    ck_assert_int_eq(mkdir(g_root, 0755), 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void teardown(void)
{
    nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(g_root);
}

/* The failing call must return `want` and name `needle` in its message. */
#define EXPECT_FAIL(call, want, needle)                                                  \
    do {                                                                                 \
        lpc_clear_error();                                                               \
        lpc_status st_ = (call);                                                         \
        ck_assert_msg(st_ == (want), #call ": got %s, expected %s (%s)",                 \
                      lpc_status_name(st_), lpc_status_name(want), lpc_last_error());    \
        ck_assert_msg(strstr(lpc_last_error(), (needle)) != NULL,                        \
                      #call ": message \"%s\" lacks \"%s\"", lpc_last_error(), (needle)); \
    } while (0)

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* IDX image file of n x h x w with pixel (i, k) = 7i + k mod 256. */
static size_t idx_images(uint8_t *buf, uint32_t magic, int n, int h, int w)
{
    put_be32(buf, magic);
    put_be32(buf + 4, (uint32_t)n);
    put_be32(buf + 8, (uint32_t)h);
    put_be32(buf + 12, (uint32_t)w);
    for (int i = 0; i < n * h * w; i++)
        buf[16 + i] = (uint8_t)(7 * (i / (h * w)) + i % (h * w));
    return 16 + (size_t)n * h * w;
}

static size_t idx_labels(uint8_t *buf, int n, const uint8_t *labels)
{
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, (uint32_t)n);
    memcpy(buf + 8, labels, (size_t)n);
    return 8 + (size_t)n;
}

/* ---- IDX ---- */

START_TEST(idx_raw_and_gz)
{
    uint8_t img[16 + 5 * 12], lab[8 + 5];
    const uint8_t labels[5] = {0, 3, 1, 2, 3};
    size_t ni = idx_images(img, 0x00000803, 5, 3, 4), nl = idx_labels(lab, 5, labels);
    write_rel("img", img, ni);
    write_rel("lab", lab, nl);
    write_gz_rel("img.gz", img, ni);
    write_gz_rel("lab.gz", lab, nl);
    const char *pairs[3][2] = {{"img", "lab"}, {"img.gz", "lab.gz"}, {"img.gz", "lab"}};
    for (int p = 0; p < 3; p++) {
        char *a = path_of(pairs[p][0]), *b = path_of(pairs[p][1]);
        lpc_dataset *ds = NULL;
        ck_assert_int_eq(lpc_dataset_load_idx(a, b, &ds), LPC_OK);
        ck_assert_int_eq(lpc_dataset_size(ds), 5);
        ck_assert_int_eq(lpc_dataset_channels(ds), 1);
        ck_assert_int_eq(lpc_dataset_height(ds), 3);
        ck_assert_int_eq(lpc_dataset_width(ds), 4);
        ck_assert_int_eq(lpc_dataset_num_classes(ds), 4);
        ck_assert_mem_eq(lpc_dataset_images(ds), img + 16, 60);
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(lpc_dataset_labels(ds)[i], labels[i]);
        lpc_dataset_free(ds);
        free(a);
        free(b);
    }
}
END_TEST

/* Writes images/labels buffers and expects load_idx to fail. */
static void idx_expect(const uint8_t *img, size_t ni, const uint8_t *lab, size_t nl, int gz,
                       lpc_status want, const char *needle)
{
    (gz ? write_gz_rel : write_rel)("bad-img", img, ni);
    write_rel("bad-lab", lab, nl);
    char *a = path_of("bad-img"), *b = path_of("bad-lab");
    lpc_dataset *ds = (lpc_dataset *)1;
    EXPECT_FAIL(lpc_dataset_load_idx(a, b, &ds), want, needle);
    ck_assert_ptr_null(ds);
    free(a);
    free(b);
}

START_TEST(idx_malformed)
{
    uint8_t img[16 + 6 * 12 + 8], lab[8 + 6], tmp[sizeof img];
    const uint8_t labels[6] = {1, 0, 1, 0, 1, 0};
    size_t ni = idx_images(img, 0x00000803, 5, 3, 4), nl = idx_labels(lab, 5, labels);
    /* Wrong magic: a label file given as images, and vice versa. */
    idx_expect(lab, nl, lab, nl, 0, LPC_E_FORMAT, "bad-img: magic 0x00000801");
    idx_expect(img, ni, img, ni, 0, LPC_E_FORMAT, "bad-lab: magic 0x00000803");
    /* Truncated body: the header says 5 images, the bytes hold 3 and a bit. */
    idx_expect(img, 16 + 3 * 12 + 5, lab, nl, 0, LPC_E_FORMAT,
               "bad-img: header says 5 images, file has 3");
    idx_expect(img, 16 + 3 * 12 + 5, lab, nl, 1, LPC_E_FORMAT, "header says 5 images");
    idx_expect(img, ni, lab, nl - 2, 0, LPC_E_FORMAT, "bad-lab: header says 5 labels, file has 3");
    /* Truncated header and empty file. */
    idx_expect(img, 10, lab, nl, 0, LPC_E_FORMAT, "header truncated");
    idx_expect(img, 0, lab, nl, 0, LPC_E_FORMAT, "too short");
    /* Trailing garbage after the last image. */
    idx_expect(img, ni + 3, lab, nl, 0, LPC_E_FORMAT, "trailing data after the 5 images");
    /* Counts disagree. */
    uint8_t lab6[8 + 6];
    size_t nl6 = idx_labels(lab6, 6, labels);
    idx_expect(img, ni, lab6, nl6, 0, LPC_E_FORMAT, "6 labels for 5 images");
    /* Zero-sized dimension. */
    memcpy(tmp, img, ni);
    put_be32(tmp + 8, 0);
    idx_expect(tmp, ni, lab, nl, 0, LPC_E_FORMAT, "dimension 1 is zero");
    /* A gzip stream cut short, and one with corrupt deflate data. */
    write_gz_rel("full.gz", img, ni);
    char *full = path_of("full.gz");
    FILE *f = fopen(full, "rb");
    uint8_t gz[512];
    size_t gzn = fread(gz, 1, sizeof gz, f);
    fclose(f);
    free(full);
    ck_assert_uint_gt(gzn, 30);
    write_rel("cut.gz", gz, gzn - 12);
    memset(gz + 10, 0xff, gzn - 10);
    write_rel("corrupt.gz", gz, gzn);
    write_rel("bad-lab", lab, nl);
    char *cut = path_of("cut.gz"), *corrupt = path_of("corrupt.gz"), *l = path_of("bad-lab");
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_idx(cut, l, &ds), LPC_E_FORMAT, "cut.gz");
    EXPECT_FAIL(lpc_dataset_load_idx(corrupt, l, &ds), LPC_E_FORMAT, "corrupt.gz: corrupt gzip");
    /* Missing file, a folder, NULL arguments. */
    char *missing = path_of("nope");
    EXPECT_FAIL(lpc_dataset_load_idx(missing, l, &ds), LPC_E_IO, "nope");
    EXPECT_FAIL(lpc_dataset_load_idx(g_root, l, &ds), LPC_E_IO, g_root);
    EXPECT_FAIL(lpc_dataset_load_idx(NULL, l, &ds), LPC_E_ARG, "lpc_dataset_load_idx");
    EXPECT_FAIL(lpc_dataset_load_idx(l, l, NULL), LPC_E_ARG, "lpc_dataset_load_idx");
    EXPECT_FAIL(lpc_dataset_load_mnist_dir(g_root, 1, &ds), LPC_E_IO, "train-images-idx3-ubyte");
    ck_assert_ptr_null(ds);
    free(cut);
    free(corrupt);
    free(l);
    free(missing);
}
END_TEST

START_TEST(mnist_dir_layout)
{
    uint8_t img[16 + 4 * 4], lab[8 + 4];
    const uint8_t labels[4] = {2, 0, 1, 2};
    size_t ni = idx_images(img, 0x00000803, 4, 2, 2), nl = idx_labels(lab, 4, labels);
    write_gz_rel("t10k-images-idx3-ubyte.gz", img, ni);
    write_gz_rel("t10k-labels-idx1-ubyte.gz", lab, nl);
    write_rel("train-images-idx3-ubyte", img, ni); /* unpacked copies also work */
    write_rel("train-labels-idx1-ubyte", lab, nl);
    for (int train = 0; train < 2; train++) {
        lpc_dataset *ds = NULL;
        ck_assert_int_eq(lpc_dataset_load_mnist_dir(g_root, train, &ds), LPC_OK);
        ck_assert_int_eq(lpc_dataset_size(ds), 4);
        ck_assert_int_eq(lpc_dataset_num_classes(ds), 10); /* the MNIST family's ten */
        ck_assert_int_eq(lpc_dataset_labels(ds)[3], 2);
        lpc_dataset_free(ds);
    }
}
END_TEST

/* Labels outside the MNIST family's ten classes are refused, naming the
 * file, the record and the value (they used to make an 11- or 256-class set). */
START_TEST(mnist_labels_out_of_range)
{
    uint8_t img[16 + 4 * 4], lab[8 + 4];
    const uint8_t ok[4] = {2, 0, 9, 1}, ten[4] = {2, 0, 10, 1}, max[4] = {255, 0, 1, 1};
    size_t ni = idx_images(img, 0x00000803, 4, 2, 2);
    write_rel("train-images-idx3-ubyte", img, ni);
    write_rel("t10k-images-idx3-ubyte", img, ni);
    write_rel("train-labels-idx1-ubyte", lab, idx_labels(lab, 4, ten));
    write_rel("t10k-labels-idx1-ubyte", lab, idx_labels(lab, 4, max));
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_mnist_dir(g_root, 1, &ds), LPC_E_FORMAT,
                "train-labels-idx1-ubyte: record 2 has label 10 (must be < 10)");
    EXPECT_FAIL(lpc_dataset_load_mnist_dir(g_root, 0, &ds), LPC_E_FORMAT,
                "t10k-labels-idx1-ubyte: record 0 has label 255");
    ck_assert_ptr_null(ds);
    write_rel("train-labels-idx1-ubyte", lab, idx_labels(lab, 4, ok));
    ck_assert_int_eq(lpc_dataset_load_mnist_dir(g_root, 1, &ds), LPC_OK);
    lpc_dataset_free(ds);
}
END_TEST

/* FIFOs and devices are refused before a byte is read (a FIFO used to hang,
 * /dev/zero to fill the memory); so are folders. */
START_TEST(loaders_refuse_special_files)
{
    uint8_t lab[8 + 1];
    const uint8_t one[1] = {0};
    write_rel("lab", lab, idx_labels(lab, 1, one));
    char *fifo = path_of("fifo"), *l = path_of("lab"), *zero = path_of("data_batch_1.bin");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(symlink("/dev/zero", zero), 0);
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_idx(fifo, l, &ds), LPC_E_IO, "fifo: not a regular file (a FIFO)");
    EXPECT_FAIL(lpc_dataset_load_idx(l, fifo, &ds), LPC_E_IO, "not a regular file");
    EXPECT_FAIL(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_E_IO,
                "data_batch_1.bin: not a regular file (a device)");
    EXPECT_FAIL(lpc_dataset_load_idx(g_root, l, &ds), LPC_E_IO, "not a regular file (a folder)");
    ck_assert_ptr_null(ds);
    free(fifo);
    free(l);
    free(zero);
}
END_TEST

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A gzip bomb behind a small header: the reader stops one byte after what
 * the header announces, so memory stays near the file's size (it used to
 * inflate everything: 3.1 GB for a 14 MB file). Data after the gzip member
 * is refused too. */
START_TEST(idx_gzip_bounded)
{
    uint8_t img[16 + 2 * 4], lab[8 + 2];
    const uint8_t labels[2] = {1, 0};
    size_t ni = idx_images(img, 0x00000803, 2, 2, 2), nl = idx_labels(lab, 2, labels);
    write_rel("lab", lab, nl);
    /* 256 MB of zeros after the announced 8 bytes: about 250 KB gzipped. */
    char *bomb = path_of("bomb.gz"), *l = path_of("lab");
    gzFile g = gzopen(bomb, "wb9");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, img, (unsigned)ni), (int)ni);
    static uint8_t zeros[1 << 20];
    for (int i = 0; i < 256; i++)
        ck_assert_int_eq(gzwrite(g, zeros, sizeof zeros), (int)sizeof zeros);
    gzclose(g);
    long before = max_rss_kb();
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_idx(bomb, l, &ds), LPC_E_FORMAT,
                "bomb.gz: trailing data after the 2 images its header announces");
    ck_assert_msg(max_rss_kb() - before < 32 * 1024, "peak memory grew by %ld kB",
                  max_rss_kb() - before);
    /* Garbage after a complete member, and a second member. */
    write_gz_rel("img.gz", img, ni);
    char *gz = path_of("img.gz");
    FILE *f = fopen(gz, "ab");
    fputs("junk", f);
    fclose(f);
    EXPECT_FAIL(lpc_dataset_load_idx(gz, l, &ds), LPC_E_FORMAT,
                "img.gz: 4 bytes of trailing data after the gzip member");
    write_gz_rel("img.gz", img, ni);
    write_gz_rel("more.gz", img, 4);
    char *more = path_of("more.gz"), cmd[8192];
    snprintf(cmd, sizeof cmd, "cat '%s' >> '%s'", more, gz);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT_FAIL(lpc_dataset_load_idx(gz, l, &ds), LPC_E_FORMAT, "after the gzip member");
    ck_assert_ptr_null(ds);
    free(bomb);
    free(l);
    free(gz);
    free(more);
}
END_TEST

/* Runs the rest of a test as an unprivileged user when the suite runs as
 * root (root reads anything): the effective uid only, so teardown can
 * switch back. Returns 0 when that is impossible (the caller skips). */
static int drop_root(void)
{
    if (geteuid() != 0)
        return 1;
    if (chmod(g_root, 0777) != 0 || seteuid(65534) != 0)
        return 0;
    return 1;
}

static void restore_root(void)
{
    if (getuid() == 0)
        ck_assert_int_eq(seteuid(0), 0);
}

/* An unreadable data folder reports the errno text, not "no file". */
START_TEST(unreadable_data_dir)
{
    uint8_t img[16 + 4], lab[8 + 1];
    const uint8_t one[1] = {3};
    mkdir_rel("locked");
    write_rel("locked/train-images-idx3-ubyte", img, idx_images(img, 0x00000803, 1, 2, 2));
    write_rel("locked/train-labels-idx1-ubyte", lab, idx_labels(lab, 1, one));
    char *dir = path_of("locked");
    ck_assert_int_eq(chmod(dir, 0), 0);
    if (!drop_root()) {
        printf("unreadable_data_dir: cannot drop root privileges, skipped\n");
        free(dir);
        return;
    }
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_mnist_dir(dir, 1, &ds), LPC_E_IO, "Permission denied");
    EXPECT_FAIL(lpc_dataset_load_cifar10(dir, 1, &ds), LPC_E_IO, "Permission denied");
    EXPECT_FAIL(lpc_dataset_load_pngdir(dir, &ds), LPC_E_IO, "Permission denied");
    restore_root();
    chmod(dir, 0755);
    free(dir);
}
END_TEST

/* ---- CIFAR ---- */

/* n CIFAR records; record i of file `seed` gets labels (coarse, fine) or a
 * single label and pixels derived from (seed, i). */
static size_t cifar_records(uint8_t *buf, int n, int label_bytes, int seed, const int *labels)
{
    size_t rec = (size_t)label_bytes + 3072;
    for (int i = 0; i < n; i++) {
        uint8_t *r = buf + (size_t)i * rec;
        for (int b = 0; b < label_bytes; b++)
            r[b] = (uint8_t)labels[i * label_bytes + b];
        for (int k = 0; k < 3072; k++)
            r[label_bytes + k] = (uint8_t)(k * 3 + i * 11 + seed * 29);
    }
    return rec * (size_t)n;
}

START_TEST(cifar10_batches)
{
    static uint8_t buf[4 * 3073];
    const int sizes[5] = {3, 2, 1, 2, 2};
    int expect[10], e = 0;
    for (int f = 0; f < 5; f++) {
        int labels[3];
        for (int i = 0; i < sizes[f]; i++)
            expect[e++] = labels[i] = (f * 3 + i) % 10;
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        write_rel(name, buf, cifar_records(buf, sizes[f], 1, f, labels));
    }
    int tl[3] = {9, 0, 5};
    write_rel("test_batch.bin", buf, cifar_records(buf, 3, 1, 7, tl));
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 10);
    ck_assert_int_eq(lpc_dataset_channels(ds), 3);
    ck_assert_int_eq(lpc_dataset_height(ds), 32);
    ck_assert_int_eq(lpc_dataset_width(ds), 32);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(lpc_dataset_labels(ds)[i], expect[i]);
    /* Sample 5 is record 0 of data_batch_3 (seed 2); channel 1 starts at 1024. */
    const uint8_t *im = lpc_dataset_images(ds) + 5 * 3072;
    ck_assert_int_eq(im[1024 + 5], (uint8_t)((1024 + 5) * 3 + 2 * 29));
    lpc_dataset_free(ds);
    ck_assert_int_eq(lpc_dataset_load_cifar10(g_root, 0, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 3);
    ck_assert_int_eq(lpc_dataset_labels(ds)[0], 9);
    ck_assert_int_eq(lpc_dataset_images(ds)[2 * 3072 + 1], (uint8_t)(3 + 22 + 7 * 29));
    lpc_dataset_free(ds);

    /* Malformed: a stray byte, a label out of range, an empty or missing file. */
    size_t n = cifar_records(buf, 2, 1, 0, tl);
    write_rel("data_batch_3.bin", buf, n + 1);
    EXPECT_FAIL(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_E_FORMAT,
                "data_batch_3.bin: size 6147 is not a multiple of the 3073-byte record");
    int bad[2] = {4, 10};
    write_rel("data_batch_3.bin", buf, cifar_records(buf, 2, 1, 0, bad));
    EXPECT_FAIL(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_E_FORMAT,
                "data_batch_3.bin: record 1 has class label 10");
    write_rel("data_batch_3.bin", buf, 0);
    EXPECT_FAIL(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_E_FORMAT, "data_batch_3.bin: empty");
    char *p = path_of("data_batch_3.bin");
    remove(p);
    free(p);
    EXPECT_FAIL(lpc_dataset_load_cifar10(g_root, 1, &ds), LPC_E_IO, "data_batch_3.bin");
    EXPECT_FAIL(lpc_dataset_load_cifar10(NULL, 1, &ds), LPC_E_ARG, "lpc_dataset_load_cifar10");
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(cifar100_fine_and_coarse)
{
    static uint8_t buf[4 * 3074];
    int labels[8] = {19, 99, 0, 0, 7, 42, 3, 64}; /* (coarse, fine) pairs */
    write_rel("train.bin", buf, cifar_records(buf, 4, 2, 1, labels));
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_cifar100(g_root, 1, 0, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 4);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 100);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(lpc_dataset_labels(ds)[i], labels[2 * i + 1]);
    ck_assert_int_eq(lpc_dataset_images(ds)[3 * 3072 + 2], (uint8_t)(6 + 33 + 29));
    lpc_dataset_free(ds);
    ck_assert_int_eq(lpc_dataset_load_cifar100(g_root, 1, 1, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 20);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(lpc_dataset_labels(ds)[i], labels[2 * i]);
    lpc_dataset_free(ds);

    int bad_fine[2] = {1, 100}, bad_coarse[2] = {20, 5};
    write_rel("test.bin", buf, cifar_records(buf, 1, 2, 0, bad_fine));
    EXPECT_FAIL(lpc_dataset_load_cifar100(g_root, 0, 0, &ds), LPC_E_FORMAT,
                "test.bin: record 0 has fine label 100");
    ck_assert_int_eq(lpc_dataset_load_cifar100(g_root, 0, 1, &ds), LPC_OK);
    lpc_dataset_free(ds);
    write_rel("test.bin", buf, cifar_records(buf, 1, 2, 0, bad_coarse));
    EXPECT_FAIL(lpc_dataset_load_cifar100(g_root, 0, 1, &ds), LPC_E_FORMAT, "coarse label 20");
    /* A CIFAR-10 batch is not a CIFAR-100 file: 3073-byte records. */
    write_rel("test.bin", buf, cifar_records(buf, 3, 1, 0, labels));
    EXPECT_FAIL(lpc_dataset_load_cifar100(g_root, 0, 0, &ds), LPC_E_FORMAT, "3074-byte record");
    ck_assert_ptr_null(ds);
}
END_TEST

/* ---- PNG folders ---- */

/* Writes an 8- or 16-bit PNG; data is interleaved rows. For palette images,
 * `palette` holds 3 bytes per entry. */
static void write_png(const char *rel, int w, int h, int ctype, int depth, const uint8_t *data,
                      const uint8_t *palette, int npal)
{
    char *p = path_of(rel);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert_int_eq(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, (png_const_colorp)palette, npal);
    png_write_info(png, info);
    int ch = ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_PALETTE ? 1
             : ctype == PNG_COLOR_TYPE_GRAY_ALPHA                          ? 2
             : ctype == PNG_COLOR_TYPE_RGB                                 ? 3
                                                                           : 4;
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    for (int y = 0; y < h; y++)
        png_write_row(png, data + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(p);
}

/* Grey 4x3 image with pixel k = base + k. */
static void grey_png(const char *rel, int base)
{
    uint8_t px[12];
    for (int k = 0; k < 12; k++)
        px[k] = (uint8_t)(base + k);
    write_png(rel, 4, 3, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0);
}

START_TEST(pngdir_grey)
{
    mkdir_rel("b_cat");
    mkdir_rel("a_dog");
    mkdir_rel(".hidden");
    grey_png("b_cat/2.png", 10);
    grey_png("b_cat/10.png", 20); /* "10.png" sorts before "2.png" */
    grey_png("a_dog/x.png", 30);
    grey_png(".hidden/y.png", 40);
    write_rel("a_dog/notes.txt", "hi", 2);
    write_rel("README", "hi", 2);
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_pngdir(g_root, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 3);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 2);
    ck_assert_int_eq(lpc_dataset_channels(ds), 1);
    ck_assert_int_eq(lpc_dataset_height(ds), 3);
    ck_assert_int_eq(lpc_dataset_width(ds), 4);
    const int32_t *l = lpc_dataset_labels(ds);
    const uint8_t *im = lpc_dataset_images(ds);
    ck_assert_int_eq(l[0], 0);
    ck_assert_int_eq(l[1], 1);
    ck_assert_int_eq(l[2], 1);
    ck_assert_int_eq(im[0], 30);
    ck_assert_int_eq(im[12], 20);
    ck_assert_int_eq(im[24 + 11], 21);
    lpc_dataset_free(ds);
}
END_TEST

/* A dangling or looping *.png link in a class folder is an error naming it
 * (it was skipped without a word); a dangling link to a class folder is
 * still no class. */
START_TEST(pngdir_broken_links_named)
{
    mkdir_rel("a_cat");
    mkdir_rel("b_dog");
    grey_png("a_cat/0.png", 10);
    grey_png("b_dog/0.png", 20);
    char *gone = path_of("b_dog/gone.png"), *loop = path_of("b_dog/loop.png");
    char *noclass = path_of("c_none");
    ck_assert_int_eq(symlink("/nonexistent-lpc/x.png", gone), 0);
    ck_assert_int_eq(symlink("/nonexistent-lpc/dir", noclass), 0);
    lpc_dataset *ds = NULL;
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_IO,
                "b_dog/gone.png: cannot read the image: No such file or directory (a dangling");
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(unlink(gone), 0);
    ck_assert_int_eq(symlink("loop.png", loop), 0);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_IO,
                "b_dog/loop.png: cannot read the image: Too many levels of symbolic links");
    ck_assert_int_eq(unlink(loop), 0);
    ck_assert_msg(lpc_dataset_load_pngdir(g_root, &ds) == LPC_OK, "%s", lpc_last_error());
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 2);
    lpc_dataset_free(ds);
    unlink(noclass);
    free(gone);
    free(loop);
    free(noclass);
}
END_TEST

/* A test folder lacking a class keeps the training folders' labels (it used
 * to number its own folders, so c_frog became class 1); an unknown class is
 * refused by name. */
START_TEST(pngdir_test_classes_by_name)
{
    const char *train[3] = {"train/a_cat", "train/b_dog", "train/c_frog"};
    mkdir_rel("train");
    mkdir_rel("test");
    for (int k = 0; k < 3; k++) {
        char rel[64];
        mkdir_rel(train[k]);
        snprintf(rel, sizeof rel, "%s/0.png", train[k]);
        grey_png(rel, 10 * k);
    }
    mkdir_rel("test/a_cat");
    mkdir_rel("test/c_frog");
    grey_png("test/a_cat/0.png", 1);
    grey_png("test/c_frog/0.png", 2);
    grey_png("test/c_frog/1.png", 3);
    char *tr = path_of("train"), *te = path_of("test");
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_load_pngdir_classes(te, tr, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 3);
    ck_assert_int_eq(lpc_dataset_size(ds), 3);
    ck_assert_int_eq(lpc_dataset_labels(ds)[0], 0);
    ck_assert_int_eq(lpc_dataset_labels(ds)[1], 2);
    ck_assert_int_eq(lpc_dataset_labels(ds)[2], 2);
    ck_assert_str_eq(lpc_dataset_class_name(ds, 1), "b_dog");
    ck_assert_str_eq(lpc_dataset_class_name(ds, 2), "c_frog");
    ck_assert_ptr_null(lpc_dataset_class_name(ds, 3));
    ck_assert_ptr_null(lpc_dataset_class_name(ds, -1));
    ck_assert_ptr_null(lpc_dataset_class_name(NULL, 0));
    lpc_dataset_free(ds);
    ck_assert_int_eq(lpc_dataset_load_pngdir(tr, &ds), LPC_OK);
    ck_assert_str_eq(lpc_dataset_class_name(ds, 0), "a_cat");
    lpc_dataset_free(ds);
    mkdir_rel("test/x_bird");
    grey_png("test/x_bird/0.png", 4);
    EXPECT_FAIL(lpc_dataset_load_pngdir_classes(te, tr, &ds), LPC_E_FORMAT,
                "class 'x_bird' is not a class of");
    EXPECT_FAIL(lpc_dataset_load_pngdir_classes(te, NULL, &ds), LPC_E_ARG, "classes_dir");
    EXPECT_FAIL(lpc_dataset_load_pngdir_classes(te, tr, NULL), LPC_E_ARG, "out is NULL");
    ck_assert_ptr_null(ds);
    free(tr);
    free(te);
}
END_TEST

START_TEST(pngdir_colour_conversions)
{
    /* 2x2 RGB, RGBA, palette and 16-bit images all load as 3 x 2 x 2. */
    mkdir_rel("c0");
    mkdir_rel("c1");
    const uint8_t rgb[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const uint8_t rgba[16] = {1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 9, 10, 11, 12, 128};
    uint8_t rgb16[24];
    for (int k = 0; k < 12; k++) {
        rgb16[2 * k] = rgb[k]; /* big-endian: the high byte survives stripping */
        rgb16[2 * k + 1] = 0x3c;
    }
    const uint8_t pal[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, pal_px[2] = {0x01, 0x20};
    write_png("c0/a.png", 2, 2, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    write_png("c0/b.png", 2, 2, PNG_COLOR_TYPE_RGBA, 8, rgba, NULL, 0);
    write_png("c1/c.png", 2, 2, PNG_COLOR_TYPE_RGB, 16, rgb16, NULL, 0);
    /* 4-bit palette: row 0 = entries 0, 1; row 1 = entries 2, 0. */
    write_png("c1/d.png", 2, 2, PNG_COLOR_TYPE_PALETTE, 4, pal_px, pal, 3);
    lpc_dataset *ds = NULL;
    ck_assert_msg(lpc_dataset_load_pngdir(g_root, &ds) == LPC_OK, "%s", lpc_last_error());
    ck_assert_int_eq(lpc_dataset_channels(ds), 3);
    const uint8_t *im = lpc_dataset_images(ds);
    const uint8_t planar[12] = {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12};
    for (int i = 0; i < 3; i++)
        ck_assert_mem_eq(im + 12 * i, planar, 12);
    const uint8_t pal_planar[12] = {1, 4, 7, 1, 2, 5, 8, 2, 3, 6, 9, 3};
    ck_assert_mem_eq(im + 36, pal_planar, 12);
    ck_assert_int_eq(lpc_dataset_labels(ds)[3], 1);
    lpc_dataset_free(ds);

    /* Grey with alpha and 1-bit grey become 8-bit grey. */
    teardown();
    setup();
    mkdir_rel("k");
    const uint8_t ga[8] = {10, 255, 20, 0, 30, 1, 40, 2}, bits[2] = {0x80, 0x40};
    write_png("k/a.png", 2, 2, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, NULL, 0);
    write_png("k/b.png", 2, 2, PNG_COLOR_TYPE_GRAY, 1, bits, NULL, 0);
    ck_assert_msg(lpc_dataset_load_pngdir(g_root, &ds) == LPC_OK, "%s", lpc_last_error());
    im = lpc_dataset_images(ds);
    const uint8_t want[8] = {10, 20, 30, 40, 255, 0, 0, 255};
    ck_assert_mem_eq(im, want, 8);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(pngdir_malformed)
{
    lpc_dataset *ds = NULL;
    /* Missing folder, no class folders, an empty class folder. */
    char *missing = path_of("nope");
    EXPECT_FAIL(lpc_dataset_load_pngdir(missing, &ds), LPC_E_IO, "nope");
    free(missing);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "no class folders");
    mkdir_rel("a");
    mkdir_rel("b");
    grey_png("a/1.png", 0);
    write_rel("b/skip.txt", "x", 1);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b: class folder has no .png");
    /* Mixed sizes. */
    const uint8_t px[6] = {0};
    write_png("b/small.png", 3, 2, PNG_COLOR_TYPE_GRAY, 8, px, NULL, 0);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b/small.png: image is 1x2x3");
    /* Grey and RGB mixed. */
    char *p = path_of("b/small.png");
    remove(p);
    free(p);
    uint8_t rgb[36] = {0};
    write_png("b/rgb.png", 4, 3, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b/rgb.png: image is 3x3x4");
    /* Not a PNG, a truncated PNG, a PNG with a flipped data byte (bad CRC). */
    write_rel("b/rgb.png", "GIF89a, honestly", 16);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b/rgb.png: not a PNG");
    char *good = path_of("a/1.png");
    FILE *f = fopen(good, "rb");
    uint8_t bytes[1024];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    free(good);
    write_rel("b/rgb.png", bytes, n - 20);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b/rgb.png: corrupt PNG");
    bytes[n - 20] ^= 0x55;
    write_rel("b/rgb.png", bytes, n);
    EXPECT_FAIL(lpc_dataset_load_pngdir(g_root, &ds), LPC_E_FORMAT, "b/rgb.png: corrupt PNG");
    bytes[n - 20] ^= 0x55;
    write_rel("b/rgb.png", bytes, n);
    ck_assert_int_eq(lpc_dataset_load_pngdir(g_root, &ds), LPC_OK);
    lpc_dataset_free(ds);
    EXPECT_FAIL(lpc_dataset_load_pngdir(NULL, &ds), LPC_E_ARG, "lpc_dataset_load_pngdir");
}
END_TEST

/* ---- parsers never crash ---- */

START_TEST(parsers_survive_garbage)
{
    /* Random mutations of valid buffers and random bytes: OK or a clean error. */
    uint8_t img[16 + 4 * 9], lab[8 + 4], cif[2 * 3074], pngb[1024];
    const uint8_t labels[4] = {1, 2, 3, 0};
    const int cl[4] = {3, 50, 4, 60};
    size_t ni = idx_images(img, 0x00000803, 4, 3, 3), nl = idx_labels(lab, 4, labels);
    size_t nc = cifar_records(cif, 2, 2, 0, cl);
    grey_png("g.png", 5);
    char *gp = path_of("g.png");
    FILE *f = fopen(gp, "rb");
    size_t np = fread(pngb, 1, sizeof pngb, f);
    fclose(f);
    free(gp);
    lpc_rng *r = lpc_rng_new(99);
    uint8_t m[sizeof cif];
    for (int it = 0; it < 3000; it++) {
        int which = it % 3;
        const uint8_t *src = which == 0 ? img : which == 1 ? cif : pngb;
        size_t len = which == 0 ? ni : which == 1 ? nc : np;
        memcpy(m, src, len);
        int flips = 1 + (int)lpc_rng_below(r, 4);
        for (int k = 0; k < flips; k++)
            m[lpc_rng_below(r, len)] = (uint8_t)lpc_rng_u64(r);
        if (lpc_rng_below(r, 4) == 0)
            len = (size_t)lpc_rng_below(r, len + 1);
        lpc_dataset *ds = NULL;
        lpc_status s;
        lpc_clear_error();
        if (which == 0) {
            s = lpci_parse_idx(m, len, "m", lab, nl, "l", 0, &ds);
        } else if (which == 1) {
            s = lpci_parse_cifar(m, len, "m", (lpci_cifar_kind)(it % 2 ? LPCI_CIFAR100_FINE
                                                                      : LPCI_CIFAR100_COARSE),
                                 &ds);
        } else {
            int c, h, w;
            uint8_t *px = NULL;
            s = lpci_parse_png(m, len, "m", &c, &h, &w, &px);
            if (s == LPC_OK)
                ck_assert(c * h * w >= 1);
            lpci_free(px);
        }
        ck_assert_msg(s == LPC_OK || s == LPC_E_FORMAT, "status %d", s);
        ck_assert(s == LPC_OK || (ds == NULL && lpc_last_error()[0] != '\0'));
        lpc_dataset_free(ds);
    }
    lpc_rng_free(r);
}
END_TEST

/* ---- memory data sets ---- */

START_TEST(memory_dataset_and_stats)
{
    /* Two 1x2x2 channels-2 images: channel 0 all 0/255, channel 1 = 51. */
    const uint8_t im[16] = {0, 255, 0, 255, 51, 51, 51, 51, 255, 255, 0, 0, 51, 51, 51, 51};
    const int32_t lab[2] = {1, 0};
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(im, lab, 2, 2, 2, 2, 3, &ds), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 2);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 3);
    ck_assert_ptr_ne(lpc_dataset_images(ds), im);
    ck_assert_mem_eq(lpc_dataset_images(ds), im, 16);
    double mean[2], sd[2];
    ck_assert_int_eq(lpc_dataset_channel_stats(ds, mean, sd), LPC_OK);
    LPCT_ASSERT_CLOSE(mean[0], 0.5, 1e-12);
    LPCT_ASSERT_CLOSE(sd[0], 0.5, 1e-12);
    LPCT_ASSERT_CLOSE(mean[1], 0.2, 1e-12);
    ck_assert(fabs(sd[1]) < 1e-9);
    ck_assert_int_eq(lpc_dataset_truncate(ds, 1), LPC_OK);
    ck_assert_int_eq(lpc_dataset_size(ds), 1);
    ck_assert_int_eq(lpc_dataset_labels(ds)[0], 1);
    ck_assert_mem_eq(lpc_dataset_images(ds), im, 8);
    EXPECT_FAIL(lpc_dataset_truncate(ds, 2), LPC_E_ARG, "lpc_dataset_truncate");
    EXPECT_FAIL(lpc_dataset_truncate(ds, 0), LPC_E_ARG, "lpc_dataset_truncate");
    EXPECT_FAIL(lpc_dataset_truncate(NULL, 1), LPC_E_ARG, "lpc_dataset_truncate");
    EXPECT_FAIL(lpc_dataset_channel_stats(ds, NULL, sd), LPC_E_ARG, "channel_stats");
    lpc_dataset_free(ds);

    /* Misuse. */
    const int32_t bad[2] = {0, 3};
    EXPECT_FAIL(lpc_dataset_from_memory(im, bad, 2, 2, 2, 2, 3, &ds), LPC_E_ARG, "label 3");
    ck_assert_ptr_null(ds);
    EXPECT_FAIL(lpc_dataset_from_memory(im, lab, 0, 2, 2, 2, 3, &ds), LPC_E_ARG, "n=0");
    EXPECT_FAIL(lpc_dataset_from_memory(im, lab, 2, 0, 2, 2, 3, &ds), LPC_E_ARG, "c=0");
    EXPECT_FAIL(lpc_dataset_from_memory(NULL, lab, 2, 2, 2, 2, 3, &ds), LPC_E_ARG, "NULL");
    EXPECT_FAIL(lpc_dataset_from_memory(im, lab, 2, 2, 2, 2, 3, NULL), LPC_E_ARG, "NULL");
    ck_assert_int_eq(lpc_dataset_size(NULL), -1);
    ck_assert_int_eq(lpc_dataset_channels(NULL), -1);
    ck_assert_ptr_null(lpc_dataset_images(NULL));
    ck_assert_ptr_null(lpc_dataset_labels(NULL));
    lpc_dataset_free(NULL);
}
END_TEST

/* ---- batcher ---- */

/* n single-channel h x w images; image i has pixels (i + k) mod 256 and
 * label i (so labels identify samples). */
static lpc_dataset *indexed_dataset(int n, int c, int h, int w)
{
    size_t img = (size_t)c * h * w;
    uint8_t *im = malloc((size_t)n * img);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++) {
        lab[i] = i;
        for (size_t k = 0; k < img; k++)
            im[(size_t)i * img + k] = (uint8_t)(i + 3 * k + 1);
    }
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(im, lab, n, c, h, w, n, &ds), LPC_OK);
    free(im);
    free(lab);
    return ds;
}

/* Runs one epoch; stores the labels in order (and the batch data if x_out). */
static int64_t run_epoch(lpc_batcher *b, lpc_ctx *ctx, int32_t *order, float *x_out)
{
    int64_t seen = 0, k;
    lpc_tensor *x;
    const int32_t *lab;
    while ((k = lpc_batcher_next(b, ctx, &x, &lab)) > 0) {
        if (order)
            memcpy(order + seen, lab, (size_t)k * sizeof *lab);
        int64_t per = lpc_tensor_numel(x) / k;
        if (x_out)
            memcpy(x_out + seen * per, lpc_tensor_data(x), (size_t)(k * per) * sizeof(float));
        seen += k;
        lpc_ctx_reset(ctx);
    }
    ck_assert_int_eq(k, 0);
    return seen;
}

START_TEST(batcher_epochs_and_order)
{
    lpc_dataset *ds = indexed_dataset(10, 1, 2, 2);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(ds, 4, 1, 42, NULL, NULL);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(lpc_batcher_batches_per_epoch(b), 3);
    /* Batch sizes 4, 4, 2, then 0 at the end of the epoch. */
    const int64_t sizes[4] = {4, 4, 2, 0};
    int32_t e1[10], e2[10], e3[10];
    int seen[10] = {0};
    lpc_tensor *x;
    const int32_t *lab;
    for (int i = 0, at = 0; i < 4; i++) {
        ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &lab), sizes[i]);
        if (!sizes[i])
            break;
        ck_assert_int_eq(lpc_tensor_dim(x, 0), sizes[i]);
        ck_assert_int_eq(lpc_tensor_ndim(x), 4);
        for (int j = 0; j < sizes[i]; j++)
            e1[at++] = lab[j];
    }
    for (int i = 0; i < 10; i++)
        seen[e1[i]]++;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(seen[i], 1);
    /* The next call starts a new epoch with a different order. */
    ck_assert_int_eq(run_epoch(b, ctx, e2, NULL), 10);
    ck_assert(memcmp(e1, e2, sizeof e1) != 0);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 10; i++)
        seen[e2[i]]++;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(seen[i], 1);
    /* Same seed, same orders. */
    lpc_batcher *b2 = lpc_batcher_new(ds, 4, 1, 42, NULL, NULL);
    ck_assert_int_eq(run_epoch(b2, ctx, e3, NULL), 10);
    ck_assert_mem_eq(e1, e3, sizeof e1);
    ck_assert_int_eq(run_epoch(b2, ctx, e3, NULL), 10);
    ck_assert_mem_eq(e2, e3, sizeof e2);
    lpc_batcher_free(b2);
    /* Another seed, another order; no shuffle, identity order. */
    b2 = lpc_batcher_new(ds, 4, 1, 43, NULL, NULL);
    run_epoch(b2, ctx, e3, NULL);
    ck_assert(memcmp(e1, e3, sizeof e1) != 0);
    lpc_batcher_free(b2);
    b2 = lpc_batcher_new(ds, 100, 0, 42, NULL, NULL);
    ck_assert_int_eq(lpc_batcher_batches_per_epoch(b2), 1);
    for (int ep = 0; ep < 2; ep++) {
        ck_assert_int_eq(run_epoch(b2, ctx, e3, NULL), 10);
        for (int i = 0; i < 10; i++)
            ck_assert_int_eq(e3[i], i);
    }
    lpc_batcher_free(b2);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(batcher_normalisation)
{
    lpc_dataset *ds = indexed_dataset(3, 3, 2, 5);
    const double mean[3] = {0.1, 0.5, 0.9}, sd[3] = {0.2, 0.25, 2.0};
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(ds, 3, 0, 1, mean, sd);
    lpc_tensor *x;
    const int32_t *lab;
    ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &lab), 3);
    const int64_t shape[4] = {3, 3, 2, 5};
    for (int d = 0; d < 4; d++)
        ck_assert_int_eq(lpc_tensor_dim(x, d), shape[d]);
    const float *v = lpc_tensor_data(x);
    const uint8_t *im = lpc_dataset_images(ds);
    for (int i = 0; i < 3 * 30; i++) {
        int ch = (i % 30) / 10;
        double want = (im[i] / 255.0 - mean[ch]) / sd[ch];
        ck_assert_msg(fabs(v[i] - want) < 1e-6, "element %d: %g vs %g", i, v[i], want);
    }
    lpc_batcher_free(b);
    /* Without mean/std: pixel / 255. */
    b = lpc_batcher_new(ds, 3, 0, 1, NULL, NULL);
    lpc_ctx_reset(ctx);
    ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &lab), 3);
    ck_assert_float_eq_tol(lpc_tensor_data(x)[7], im[7] / 255.0f, 1e-7f);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

/* Whether out (c x h x w) is img cropped at (oy, ox) from the padded image,
 * optionally mirrored, with normalisation lut-free: value = p/255 (pads 0). */
static int matches(const float *out, const uint8_t *img, int c, int h, int w, int pad, int oy,
                   int ox, int flip, int *padded)
{
    int pads = 0;
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int sy = y + oy - pad, sx = (flip ? w - 1 - x : x) + ox - pad;
                int inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                float want = inside ? (img[(k * h + sy) * w + sx] / 255.0f - 0.1f) / 0.5f : 0.0f;
                pads += !inside;
                if (fabsf(out[(k * h + y) * w + x] - want) > 1e-5f)
                    return 0;
            }
    *padded = pads;
    return 1;
}

START_TEST(batcher_augmentation)
{
    const int n = 40, c = 2, h = 5, w = 6, pad = 2;
    lpc_dataset *ds = indexed_dataset(n, c, h, w);
    const double mean[2] = {0.1, 0.1}, sd[2] = {0.5, 0.5};
    lpc_ctx *ctx = lpc_ctx_new();
    for (int mode = 0; mode < 3; mode++) { /* flip only, crop only, both */
        lpc_batcher *b = lpc_batcher_new(ds, 16, 1, 5, mean, sd);
        int use_pad = mode ? pad : 0, use_flip = mode != 1;
        ck_assert_int_eq(lpc_batcher_set_augment(b, use_pad, use_flip), LPC_OK);
        int flipped = 0, kept = 0, with_padding = 0;
        for (int ep = 0; ep < 2; ep++) {
            lpc_tensor *x;
            const int32_t *lab;
            int64_t k;
            while ((k = lpc_batcher_next(b, ctx, &x, &lab)) > 0) {
                ck_assert_int_eq(lpc_tensor_dim(x, 1), c);
                ck_assert_int_eq(lpc_tensor_dim(x, 2), h);
                ck_assert_int_eq(lpc_tensor_dim(x, 3), w);
                for (int64_t i = 0; i < k; i++) {
                    const float *out = lpc_tensor_data(x) + i * c * h * w;
                    const uint8_t *img = lpc_dataset_images(ds) + (size_t)lab[i] * c * h * w;
                    int found = 0, pads = 0;
                    for (int f = 0; f <= use_flip && !found; f++)
                        for (int oy = 0; oy <= 2 * use_pad && !found; oy++)
                            for (int ox = 0; ox <= 2 * use_pad && !found; ox++)
                                if (matches(out, img, c, h, w, use_pad, oy, ox, f, &pads)) {
                                    found = 1;
                                    flipped += f;
                                    kept += !f;
                                    with_padding += pads > 0;
                                }
                    ck_assert_msg(found, "mode %d: sample %d is no crop/flip of its image", mode,
                                  lab[i]);
                }
                lpc_ctx_reset(ctx);
            }
        }
        if (use_flip)
            ck_assert(flipped > 10 && kept > 10);
        else
            ck_assert_int_eq(flipped, 0);
        if (use_pad)
            ck_assert(with_padding > 20);
        else
            ck_assert_int_eq(with_padding, 0);
        lpc_batcher_free(b);
    }
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(batcher_rng_state_and_threads)
{
    const int n = 37;
    lpc_dataset *ds = indexed_dataset(n, 1, 6, 6);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(ds, 8, 1, 7, NULL, NULL);
    lpc_batcher_set_augment(b, 2, 1);
    uint64_t st[4];
    run_epoch(b, ctx, NULL, NULL);
    ck_assert_int_eq(lpc_batcher_get_rng_state(b, st), LPC_OK);
    int32_t o1[37], o2[37];
    float *x1 = malloc(n * 36 * sizeof(float)), *x2 = malloc(n * 36 * sizeof(float));
    run_epoch(b, ctx, o1, x1);
    /* A fresh batcher with another seed, restored to that state, replays it,
     * also with a different thread count. */
    lpc_batcher *r = lpc_batcher_new(ds, 8, 1, 12345, NULL, NULL);
    lpc_batcher_set_augment(r, 2, 1);
    ck_assert_int_eq(lpc_batcher_set_rng_state(r, st), LPC_OK);
    int threads = lpc_get_num_threads();
    lpc_set_num_threads(3);
    run_epoch(r, ctx, o2, x2);
    lpc_set_num_threads(threads);
    ck_assert_mem_eq(o1, o2, sizeof o1);
    ck_assert_mem_eq(x1, x2, n * 36 * sizeof(float));
    /* A call that fails (the ctx has a sticky error) draws nothing: the
     * batcher stays at the epoch boundary and then replays the same epoch. */
    lpc_tensor *x;
    const int32_t *lab;
    ck_assert_int_eq(lpc_batcher_set_rng_state(r, st), LPC_OK);
    lpc_ctx_reset(ctx);
    lpc_scale(ctx, NULL, 1.0f); /* poisons the ctx */
    ck_assert_int_lt(lpc_batcher_next(r, ctx, &x, &lab), 0);
    lpc_ctx_reset(ctx);
    uint64_t after[4];
    ck_assert_int_eq(lpc_batcher_get_rng_state(r, after), LPC_OK);
    ck_assert_mem_eq(after, st, sizeof st);
    run_epoch(r, ctx, o2, x2);
    ck_assert_mem_eq(o1, o2, sizeof o1);
    /* Mid-epoch the state is not an epoch boundary; restoring restarts. */
    ck_assert_int_eq(lpc_batcher_next(r, ctx, &x, &lab), 8);
    EXPECT_FAIL(lpc_batcher_get_rng_state(r, st), LPC_E_STATE, "middle of an epoch");
    ck_assert_int_eq(lpc_batcher_set_rng_state(r, st), LPC_OK);
    run_epoch(r, ctx, o2, x2);
    ck_assert_mem_eq(o1, o2, sizeof o1);
    const uint64_t zero[4] = {0};
    EXPECT_FAIL(lpc_batcher_set_rng_state(r, zero), LPC_E_ARG, "all-zero");
    EXPECT_FAIL(lpc_batcher_get_rng_state(NULL, st), LPC_E_ARG, "NULL");
    free(x1);
    free(x2);
    lpc_batcher_free(r);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(batcher_no_allocation_after_first_epoch)
{
    lpc_dataset *ds = indexed_dataset(50, 3, 8, 8);
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(ds, 16, 1, 3, NULL, NULL);
    lpc_batcher_set_augment(b, 4, 1);
    run_epoch(b, ctx, NULL, NULL);
    unsigned long long before = lpc_alloc_count();
    ck_assert_int_eq(run_epoch(b, ctx, NULL, NULL), 50);
    ck_assert_int_eq(run_epoch(b, ctx, NULL, NULL), 50);
    ck_assert_uint_eq(lpc_alloc_count(), before);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

/* A std so small that normalised pixels overflow float is refused (it gave
 * infinite inputs). */
START_TEST(batcher_tiny_std)
{
    const uint8_t img[4] = {0, 255, 7, 9};
    const int32_t lab[1] = {0};
    lpc_dataset *ds = NULL;
    ck_assert_int_eq(lpc_dataset_from_memory(img, lab, 1, 1, 2, 2, 1, &ds), LPC_OK);
    const double mean[1] = {0.5}, tiny[1] = {1e-300}, fine[1] = {1e-30};
    lpc_clear_error();
    ck_assert_ptr_null(lpc_batcher_new(ds, 1, 0, 0, mean, tiny));
    ck_assert_msg(strstr(lpc_last_error(), "not a finite float"), "%s", lpc_last_error());
    lpc_batcher *b = lpc_batcher_new(ds, 1, 0, 0, mean, fine);
    ck_assert_ptr_nonnull(b);
    lpc_batcher_free(b);
    lpc_dataset_free(ds);
}
END_TEST

START_TEST(batcher_misuse)
{
    lpc_dataset *ds = indexed_dataset(6, 1, 3, 3);
    const double mean[1] = {0.5}, zero_sd[1] = {0.0}, sd[1] = {1.0}, nan_mean[1] = {NAN};
    lpc_clear_error();
    ck_assert_ptr_null(lpc_batcher_new(NULL, 4, 1, 1, NULL, NULL));
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_ptr_null(lpc_batcher_new(ds, 0, 1, 1, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "batch size"));
    ck_assert_ptr_null(lpc_batcher_new(ds, 4, 1, 1, mean, zero_sd));
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "std"));
    ck_assert_ptr_null(lpc_batcher_new(ds, 4, 1, 1, nan_mean, sd));
    ck_assert_ptr_null(lpc_batcher_new(ds, 4, 1, 1, mean, NULL));
    lpc_batcher *b = lpc_batcher_new(ds, 4, 1, 1, mean, sd);
    EXPECT_FAIL(lpc_batcher_set_augment(b, -1, 0), LPC_E_ARG, "pad -1");
    EXPECT_FAIL(lpc_batcher_set_augment(b, 4, 0), LPC_E_ARG, "pad 4");
    EXPECT_FAIL(lpc_batcher_set_augment(NULL, 1, 0), LPC_E_ARG, "NULL");
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x;
    const int32_t *lab;
    ck_assert_int_eq(lpc_batcher_next(b, NULL, &x, &lab), LPC_E_ARG);
    ck_assert_int_eq(lpc_batcher_next(NULL, ctx, &x, &lab), LPC_E_ARG);
    ck_assert_int_lt(lpc_batcher_batches_per_epoch(NULL), 0);
    /* A poisoned ctx yields its error instead of a batch. */
    lpc_reshape(ctx, lpc_tensor_temp(ctx, 1, (int64_t[]){4}), 1, (int64_t[]){5});
    ck_assert_int_lt(lpc_batcher_next(b, ctx, &x, &lab), 0);
    lpc_ctx_reset(ctx);
    /* Resizing the data set under the batcher is caught. */
    ck_assert_int_eq(lpc_dataset_truncate(ds, 5), LPC_OK);
    ck_assert_int_eq(lpc_batcher_next(b, ctx, &x, &lab), LPC_E_STATE);
    ck_assert_ptr_nonnull(strstr(lpc_last_error(), "resized"));
    lpc_batcher_free(b);
    lpc_batcher_free(NULL);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);
}
END_TEST

/* ---- the real Fashion-MNIST ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

START_TEST(fashion_mnist)
{
    char probe[512];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", LPC_FASHION_MNIST_DIR);
    if (access(probe, R_OK) != 0) {
        printf("fashion_mnist: %s absent, skipped\n", LPC_FASHION_MNIST_DIR);
        return;
    }
    lpc_dataset *ds = NULL;
    double t0 = now();
    ck_assert_msg(lpc_dataset_load_mnist_dir(NULL, 1, &ds) == LPC_OK, "%s", lpc_last_error());
    double t_load = now() - t0;
    ck_assert_int_eq(lpc_dataset_size(ds), 60000);
    ck_assert_int_eq(lpc_dataset_channels(ds), 1);
    ck_assert_int_eq(lpc_dataset_height(ds), 28);
    ck_assert_int_eq(lpc_dataset_width(ds), 28);
    ck_assert_int_eq(lpc_dataset_num_classes(ds), 10);
    /* Reference values read once with Python's gzip + numpy. */
    const int32_t first[12] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9};
    ck_assert_mem_eq(lpc_dataset_labels(ds), first, sizeof first);
    long sum = 0;
    for (int k = 0; k < 784; k++)
        sum += lpc_dataset_images(ds)[k];
    ck_assert_int_eq(sum, 76247);
    double mean, sd;
    ck_assert_int_eq(lpc_dataset_channel_stats(ds, &mean, &sd), LPC_OK);
    LPCT_ASSERT_CLOSE(mean, 0.2860405969887955, 1e-9);
    LPCT_ASSERT_CLOSE(sd, 0.35302424451492237, 1e-9);

    /* One augmented epoch of batches of 128. */
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_batcher *b = lpc_batcher_new(ds, 128, 1, 1, &mean, &sd);
    lpc_batcher_set_augment(b, 2, 1);
    t0 = now();
    ck_assert_int_eq(run_epoch(b, ctx, NULL, NULL), 60000);
    double t_epoch = now() - t0;
    printf("fashion_mnist: load %.3f s, one augmented epoch (batch 128) %.3f s\n", t_load,
           t_epoch);
    lpc_batcher_free(b);
    lpc_ctx_free(ctx);
    lpc_dataset_free(ds);

    ck_assert_int_eq(lpc_dataset_load_mnist_dir(NULL, 0, &ds), LPC_OK);
    const int32_t first_test[12] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5};
    ck_assert_int_eq(lpc_dataset_size(ds), 10000);
    ck_assert_mem_eq(lpc_dataset_labels(ds), first_test, sizeof first_test);
    lpc_dataset_free(ds);
}
END_TEST


int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, idx_raw_and_gz);
    tcase_add_test(tc, idx_malformed);
    tcase_add_test(tc, mnist_dir_layout);
    tcase_add_test(tc, mnist_labels_out_of_range);
    tcase_add_test(tc, loaders_refuse_special_files);
    tcase_add_test(tc, idx_gzip_bounded);
    tcase_add_test(tc, unreadable_data_dir);
    tcase_add_test(tc, cifar10_batches);
    tcase_add_test(tc, cifar100_fine_and_coarse);
    tcase_add_test(tc, pngdir_grey);
    tcase_add_test(tc, pngdir_test_classes_by_name);
    tcase_add_test(tc, pngdir_broken_links_named);
    tcase_add_test(tc, pngdir_colour_conversions);
    tcase_add_test(tc, pngdir_malformed);
    tcase_add_test(tc, parsers_survive_garbage);
    tcase_add_test(tc, memory_dataset_and_stats);
    tcase_add_test(tc, batcher_epochs_and_order);
    tcase_add_test(tc, batcher_normalisation);
    tcase_add_test(tc, batcher_augmentation);
    tcase_add_test(tc, batcher_rng_state_and_threads);
    tcase_add_test(tc, batcher_no_allocation_after_first_epoch);
    tcase_add_test(tc, batcher_tiny_std);
    tcase_add_test(tc, batcher_misuse);
    tcase_add_test(tc, fashion_mnist);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
