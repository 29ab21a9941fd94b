/* liblpc — data sets in memory (uint8 N x C x H x W images + int32 labels)
 * from IDX (MNIST/Fashion-MNIST, raw or gzip), CIFAR-10/100 binary batches
 * and PNG class folders, and a batcher (seeded shuffle, augmentation,
 * per-channel normalisation). Loaders return LPC_E_IO when a file cannot be
 * read (with the strerror text, e.g. "Permission denied") or is not a regular
 * file (a FIFO, device or folder is refused before any byte is read), and
 * LPC_E_FORMAT with the file name and the defect when it is malformed. They
 * never read more than a valid file can hold: an IDX file is read up to the
 * size its header announces plus one byte (more is refused as trailing
 * data), a CIFAR batch up to 60000 records, a PNG up to 256 MiB; a gzip
 * file must be a single member with nothing after it. */
#ifndef LPC_DATA_H
#define LPC_DATA_H
#include "tensor.h"

typedef struct lpc_dataset lpc_dataset;
typedef struct lpc_batcher lpc_batcher;

/* Where Debian's dataset-fashion-mnist installs the files. */
#define LPC_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

LPC_BEGIN_DECLS
/* IDX image + label files (".gz" or raw, detected by magic bytes); the
 * number of classes is the largest label + 1. */
LPC_API lpc_status lpc_dataset_load_idx(const char *images_path, const char *labels_path,
                                        lpc_dataset **out);
/* Fashion-MNIST/MNIST layout in dir (NULL: LPC_FASHION_MNIST_DIR): train-* or t10k-*.
 * Ten classes, as in every data set of this layout: a label >= 10 is
 * LPC_E_FORMAT naming the file, the record and the value. */
LPC_API lpc_status lpc_dataset_load_mnist_dir(const char *dir, int train, lpc_dataset **out);
/* CIFAR-10 binary: data_batch_1..5.bin (train) or test_batch.bin in dir. */
LPC_API lpc_status lpc_dataset_load_cifar10(const char *dir, int train, lpc_dataset **out);
/* CIFAR-100 binary: train.bin or test.bin; fine (100) or coarse (20) labels. */
LPC_API lpc_status lpc_dataset_load_cifar100(const char *dir, int train, int coarse,
                                             lpc_dataset **out);
/* PNG class folders: dir/<class>/<file>.png, classes in sorted name order, all
 * images one size, grayscale or RGB (all the same). */
LPC_API lpc_status lpc_dataset_load_pngdir(const char *dir, lpc_dataset **out);
/* PNG class folders of dir labelled by the class folders of classes_dir (the
 * training set's folder): class k is the k-th sorted sub-folder name of
 * classes_dir, so a test set missing a class keeps every other label right.
 * A class folder of dir that classes_dir lacks is LPC_E_FORMAT naming it. */
LPC_API lpc_status lpc_dataset_load_pngdir_classes(const char *dir, const char *classes_dir,
                                                   lpc_dataset **out);
/* Data set from caller memory (copied): n images of c x h x w bytes. */
LPC_API lpc_status lpc_dataset_from_memory(const uint8_t *images, const int32_t *labels,
                                           int64_t n, int c, int h, int w, int num_classes,
                                           lpc_dataset **out);
LPC_API void lpc_dataset_free(lpc_dataset *ds); /* NULL is a no-op */

LPC_API int64_t lpc_dataset_size(const lpc_dataset *ds); /* -1 for NULL */
LPC_API int lpc_dataset_channels(const lpc_dataset *ds);
LPC_API int lpc_dataset_height(const lpc_dataset *ds);
LPC_API int lpc_dataset_width(const lpc_dataset *ds);
LPC_API int lpc_dataset_num_classes(const lpc_dataset *ds);
LPC_API const uint8_t *lpc_dataset_images(const lpc_dataset *ds);
LPC_API const int32_t *lpc_dataset_labels(const lpc_dataset *ds);
/* Name of class k (the folder name for PNG class folders; owned by ds), or
 * NULL for formats without names, k out of range or a NULL ds. */
LPC_API const char *lpc_dataset_class_name(const lpc_dataset *ds, int k);
/* Keep only the first n samples (1 <= n <= size). Not while a batcher uses ds. */
LPC_API lpc_status lpc_dataset_truncate(lpc_dataset *ds, int64_t n);
/* Per-channel mean and population std of pixel/255 (arrays of `channels`). */
LPC_API lpc_status lpc_dataset_channel_stats(const lpc_dataset *ds, double *mean, double *std);

/* Batcher over a borrowed data set (must outlive it). mean/std: per channel
 * (copied), applied as (pixel/255 - mean)/std; both NULL means pixel/255.
 * Every normalised pixel must be a finite float (LPC_E_ARG for a std so
 * small that it overflows).
 * shuffle: reshuffle every epoch from the seeded generator. NULL (and
 * lpc_last_error) on bad arguments. */
LPC_API lpc_batcher *lpc_batcher_new(const lpc_dataset *ds, int64_t batch_size, int shuffle,
                                     uint64_t seed, const double *mean, const double *std);
