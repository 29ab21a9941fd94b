/* Collapse at every layer of a network: NC1, CDNV and R of the outputs of
 * named inner modules over a data set, streamed batch by batch. */
#ifndef EX_LAYERS_H
#define EX_LAYERS_H
#include <lpc/lpc.h>

#define LAYERS_MAX 16

typedef struct {
    int64_t width; /* features per sample; 0 when the network has no such module */
    double nc1, cdnv, r;
} layer_collapse;

/* Runs the first n_samples of ds (normalised by mean and std, as in
 * training) through net in evaluation mode, collecting the outputs of the
 * modules at names[0..n_layers) (paths as lpc_module_find takes them), and
 * measures each: a convolution's N x C x H x W maps are averaged over H x W
 * (one feature per channel), other outputs are flattened. Classes by the
 * true labels (k of them). A name the network lacks (the NoPen head has no
 * "penultimate") gets width 0. Returns 0, or 1 with the error printed. */
int layers_measure(lpc_module *net, const lpc_dataset *ds, const double *mean, const double *std,
                   int64_t n_samples, int k, int n_layers, const char *const *names,
                   layer_collapse *out);
/* Prints one row per layer with NC1, CDNV and R of each of the n_nets
 * networks (by_net[i] from layers_measure, "-" where width is 0). */
void layers_print(int n_layers, const char *const *names, int n_nets,
                  const char *const *net_names, const layer_collapse *const *by_net);
#endif
