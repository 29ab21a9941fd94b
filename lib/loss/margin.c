/* ArcFace and CosFace (doc/method.md §4): cross-entropy on s * cos(z, W_j) with a
 * margin on the target class. Cosines are computed in double from the
 * float inputs (O(N K P), small next to the backbone), so the margins and
 * the clamp act on accurate values. With LPC_MARGIN_CLAMP_TARGET the target
 * logit's value after the margin (ArcFace's phi, CosFace's cos - m) is clamped
 * to +-(1 - 1e-7) as well, as the Latent Point Collapse authors' code does;
 * then ArcFace's linear branch below cos(pi - m) (which goes below -1)
 * saturates at -(1 - 1e-7) and passes no gradient. */
#include <math.h>
#include "../core/internal.h"

#define MARGIN_EPS 1e-7   /* norm guard: v / max(|v|, eps) */
#define MARGIN_CLAMP 1e-7 /* cosines are clamped to +-(1 - 1e-7) */

enum { ARCFACE, COSFACE };

/* What the backward pass needs (arena memory of the step). */
typedef struct {
    double *znorm, *wnorm; /* |z_i|, |W_j| before the eps guard */
    double *dcos;          /* dloss/dcos, N x K, zero where the clamp was active */
} margin_saved;

static double row_norm(const float *v, int64_t p)
{
    double s = 0.0;
    for (int64_t k = 0; k < p; k++)
        s += (double)v[k] * v[k];
    return sqrt(s);
}

/* Target logit / s as a function of the clamped cosine c, and its derivative. */
static double target(int kind, double c, double m, double *dt)
{
    if (kind == COSFACE) {
        *dt = 1.0;
        return c - m;
    }
    if (c > cos(M_PI - m)) {
        double sn = sqrt(1.0 - c * c);
        *dt = cos(m) + c * sin(m) / sn;
        return c * cos(m) - sn * sin(m);
    }
    *dt = 1.0;
    return c - m * sin(M_PI - m);
}

static lpc_tensor *margin_ce(lpc_ctx *ctx, const char *op, int kind, lpc_tensor *z, lpc_tensor *w,
                             const int32_t *labels, float s, float m, unsigned flags)
{
    lpc_tensor *in[2] = {z, w};
    if (!lpci_op_check(ctx, op, 2, in))
        return ctx ? &ctx->poison : NULL;
    char sz[64], sw[64];
    if (z->ndim != 2 || w->ndim != 2 || z->shape[1] != w->shape[1])
        return lpci_ctx_fail(ctx, LPC_E_SHAPE, "%s: z %s and W %s must be N x P and K x P", op,
                             lpci_shape_str(z, sz, sizeof sz), lpci_shape_str(w, sw, sizeof sw));
    if (!isfinite(s) || s <= 0.0f)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "%s: scale s must be finite and > 0, got %g", op,
                             (double)s);
    if (!isfinite(m) || m < 0.0f || (kind == ARCFACE && m >= (float)M_PI))
        return lpci_ctx_fail(ctx, LPC_E_ARG, "%s: margin m must be in [0, %s), got %g", op,
                             kind == ARCFACE ? "pi" : "inf", (double)m);
    if (flags & ~LPC_MARGIN_CLAMP_TARGET)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "%s: unknown flags 0x%x", op, flags);
    int64_t n = z->shape[0], k = w->shape[0], p = z->shape[1];
    if (!lpci_check_labels(ctx, op, labels, n, k))
        return &ctx->poison;
    lpc_tensor *loss = lpci_temp(ctx, 1, (int64_t[]){1});
    margin_saved *sv = lpci_ctx_alloc(ctx, sizeof *sv);
    double *znorm = lpci_ctx_alloc(ctx, (size_t)n * sizeof *znorm);
    double *wnorm = lpci_ctx_alloc(ctx, (size_t)k * sizeof *wnorm);
    double *dcos = lpci_ctx_alloc(ctx, (size_t)(n * k) * sizeof *dcos);
    double *row_loss = lpci_ctx_alloc(ctx, (size_t)n * sizeof *row_loss);
    double *dt = lpci_ctx_alloc(ctx, (size_t)(n * k) * sizeof *dt); /* dlogit/(s dcos) */
    if (ctx->status != LPC_OK)
        return &ctx->poison;
    for (int64_t j = 0; j < k; j++)
        wnorm[j] = row_norm(w->data + j * p, p);
    const double hi = 1.0 - MARGIN_CLAMP;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        const float *zi = z->data + i * p;
        double *g = dcos + i * k, *di = dt + i * k; /* g holds the logits first */
        znorm[i] = row_norm(zi, p);
        double zd = fmax(znorm[i], MARGIN_EPS), mx = -INFINITY;
        for (int64_t j = 0; j < k; j++) {
            const float *wj = w->data + j * p;
            double dot = 0.0;
            for (int64_t q = 0; q < p; q++)
                dot += (double)zi[q] * wj[q];
            double c = dot / (zd * fmax(wnorm[j], MARGIN_EPS));
            int clamped = c > hi || c < -hi;
            c = fmin(fmax(c, -hi), hi);
            di[j] = 1.0;
            double t = j == labels[i] ? target(kind, c, m, &di[j]) : c;
            if ((flags & LPC_MARGIN_CLAMP_TARGET) && (t > hi || t < -hi)) {
                t = fmin(fmax(t, -hi), hi); /* the authors' clamp after the margin */
                clamped = 1;
            }
            if (clamped)
                di[j] = 0.0; /* the clamp cuts the gradient */
            g[j] = s * t;
            mx = g[j] > mx ? g[j] : mx;
        }
        double sum = 0.0;
        for (int64_t j = 0; j < k; j++)
            sum += exp(g[j] - mx);
        double lse = mx + log(sum);
        row_loss[i] = lse - g[labels[i]];
        for (int64_t j = 0; j < k; j++) {
            double prob = exp(g[j] - lse);
            g[j] = (prob - (j == labels[i] ? 1.0 : 0.0)) * s * di[j] / (double)n;
        }
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++)
        total += row_loss[i];
    loss->data[0] = (float)(total / (double)n);
    if (lpci_needs_tape(ctx, 2, in)) {
        lpci_node *node = lpci_tape_push(ctx, kind == ARCFACE ? LPCI_OP_ARCFACE : LPCI_OP_COSFACE,
                                         loss, 2, in);
        if (!node)
            return &ctx->poison;
        *sv = (margin_saved){znorm, wnorm, dcos};
        node->aux = sv;
    }
    return loss;
}

