/* Tensor objects: persistent (heap) and temporary (arena) float32 tensors. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* Validates a shape and computes its element count; returns 0 on error. */
static int shape_numel(int ndim, const int64_t *shape, int64_t *numel, const char *who)
{
    if (ndim < 1 || ndim > LPC_MAX_DIMS || !shape) {
        lpci_error(LPC_E_ARG, "%s: ndim must be 1..%d with a shape, got %d", who,
                   LPC_MAX_DIMS, ndim);
        return 0;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > ((int64_t)1 << 40)) {
            lpci_error(LPC_E_ARG, "%s: dimension %d has invalid size %lld", who, i,
                       (long long)shape[i]);
            return 0;
        }
        if (n > (((int64_t)1 << 40) / shape[i])) {
            lpci_error(LPC_E_ARG, "%s: more than 2^40 elements (dimension %d is %lld after "
                       "%lld elements)", who, i, (long long)shape[i], (long long)n);
            return 0;
        }
        n *= shape[i];
    }
    *numel = n;
    return 1;
}

static void set_shape(lpc_tensor *t, int ndim, const int64_t *shape, int64_t numel)
{
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
}

lpc_tensor *lpc_tensor_new(int ndim, const int64_t *shape)
{
    int64_t numel;
    if (!shape_numel(ndim, shape, &numel, "lpc_tensor_new"))
        return NULL;
    lpc_tensor *t = lpci_malloc(sizeof *t);
    if (!t)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_tensor_new: out of memory");
    set_shape(t, ndim, shape, numel);
    t->flags = LPCI_T_PERSISTENT;
    t->data = lpci_calloc((size_t)numel, sizeof(float));
    if (!t->data) {
        lpci_free(t);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_tensor_new: out of memory for %lld floats",
                              (long long)numel);
    }
    return t;
}

void lpc_tensor_free(lpc_tensor *t)
{
    if (!t)
        return;
    if (!lpci_is_persistent(t)) {
        lpci_error(LPC_E_ARG, "lpc_tensor_free: refusing to free a temporary (owned by its ctx)");
        return;
    }
    if (t->flags & LPCI_T_OWNED) {
        lpci_error(LPC_E_ARG, "lpc_tensor_free: refusing to free a tensor owned by a module or "
                   "optimizer (freed with its owner)");
        return;
    }
    lpci_free(t->data);
    lpci_free(t->grad);
    lpci_free(t);
}

void lpci_tensor_free_owned(lpc_tensor *t)
{
    if (t)
        t->flags &= ~LPCI_T_OWNED;
    lpc_tensor_free(t);
}

lpc_tensor *lpci_temp(lpc_ctx *ctx, int ndim, const int64_t *shape)
{
    int64_t numel;
    if (!shape_numel(ndim, shape, &numel, "tensor"))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "%s", lpc_last_error());
    lpc_tensor *t = lpci_ctx_alloc(ctx, sizeof *t);
    if (!t)
        return &ctx->poison;
    set_shape(t, ndim, shape, numel);
    t->ctx = ctx;
    t->data = lpci_ctx_alloc(ctx, (size_t)numel * sizeof(float));
    if (!t->data)
        return &ctx->poison;
    return t;
}

lpc_tensor *lpci_temp_like(lpc_ctx *ctx, const lpc_tensor *t)
{
    return lpci_temp(ctx, t->ndim, t->shape);
}

lpc_tensor *lpc_tensor_temp(lpc_ctx *ctx, int ndim, const int64_t *shape)
{
    if (!lpci_op_check(ctx, "lpc_tensor_temp", 0, NULL))
        return ctx ? &ctx->poison : NULL;
    return lpci_temp(ctx, ndim, shape);
}

lpc_tensor *lpc_tensor_from(lpc_ctx *ctx, int ndim, const int64_t *shape, const float *data,
                            int64_t n)
{
    if (!lpci_op_check(ctx, "lpc_tensor_from", 0, NULL))
        return ctx ? &ctx->poison : NULL;
    if (!data)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_tensor_from: data is NULL");
    lpc_tensor *t = lpci_temp(ctx, ndim, shape);
    if (t == &ctx->poison)
        return t;
    if (n != t->numel)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "lpc_tensor_from: %lld values for %lld elements",
                             (long long)n, (long long)t->numel);
    memcpy(t->data, data, (size_t)n * sizeof(float));
    return t;
}

static int usable(const lpc_tensor *t) { return t && !(t->flags & LPCI_T_POISON); }

int lpc_tensor_ndim(const lpc_tensor *t) { return usable(t) ? t->ndim : -1; }

int64_t lpc_tensor_dim(const lpc_tensor *t, int i)
{
    if (!usable(t) || i < 0 || i >= t->ndim)
        return -1;
    return t->shape[i];
}

int64_t lpc_tensor_numel(const lpc_tensor *t) { return usable(t) ? t->numel : -1; }
float *lpc_tensor_data(lpc_tensor *t) { return usable(t) ? t->data : NULL; }
const float *lpc_tensor_cdata(const lpc_tensor *t) { return usable(t) ? t->data : NULL; }
float *lpc_tensor_grad(lpc_tensor *t) { return usable(t) ? t->grad : NULL; }

lpc_status lpc_tensor_set_requires_grad(lpc_tensor *t, int on)
{
    if (!usable(t))
        return lpci_error(LPC_E_ARG, "lpc_tensor_set_requires_grad: tensor is NULL or poisoned");
    if (on)
        t->flags |= LPCI_T_REQUIRES_GRAD;
    else
        t->flags &= ~LPCI_T_REQUIRES_GRAD;
    return LPC_OK;
}

int lpc_tensor_requires_grad(const lpc_tensor *t) { return usable(t) && lpci_requires_grad(t); }

lpc_status lpc_tensor_zero_grad(lpc_tensor *t)
{
    if (!usable(t))
        return lpci_error(LPC_E_ARG, "lpc_tensor_zero_grad: tensor is NULL or poisoned");
    if (t->grad)
        memset(t->grad, 0, (size_t)t->numel * sizeof(float));
    return LPC_OK;
}

static lpc_status check_copy(const lpc_tensor *t, const void *p, int64_t n, const char *who)
{
    if (!usable(t) || !p)
        return lpci_error(LPC_E_ARG, "%s: NULL or poisoned argument", who);
    if (n != t->numel)
        return lpci_error(LPC_E_SHAPE, "%s: %lld values for a tensor of %lld elements", who,
                          (long long)n, (long long)t->numel);
    return LPC_OK;
}

lpc_status lpc_tensor_copy_in(lpc_tensor *t, const float *src, int64_t n)
{
    lpc_status s = check_copy(t, src, n, "lpc_tensor_copy_in");
    if (s == LPC_OK)
        memcpy(t->data, src, (size_t)n * sizeof(float));
    return s;
}

lpc_status lpc_tensor_copy_out(const lpc_tensor *t, float *dst, int64_t n)
{
    lpc_status s = check_copy(t, dst, n, "lpc_tensor_copy_out");
    if (s == LPC_OK)
        memcpy(dst, t->data, (size_t)n * sizeof(float));
    return s;
}

lpc_status lpc_tensor_fill(lpc_tensor *t, float value)
{
    if (!usable(t))
        return lpci_error(LPC_E_ARG, "lpc_tensor_fill: tensor is NULL or poisoned");
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = value;
    return LPC_OK;
}

int lpci_same_shape(const lpc_tensor *a, const lpc_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

const char *lpci_shape_str(const lpc_tensor *t, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, i ? "x%lld" : "%lld", (long long)t->shape[i]);
    return buf;
}
