/* Upper bound of a module's L2 Lipschitz constant (include/lpc/lipschitz.h):
 * a walk of the module tree that multiplies the bounds of its parts, with
 * the input shape carried along. Certified walks bound every linear
 * operator from above (lib/analysis/lipschitz_gram.c; a conv followed by a
 * batch norm as one operator). Estimating walks take each operator's
 * norm as converged from below: dense layers from the eigenvalues of their
 * Gram matrix (Lanczos when large), convs by Lanczos on A^T A with the
 * library's conv op forward and its input gradient, the adjoint (a conv's
 * norm then depends on its input size). Messages name the module by its
 * path; the caller prefixes its own name. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "../nn/module_internal.h"
#include "../ops/batchnorm.h"
#include "analysis_internal.h"
#include "lipschitz_internal.h"

#define PATH_MAX_LEN 256
/* The frequency-domain conv bound is used up to this cost (about that many
 * flops times a few; lipschitz_freq.c), the kernel-reshape bound always. */
#define FREQ_MAX_COST 2e9

typedef struct {
    lpc_lipschitz_bound_options o;
    lpc_ctx *ctx;
    lpc_rng *rng;
    double silu;
    int certified;
} walker;

/* Shape of one sample: ndim 2 (c features) or 4 (c x h x w). */
typedef struct {
    int ndim;
    int64_t c, h, w;
} shape;

void lpc_lipschitz_bound_options_init(lpc_lipschitz_bound_options *o)
{
    if (o)
        *o = (lpc_lipschitz_bound_options){.size = sizeof *o, .tol = 1e-6, .max_iter = 1000,
                                           .dense_limit = 256};
}

static lpc_status read_options(const char *who, const lpc_lipschitz_bound_options *o,
                               lpc_lipschitz_bound_options *out)
{
    lpc_lipschitz_bound_options_init(out);
    if (!o)
        return LPC_OK;
    if (o->size < offsetof(lpc_lipschitz_bound_options, tol) + sizeof o->tol)
        return lpci_error(LPC_E_ARG, "%s: options size %zu is too small (set it with "
                          "lpc_lipschitz_bound_options_init)", who, o->size);
    memcpy(out, o, o->size < sizeof *out ? o->size : sizeof *out);
    out->size = sizeof *out;
    if (!(out->tol > 0.0 && out->tol <= 0.1))
        return lpci_error(LPC_E_ARG, "%s: tol must be in (0, 0.1], got %g", who, out->tol);
    if (out->max_iter < 1)
        return lpci_error(LPC_E_ARG, "%s: max_iter must be >= 1, got %d", who, out->max_iter);
    if (out->dense_limit < 0 || out->dense_limit > 4096)
        return lpci_error(LPC_E_ARG, "%s: dense_limit must be in [0, 4096], got %d", who,
                          out->dense_limit);
    return LPC_OK;
}

/* sup_x |d/dx x sigmoid(x)|. The derivative s(x) (1 + x (1 - s(x))) has its
 * maximum where x tanh(x/2) = 2 (its minimum, at -x, is 1 minus the
 * maximum), found by bisection in double; the derivative is flat there, so
 * the bisection's error in x changes the value only to second order. */
double lpci_silu_max_slope(void)
{
    double lo = 2.0, hi = 3.0;
    for (int i = 0; i < 200 && hi - lo > 0.0; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid * tanh(0.5 * mid) < 2.0)
            lo = mid;
        else
            hi = mid;
    }
    double x = 0.5 * (lo + hi), s = 1.0 / (1.0 + exp(-x));
    return nextafter(s * (1.0 + x * (1.0 - s)), INFINITY);
}

/* Products, sums and scales of the walk are rounded upward, so that the
 * certified product stays above the product of the parts' bounds. */
static double mul_up(double a, double b)
{
    return nextafter(a * b, INFINITY);
}

/* x computed with a relative error below 2 DBL_EPSILON (a few correctly
 * rounded operations), grown past it. */
static double grow(double x)
{
    return nextafter(x * (1.0 + 2.0 * DBL_EPSILON), INFINITY);
}

/* 1 / sqrt(n), rounded up. */
static double inv_sqrt_up(int64_t n)
{
    return grow(1.0 / sqrt((double)n));
}

/* Relative error allowance of a computed eigenvalue of an n x n Gram
 * matrix formed from m-long rows: the rounding of forming it and of the
 * Jacobi sweeps, a few hundred ulps at most for the sizes allowed. */
