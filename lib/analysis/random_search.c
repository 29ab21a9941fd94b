/* Gradient-free random search in the style of Square Attack (Andriushchenko
 * et al. 2020; see include/lpc/attack.h): per query, the samples of a chunk
 * still standing each propose one redrawn window, evaluated in one forward
 * pass. */
#include <math.h>
#include <string.h>
#include "attack_internal.h"

#define RS_RESAMPLE 10 /* redraws of a Linf window that changes nothing */

void lpc_random_search_options_init(lpc_random_search_options *opt)
{
    if (!opt)
        return;
    *opt = (lpc_random_search_options){.size = sizeof *opt, .norm = LPC_ATTACK_LINF,
                                       .queries = 1000, .p_init = 0.0, .seed = 0,
                                       .domain = LPC_ATTACK_DOMAIN_NORMALISED};
}

static lpc_status check_options(const char *who, const lpc_random_search_options *o, int c)
{
    lpc_status s = lpca_check_norm(who, o->norm);
    if (s == LPC_OK)
        s = lpca_check_domain(who, o->domain, c, o->mean, o->std);
    if (s != LPC_OK)
        return s;
    if (o->queries < 1)
        return lpci_error(LPC_E_ARG, "%s: queries must be >= 1, got %d", who, o->queries);
    if (!(o->p_init >= 0.0 && o->p_init <= 1.0))
        return lpci_error(LPC_E_ARG, "%s: p_init must be in [0, 1], got %g", who, o->p_init);
    return LPC_OK;
}

