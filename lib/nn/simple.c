/* Parameter-free layers (SiLU, ReLU, flatten, global average pool) and the
 * sequential container. */
#include <stdio.h>
#include <string.h>
#include "module_internal.h"

static lpc_tensor *silu_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    (void)m;
    return lpc_silu(ctx, x);
}

static lpc_tensor *relu_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    (void)m;
    return lpc_relu(ctx, x);
}

static lpc_tensor *flatten_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    (void)m;
    return lpc_reshape(ctx, x, 2, (int64_t[]){x->shape[0], x->numel / x->shape[0]});
}

static lpc_tensor *avgpool_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    (void)m;
    return lpc_global_avgpool(ctx, x);
}

static lpc_tensor *sequential_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    for (int i = 0; i < m->n_children; i++)
        x = lpc_module_forward(m->children[i], ctx, x);
    return x;
}

static const lpci_module_vt silu_vt = {"silu", silu_forward, NULL, NULL};
static const lpci_module_vt relu_vt = {"relu", relu_forward, NULL, NULL};
static const lpci_module_vt flatten_vt = {"flatten", flatten_forward, NULL, NULL};
static const lpci_module_vt avgpool_vt = {"global_avgpool", avgpool_forward, NULL, NULL};
static const lpci_module_vt sequential_vt = {"sequential", sequential_forward, NULL, NULL};

lpc_module *lpc_silu_new(void) { return lpci_module_new(&silu_vt, NULL); }
lpc_module *lpc_relu_new(void) { return lpci_module_new(&relu_vt, NULL); }
lpc_module *lpc_flatten_new(void) { return lpci_module_new(&flatten_vt, NULL); }
lpc_module *lpc_global_avgpool_new(void) { return lpci_module_new(&avgpool_vt, NULL); }
lpc_module *lpc_sequential_new(void) { return lpci_module_new(&sequential_vt, NULL); }

lpc_status lpc_sequential_add(lpc_module *seq, const char *name, lpc_module *child)
{
    if (!seq || seq->vt != &sequential_vt) {
        lpci_module_discard(seq, child);
        return lpci_error(LPC_E_ARG, "lpc_sequential_add: first argument is not a sequential");
    }
    if (!child)
        return lpci_error(LPC_E_ARG, "lpc_sequential_add: child is NULL");
    char index[16];
    if (!name) {
        snprintf(index, sizeof index, "%d", seq->n_children);
        name = index;
    }
    if (!name[0] || strchr(name, '.')) {
        lpci_module_discard(seq, child);
        return lpci_error(LPC_E_ARG, "lpc_sequential_add: name '%s' is empty or has a '.'", name);
    }
    return lpci_module_add_child(seq, name, child);
}
