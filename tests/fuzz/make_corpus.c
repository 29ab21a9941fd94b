/* Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/):
 * small valid files of every format, made with liblpc's own writers where it
 * has them (checkpoints, .npy, safetensors) and with libpng/libjpeg/zlib otherwise. Deterministic,
 * so regenerating gives the committed files:
 *   build-fuzz/tests/fuzz/make_corpus tests/fuzz/corpus */
#include <png.h>
#include <stdio.h> /* before jpeglib.h */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "lpc/lpc.h"
#include "targets.h"

static const char *root;

static void path_of(char *out, size_t cap, const char *target, const char *file)
{
    snprintf(out, cap, "%s/%s", root, target);
    mkdir(out, 0755);
    snprintf(out, cap, "%s/%s/%s", root, target, file);
}

static void put(const char *target, const char *file, const void *data, size_t n)
{
    char path[512];
    path_of(path, sizeof path, target, file);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        exit(1);
    }
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* lpcf_idx input: LE image length, IDX images (n x r x c), IDX labels. */
static size_t idx_pair(uint8_t *out, uint32_t n, uint32_t r, uint32_t c, int classes)
{
    size_t img = 16 + (size_t)n * r * c;
    out[0] = (uint8_t)img, out[1] = (uint8_t)(img >> 8), out[2] = (uint8_t)(img >> 16), out[3] = 0;
    uint8_t *p = out + 4;
    be32(p, 0x803), be32(p + 4, n), be32(p + 8, r), be32(p + 12, c);
    for (size_t i = 0; i < (size_t)n * r * c; i++)
        p[16 + i] = (uint8_t)(i * 37);
    p += img;
    be32(p, 0x801), be32(p + 4, n);
    for (uint32_t i = 0; i < n; i++)
        p[8 + i] = (uint8_t)(i % (uint32_t)classes);
    return 4 + img + 8 + n;
}

static void idx_seeds(void)
{
    static uint8_t buf[4096];
    size_t n = idx_pair(buf, 3, 4, 4, 2);
    put("idx", "n3-4x4", buf, n);
    put("idx_gz", "n3-4x4-raw", buf, n);
    n = idx_pair(buf, 5, 28, 28, 10);
    put("idx", "n5-28x28", buf, n);
    char path[512];
    path_of(path, sizeof path, "idx_gz", "n5-28x28.gz");
    gzFile gz = gzopen(path, "wb9");
    if (!gz || gzwrite(gz, buf, (unsigned)n) != (int)n || gzclose(gz) != Z_OK) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        exit(1);
    }
}

static void cifar_seeds(void)
{
    static uint8_t buf[1 + 2 * 3074];
    for (int kind = 0; kind < 3; kind++) {
        size_t rec = kind == 0 ? 3073 : 3074;
        buf[0] = (uint8_t)kind;
        for (size_t r = 0; r < 2; r++) {
            uint8_t *p = buf + 1 + r * rec;
            p[0] = (uint8_t)(r + 3);
            if (kind)
                p[1] = (uint8_t)(r + 42);
            for (size_t i = rec - 3072; i < rec; i++)
                p[i] = (uint8_t)(i * 13 + r);
        }
        const char *names[] = {"cifar10-2", "cifar100-fine-2", "cifar100-coarse-2"};
        put("cifar", names[kind], buf, 1 + 2 * rec);
    }
}

static void png_seed(const char *file, int color, int depth, int w, int h, int interlace)
{
    char path[512];
    path_of(path, sizeof path, "png", file);
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!f || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {20, 40, 255}};
        png_byte alpha[2] = {0, 128};
        png_set_PLTE(png, info, pal, 4);
        png_set_tRNS(png, info, alpha, 2, NULL);
    }
    png_write_info(png, info);
    int channels = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                   : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t row_bytes = ((size_t)w * channels * depth + 7) / 8;
    png_bytep row = malloc(row_bytes);
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            for (size_t i = 0; i < row_bytes; i++)
                row[i] = color == PNG_COLOR_TYPE_PALETTE ? (uint8_t)((i + y) % 4 * (depth == 8))
                                                         : (uint8_t)(i * 29 + y * 7);
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