static double gram_slack(int64_t n, int64_t m)
{
    return 1.0 + 16.0 * (double)(n + m) * DBL_EPSILON;
}

typedef struct {
    const double *a;
    int64_t r, c;
    double *tmp; /* r */
} dense_op;

/* out = a^T a u */
static lpc_status dense_gram(void *op, const double *u, double *out)
{
    dense_op *m = op;
    for (int64_t i = 0; i < m->r; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < m->c; j++)
            s += m->a[i * m->c + j] * u[j];
        m->tmp[i] = s;
    }
    memset(out, 0, (size_t)m->c * sizeof *out);
    for (int64_t i = 0; i < m->r; i++)
        for (int64_t j = 0; j < m->c; j++)
            out[j] += m->a[i * m->c + j] * m->tmp[i];
    return LPC_OK;
}

lpc_status lpci_dense_norm(const char *who, const float *w, int64_t r, int64_t c,
                           int dense_limit, int max_iter, double tol, uint64_t seed,
                           double *norm)
{
    int64_t small = r < c ? r : c;
    size_t cells;
    if (lpci_mul_size((size_t)r, (size_t)c, &cells) || cells > ((size_t)1 << 40))
        return lpci_error(LPC_E_ARG, "%s: a %lld x %lld matrix is too large", who,
                          (long long)r, (long long)c);
    double *a = lpci_malloc(cells * sizeof *a);
    if (!a)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for a %lld x %lld matrix", who,
                          (long long)r, (long long)c);
    for (size_t i = 0; i < cells; i++)
        a[i] = w[i];
    for (size_t i = 0; i < cells; i++)
        if (!isfinite(a[i])) {
            lpci_free(a);
            return lpci_error(LPC_E_NUMERIC, "%s: weight %zu is not finite", who, i);
        }
    lpc_status s = LPC_OK;
    if (small <= dense_limit) {
        /* G = a a^T (r <= c) or a^T a, small x small */
        double *g = lpci_malloc((size_t)(small * small) * sizeof *g);
        double *ev = lpci_malloc((size_t)small * sizeof *ev);
        double *vec = lpci_malloc((size_t)(small * small) * sizeof *vec);
        if (!g || !ev || !vec)
            s = lpci_error(LPC_E_NOMEM, "%s: out of memory for a %lld x %lld Gram matrix", who,
                           (long long)small, (long long)small);
        int64_t big = r < c ? c : r;
        for (int64_t p = 0; s == LPC_OK && p < small; p++)
            for (int64_t q = 0; q <= p; q++) {
                double acc = 0.0;
                for (int64_t t = 0; t < big; t++)
                    acc += r <= c ? a[p * c + t] * a[q * c + t] : a[t * c + p] * a[t * c + q];
                g[p * small + q] = g[q * small + p] = acc;
            }
        if (s == LPC_OK)
            s = lpci_eigh(g, (int)small, ev, vec);
        if (s == LPC_OK)
            *norm = ev[0] > 0.0 ? sqrt(ev[0] * gram_slack(small, big)) : 0.0;
        lpci_free(g);
        lpci_free(ev);
        lpci_free(vec);
    } else {
        dense_op op = {a, r, c, lpci_malloc((size_t)r * sizeof(double))};
        lpc_rng *rng = lpc_rng_new(seed);
        double lambda = 0.0;
        if (!op.tmp || !rng)
            s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
        else
            s = lpci_lanczos_max(c, dense_gram, &op, max_iter, tol, rng, &lambda);
        if (s == LPC_OK)
            *norm = sqrt(lambda);
        lpc_rng_free(rng);
        lpci_free(op.tmp);
    }
    lpci_free(a);
    return s;
}

typedef struct {
    lpc_ctx *ctx;
    lpc_tensor *w;
    int stride, pad;
    int64_t shape[4];
} conv_op;

/* out = A^T A u: the input gradient of sum(y * v) with y = A u and v = y
 * held constant (the conv op's backward is its adjoint). */