/* Square Attack's schedule of the window's share p at query it of total. */
static double window_share(double p_init, int it, int total)
{
    static const int at[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
    int u = (int)((double)it / total * 10000.0);
    double p = p_init;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        if (u > at[i])
            p /= 2.0;
    return p;
}

/* The layout windows are drawn on: channels x rows x cols; a vector input
 * is one channel of d features in a row. */
typedef struct {
    int64_t ch, rows, cols;
} layout;

typedef struct {
    int64_t r0, c0, sr, sc; /* top-left corner and extent */
} window;

static window draw_window(const layout *l, double p, lpca_rng *rng)
{
    window wd;
    if (l->rows > 1 && l->cols > 1) {
        int64_t lim = (l->rows < l->cols ? l->rows : l->cols) - 1;
        int64_t s = (int64_t)llround(sqrt(p * (double)(l->rows * l->cols)));
        s = s < 1 ? 1 : s > lim ? lim : s;
        wd.sr = wd.sc = s;
    } else { /* a segment along the one long axis */
        int64_t len = l->rows * l->cols, s = (int64_t)llround(p * (double)len);
        s = s < 1 ? 1 : s > len ? len : s;
        wd.sr = l->rows > 1 ? s : 1;
        wd.sc = l->rows > 1 ? 1 : s;
    }
    wd.r0 = (int64_t)lpca_below(rng, (uint64_t)(l->rows - wd.sr + 1));
    wd.c0 = (int64_t)lpca_below(rng, (uint64_t)(l->cols - wd.sc + 1));
    return wd;
}

static int in_window(const layout *l, const window *wd, int64_t q)
{
    int64_t pix = q % (l->rows * l->cols), r = pix / l->cols, c = pix % l->cols;
    return r >= wd->r0 && r < wd->r0 + wd->sr && c >= wd->c0 && c < wd->c0 + wd->sc;
}

/* The starting point: Linf vertical stripes of +-eps per channel and
 * column, L2 a Gaussian scaled to eps; clipped to the domain. */
static void start_point(const lpca_attack *a, const layout *l, const double *p0, double *delta,
                        double eps, lpc_attack_norm norm, lpca_rng *rng)
{
    int64_t d = a->d;
    if (norm == LPC_ATTACK_LINF) {
        for (int64_t ch = 0; ch < l->ch; ch++)
            for (int64_t c = 0; c < l->cols; c++) {
                double v = lpca_uniform(rng) < 0.5 ? -eps : eps;
                for (int64_t r = 0; r < l->rows; r++)
                    delta[(ch * l->rows + r) * l->cols + c] = v;
            }
    } else {
        for (int64_t q = 0; q < d; q++)
            delta[q] = lpca_normal(rng);
        double f = eps / fmax(lpca_norm(delta, d, LPC_ATTACK_L2), 1e-300);
        for (int64_t q = 0; q < d; q++)
            delta[q] *= f;
    }
    lpca_project(a, p0, delta, eps, norm);
}

/* A proposal: delta with one window redrawn, written to cand. */
static void propose(const lpca_attack *a, const layout *l, const double *p0, const double *delta,
                    double *cand, double eps, double p, lpc_attack_norm norm, lpca_rng *rng)
{
    int64_t d = a->d;
    memcpy(cand, delta, (size_t)d * sizeof *cand);
    window wd = draw_window(l, p, rng);
    if (norm == LPC_ATTACK_LINF) {
        for (int tries = 0; tries < RS_RESAMPLE; tries++) {
            double moved = 0.0;
            for (int64_t ch = 0; ch < l->ch; ch++) {
                double v = lpca_uniform(rng) < 0.5 ? -eps : eps;
                for (int64_t q = ch * l->rows * l->cols; q < (ch + 1) * l->rows * l->cols; q++)
                    if (in_window(l, &wd, q)) {
                        cand[q] = a->box ? fmin(fmax(p0[q] + v, 0.0), 1.0) - p0[q] : v;
                        moved += fabs(cand[q] - delta[q]);
                    }
            }
            if (moved > 1e-7)
                break;
        }
    } else { /* Gaussian noise on the window, of norm eps sqrt(window share), then
              * the whole perturbation back to norm eps */
        double drawn = 0.0, count = 0.0;
        for (int64_t q = 0; q < d; q++)
            if (in_window(l, &wd, q)) {
                double z = lpca_normal(rng);
                cand[q] = z; /* the noise, for now */
                drawn += z * z;
                count += 1.0;
            }
        double f = eps * sqrt(count / (double)d) / fmax(sqrt(drawn), 1e-300), sq = 0.0;
        for (int64_t q = 0; q < d; q++) {
            if (in_window(l, &wd, q))
                cand[q] = delta[q] + f * cand[q];
            sq += cand[q] * cand[q];
        }
        double g = eps / fmax(sqrt(sq), 1e-300);
        for (int64_t q = 0; q < d; q++)
            cand[q] *= g;
    }
    lpca_project(a, p0, cand, eps, norm);
}

typedef struct {
    double *delta, *cand, *pts; /* LPCA_CHUNK x d */
    double *loss;               /* LPCA_CHUNK: best margin so far */
    unsigned char *broken;
} rs_buf;

static lpc_status rs_radius(lpca_attack *a, const lpc_random_search_options *o, const layout *l,
                            rs_buf *f, int64_t m, int64_t base, double eps, int ri)
{
    int64_t d = a->d, act[LPCA_CHUNK], na = 0;
    double p_init = o->p_init > 0.0 ? o->p_init : o->norm == LPC_ATTACK_LINF ? 0.05 : 0.1;
    lpca_rng rng[LPCA_CHUNK];
    for (int64_t b = 0; b < m; b++) {
        lpca_rng_init(&rng[b], o->seed, base + b, (uint64_t)ri);
        if (!f->broken[b])
            act[na++] = b;
    }
    /* Query 0 was the clean input; query 1 the starting point; then proposals. */
    for (int it = 1; it < o->queries && na > 0; it++) {
        double p = window_share(p_init, it - 1, o->queries);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t b = 0; b < na; b++) {
            int64_t i = act[b];
            const double *p0 = a->p0 + i * d;
            if (it == 1)
                start_point(a, l, p0, f->cand + i * d, eps, o->norm, &rng[i]);
            else
                propose(a, l, p0, f->delta + i * d, f->cand + i * d, eps, p, o->norm, &rng[i]);
            for (int64_t q = 0; q < d; q++)
                f->pts[b * d + q] = p0[q] + f->cand[i * d + q];
        }
        lpc_status s = lpca_eval(a, f->pts, act, na, LPCA_LOSS_NONE, base);
        if (s != LPC_OK)
            return s;
        int64_t out = 0;
        for (int64_t b = 0; b < na; b++) {
            int64_t i = act[b];
            double mg = lpca_margin(a->logits + b * a->k, a->k, a->y[i], NULL);
            if (it == 1 || mg < f->loss[i]) {
                f->loss[i] = mg;
                memcpy(f->delta + i * d, f->cand + i * d, (size_t)d * sizeof *f->delta);
            }
            if (lpca_wrong(a->logits + b * a->k, a->k, a->y[i]))
                f->broken[i] = 1;
            else
                act[out++] = i;
        }
        na = out;
    }
    return LPC_OK;
}

