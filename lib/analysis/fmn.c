/* Fast Minimum-Norm attack (Pintor et al. 2021; see include/lpc/attack.h),
 * L2 and Linf, following the authors' code (as in foolbox 3.3): every
 * sample of a chunk runs all steps, one forward and one backward per step. */
#include <math.h>
#include <string.h>
#include "attack_internal.h"

#define FMN_GAMMA_FINAL 0.001
/* The boundary estimate |delta| + |margin| / |grad|_dual is exact on a
 * linear model, and the point it projects to then sits on the boundary,
 * where rounding can leave it unclassified for every step: aim this much
 * past it. */
#define FMN_OVERSHOOT (1.0 + 1e-4)

void lpc_fmn_options_init(lpc_fmn_options *opt)
{
    if (!opt)
        return;
    *opt = (lpc_fmn_options){.size = sizeof *opt, .norm = LPC_ATTACK_L2, .steps = 100,
                             .max_step = 1.0, .min_step = 0.01, .gamma = 0.05,
                             .domain = LPC_ATTACK_DOMAIN_NORMALISED};
}

static lpc_status check_options(const char *who, const lpc_fmn_options *o, int c)
{
    lpc_status s = lpca_check_norm(who, o->norm);
    if (s == LPC_OK)
        s = lpca_check_domain(who, o->domain, c, o->mean, o->std);
    if (s != LPC_OK)
        return s;
    if (o->steps < 1)
        return lpci_error(LPC_E_ARG, "%s: steps must be >= 1, got %d", who, o->steps);
    if (!isfinite(o->max_step) || !(o->max_step > 0.0) || !isfinite(o->min_step) ||
        !(o->min_step > 0.0) || o->min_step > o->max_step)
        return lpci_error(LPC_E_ARG, "%s: need 0 < min_step <= max_step, got %g and %g", who,
                          o->min_step, o->max_step);
    if (!(o->gamma > FMN_GAMMA_FINAL && o->gamma < 1.0))
        return lpci_error(LPC_E_ARG, "%s: gamma must be in (0.001, 1), got %g", who, o->gamma);
    return LPC_OK;
}

typedef struct {
    double *delta, *best_delta; /* LPCA_CHUNK x d */
    double *eps, *best, *worst; /* LPCA_CHUNK */
    unsigned char *found;
} fmn_buf;

/* Updates sample b after the evaluation at p0 + delta (step i of `steps`). */
static void fmn_sample(const lpca_attack *a, const lpc_fmn_options *o, fmn_buf *f, int64_t b,
                       double alpha, double gamma)
{
    int64_t d = a->d, k = a->k;
    const double *p0 = a->p0 + b * d, *g = a->grad + b * d;
    double *delta = f->delta + b * d;
    const float *row = a->logits + b * k;
    int adv = lpca_wrong(row, k, a->y[b]);
    double lp = lpca_norm(delta, d, o->norm);
    if (adv && lp <= f->best[b]) {
        f->best[b] = lp;
        memcpy(f->best_delta + b * d, delta, (size_t)d * sizeof *delta);
    }
    f->found[b] |= (unsigned char)adv;
    if (adv) {
        f->eps[b] = fmin(f->eps[b] * (1.0 - gamma), f->best[b]);
    } else if (f->found[b]) {
        f->eps[b] *= 1.0 + gamma;
    } else {
        /* Linear estimate of the distance to the boundary, in the dual norm. */
        double gd = o->norm == LPC_ATTACK_LINF ? 0.0 : lpca_norm(g, d, LPC_ATTACK_L2);
        if (o->norm == LPC_ATTACK_LINF)
            for (int64_t q = 0; q < d; q++)
                gd += fabs(g[q]);
        if (gd > 0.0)
            f->eps[b] = lp + FMN_OVERSHOOT * fabs(lpca_margin(row, k, a->y[b], NULL)) / gd;
    }
    f->eps[b] = fmin(f->eps[b], f->worst[b]);
    double g2 = fmax(lpca_norm(g, d, LPC_ATTACK_L2), 1e-12);
    for (int64_t q = 0; q < d; q++)
        delta[q] += alpha * g[q] / g2;
    lpca_project(a, p0, delta, f->eps[b], o->norm);
}

