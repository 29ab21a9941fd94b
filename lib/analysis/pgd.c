/* Projected gradient descent (Madry et al. 2018; see include/lpc/attack.h):
 * per radius and start, the samples of a chunk not yet broken step together,
 * one forward and one backward per step, and leave as soon as broken. */
#include <math.h>
#include <string.h>
#include "attack_internal.h"

#define PGD_MADRY_STEPS 2.5 /* step = 2.5 eps / steps */

void lpc_pgd_options_init(lpc_pgd_options *opt)
{
    if (!opt)
        return;
    *opt = (lpc_pgd_options){.size = sizeof *opt, .norm = LPC_ATTACK_LINF, .steps = 50,
                             .restarts = 1, .step_fraction = 0.0,
                             .schedule = LPC_ATTACK_STEP_CONSTANT,
                             .loss = LPC_ATTACK_LOSS_CROSS_ENTROPY, .random_start = 1,
                             .seed = 0, .domain = LPC_ATTACK_DOMAIN_NORMALISED};
}

static lpc_status check_options(const char *who, const lpc_pgd_options *o, int c)
{
    lpc_status s = lpca_check_norm(who, o->norm);
    if (s == LPC_OK)
        s = lpca_check_domain(who, o->domain, c, o->mean, o->std);
    if (s != LPC_OK)
        return s;
    if (o->steps < 1 || o->restarts < 1)
        return lpci_error(LPC_E_ARG, "%s: steps and restarts must be >= 1, got %d and %d", who,
                          o->steps, o->restarts);
    if (!isfinite(o->step_fraction) || o->step_fraction < 0.0)
        return lpci_error(LPC_E_ARG, "%s: step_fraction must be finite and >= 0, got %g", who,
                          o->step_fraction);
    if (!lpc_attack_schedule_name(o->schedule))
        return lpci_error(LPC_E_ARG, "%s: unknown schedule %d", who, (int)o->schedule);
    if (!lpc_attack_loss_name(o->loss))
        return lpci_error(LPC_E_ARG, "%s: unknown loss %d", who, (int)o->loss);
    return LPC_OK;
}

/* A uniform point of the eps-ball of norm (d doubles), clipped to the domain. */
static void random_start(const lpca_attack *a, const double *p0, double *delta, double eps,
                         lpc_attack_norm norm, lpca_rng *rng)
{
    int64_t d = a->d;
    if (norm == LPC_ATTACK_LINF) {
        for (int64_t q = 0; q < d; q++)
            delta[q] = eps * (2.0 * lpca_uniform(rng) - 1.0);
    } else { /* Gaussian direction, radius eps u^(1/d) */
        for (int64_t q = 0; q < d; q++)
            delta[q] = lpca_normal(rng);
        double n2 = lpca_norm(delta, d, LPC_ATTACK_L2);
        double rad = eps * pow(lpca_uniform(rng), 1.0 / (double)d) / fmax(n2, 1e-300);
        for (int64_t q = 0; q < d; q++)
            delta[q] *= rad;
    }
    lpca_project(a, p0, delta, eps, norm);
}

/* One ascent step of size step on sample row b's gradient, then the projection. */
static void ascend(const lpca_attack *a, const double *g, const double *p0, double *delta,
                   double step, double eps, lpc_attack_norm norm)
{
    int64_t d = a->d;
    if (norm == LPC_ATTACK_LINF) {
        for (int64_t q = 0; q < d; q++)
            delta[q] += step * (double)((g[q] > 0.0) - (g[q] < 0.0));
    } else {
        double f = step / fmax(lpca_norm(g, d, LPC_ATTACK_L2), 1e-12);
        for (int64_t q = 0; q < d; q++)
            delta[q] += f * g[q];
    }
    lpca_project(a, p0, delta, eps, norm);
}

typedef struct {
    double *delta, *pts; /* LPCA_CHUNK x d */
    unsigned char *broken;
} pgd_buf;

/* Marks the evaluated samples act[0..na) broken where misclassified and
 * drops them from act; returns the new count. */
static int64_t drop_broken(const lpca_attack *a, pgd_buf *f, int64_t *act, int64_t na,
                           double *keep)
{
    int64_t out = 0, d = a->d;
    for (int64_t b = 0; b < na; b++) {
        int64_t i = act[b];
        if (lpca_wrong(a->logits + b * a->k, a->k, a->y[i])) {
            f->broken[i] = 1;
            continue;
        }
        if (keep && out != b) /* the gradient row follows its sample */
            memmove(keep + out * d, keep + b * d, (size_t)d * sizeof *keep);
        act[out++] = i;
    }
    return out;
}

