/* Batch normalisation over N, H, W per channel, optionally fused with a
 * residual add and SiLU. Each channel is owned by one thread; its sums are
 * accumulated in double. The tape keeps the per-channel statistics and the
 * affine map of the forward pass; the normalised input is recomputed from x
 * in the backward pass rather than stored. With a communicator on the ctx
 * (data-parallel training), the per-channel sums of training mode are
 * reduced over every rank's batch before use (all_channel_sums, then
 * reduce_over_ranks; backward_over_ranks for the gradient). */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "batchnorm.h"
#include "sigmoid.h"

#define PAR_MIN 32768 /* elements below which threads cost more than they save */

/* One row of the forward pass: q = a p + b (+ r), then SiLU if asked. */
LPCI_VECTOR_BODY void affine_row_body(float *q, const float *p, const float *r, float a,
                                          float b, int silu, int64_t len)
{
    if (!silu) {
        for (int64_t k = 0; k < len; k++)
            q[k] = p[k] * a + b;
    } else if (r) {
        for (int64_t k = 0; k < len; k++) {
            float z = p[k] * a + b + r[k];
            q[k] = z * lpci_sigmoid(z);
        }
    } else {
        for (int64_t k = 0; k < len; k++) {
            float z = p[k] * a + b;
            q[k] = z * lpci_sigmoid(z);
        }
    }
}
LPCI_VECTOR_KERNEL(affine_row,
                   (float *q, const float *p, const float *r, float a, float b, int silu,
                    int64_t len),
                   (q, p, r, a, b, silu, len))

/* d = dy silu'(z) for z = a p + b (+ r), and rg (+)= d when rg is given
 * (stored when rg_fresh). */
LPCI_VECTOR_BODY void silu_grad_row_body(float *d, const float *dy, const float *p,
                                             const float *r, float *rg, int rg_fresh, float a,
                                             float b, int64_t len)
{
    if (r)
        for (int64_t k = 0; k < len; k++) {
            float z = p[k] * a + b + r[k], s = lpci_sigmoid(z);
            d[k] = dy[k] * s * (1.0f + z * (1.0f - s));
        }
    else
        for (int64_t k = 0; k < len; k++) {
            float z = p[k] * a + b, s = lpci_sigmoid(z);
            d[k] = dy[k] * s * (1.0f + z * (1.0f - s));
        }
    if (rg && rg_fresh)
        memcpy(rg, d, (size_t)len * sizeof *rg);
    else if (rg)
        for (int64_t k = 0; k < len; k++)
            rg[k] += d[k];
}
LPCI_VECTOR_KERNEL(silu_grad_row,
                   (float *d, const float *dy, const float *p, const float *r, float *rg,
                    int rg_fresh, float a, float b, int64_t len),
                   (d, dy, p, r, rg, rg_fresh, a, b, len))

/* One row of the input gradient: dx (+)= k (g - b - a (p - mu)), stored
 * when fresh. */
LPCI_VECTOR_BODY void dx_row_body(float *dx, int fresh, const float *g, const float *p,
                                      float k, float a, float b, float mu, int64_t len)
{
    if (fresh)
        for (int64_t q = 0; q < len; q++)
            dx[q] = k * (g[q] - b - a * (p[q] - mu));
    else
        for (int64_t q = 0; q < len; q++)
            dx[q] += k * (g[q] - b - a * (p[q] - mu));
}
LPCI_VECTOR_KERNEL(dx_row,
                   (float *dx, int fresh, const float *g, const float *p, float k, float a, float b,
                    float mu, int64_t len),
                   (dx, fresh, g, p, k, a, b, mu, len))

#define LANES 8
/* 4 floats (loaded unaligned) and 4 doubles, as GCC vectors: the compiler
 * does not vectorise the per-lane double sums by itself. The 8 lanes are
 * two such halves: a single 8-double vector spills to the stack on every
 * iteration where the CPU's registers are narrower (AVX2: 2.7x slower). */
typedef float half_f __attribute__((vector_size(4 * sizeof(float)), aligned(4)));
typedef double half_d __attribute__((vector_size(4 * sizeof(double))));

