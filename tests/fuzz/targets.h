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

typedef struct {
    const char *name; /* also the corpus directory tests/fuzz/corpus/<name> */
    int (*fn)(const uint8_t *data, size_t size);
} lpcf_target;
extern const lpcf_target lpcf_targets[];
extern const int lpcf_num_targets;
#endif