static lpc_status conv_gram(void *opaque, const double *u, double *out)
{
    conv_op *op = opaque;
    lpc_ctx *ctx = op->ctx;
    lpc_ctx_reset(ctx);
    lpc_tensor *x = lpc_tensor_temp(ctx, 4, op->shape);
    if (lpc_ctx_status(ctx) == LPC_OK) {
        for (int64_t q = 0; q < x->numel; q++)
            x->data[q] = (float)u[q];
        lpc_tensor_set_requires_grad(x, 1);
    }
    lpc_tensor *y = lpc_conv2d(ctx, x, op->w, NULL, op->stride, op->pad);
    lpc_tensor *v = lpc_tensor_temp(ctx, y->ndim, y->shape);
    if (lpc_ctx_status(ctx) == LPC_OK)
        memcpy(v->data, y->data, (size_t)y->numel * sizeof *v->data);
    lpc_tensor *loss = lpc_sum(ctx, lpc_mul(ctx, y, v));
    if (lpc_ctx_status(ctx) != LPC_OK)
        return lpci_error(lpc_ctx_status(ctx), "%s", lpc_ctx_error(ctx));
    lpc_status s = lpc_backward(ctx, loss);
    if (s != LPC_OK)
        return s;
    for (int64_t q = 0; q < x->numel; q++)
        out[q] = x->grad[q];
    return LPC_OK;
}

/* Norm of x -> diag(scale) conv(x) (scale NULL: 1) for one input sample of
 * shape in. */
static lpc_status conv_norm(walker *wk, const char *path, const lpc_tensor *weight,
                            const double *scale, int stride, int pad, const shape *in,
                            double *norm)
{
    conv_op op = {wk->ctx, lpc_tensor_new(4, weight->shape), stride, pad,
                  {1, in->c, in->h, in->w}};
    if (!op.w)
        return lpci_error(LPC_E_NOMEM, "out of memory for the operator at '%s'", path);
    int64_t per_out = weight->numel / weight->shape[0];
    lpc_status s = LPC_OK;
    for (int64_t i = 0; i < weight->numel && s == LPC_OK; i++) {
        double v = (double)weight->data[i] * (scale ? scale[i / per_out] : 1.0);
        op.w->data[i] = (float)v;
        if (!isfinite(v) || !isfinite(op.w->data[i]))
            s = lpci_error(LPC_E_NUMERIC, "the weights of '%s'%s are not finite", path,
                           scale ? " (scaled by its batch norm)" : "");
    }
    double lambda = 0.0;
    if (s == LPC_OK) {
        s = lpci_lanczos_max(in->c * in->h * in->w, conv_gram, &op, wk->o.max_iter, wk->o.tol,
                             wk->rng, &lambda);
        if (s != LPC_OK)
            s = lpci_error_context("the conv at '%s'", path);
    }
    if (s == LPC_OK)
        *norm = sqrt(lambda);
    lpc_ctx_reset(wk->ctx);
    lpc_tensor_free(op.w);
    return s;
}

/* Certified norm of a linear layer's weight. */
static lpc_status linear_upper(const char *what, const lpc_tensor *w, double *l)
{
    size_t cells = (size_t)w->numel;
    double *a = lpci_malloc(cells * sizeof *a);
    if (!a)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for its weight", what);
    for (size_t i = 0; i < cells; i++)
        a[i] = w->data[i];
    lpc_status s = lpci_norm_upper(what, a, w->shape[0], w->shape[1], 1e-13, l);
    lpci_free(a);
    return s;
}

static int is_kind(const lpc_module *m, const char *kind)
{
    return m && strcmp(m->vt->kind, kind) == 0;
}

/* What messages call the module walked from (parameter names start below it). */
static const char top_path[] = "(model)";

static void child_path(char *out, const char *path, const char *name)
{
    int top = !path[0] || strcmp(path, top_path) == 0;
    snprintf(out, PATH_MAX_LEN, "%s%s%s", top ? "" : path, top ? "" : ".", name);
}

/* |gamma| / sqrt(var + eps) per channel of a batch-norm module. */
static lpc_status bn_scale(lpc_module *bn, const char *path, int64_t c, double **out)
{
    lpc_tensor *gamma = lpci_own_param(bn, 0), *var = bn->buffers[1].t;
    if (gamma->numel != c)
        return lpci_error(LPC_E_SHAPE, "the batch norm at '%s' has %lld channels, its "
                          "input %lld", path, (long long)gamma->numel, (long long)c);
    double *sc = lpci_malloc((size_t)c * sizeof *sc);
    if (!sc)
        return lpci_error(LPC_E_NOMEM, "out of memory");
    for (int64_t i = 0; i < c; i++) {
        sc[i] = grow(fabs((double)gamma->data[i]) /
                         sqrt((double)var->data[i] + (double)LPCI_BN_EPS));
        if (!isfinite(sc[i]) || !(var->data[i] >= 0.0f)) {
            lpci_free(sc);
            return lpci_error(LPC_E_NUMERIC, "the batch norm at '%s' has a non-finite "
                              "weight or a negative or non-finite running variance (channel "
                              "%lld)", path, (long long)i);
        }
    }
    *out = sc;
    return LPC_OK;
}