static lpc_status pgd_radius(lpca_attack *a, const lpc_pgd_options *o, pgd_buf *f, int64_t m,
                             int64_t base, double eps, int ri)
{
    int64_t d = a->d, act[LPCA_CHUNK];
    lpca_loss loss = o->loss == LPC_ATTACK_LOSS_MARGIN ? LPCA_LOSS_MARGIN : LPCA_LOSS_CE;
    double frac = o->step_fraction > 0.0 ? o->step_fraction : PGD_MADRY_STEPS / o->steps;
    for (int start = 0; start < o->restarts; start++) {
        int64_t na = 0;
        for (int64_t b = 0; b < m; b++)
            if (!f->broken[b])
                act[na++] = b;
        if (na == 0)
            return LPC_OK;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t b = 0; b < na; b++) {
            int64_t i = act[b];
            double *delta = f->delta + i * d;
            if (o->random_start) {
                lpca_rng rng;
                lpca_rng_init(&rng, o->seed, base + i, (uint64_t)ri << 32 | (uint32_t)start);
                random_start(a, a->p0 + i * d, delta, eps, o->norm, &rng);
            } else {
                memset(delta, 0, (size_t)d * sizeof *delta);
            }
        }
        for (int t = 0; t <= o->steps && na > 0; t++) {
            for (int64_t b = 0; b < na; b++)
                for (int64_t q = 0; q < d; q++)
                    f->pts[b * d + q] = a->p0[act[b] * d + q] + f->delta[act[b] * d + q];
            int last = t == o->steps; /* the final point needs no gradient */
            lpc_status s = lpca_eval(a, f->pts, act, na, last ? LPCA_LOSS_NONE : loss, base);
            if (s != LPC_OK)
                return s;
            na = drop_broken(a, f, act, na, last ? NULL : a->grad);
            if (last)
                break;
            double step = frac * eps;
            if (o->schedule == LPC_ATTACK_STEP_COSINE)
                step *= (1.0 + cos(M_PI * t / o->steps)) / 2.0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
            for (int64_t b = 0; b < na; b++) {
                int64_t i = act[b];
                ascend(a, a->grad + b * d, a->p0 + i * d, f->delta + i * d, step, eps, o->norm);
            }
        }
    }
    return LPC_OK;
}

lpc_status lpc_pgd(lpc_module *model, const lpc_samples *samples, const double *radii,
                   int num_radii, const lpc_pgd_options *opt, const lpc_pgd_outputs *out)
{
    const char *who = "lpc_pgd";
    lpc_pgd_outputs ov;
    lpc_status s = lpca_radii_args(who, samples, radii, num_radii, out, &ov);
    if (s != LPC_OK)
        return s;
    const float *x = samples->x;
    const int32_t *labels = samples->labels;
    int64_t n = samples->n;
    int c = samples->c, h = samples->h, w = samples->w;
    unsigned char *success = ov.success;
    double *robust_accuracy = ov.robust_accuracy;
    lpc_pgd_options o;
    lpc_pgd_options_init(&o);
    if (opt)
        s = lpca_options(who, &o, sizeof o, opt, opt->size);
    if (s == LPC_OK)
        s = check_options(who, &o, c);
    lpca_attack a;
    if (s == LPC_OK)
        s = lpca_open(&a, who, model, x, n, c, h, w, o.domain, o.mean, o.std, 0);
    if (s != LPC_OK)
        return s;
    pgd_buf f = {0};
    f.delta = lpci_malloc((size_t)(LPCA_CHUNK * a.d) * sizeof *f.delta);
    f.pts = lpci_malloc((size_t)(LPCA_CHUNK * a.d) * sizeof *f.pts);
    f.broken = lpci_malloc(LPCA_CHUNK);
    int64_t *unbroken = lpci_calloc((size_t)num_radii, sizeof *unbroken);
    if (!f.delta || !f.pts || !f.broken || !unbroken)
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    for (int64_t s0 = 0; s == LPC_OK && s0 < n; s0 += LPCA_CHUNK) {
        int64_t m = n - s0 < LPCA_CHUNK ? n - s0 : LPCA_CHUNK;
        s = lpca_chunk(&a, x, labels, s0, m);
        unsigned char clean_wrong[LPCA_CHUNK];
        for (int64_t b = 0; s == LPC_OK && b < m; b++)
            clean_wrong[b] = (unsigned char)lpca_wrong(a.logits + b * a.k, a.k, a.y[b]);
        for (int ri = 0; s == LPC_OK && ri < num_radii; ri++) {
            memcpy(f.broken, clean_wrong, (size_t)m);
            s = pgd_radius(&a, &o, &f, m, s0, radii[ri], ri);
            for (int64_t b = 0; s == LPC_OK && b < m; b++) {
                unbroken[ri] += !f.broken[b];
                if (success)
                    success[(s0 + b) * num_radii + ri] = f.broken[b];
            }
        }
    }
    for (int ri = 0; s == LPC_OK && ri < num_radii; ri++)
        robust_accuracy[ri] = (double)unbroken[ri] / (double)n;
    lpci_free(f.delta);
    lpci_free(f.pts);
    lpci_free(f.broken);
    lpci_free(unbroken);
    lpca_close(&a);
    return s;
}