/* Sums of u and of u*v over n rows of hw values, row i of u at u + i*su and
 * of v at v + i*sv, in double. Separate lanes (summed in a fixed order at
 * the end) keep the order independent of the vector width. */
LPCI_VECTOR_BODY void channel_sums_body(const float *u, int64_t su, const float *v, int64_t sv,
                                            int64_t n, int64_t hw, double *sum_u, double *sum_uv)
{
    half_d a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0}; /* lanes 0-3 and 4-7 */
    for (int64_t i = 0; i < n; i++) {
        const float *p = u + i * su, *q = v + i * sv;
        int64_t k = 0;
        for (; k + LANES <= hw; k += LANES) {
            half_d p0 = __builtin_convertvector(*(const half_f *)(p + k), half_d);
            half_d p1 = __builtin_convertvector(*(const half_f *)(p + k + 4), half_d);
            half_d q0 = __builtin_convertvector(*(const half_f *)(q + k), half_d);
            half_d q1 = __builtin_convertvector(*(const half_f *)(q + k + 4), half_d);
            a0 += p0;
            a1 += p1;
            b0 += p0 * q0;
            b1 += p1 * q1;
        }
        for (; k < hw; k++) {
            a0[0] += p[k];
            b0[0] += (double)p[k] * q[k];
        }
    }
    *sum_u = *sum_uv = 0.0;
    for (int j = 0; j < LANES; j++) {
        *sum_u += j < 4 ? a0[j] : a1[j - 4];
        *sum_uv += j < 4 ? b0[j] : b1[j - 4];
    }
}
LPCI_VECTOR_KERNEL(channel_sums,
                   (const float *u, int64_t su, const float *v, int64_t sv, int64_t n, int64_t hw,
                    double *sum_u, double *sum_uv),
                   (u, su, v, sv, n, hw, sum_u, sum_uv))

static lpc_tensor *check_args(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                              lpc_tensor *rm, lpc_tensor *rv, int train, float momentum,
                              float eps, lpc_tensor *res)
{
    char sx[64], sg[64];
    if (res && (res->ndim != 4 || res->numel != x->numel || memcmp(res->shape, x->shape,
                                                                   sizeof x->shape[0] * 4)))
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: residual %s differs from input %s",
                             lpci_shape_str(res, sg, sizeof sg), lpci_shape_str(x, sx, sizeof sx));
    if (x->ndim != 4)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: input must be N x C x H x W, got %s",
                             lpci_shape_str(x, sx, sizeof sx));
    int64_t c = x->shape[1];
    lpc_tensor *per_channel[4] = {gamma, beta, rm, rv};
    for (int i = 0; i < 4; i++)
        if (per_channel[i] && (per_channel[i]->ndim != 1 || per_channel[i]->shape[0] != c))
            return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: parameter %s does not match "
                                 "input %s (expects %lld channels)",
                                 lpci_shape_str(per_channel[i], sg, sizeof sg),
                                 lpci_shape_str(x, sx, sizeof sx), (long long)c);
    if (!(eps > 0.0f) || !isfinite(eps) || !(momentum >= 0.0f && momentum <= 1.0f))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: need eps > 0 (got %g) and momentum "
                             "in [0, 1] (got %g)", (double)eps, (double)momentum);
    if (!train && (!rm || !rv))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: eval mode needs running_mean and "
                             "running_var");
    if (!lpci_own_temp(ctx, "batchnorm2d", "running_mean", rm) ||
        !lpci_own_temp(ctx, "batchnorm2d", "running_var", rv))
        return &ctx->poison;
    if ((rm == NULL) != (rv == NULL))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "batchnorm2d: give both running statistics or "
                             "neither");
    if (train && x->numel / c < 2)
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "batchnorm2d: training needs more than one value "
                             "per channel, input is %s", lpci_shape_str(x, sx, sizeof sx));
    return NULL;
}

/* Sums of u and u*v for every channel, u and v laid out like the input:
 * sums[2 ch] = sum u, sums[2 ch + 1] = sum u v, and the number of values per
 * channel at sums[2 c]. NULL when out of memory (ctx failed). */