/* A conv module, followed by the batch norm bn (or NULL), as one operator. */
static lpc_status conv_bn(walker *wk, lpc_module *conv, const char *path, lpc_module *bn,
                          const char *bn_path, shape *s, double *l)
{
    const lpci_conv_cfg *cfg = conv->impl;
    const lpc_tensor *w = lpci_own_param(conv, 0);
    int64_t k = w->shape[2];
    if (s->ndim != 4 || s->c != w->shape[1])
        return lpci_error(LPC_E_SHAPE, "the conv at '%s' takes %lld channels of "
                          "images, its input has %s%lld", path, (long long)w->shape[1],
                          s->ndim != 4 ? "no image shape, width " : "channels ",
                          (long long)s->c);
    int64_t ho = (s->h + 2 * cfg->pad - k) / cfg->stride + 1;
    int64_t wo = (s->w + 2 * cfg->pad - k) / cfg->stride + 1;
    if (s->h + 2 * cfg->pad < k || s->w + 2 * cfg->pad < k)
        return lpci_error(LPC_E_SHAPE, "the %lldx%lld conv at '%s' does not fit its "
                          "%lldx%lld input", (long long)k, (long long)k, path,
                          (long long)s->h, (long long)s->w);
    double *scale = NULL;
    lpc_status st = bn ? bn_scale(bn, bn_path, w->shape[0], &scale) : LPC_OK;
    if (st == LPC_OK && wk->certified) {
        char what[PATH_MAX_LEN + 32];
        snprintf(what, sizeof what, "the conv at '%s'", path);
        double freq = INFINITY;
        st = lpci_conv_norm_upper(what, w->data, scale, w->shape[0], w->shape[1], w->shape[2],
                                  w->shape[3], l);
        if (st == LPC_OK)
            st = lpci_conv_norm_freq(what, w->data, scale, w->shape[0], w->shape[1],
                                     w->shape[2], w->shape[3], s->h, s->w, FREQ_MAX_COST, &freq);
        if (st == LPC_OK)
            *l = fmin(*l, freq);
    } else if (st == LPC_OK) {
        st = conv_norm(wk, path, w, scale, cfg->stride, cfg->pad, s, l);
    }
    lpci_free(scale);
    *s = (shape){4, w->shape[0], ho, wo};
    return st;
}

static lpc_status walk(walker *wk, lpc_module *m, const char *path, shape *s, double *l);

static lpc_status walk_child(walker *wk, lpc_module *m, int i, const char *path, shape *s,
                             double *l)
{
    char p[PATH_MAX_LEN];
    child_path(p, path, m->child_names[i]);
    return walk(wk, lpci_child(m, i), p, s, l);
}

/* Children i and i+1 as a conv and its batch norm. */
static lpc_status walk_pair(walker *wk, lpc_module *m, int i, const char *path, shape *s,
                            double *l)
{
    char pc[PATH_MAX_LEN], pb[PATH_MAX_LEN];
    child_path(pc, path, m->child_names[i]);
    child_path(pb, path, m->child_names[i + 1]);
    return conv_bn(wk, lpci_child(m, i), pc, lpci_child(m, i + 1), pb, s, l);
}

static lpc_status walk_sequential(walker *wk, lpc_module *m, const char *path, shape *s,
                                  double *l)
{
    double total = 1.0;
    for (int i = 0; i < m->n_children; i++) {
        double li;
        lpc_status st;
        if (i + 1 < m->n_children && is_kind(lpci_child(m, i), "conv2d") &&
            is_kind(lpci_child(m, i + 1), "batchnorm2d"))
            st = walk_pair(wk, m, i++, path, s, &li);
        else
            st = walk_child(wk, m, i, path, s, &li);
        if (st != LPC_OK)
            return st;
        total = mul_up(total, li);
    }
    *l = total;
    return LPC_OK;
}

/* silu(bn_n(conv_n(... silu(bn_1(conv_1 x)))) + shortcut(x)): slope times
 * (the branch's bound + the shortcut's, 1 for the identity). */
