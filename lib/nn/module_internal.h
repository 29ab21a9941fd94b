/* The module object behind lpc_module: a small vtable plus own parameters,
 * buffers and named children. Layer files (linear.c, conv2d.c, ...) fill in
 * a vtable and register their tensors with lpci_module_add_*. */
#ifndef LPC_MODULE_INTERNAL_H
#define LPC_MODULE_INTERNAL_H
#include "../core/internal.h"

typedef struct {
    const char *kind;
    /* Computes the output; the default-free modules keep config in impl. */
    lpc_tensor *(*forward)(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x);
    void (*free_impl)(void *impl); /* optional */
    void (*on_train)(lpc_module *m, int train); /* optional, after the mode changed */
} lpci_module_vt;

typedef struct {
    char *name;
    lpc_tensor *t;
} lpci_named_tensor;

struct lpc_module {
    const lpci_module_vt *vt;
    void *impl;
    int train;
    lpc_module *parent;
    const char *holder; /* an owner that is not a module ("a head"), or NULL */
    lpci_named_tensor *params, *buffers; /* own, local names */
    int n_params, n_buffers;
    lpc_module **children;
    char **child_names;
    int n_children;
    /* flattened (recursive) views with full names, rebuilt when stale */
    lpci_named_tensor *flat_params, *flat_buffers;
    int n_flat_params, n_flat_buffers, flat_valid;
};

/* A conv2d module's geometry (its impl; lib/nn/conv.c), read by walks of
 * the module tree such as the Lipschitz bound. */
typedef struct {
    int stride, pad;
} lpci_conv_cfg;

/* New module of a kind; impl is owned (freed with vt->free_impl or lpci_free). */
lpc_module *lpci_module_new(const lpci_module_vt *vt, void *impl);
/* Register an own parameter (set requires_grad) or buffer; takes ownership of
 * t (frees it on failure), except for a temporary or a tensor another module
 * owns (LPC_E_ARG, left alone). */
lpc_status lpci_module_add_param(lpc_module *m, const char *name, lpc_tensor *t);
lpc_status lpci_module_add_buffer(lpc_module *m, const char *name, lpc_tensor *t);
/* Register a child; takes ownership (frees it on failure), except for a
 * child that belongs to a container already or would make a cycle
 * (LPC_E_ARG, left alone). */
lpc_status lpci_module_add_child(lpc_module *m, const char *name, lpc_module *child);
/* Frees child after a failed add to m, unless it belongs to a container or a
 * holder, or is m or one of m's ancestors. */
void lpci_module_discard(const lpc_module *m, lpc_module *child);
/* Own parameter / child by position (registration order). */
static inline lpc_tensor *lpci_own_param(lpc_module *m, int i) { return m->params[i].t; }
static inline lpc_module *lpci_child(lpc_module *m, int i) { return m->children[i]; }

/* PyTorch default init: kaiming_uniform(a = sqrt(5)) = U(+-1/sqrt(fan_in)). */
void lpci_init_uniform(lpc_tensor *t, double bound, lpc_rng *rng);
/* Registers "weight" of `shape` and, if bias, "bias" (shape[0]), both drawn
 * from U(+-1/sqrt(fan_in)) as PyTorch's Linear and Conv2d do. */
lpc_status lpci_module_add_weight_bias(lpc_module *m, int ndim, const int64_t *shape,
                                       int64_t fan_in, int bias, lpc_rng *rng);
#endif
