/* Gradient-masking checks over the attacks (see include/lpc/attack.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attack_internal.h"

#define UNBOUNDED_FACTOR 1000.0 /* the unbounded radius, times the largest norm */
#define ACC_SLACK 1e-12       /* accuracies are k / n: 0.41 - 0.39 > 0.02 in doubles */
#define UNBOUNDED_STARTS 10     /* its random starts at least (Linf PGD can stall in a corner) */

const char *lpc_attack_check_name(lpc_attack_check check)
{
    switch (check) {
    case LPC_ATTACK_CHECK_UNBOUNDED_PGD: return "unbounded-pgd";
    case LPC_ATTACK_CHECK_PGD_CONVERGED: return "pgd-converged";
    case LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL: return "fmn-vs-deepfool";
    case LPC_ATTACK_CHECK_BLACK_BOX_WEAKER: return "black-box-weaker";
    case LPC_ATTACK_CHECK_COUNT: break;
    }
    return NULL;
}

void lpc_attack_checks_options_init(lpc_attack_checks_options *opt)
{
    if (!opt)
        return;
    *opt = (lpc_attack_checks_options){.size = sizeof *opt, .norm = LPC_ATTACK_LINF,
                                       .radius = 0.03, .steps = 50, .restarts = 1,
                                       .queries = 1000, .acc_tolerance = 0.02,
                                       .norm_tolerance = 0.05, .seed = 0,
                                       .domain = LPC_ATTACK_DOMAIN_NORMALISED};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorted in place; infinities sort last). */