static double *all_channel_sums(lpc_ctx *ctx, const float *u, const float *v, int64_t n,
                                int64_t c, int64_t hw)
{
    double *sums = lpci_ctx_alloc(ctx, (size_t)(2 * c + 1) * sizeof(double));
    if (!sums)
        return NULL;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (n * c * hw > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++)
        channel_sums(u + ch * hw, c * hw, v + ch * hw, c * hw, n, hw, sums + 2 * ch,
                     sums + 2 * ch + 1);
    sums[2 * c] = (double)(n * hw);
    return sums;
}

/* Those sums added up over every rank of ctx's communicator: in place, or
 * into a copy when keep_local. NULL when the ctx failed (memory, transport,
 * or a reduction that is not a plausible sum: a non-finite value, or fewer
 * values per channel than this rank holds). */
static double *reduce_over_ranks(lpc_ctx *ctx, double *sums, int64_t c, int keep_local)
{
    double *out = keep_local ? lpci_ctx_alloc(ctx, (size_t)(2 * c + 1) * sizeof(double)) : sums;
    if (!out)
        return NULL;
    if (out != sums)
        memcpy(out, sums, (size_t)(2 * c + 1) * sizeof(double));
    double local_count = sums[2 * c];
    lpc_status s = lpc_comm_allreduce(ctx->comm, out, 2 * c + 1, LPC_COMM_F64);
    if (s != LPC_OK) {
        lpci_ctx_fail(ctx, s, "batchnorm2d: reducing statistics over ranks: %s", lpc_last_error());
        return NULL;
    }
    for (int64_t i = 0; i <= 2 * c; i++)
        if (!isfinite(out[i])) {
            lpci_ctx_fail(ctx, LPC_E_NUMERIC, "batchnorm2d: the all-reduce over ranks returned "
                          "%g for sum %lld of %lld", out[i], (long long)i, (long long)(2 * c + 1));
            return NULL;
        }
    if (!(out[2 * c] >= local_count)) {
        lpci_ctx_fail(ctx, LPC_E_NUMERIC, "batchnorm2d: the all-reduce over ranks counted %g "
                      "values per channel, fewer than the %g of this rank", out[2 * c],
                      local_count);
        return NULL;
    }
    return out;
}

/* Per-channel record on the tape: mean, 1/std and the affine map a x + b. */
enum { ST_MEAN, ST_INVSTD, ST_A, ST_B, ST_COUNT };

static lpc_tensor *bn_apply(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                            lpc_tensor *running_mean, lpc_tensor *running_var, int train,
                            float momentum, float eps, lpc_tensor *res, int silu)
{
    lpc_tensor *in[4] = {x, gamma, beta, res};
    if (!lpci_op_check(ctx, "batchnorm2d", res ? 4 : 3, in))
        return ctx ? &ctx->poison : NULL;
    lpc_tensor *bad = check_args(ctx, x, gamma, beta, running_mean, running_var, train,
                                 momentum, eps, res);
    if (bad)
        return bad;
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    lpc_tensor *y = lpci_temp_like(ctx, x);
    float *st = lpci_ctx_alloc(ctx, (size_t)c * ST_COUNT * sizeof(float));
    /* This batch's mean and unbiased variance per channel: the running
     * statistics take them only once the op has succeeded. */
    double *batch = train && running_mean ? lpci_ctx_alloc(ctx, (size_t)c * 2 * sizeof *batch)
                                          : NULL;
    if (ctx->status != LPC_OK)
        return &ctx->poison;
    const float *xd = x->data, *rd = res ? res->data : NULL;
    double *sums = NULL; /* over every rank, when data-parallel */
    if (train && ctx->comm &&
        (!(sums = all_channel_sums(ctx, xd, xd, n, c, hw)) || !reduce_over_ranks(ctx, sums, c, 0)))
        return &ctx->poison;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double mu, var;
        if (train) {
            double s1, s2, cnt = sums ? sums[2 * c] : (double)m;
            if (sums) {
                s1 = sums[2 * ch];
                s2 = sums[2 * ch + 1];
            } else {
                channel_sums(xd + ch * hw, c * hw, xd + ch * hw, c * hw, n, hw, &s1, &s2);
            }
            mu = s1 / cnt;
            var = s2 / cnt - mu * mu;
            if (var < 0.0)
                var = 0.0;
            if (batch) {
                batch[2 * ch] = mu;
                batch[2 * ch + 1] = var * cnt / (cnt - 1.0);
            }
        } else {
            mu = running_mean->data[ch];
            var = running_var->data[ch];
        }
        double is = 1.0 / sqrt(var + (double)eps);
        float *sc = st + ch * ST_COUNT;
        sc[ST_MEAN] = (float)mu;
        sc[ST_INVSTD] = (float)is;
        sc[ST_A] = (float)(gamma->data[ch] * is);
        sc[ST_B] = (float)(beta->data[ch] - mu * gamma->data[ch] * is);
        for (int64_t i = 0; i < n; i++) {
            int64_t off = (i * c + ch) * hw;
            affine_row(y->data + off, xd + off, rd ? rd + off : NULL, sc[ST_A], sc[ST_B], silu, hw);
        }
    }
    if (lpci_needs_tape(ctx, 4, in)) {
        lpci_node *node = lpci_tape_push(ctx, LPCI_OP_BATCHNORM2D, y, 4, in);
        if (node) {
            node->aux = st;
            node->i[0] = train != 0;
            node->i[1] = silu;
        }
    }
    if (ctx->status != LPC_OK) /* the finite check on y, or no memory for the tape */
        return &ctx->poison;
    for (int64_t ch = 0; batch && ch < c; ch++) {
        double rm = running_mean->data[ch], rv = running_var->data[ch];
        running_mean->data[ch] = (float)((1.0 - momentum) * rm + momentum * batch[2 * ch]);
        running_var->data[ch] = (float)((1.0 - momentum) * rv + momentum * batch[2 * ch + 1]);
    }
    return y;
}

