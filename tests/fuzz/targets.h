/* The fuzz targets as plain functions, so that the libFuzzer entry point
 * (fuzz_main.c) and the regression suite (tests/test_regress.c) share them.
 * Each takes arbitrary bytes, feeds them to one file parser of liblpc (or of
 * the example programs), frees
 * whatever it produced and returns 1 when the input was accepted, 0 when it
 * was refused; memory errors are the sanitizers' job. */
#ifndef LPCF_TARGETS_H
#define LPCF_TARGETS_H
#include <stddef.h>
#include <stdint.h>

/* Two IDX buffers: a 4-byte little-endian image-buffer length, the image
 * file, then the label file (lpci_parse_idx). */
int lpcf_idx(const uint8_t *data, size_t size);
/* A possibly gzipped file (lpci_read_file), decompressed, then as lpcf_idx. */
int lpcf_idx_gz(const uint8_t *data, size_t size);
/* A layout byte (CIFAR-10, CIFAR-100 fine, coarse), then a batch file. */
int lpcf_cifar(const uint8_t *data, size_t size);
/* A PNG image (lpci_parse_png, the PNG-folder decoder). */
int lpcf_png(const uint8_t *data, size_t size);
/* A JPEG image (lpci_parse_jpeg, the image-folder decoder), then resized. */
int lpcf_jpeg(const uint8_t *data, size_t size);
/* A checkpoint file image (lpci_checkpoint_parse), then every getter. */
int lpcf_checkpoint(const uint8_t *data, size_t size);
/* A .npy file (lpci_npy_parse); a valid one is also loaded and converted. */
int lpcf_npy(const uint8_t *data, size_t size);
/* A result.json of lpc-ablation (examples/ablation/result.c, through cJSON),
 * then every field the report reads; accepted when it parses. */
int lpcf_result_json(const uint8_t *data, size_t size);
/* A safetensors file image (lpci_safetensors_parse), then every getter and
 * a restore into a small linear layer. */
int lpcf_safetensors(const uint8_t *data, size_t size);

/* What lpc.Model.load (the Python binding) does with a file: a selector
 * byte, then a checkpoint or safetensors file image. The selector picks the
 * network (bits 0-1, lpcf_model_new), the prefix "model." (bit 2) and the
 * torchvision names (bit 3). The file is parsed, its tensors listed as
 * lpc.read_shapes lists them, restored into the network and, when that
 * succeeds (accepted), a batch of zeros is run through it. */
int lpcf_model_file(const uint8_t *data, size_t size);

struct lpc_module;
/* The network lpc.Model builds for a small spec, in evaluation mode:
 * arch 0 MLP 4-3-3 + classifier; 1 the same + linear/SiLU penultimate;
 * 2 basic ResNet (1 channel, stem 2, widths 2, 3) + linear penultimate
 * without bias; 3 bottleneck ResNet (widths 1, 1). Writes the shape of a
 * 2-sample input batch (models.c). NULL when out of memory. */
struct lpc_module *lpcf_model_new(unsigned arch, int64_t input_shape[4], int *input_ndim);

typedef struct {
    const char *name; /* also the corpus directory tests/fuzz/corpus/<name> */
    int (*fn)(const uint8_t *data, size_t size);
} lpcf_target;
extern const lpcf_target lpcf_targets[];
extern const int lpcf_num_targets;
#endif