lpc_status lpc_random_search(lpc_module *model, const lpc_samples *samples, const double *radii,
                             int num_radii, const lpc_random_search_options *opt,
                             const lpc_random_search_outputs *out)
{
    const char *who = "lpc_random_search";
    lpc_random_search_outputs ov;
    lpc_status s = lpca_radii_args(who, samples, radii, num_radii, out, &ov);
    if (s != LPC_OK)
        return s;
    const float *x = samples->x;
    const int32_t *labels = samples->labels;
    int64_t n = samples->n;
    int c = samples->c, h = samples->h, w = samples->w;
    unsigned char *success = ov.success;
    double *robust_accuracy = ov.robust_accuracy;
    lpc_random_search_options o;
    lpc_random_search_options_init(&o);
    if (opt)
        s = lpca_options(who, &o, sizeof o, opt, opt->size);
    if (s == LPC_OK)
        s = check_options(who, &o, c);
    lpca_attack a;
    if (s == LPC_OK)
        s = lpca_open(&a, who, model, x, n, c, h, w, o.domain, o.mean, o.std, 0);
    if (s != LPC_OK)
        return s;
    layout l = h == 1 && w == 1 ? (layout){1, 1, c} : (layout){c, h, w};
    size_t rows = (size_t)(LPCA_CHUNK * a.d) * sizeof(double);
    rs_buf f = {.delta = lpci_malloc(rows), .cand = lpci_malloc(rows), .pts = lpci_malloc(rows),
                .loss = lpci_malloc(LPCA_CHUNK * sizeof(double)),
                .broken = lpci_malloc(LPCA_CHUNK)};
    int64_t *unbroken = lpci_calloc((size_t)num_radii, sizeof *unbroken);
    if (!f.delta || !f.cand || !f.pts || !f.loss || !f.broken || !unbroken)
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    for (int64_t s0 = 0; s == LPC_OK && s0 < n; s0 += LPCA_CHUNK) {
        int64_t m = n - s0 < LPCA_CHUNK ? n - s0 : LPCA_CHUNK;
        s = lpca_chunk(&a, x, labels, s0, m);
        unsigned char clean_wrong[LPCA_CHUNK];
        for (int64_t b = 0; s == LPC_OK && b < m; b++)
            clean_wrong[b] = (unsigned char)lpca_wrong(a.logits + b * a.k, a.k, a.y[b]);
        for (int ri = 0; s == LPC_OK && ri < num_radii; ri++) {
            memcpy(f.broken, clean_wrong, (size_t)m);
            s = rs_radius(&a, &o, &l, &f, m, s0, radii[ri], ri);
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
    lpci_free(f.cand);
    lpci_free(f.pts);
    lpci_free(f.loss);
    lpci_free(f.broken);
    lpci_free(unbroken);
    lpca_close(&a);
    return s;
}