lpc_tensor *lpc_batchnorm2d(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                            lpc_tensor *running_mean, lpc_tensor *running_var, int train,
                            float momentum, float eps)
{
    return bn_apply(ctx, x, gamma, beta, running_mean, running_var, train, momentum, eps, NULL, 0);
}

lpc_tensor *lpci_batchnorm2d_silu(lpc_ctx *ctx, lpc_tensor *x, lpc_tensor *gamma, lpc_tensor *beta,
                                  lpc_tensor *running_mean, lpc_tensor *running_var, int train,
                                  float momentum, float eps, lpc_tensor *res)
{
    return bn_apply(ctx, x, gamma, beta, running_mean, running_var, train, momentum, eps, res, 1);
}

/* Parameter gradients of channel ch from this rank's sums of dy and dy x
 * (data-parallel: the trainer sums them over ranks like any gradient). */
static void param_grads(lpc_tensor *gamma, lpc_tensor *beta, int gamma_fresh, int beta_fresh,
                        const float *sc, int64_t ch, double sdy, double sdyx)
{
    double sdyxhat = sc[ST_INVSTD] * (sdyx - sc[ST_MEAN] * sdy); /* sum of dy * xhat */
    if (gamma->grad)
        gamma->grad[ch] = (gamma_fresh ? 0.0f : gamma->grad[ch]) + (float)sdyxhat;
    if (beta->grad)
        beta->grad[ch] = (beta_fresh ? 0.0f : beta->grad[ch]) + (float)sdy;
}

/* Input gradient of channel ch, rows of g0 at stride gs, from the sums of
 * dy and dy x over the m values per channel of the (global) batch:
 * dx = gamma is (dy - [train] (mean(dy) + xhat mean(dy xhat))) with
 * xhat = (x - mu) is. */
static void input_grad(lpc_tensor *x, int x_fresh, const float *g0, int64_t gs, const float *sc,
                       int64_t ch, int train, double sdy, double sdyx, double m)
{
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    double is = sc[ST_INVSTD], mu = sc[ST_MEAN];
    double sdyxhat = is * (sdyx - mu * sdy);
    float k = sc[ST_A], fmu = (float)mu;
    float a = train ? (float)(sdyxhat * is / m) : 0.0f;
    float b = train ? (float)(sdy / m) : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        int64_t off = (i * c + ch) * hw;
        dx_row(x->grad + off, x_fresh, g0 + i * gs, x->data + off, k, a, b, fmu, hw);
    }
}