static lpc_status fmn_chunk(lpca_attack *a, const lpc_fmn_options *o, fmn_buf *f, int64_t m,
                            int64_t base)
{
    int64_t d = a->d;
    int64_t act[LPCA_CHUNK];
    memset(f->delta, 0, (size_t)(m * d) * sizeof *f->delta);
    memset(f->best_delta, 0, (size_t)(m * d) * sizeof *f->best_delta);
    memset(f->found, 0, (size_t)m);
    for (int64_t b = 0; b < m; b++) {
        act[b] = b;
        f->eps[b] = INFINITY;
        if (a->box) { /* the farthest corner of the box */
            double s = 0.0;
            for (int64_t q = 0; q < d; q++) {
                double far = fmax(a->p0[b * d + q], 1.0 - a->p0[b * d + q]);
                s = o->norm == LPC_ATTACK_LINF ? fmax(s, far) : s + far * far;
            }
            f->worst[b] = o->norm == LPC_ATTACK_LINF ? s : sqrt(s);
        } else {
            f->worst[b] = INFINITY;
        }
        f->best[b] = f->worst[b];
    }
    double *pts = lpci_malloc((size_t)(m * d) * sizeof *pts);
    if (!pts)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory", a->who);
    lpc_status s = LPC_OK;
    for (int i = 0; s == LPC_OK && i < o->steps; i++) {
        double cosf = (1.0 + cos(M_PI * i / o->steps)) / 2.0;
        double alpha = o->min_step + (o->max_step - o->min_step) * cosf;
        double gamma = FMN_GAMMA_FINAL + (o->gamma - FMN_GAMMA_FINAL) * cosf;
        for (int64_t q = 0; q < m * d; q++)
            pts[q] = a->p0[q] + f->delta[q];
        s = lpca_eval(a, pts, act, m, LPCA_LOSS_MARGIN, base);
        if (s != LPC_OK)
            break;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t b = 0; b < m; b++)
            fmn_sample(a, o, f, b, alpha, gamma);
    }
    lpci_free(pts);
    return s;
}

lpc_status lpc_fmn(lpc_module *model, const lpc_samples *samples, const lpc_fmn_options *opt,
                   const lpc_fmn_outputs *out)
{
    const char *who = "lpc_fmn";
    lpc_status s = lpci_samples_check(who, samples, 0);
    if (s != LPC_OK)
        return s;
    const float *x = samples->x;
    const int32_t *labels = samples->labels;
    int64_t n = samples->n;
    int c = samples->c, h = samples->h, w = samples->w;
    lpc_fmn_outputs ov;
    s = lpci_outputs_read(who, &ov, sizeof ov, out);
    float *r = ov.r;
    double *norms = ov.norms, *ratios = ov.ratios;
    unsigned char *success = ov.success;
    lpc_fmn_options o;
    lpc_fmn_options_init(&o);
    if (s == LPC_OK && opt)
        s = lpca_options(who, &o, sizeof o, opt, opt->size);
    if (s == LPC_OK && !r && !norms && !ratios && !success)
        s = lpci_error(LPC_E_ARG, "%s: r, norms, ratios and success are all NULL", who);
    if (s == LPC_OK)
        s = check_options(who, &o, c);
    lpca_attack a;
    if (s == LPC_OK)
        s = lpca_open(&a, who, model, x, n, c, h, w, o.domain, o.mean, o.std, 1);
    if (s != LPC_OK)
        return s;
    int64_t d = a.d;
    fmn_buf f = {0};
    f.delta = lpci_malloc((size_t)(LPCA_CHUNK * d) * sizeof *f.delta);
    f.best_delta = lpci_malloc((size_t)(LPCA_CHUNK * d) * sizeof *f.best_delta);
    f.eps = lpci_malloc(3 * LPCA_CHUNK * sizeof *f.eps);
    f.found = lpci_malloc(LPCA_CHUNK);
    if (!f.delta || !f.best_delta || !f.eps || !f.found)
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    else {
        f.best = f.eps + LPCA_CHUNK;
        f.worst = f.eps + 2 * LPCA_CHUNK;
    }
    for (int64_t s0 = 0; s == LPC_OK && s0 < n; s0 += LPCA_CHUNK) {
        int64_t m = n - s0 < LPCA_CHUNK ? n - s0 : LPCA_CHUNK;
        s = lpca_chunk(&a, x, labels, s0, m);
        if (s == LPC_OK)
            s = fmn_chunk(&a, &o, &f, m, s0);
        for (int64_t b = 0; s == LPC_OK && b < m; b++) {
            int ok = f.found[b] != 0;
            double nb = ok ? f.best[b] : INFINITY;
            if (norms)
                norms[s0 + b] = nb;
            if (ratios)
                ratios[s0 + b] = nb / lpca_norm(a.p0 + b * d, d, o.norm);
            if (success)
                success[s0 + b] = (unsigned char)ok;
            for (int64_t q = 0; r && q < d; q++)
                r[(s0 + b) * d + q] = ok ? (float)(f.best_delta[b * d + q] / a.scale[q / a.hw])
                                         : 0.0f;
        }
    }
    lpci_free(f.delta);
    lpci_free(f.best_delta);
    lpci_free(f.eps);
    lpci_free(f.found);
    lpca_close(&a);
    return s;
}