static void png_seeds(void)
{
    png_seed("grey8-5x4.png", PNG_COLOR_TYPE_GRAY, 8, 5, 4, 0);
    png_seed("grey1-9x3.png", PNG_COLOR_TYPE_GRAY, 1, 9, 3, 0);
    png_seed("grey16-3x3.png", PNG_COLOR_TYPE_GRAY, 16, 3, 3, 0);
    png_seed("rgb8-4x4-adam7.png", PNG_COLOR_TYPE_RGB, 8, 4, 4, 1);
    png_seed("rgba8-3x2.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 3, 2, 0);
    png_seed("greya8-2x2.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 2, 2, 0);
    png_seed("palette8-4x3.png", PNG_COLOR_TYPE_PALETTE, 8, 4, 3, 0);
    png_seed("palette2-6x2.png", PNG_COLOR_TYPE_PALETTE, 2, 6, 2, 0);
}

/* A JPEG of a smooth pattern: grey or RGB, baseline or progressive, with a
 * chroma subsampling (h x v of the first component) and restart interval. */
static void jpeg_seed(const char *file, int c, int w, int h, int progressive, int sub,
                      int restart)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    unsigned char *mem = NULL;
    unsigned long size = 0;
    uint8_t px[64 * 64 * 3];
    for (int i = 0; i < w * h * c; i++)
        px[i] = (uint8_t)(i * 37 + (i / (w * c)) * 11);
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &size);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = c;
    cinfo.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 75, TRUE);
    if (c == 3) {
        cinfo.comp_info[0].h_samp_factor = sub;
        cinfo.comp_info[0].v_samp_factor = sub;
    }
    cinfo.restart_interval = (unsigned)restart;
    if (progressive)
        jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = px + (size_t)cinfo.next_scanline * (size_t)(w * c);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    put("jpeg", file, mem, size);
    free(mem);
}

static void jpeg_seeds(void)
{
    jpeg_seed("grey-1x1.jpg", 1, 1, 1, 0, 1, 0);
    jpeg_seed("grey-9x7.jpg", 1, 9, 7, 0, 1, 0);
    jpeg_seed("rgb444-8x8.jpg", 3, 8, 8, 0, 1, 0);
    jpeg_seed("rgb420-17x13.jpg", 3, 17, 13, 0, 2, 0);
    jpeg_seed("rgb420-progressive-16x16.jpg", 3, 16, 16, 1, 2, 0);
    jpeg_seed("rgb420-restart-24x24.jpg", 3, 24, 24, 0, 2, 1);
}

static void checkpoint_seeds(void)
{
    char path[512];
    lpc_tensor *w = lpc_tensor_new(2, (int64_t[]){2, 3});
    lpc_tensor *b = lpc_tensor_new(1, (int64_t[]){3});
    lpc_tensor *s = lpc_tensor_new(0, NULL);
    for (int i = 0; i < 6; i++)
        lpc_tensor_data(w)[i] = 0.25f * (float)i - 0.5f;
    lpc_tensor_fill(b, 1.5f);
    lpc_tensor_fill(s, -2.0f);
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    int g0 = lpc_adamw_add_group(opt, 1e-3, 1e-2), g1 = lpc_adamw_add_group(opt, 1e-3, 0.0);
    lpc_adamw_add_param(opt, g0, w);
    lpc_adamw_add_param(opt, g1, b);
    lpc_adamw_set_steps(opt, 7);
    lpc_rng *rng = lpc_rng_new(1234);

    lpc_checkpoint *ck = lpc_checkpoint_new();
    lpc_checkpoint_add_tensor(ck, "w", w);
    path_of(path, sizeof path, "checkpoint", "tensor");
    lpc_status st = lpc_checkpoint_save(ck, path);
    lpc_checkpoint_add_tensor(ck, "b", b);
    lpc_checkpoint_add_tensor(ck, "scalar", s);
    lpc_checkpoint_add_adamw(ck, "opt", opt);
    lpc_checkpoint_set_u64(ck, "epoch", 3);
    lpc_checkpoint_set_f64(ck, "gamma", 0.125);
    lpc_checkpoint_add_rng(ck, "rng", rng);
    lpc_checkpoint_add_blob(ck, "note", "seed", 4);
    path_of(path, sizeof path, "checkpoint", "all-kinds");
    if (st != LPC_OK || lpc_checkpoint_save(ck, path) != LPC_OK) {
        fprintf(stderr, "make_corpus: checkpoint: %s\n", lpc_last_error());
        exit(1);
    }
    lpc_checkpoint_free(ck);
    lpc_rng_free(rng);
    lpc_adamw_free(opt);
    lpc_tensor_free(w);
    lpc_tensor_free(b);
    lpc_tensor_free(s);
}

/* A .npy file written by hand: NumPy's header layout for any version/dtype. */
static void npy_manual(const char *file, int version, const char *descr, const char *shape,
                       const void *data, size_t n)
{
    static uint8_t buf[1024];
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       descr, shape);
    size_t pre = version == 1 ? 10 : 12, total = pre + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64, hlen = (size_t)len + pad + 1;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)version, buf[7] = 0;
    buf[8] = (uint8_t)hlen, buf[9] = (uint8_t)(hlen >> 8);
    if (version > 1)
        buf[10] = buf[11] = 0;
    memcpy(buf + pre, dict, (size_t)len);
    memset(buf + pre + len, ' ', pad);
    buf[pre + len + pad] = '\n';
    memcpy(buf + pre + hlen, data, n);
    put("npy", file, buf, pre + hlen + n);
}