static lpc_status walk_block(walker *wk, lpc_module *m, int n_convs, const char *path,
                             shape *s, double *l)
{
    shape in = *s;
    double branch = 1.0, sc = 1.0;
    for (int i = 0; i < n_convs; i++) {
        double li;
        lpc_status st = walk_pair(wk, m, 2 * i, path, s, &li);
        if (st != LPC_OK)
            return st;
        branch = mul_up(branch, mul_up(li, i + 1 < n_convs ? wk->silu : 1.0));
    }
    if (m->n_children > 2 * n_convs) {
        lpc_status st = walk_child(wk, m, 2 * n_convs, path, &in, &sc);
        if (st != LPC_OK)
            return st;
    }
    if (in.ndim != s->ndim || in.c != s->c || in.h != s->h || in.w != s->w)
        return lpci_error(LPC_E_SHAPE, "the shortcut and the branch of '%s' give "
                          "different shapes", path);
    *l = mul_up(wk->silu, nextafter(branch + sc, INFINITY));
    return LPC_OK;
}

/* silu(bn1(conv1 x)), the stages, global average pool. */
static lpc_status walk_resnet(walker *wk, lpc_module *m, const char *path, shape *s, double *l)
{
    double total;
    lpc_status st = walk_pair(wk, m, 0, path, s, &total);
    total = mul_up(total, wk->silu);
    for (int i = 2; st == LPC_OK && i < m->n_children; i++) {
        double li;
        st = walk_child(wk, m, i, path, s, &li);
        total = mul_up(total, li);
    }
    if (st != LPC_OK)
        return st;
    *l = mul_up(total, inv_sqrt_up(s->h * s->w));
    *s = (shape){2, s->c, 1, 1};
    return LPC_OK;
}

/* A caller's bound for a module the walk does not know; its output shape
 * from a forward pass of zeros. */
static lpc_status walk_custom(walker *wk, lpc_module *m, const char *path, shape *s,
                              double *l)
{
    if (!wk->o.custom)
        return lpci_error(LPC_E_STATE, "cannot bound module '%s' of kind '%s' (give a "
                          "bound through the options' custom callback)",
                          path, m->vt->kind);
    int64_t in_shape[4] = {1, s->c, s->h, s->w};
    double b = NAN;
    lpc_status st = wk->o.custom(m, s->ndim, in_shape, wk->o.custom_user, &b);
    if (st != LPC_OK)
        return lpci_error(st, "the custom bound of '%s' failed: %s", path,
                          lpc_last_error());
    if (!(b >= 0.0) || !isfinite(b))
        return lpci_error(LPC_E_NUMERIC, "the custom bound of '%s' is %g (needs finite "
                          ">= 0)", path, b);
    lpc_ctx *ctx = wk->ctx;
    lpc_ctx_reset(ctx);
    lpc_tensor *x = lpc_tensor_temp(ctx, s->ndim, in_shape);
    if (lpc_ctx_status(ctx) == LPC_OK)
        memset(x->data, 0, (size_t)x->numel * sizeof *x->data);
    lpc_tensor *y = lpc_module_forward(m, ctx, x);
    st = lpc_ctx_status(ctx);
    if (st != LPC_OK)
        return lpci_error(st, "forward of '%s': %s", path, lpc_ctx_error(ctx));
    if ((y->ndim != 2 && y->ndim != 4) || y->shape[0] != 1)
        return lpci_error(LPC_E_SHAPE, "'%s' gives a %d-d output; the walk follows "
                          "1 x C or 1 x C x H x W", path, y->ndim);
    *s = y->ndim == 2 ? (shape){2, y->shape[1], 1, 1}
                      : (shape){4, y->shape[1], y->shape[2], y->shape[3]};
    lpc_ctx_reset(ctx);
    *l = b;
    return LPC_OK;
}