/* Data-parallel backward (ctx has a communicator, training mode): the
 * SiLU gradient of every channel first (into scratch laid out like x), then
 * the sums of all channels, reduced over the ranks, then dx. */
static void backward_over_ranks(lpc_ctx *ctx, const lpci_node *node, int rg_fresh, int x_fresh,
                                int gamma_fresh, int beta_fresh)
{
    lpc_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2], *res = node->in[3];
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3];
    const float *st = node->aux, *xd = x->data, *rd = res ? res->data : NULL;
    const float *g = node->out->grad;
    if (node->i[1]) {
        float *dz = lpci_ctx_scratch(ctx, (size_t)x->numel * sizeof(float));
        if (!dz)
            return;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < n; i++) {
                int64_t off = (i * c + ch) * hw;
                silu_grad_row(dz + off, g + off, xd + off, rd ? rd + off : NULL,
                              res && res->grad ? res->grad + off : NULL, rg_fresh,
                              st[ch * ST_COUNT + ST_A], st[ch * ST_COUNT + ST_B], hw);
            }
        g = dz;
    }
    double *local = all_channel_sums(ctx, g, xd, n, c, hw);
    const double *global = local ? reduce_over_ranks(ctx, local, c, 1) : NULL;
    if (!global)
        return;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        const float *sc = st + ch * ST_COUNT;
        param_grads(gamma, beta, gamma_fresh, beta_fresh, sc, ch, local[2 * ch],
                    local[2 * ch + 1]);
        if (x->grad)
            input_grad(x, x_fresh, g + ch * hw, c * hw, sc, ch, 1, global[2 * ch],
                       global[2 * ch + 1], global[2 * c]);
    }
}

void lpci_backward_BATCHNORM2D(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *x = node->in[0], *gamma = node->in[1], *beta = node->in[2], *res = node->in[3];
    int64_t n = x->shape[0], c = x->shape[1], hw = x->shape[2] * x->shape[3], m = n * hw;
    const float *st = node->aux, *xd = x->data, *rd = res ? res->data : NULL;
    int train = (int)node->i[0], silu = (int)node->i[1];
    float *rg = res ? res->grad : NULL;
    int rg_fresh = rg && lpci_grad_fresh(res), x_fresh = x->grad && lpci_grad_fresh(x);
    int gamma_fresh = gamma->grad && lpci_grad_fresh(gamma);
    int beta_fresh = beta->grad && lpci_grad_fresh(beta);
    if (train && ctx->comm) {
        backward_over_ranks(ctx, node, rg_fresh, x_fresh, gamma_fresh, beta_fresh);
        return;
    }
    /* With SiLU, the gradient at the pre-activation of one channel first
     * goes to its thread's scratch (n x hw). */
    const float *dz = node->out->grad;
    float *dzs = silu ? lpci_ctx_scratch(ctx, (size_t)(lpci_threads() * m) * sizeof(float)) : NULL;
    if (silu && !dzs)
        return;
#pragma omp parallel for schedule(static) num_threads(lpci_threads()) if (x->numel > PAR_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        const float *sc = st + ch * ST_COUNT;
        float *dzt = silu ? dzs + omp_get_thread_num() * m : NULL;
        if (silu)
            for (int64_t i = 0; i < n; i++) {
                int64_t off = (i * c + ch) * hw;
                silu_grad_row(dzt + i * hw, dz + off, xd + off, rd ? rd + off : NULL,
                              rg ? rg + off : NULL, rg_fresh, sc[ST_A], sc[ST_B], hw);
            }
        /* row i of this channel's gradient at the batch-norm output */
        const float *g0 = silu ? dzt : dz + ch * hw;
        int64_t gs = silu ? hw : c * hw;
        double sdy, sdyx;
        channel_sums(g0, gs, xd + ch * hw, c * hw, n, hw, &sdy, &sdyx);
        param_grads(gamma, beta, gamma_fresh, beta_fresh, sc, ch, sdy, sdyx);
        if (x->grad)
            input_grad(x, x_fresh, g0, gs, sc, ch, train, sdy, sdyx, (double)m);
    }
}