static void npy_seeds(void)
{
    char path[512];
    float f[6] = {0, 1.5f, -2, 3, 1e30f, -0.0f};
    int32_t l[4] = {0, 1, 9, -3};
    path_of(path, sizeof path, "npy", "f4-2x3.npy");
    lpc_status a = lpc_npy_save_f32(path, f, 2, (int64_t[]){2, 3});
    path_of(path, sizeof path, "npy", "f4-scalar.npy");
    lpc_status b = lpc_npy_save_f32(path, f + 1, 0, NULL);
    path_of(path, sizeof path, "npy", "i4-4.npy");
    lpc_status c = lpc_npy_save_i32(path, l, 4);
    if (a != LPC_OK || b != LPC_OK || c != LPC_OK) {
        fprintf(stderr, "make_corpus: npy: %s\n", lpc_last_error());
        exit(1);
    }
    double d[3] = {1e300, -1, 0.5};
    int64_t q[2] = {5, -7};
    npy_manual("f8-3-v2.npy", 2, "<f8", "(3,)", d, sizeof d);
    npy_manual("i8-1x2-v3.npy", 3, "<i8", "(1, 2)", q, sizeof q);
    npy_manual("f4-0x5.npy", 1, "<f4", "(0, 5)", d, 0);
}

/* A small net with a batch norm and a shortcut-named child, in both name
 * styles (the torchvision one adds num_batches_tracked, an I64 scalar). */
static void safetensors_seeds(void)
{
    lpc_rng *rng = lpc_rng_new(5);
    lpc_module *net = lpc_sequential_new(), *shortcut = lpc_sequential_new();
    lpc_sequential_add(net, "conv1", lpc_conv2d_new(1, 2, 1, 1, 0, 0, rng));
    lpc_sequential_add(shortcut, "0", lpc_batchnorm2d_new(2));
    lpc_sequential_add(net, "shortcut", shortcut);
    lpc_sequential_add(net, "fc", lpc_linear_new(2, 2, 1, rng));
    char path[512];
    path_of(path, sizeof path, "safetensors", "native");
    lpc_status s = lpc_safetensors_save_module(path, net, NULL, LPC_NAMES_NATIVE, "seed \"net\"");
    path_of(path, sizeof path, "safetensors", "torchvision");
    if (s != LPC_OK ||
        lpc_safetensors_save_module(path, net, "model.", LPC_NAMES_TORCHVISION, NULL) != LPC_OK) {
        fprintf(stderr, "make_corpus: safetensors: %s\n", lpc_last_error());
        exit(1);
    }
    lpc_module_free(net);
    lpc_rng_free(rng);
}

/* model_file seeds: the selector byte, then the file at tmp (removed). */
static void selected(const char *file, unsigned sel, const char *tmp)
{
    FILE *f = fopen(tmp, "rb");
    static uint8_t buf[1 << 16];
    buf[0] = (uint8_t)sel;
    size_t n = f ? fread(buf + 1, 1, sizeof buf - 1, f) : 0;
    if (!f || !feof(f) || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot read back %s\n", tmp);
        exit(1);
    }
    remove(tmp);
    put("model_file", file, buf, n + 1);
}

/* Each network of lpcf_model_new as lpc.Model.load reads it: safetensors
 * in both name styles, with and without the "model." prefix, and
 * checkpoints as lpc-ablation writes them. */
static void model_file_seeds(void)
{
    static const struct {
        const char *file;
        unsigned sel; /* arch | 4: "model." | 8: torchvision names */
        int checkpoint;
    } seeds[] = {
        {"mlp-native", 0, 0},
        {"mlp-silu-prefixed", 1 | 4, 0},
        {"resnet-basic-torchvision", 2 | 8, 0},
        {"resnet-bottleneck-torchvision-prefixed", 3 | 4 | 8, 0},
        {"mlp-checkpoint", 0, 1},
        {"resnet-basic-checkpoint-prefixed", 2 | 4, 1},
    };
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/model_file.tmp", root);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        int64_t shape[4];
        int ndim;
        lpc_module *net = lpcf_model_new(seeds[i].sel, shape, &ndim);
        const char *prefix = seeds[i].sel & 4 ? "model." : NULL;
        lpc_status s = LPC_E_NOMEM;
        if (net && seeds[i].checkpoint) {
            lpc_checkpoint *ck = lpc_checkpoint_new();
            s = ck ? lpc_checkpoint_add_module(ck, prefix ? prefix : "", net) : LPC_E_NOMEM;
            if (s == LPC_OK)
                s = lpc_checkpoint_save(ck, tmp);
            lpc_checkpoint_free(ck);
        } else if (net) {
            s = lpc_safetensors_save_module(tmp, net, prefix,
                                            seeds[i].sel & 8 ? LPC_NAMES_TORCHVISION
                                                             : LPC_NAMES_NATIVE,
                                            "seed");
        }
        lpc_module_free(net);
        if (s != LPC_OK) {
            fprintf(stderr, "make_corpus: model_file %s: %s\n", seeds[i].file, lpc_last_error());
            exit(1);
        }
        selected(seeds[i].file, seeds[i].sel, tmp);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus CORPUS_DIR\n");
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    idx_seeds();
    cifar_seeds();
    png_seeds();
    jpeg_seeds();
    checkpoint_seeds();
    npy_seeds();
    safetensors_seeds();
    model_file_seeds();
    return 0;
}