static lpc_status walk(walker *wk, lpc_module *m, const char *path, shape *s, double *l)
{
    if (is_kind(m, "sequential"))
        return walk_sequential(wk, m, path, s, l);
    if (is_kind(m, "conv2d"))
        return conv_bn(wk, m, path, NULL, NULL, s, l);
    if (is_kind(m, "linear")) {
        const lpc_tensor *w = lpci_own_param(m, 0);
        if (s->ndim != 2 || s->c != w->shape[1])
            return lpci_error(LPC_E_SHAPE, "the linear layer at '%s' takes %lld "
                              "features, its input is %s%lld", path, (long long)w->shape[1],
                              s->ndim != 2 ? "an image with channels " : "of width ",
                              (long long)s->c);
        *s = (shape){2, w->shape[0], 1, 1};
        char what[PATH_MAX_LEN + 32];
        snprintf(what, sizeof what, "the linear layer at '%s'", path);
        if (wk->certified)
            return linear_upper(what, w, l);
        return lpci_dense_norm(what, w->data, w->shape[0], w->shape[1], wk->o.dense_limit,
                               wk->o.max_iter, wk->o.tol, wk->o.seed, l);
    }
    if (is_kind(m, "batchnorm2d")) {
        double *sc = NULL;
        lpc_status st = bn_scale(m, path, s->c, &sc);
        if (st != LPC_OK)
            return st;
        *l = 0.0;
        for (int64_t i = 0; i < s->c; i++)
            *l = sc[i] > *l ? sc[i] : *l;
        lpci_free(sc);
        return LPC_OK;
    }
    if (is_kind(m, "relu") || is_kind(m, "silu")) {
        *l = is_kind(m, "relu") ? 1.0 : wk->silu;
        return LPC_OK;
    }
    if (is_kind(m, "flatten")) {
        *s = (shape){2, s->c * s->h * s->w, 1, 1};
        *l = 1.0;
        return LPC_OK;
    }
    if (is_kind(m, "global_avgpool")) {
        if (s->ndim != 4)
            return lpci_error(LPC_E_SHAPE, "the pooling at '%s' needs images", path);
        *l = inv_sqrt_up(s->h * s->w);
        *s = (shape){2, s->c, 1, 1};
        return LPC_OK;
    }
    if (is_kind(m, "basic_block") || is_kind(m, "bottleneck"))
        return walk_block(wk, m, is_kind(m, "basic_block") ? 2 : 3, path, s, l);
    if (is_kind(m, "resnet"))
        return walk_resnet(wk, m, path, s, l);
    return walk_custom(wk, m, path, s, l);
}

lpc_status lpci_lipschitz_walk(const char *who, lpc_module *const *chain, int n_chain, int c,
                               int h, int w, const lpc_lipschitz_bound_options *opt,
                               int certified, double *bound)
{
    walker wk = {.silu = lpci_silu_max_slope(), .certified = certified};
    lpc_status st = read_options(who, opt, &wk.o);
    if (st != LPC_OK)
        return st;
    if (c < 1 || h < 1 || w < 1)
        return lpci_error(LPC_E_ARG, "%s: need c, h, w >= 1, got %d, %d, %d", who, c, h, w);
    for (int i = 0; i < n_chain; i++)
        if (lpc_module_is_train(chain[i]))
            return lpci_error(LPC_E_STATE, "%s: the model is in training mode; call "
                              "lpc_module_set_train(model, 0) first", who);
    wk.ctx = lpc_ctx_new();
    wk.rng = lpc_rng_new(wk.o.seed);
    if (!wk.ctx || !wk.rng)
        st = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    shape s = h == 1 && w == 1 ? (shape){2, c, 1, 1} : (shape){4, c, h, w};
    double total = 1.0;
    for (int i = 0; st == LPC_OK && i < n_chain; i++) {
        double l;
        lpc_module *m = chain[i];
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s", top_path);
        if (m->parent) /* name it as the caller addresses it (the head's children) */
            for (int j = 0; j < m->parent->n_children; j++)
                if (m->parent->children[j] == m)
                    child_path(path, "", m->parent->child_names[j]);
        if ((st = walk(&wk, m, path, &s, &l)) != LPC_OK)
            st = lpci_error_context("%s", who);
        total = mul_up(total, l);
    }
    if (st == LPC_OK && !isfinite(total))
        st = lpci_error(LPC_E_NUMERIC, "%s: the bound overflows", who);
    if (st == LPC_OK)
        *bound = total;
    lpc_ctx_free(wk.ctx);
    lpc_rng_free(wk.rng);
    return st;
}

lpc_status lpc_lipschitz_bound(lpc_module *model, int c, int h, int w,
                               const lpc_lipschitz_bound_options *opt, double *bound)
{
    if (!model || !bound)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_bound: model or bound is NULL");
    return lpci_lipschitz_walk("lpc_lipschitz_bound", &model, 1, c, h, w, opt, 1, bound);
}

lpc_status lpc_lipschitz_bound_estimate(lpc_module *model, int c, int h, int w,
                                        const lpc_lipschitz_bound_options *opt,
                                        double *estimate)
{
    if (!model || !estimate)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_bound_estimate: model or estimate is NULL");
    return lpci_lipschitz_walk("lpc_lipschitz_bound_estimate", &model, 1, c, h, w, opt, 0,
                               estimate);
}