static double median(double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* |v|_2 or |v|_inf of d floats, in double. */
static double norm_f(const float *v, int64_t d, lpc_attack_norm norm)
{
    double s = 0.0;
    if (norm == LPC_ATTACK_LINF) {
        /* Not fmax: Debian's aarch64-linux-gnu-gcc 12 crashes vectorising an
         * fmax reduction of widened floats (vect_transform_reduction). */
        for (int64_t q = 0; q < d; q++) {
            double a = fabs((double)v[q]);
            s = a > s ? a : s;
        }
        return s;
    }
    for (int64_t q = 0; q < d; q++)
        s += (double)v[q] * v[q];
    return sqrt(s);
}

/* The radius that covers the whole domain for every sample. */
static double unbounded_radius(const lpc_attack_checks_options *o, const float *x, int64_t n,
                               int64_t d)
{
    if (o->domain == LPC_ATTACK_DOMAIN_PIXEL_BOX)
        return o->norm == LPC_ATTACK_LINF ? 1.0 : sqrt((double)d);
    double big = 0.0;
    for (int64_t i = 0; i < n; i++)
        big = fmax(big, norm_f(x + i * d, d, o->norm));
    return UNBOUNDED_FACTOR * big;
}

static lpc_status check_options(const char *who, const lpc_attack_checks_options *o, int c)
{
    lpc_status s = lpca_check_norm(who, o->norm);
    if (s == LPC_OK)
        s = lpca_check_domain(who, o->domain, c, o->mean, o->std);
    if (s != LPC_OK)
        return s;
    if (!isfinite(o->radius) || !(o->radius > 0.0))
        return lpci_error(LPC_E_ARG, "%s: radius must be finite and > 0, got %g", who, o->radius);
    if (o->steps < 1 || o->restarts < 1 || o->queries < 1 || o->steps > INT32_MAX / 2 ||
        o->restarts > INT32_MAX / 2)
        return lpci_error(LPC_E_ARG, "%s: steps, restarts and queries must be >= 1 (steps and "
                          "restarts at most %d), got %d, %d and %d", who, INT32_MAX / 2, o->steps,
                          o->restarts, o->queries);
    if (!(o->acc_tolerance >= 0.0 && o->acc_tolerance <= 1.0) ||
        !(o->norm_tolerance >= 0.0 && isfinite(o->norm_tolerance)))
        return lpci_error(LPC_E_ARG, "%s: need acc_tolerance in [0, 1] and norm_tolerance "
                          "finite >= 0, got %g and %g", who, o->acc_tolerance,
                          o->norm_tolerance);
    return LPC_OK;
}

lpc_status lpc_attack_checks(lpc_module *model, const lpc_samples *samples,
                             const lpc_attack_checks_options *opt, unsigned *passed,
                             double *values)
{
    const char *who = "lpc_attack_checks";
    lpc_status s = lpci_samples_check(who, samples, 0);
    if (s != LPC_OK)
        return s;
    const float *x = samples->x;
    int64_t n = samples->n;
    int c = samples->c, h = samples->h, w = samples->w;
    lpc_attack_checks_options o;
    lpc_attack_checks_options_init(&o);
    if (opt)
        s = lpca_options(who, &o, sizeof o, opt, opt->size);
    if (s == LPC_OK && !passed)
        s = lpci_error(LPC_E_ARG, "%s: passed is NULL", who);
    if (s == LPC_OK)
        s = check_options(who, &o, c);
    if (s != LPC_OK)
        return s;
    int64_t d = (int64_t)c * h * w;
    double v[LPC_ATTACK_CHECK_COUNT];
    lpc_pgd_options pg;
    lpc_pgd_options_init(&pg);
    pg.norm = o.norm;
    pg.steps = o.steps;
    pg.restarts = o.restarts;
    pg.seed = o.seed;
    pg.domain = o.domain;
    pg.mean = o.mean;
    pg.std = o.std;
    /* PGD at the radius, then with twice the steps and starts. */
    double ra[2] = {0.0, 0.0};
    lpc_pgd_outputs po = {.size = sizeof po, .robust_accuracy = &ra[0]};
    s = lpc_pgd(model, samples, &o.radius, 1, &pg, &po);
    pg.steps *= 2;
    pg.restarts *= 2;
    po.robust_accuracy = &ra[1];
    if (s == LPC_OK)
        s = lpc_pgd(model, samples, &o.radius, 1, &pg, &po);
    v[LPC_ATTACK_CHECK_PGD_CONVERGED] = fabs(ra[1] - ra[0]);
    /* PGD with a radius past every sample's reach, on the margin (the
     * cross-entropy saturates that far out: its gradient rounds to 0). */
    double big = unbounded_radius(&o, x, n, d), ra_big = 1.0;
    pg.steps = o.steps;
    pg.restarts = o.restarts > UNBOUNDED_STARTS ? o.restarts : UNBOUNDED_STARTS;
    pg.loss = LPC_ATTACK_LOSS_MARGIN;
    po.robust_accuracy = &ra_big;
    if (s == LPC_OK)
        s = lpc_pgd(model, samples, &big, 1, &pg, &po);
    v[LPC_ATTACK_CHECK_UNBOUNDED_PGD] = ra_big;
    /* Random search at the radius. */
    lpc_random_search_options rs;
    lpc_random_search_options_init(&rs);
    rs.norm = o.norm;
    rs.queries = o.queries;
    rs.seed = o.seed;
    rs.domain = o.domain;
    rs.mean = o.mean;
    rs.std = o.std;
    double ra_rs = 0.0;
    po.robust_accuracy = &ra_rs;
    if (s == LPC_OK)
        s = lpc_random_search(model, samples, &o.radius, 1, &rs, &po);
    v[LPC_ATTACK_CHECK_BLACK_BOX_WEAKER] = ra_rs - fmin(ra[0], ra[1]);
    /* FMN against DeepFool, L2 in the normalised domain on the predictions. */
    double *nf = lpci_malloc((size_t)n * sizeof *nf), *nd = lpci_malloc((size_t)n * sizeof *nd);
    float *r = lpci_malloc((size_t)(n * d) * sizeof *r);
    if (s == LPC_OK && (!nf || !nd || !r))
        s = lpci_error(LPC_E_NOMEM, "%s: out of memory", who);
    if (s == LPC_OK)
        s = lpc_fmn(model, &(lpc_samples){sizeof(lpc_samples), x, n, c, h, w, NULL}, NULL,
                    &(lpc_fmn_outputs){.size = sizeof(lpc_fmn_outputs), .norms = nf});
    if (s == LPC_OK)
        s = lpc_deepfool_perturb(model, x, n, c, h, w, LPC_DEEPFOOL_CANDIDATES,
                                 LPC_DEEPFOOL_OVERSHOOT, LPC_DEEPFOOL_MAX_ITER, r, NULL);
    if (s == LPC_OK) {
        for (int64_t i = 0; i < n; i++)
            nd[i] = norm_f(r + i * d, d, LPC_ATTACK_L2);
        double mf = median(nf, n), md = median(nd, n);
        v[LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL] = md > 0.0 ? mf / md : (mf > 0.0 ? INFINITY : 1.0);
    }
    lpci_free(nf);
    lpci_free(nd);
    lpci_free(r);
    if (s != LPC_OK)
        return lpci_error_context("%s", who);
    unsigned bits = 0;
    if (v[LPC_ATTACK_CHECK_UNBOUNDED_PGD] == 0.0)
        bits |= 1u << LPC_ATTACK_CHECK_UNBOUNDED_PGD;
    if (v[LPC_ATTACK_CHECK_PGD_CONVERGED] <= o.acc_tolerance + ACC_SLACK)
        bits |= 1u << LPC_ATTACK_CHECK_PGD_CONVERGED;
    if (v[LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL] <= 1.0 + o.norm_tolerance)
        bits |= 1u << LPC_ATTACK_CHECK_FMN_VS_DEEPFOOL;
    if (v[LPC_ATTACK_CHECK_BLACK_BOX_WEAKER] >= -o.acc_tolerance - ACC_SLACK)
        bits |= 1u << LPC_ATTACK_CHECK_BLACK_BOX_WEAKER;
    *passed = bits;
    if (values)
        memcpy(values, v, sizeof v);
    return LPC_OK;
}