/* Gradient of v / max(|v|, eps) applied to du: (du - u (u.du)) / |v| above
 * eps, du / eps below; accumulated into dv (length p). */
static void norm_backward(const float *v, double norm, const double *du, float *dv, int64_t p)
{
    if (norm <= MARGIN_EPS) {
        for (int64_t q = 0; q < p; q++)
            dv[q] += (float)(du[q] / MARGIN_EPS);
        return;
    }
    double dot = 0.0;
    for (int64_t q = 0; q < p; q++)
        dot += v[q] / norm * du[q];
    for (int64_t q = 0; q < p; q++)
        dv[q] += (float)((du[q] - v[q] / norm * dot) / norm);
}

/* cos_ij = u_i . v_j: du_i = sum_j dcos_ij v_j, dv_j = sum_i dcos_ij u_i. */
static void margin_backward(lpc_ctx *ctx, const lpci_node *node)
{
    lpc_tensor *z = node->in[0], *w = node->in[1];
    const margin_saved *sv = node->aux;
    int64_t n = z->shape[0], k = w->shape[0], p = z->shape[1];
    double gout = node->out->grad[0];
    double *buf = lpci_ctx_alloc(ctx, (size_t)((n > k ? n : k) * p) * sizeof *buf);
    if (!buf)
        return;
    if (z->grad) {
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t i = 0; i < n; i++) {
            double *du = buf + i * p;
            for (int64_t q = 0; q < p; q++)
                du[q] = 0.0;
            for (int64_t j = 0; j < k; j++) {
                double c = gout * sv->dcos[i * k + j] / fmax(sv->wnorm[j], MARGIN_EPS);
                const float *wj = w->data + j * p;
                for (int64_t q = 0; q < p; q++)
                    du[q] += c * wj[q];
            }
            norm_backward(z->data + i * p, sv->znorm[i], du, z->grad + i * p, p);
        }
    }
    if (w->grad) {
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t j = 0; j < k; j++) {
            double *dv = buf + j * p;
            for (int64_t q = 0; q < p; q++)
                dv[q] = 0.0;
            for (int64_t i = 0; i < n; i++) {
                double c = gout * sv->dcos[i * k + j] / fmax(sv->znorm[i], MARGIN_EPS);
                const float *zi = z->data + i * p;
                for (int64_t q = 0; q < p; q++)
                    dv[q] += c * zi[q];
            }
            norm_backward(w->data + j * p, sv->wnorm[j], dv, w->grad + j * p, p);
        }
    }
}

lpc_tensor *lpc_arcface(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w, const int32_t *labels,
                        float s, float m)
{
    return margin_ce(ctx, "arcface", ARCFACE, z, w, labels, s, m, 0);
}

lpc_tensor *lpc_cosface(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w, const int32_t *labels,
                        float s, float m)
{
    return margin_ce(ctx, "cosface", COSFACE, z, w, labels, s, m, 0);
}

lpc_tensor *lpc_arcface_flags(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w, const int32_t *labels,
                              float s, float m, unsigned flags)
{
    return margin_ce(ctx, "arcface", ARCFACE, z, w, labels, s, m, flags);
}

lpc_tensor *lpc_cosface_flags(lpc_ctx *ctx, lpc_tensor *z, lpc_tensor *w, const int32_t *labels,
                              float s, float m, unsigned flags)
{
    return margin_ce(ctx, "cosface", COSFACE, z, w, labels, s, m, flags);
}

void lpci_backward_ARCFACE(lpc_ctx *ctx, const lpci_node *node) { margin_backward(ctx, node); }
void lpci_backward_COSFACE(lpc_ctx *ctx, const lpci_node *node) { margin_backward(ctx, node); }