LPC_API void lpc_batcher_free(lpc_batcher *b);
/* Random crop with `pad` pixels of zero padding applied after normalisation
 * (so padding equals the channel mean) and horizontal flip with p = 0.5. */
LPC_API lpc_status lpc_batcher_set_augment(lpc_batcher *b, int pad, int flip);
/* Random resized crop, as torchvision's RandomResizedCrop(scale, ratio) for
 * an output of the data set's own size: per sample, a crop of area fraction
 * uniform in [scale_min, scale_max] and aspect ratio (width / height)
 * log-uniform in [ratio_min, ratio_max] (ten tries, then the centre crop
 * with the ratio clamped), resized back to the image size with Pillow's
 * bilinear filter and normalised; then the flip of lpc_batcher_set_augment.
 * It replaces the padded crop while on. The draws come from the batcher's
 * generator before the parallel copy, so batches depend only on the seed.
 * torchvision's defaults are (0.08, 1, 3/4, 4/3); all four 0 turn it off.
 * LPC_E_ARG unless 0 < scale_min <= scale_max <= 1 and 0 < ratio_min <=
 * ratio_max < inf. */
LPC_API lpc_status lpc_batcher_set_random_resized_crop(lpc_batcher *b, double scale_min,
                                                       double scale_max, double ratio_min,
                                                       double ratio_max);
/* Next batch as a temporary of ctx (N x C x H x W floats) plus labels (valid
 * until the next call). Returns the batch size (the last batch of an epoch
 * may be smaller), 0 at the end of an epoch (the next call starts a new
 * epoch), or a negative lpc_status (the batcher is then as before the call:
 * nothing drawn, no epoch started). */
LPC_API int64_t lpc_batcher_next(lpc_batcher *b, lpc_ctx *ctx, lpc_tensor **x,
                                 const int32_t **labels);
LPC_API int64_t lpc_batcher_batches_per_epoch(const lpc_batcher *b);
/* Generator state at an epoch boundary, for checkpoints (see rng.h): get
 * fails with LPC_E_STATE while batches of the epoch remain; set abandons any
 * epoch in progress, so the next call starts a new epoch from that state. */
LPC_API lpc_status lpc_batcher_get_rng_state(const lpc_batcher *b, uint64_t state[4]);
LPC_API lpc_status lpc_batcher_set_rng_state(lpc_batcher *b, const uint64_t state[4]);

/* ---- image class folders (JPEG and PNG) ---- */
/* Options of lpc_dataset_load_imagedir. */
typedef struct {
    size_t size;             /* sizeof the struct, set by lpc_imagedir_options_init */
    int height, width;       /* both > 0: every image resized to height x width
                              * (Pillow's bilinear filter, antialiased when
                              * shrinking); both 0 (default): every image must
                              * have the first one's size */
    int channels;            /* 1 (grey) or 3 (RGB): every image converted to it
                              * (grey from RGB with ITU-R 601 weights, as Pillow);
                              * 0 (default): every image must have the first one's */
    const char *classes_dir; /* NULL (default): dir's own sub-folders are the
                              * classes; else the sub-folders of classes_dir (the
                              * training set's folder) name them, as
                              * lpc_dataset_load_pngdir_classes */
    double center_crop;      /* in [0.05, 1) with a size: torchvision's evaluation
                              * transform Resize(S) + CenterCrop(height, width):
                              * the shorter side resized to S = round(max(height,
                              * width) / center_crop) keeping the aspect ratio,
                              * then the centre height x width kept (0.875 is
                              * ImageNet's 224 of 256); 1 (default): resized to
                              * height x width directly */
} lpc_imagedir_options;

LPC_BEGIN_DECLS
/* Sets o->size = sizeof *o and the defaults above; NULL is a no-op. */
LPC_API void lpc_imagedir_options_init(lpc_imagedir_options *o);
/* Class folders dir/<class>/<file> of JPEG (.jpg, .jpeg) and PNG (.png)
 * images (the content decides the format), classes in sorted folder-name
 * order, files in sorted name order; hidden entries and non-regular files
 * are skipped. Images are decoded in parallel over lpc_get_num_threads()
 * threads; the result does not depend on the thread count. Each file is
 * read with a bound (64 MiB) and images are bounded (16384 a side); grey
 * and RGB images are read (PNG alpha is dropped, CMYK JPEG refused). o NULL
 * means the defaults. Errors: LPC_E_ARG (NULL dir or out, bad options),
 * LPC_E_IO (a folder or file cannot be read), LPC_E_FORMAT naming the file
 * (damaged or truncated image, unsupported layout, a size or channel count
 * other than the first image's when not converting, a class folder without
 * images), LPC_E_NOMEM. On failure *out is NULL. Free with lpc_dataset_free. */
LPC_API lpc_status lpc_dataset_load_imagedir(const char *dir, const lpc_imagedir_options *o,
                                             lpc_dataset **out);
LPC_END_DECLS
#endif
