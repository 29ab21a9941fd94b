/* Every neural-collapse metric from the moments of lpci_nc_moments.
 *
 * NC1 works in the K-dimensional space spanned by the centred means:
 * Sigma_B = (1/K) M M^T has rank <= K, and with G = (1/K) M^T M = U diag(lambda) U^T
 * the eigenvectors of Sigma_B are M u / sqrt(K lambda) with the same nonzero
 * eigenvalues, so
 *   Tr(Sigma_W Sigma_B^+) = sum_kept u^T A u / (K lambda^2),  A = M^T Sigma_W M.
 * References (each metric's formula is in include/lpc/analysis.h):
 *  - NC1, equinorm, equiangularity, max-angle, NC3: Papyan, Han & Donoho 2020,
 *    PNAS 117(40), doi:10.1073/pnas.2015509117;
 *  - NC1 with the top K-1 eigenpairs ("svd"): Han, Papyan & Donoho 2022, arXiv:2106.02073;
 *  - NC1 as a quotient of traces: Tirer, Huang & Niles-Weed 2023, PMLR 202;
 *  - CDNV: Galanti, Gyorgy & Hutter 2022, arXiv:2112.15121;
 *  - simplex-ETF error and self-duality: Kothapalli 2023, arXiv:2206.04041;
 *  - uniform duality (UNC3): Wu & Papyan 2024, arXiv:2405.17767.
 * rhubarbwu/neural-collapse (measure.py) and felixsh/nc-toolbox (metrics.py)
 * implement the same formulas; where they differ (nc-toolbox's CDNV divides by
 * N_c - 1, rhubarbwu's by N_c as here) doc/analysis.md says so. */
#include <float.h>
#include <math.h>
#include "nc_internal.h"

static double dot(const double *x, const double *y, int p)
{
    double s = 0.0;
    for (int j = 0; j < p; j++)
        s += x[j] * y[j];
    return s;
}

/* NC1 (pinv), NC1 (top K-1) and the trace quotient. */
static lpc_status nc1_variants(const char *fn, const lpci_nc_moments *m, double *v)
{
    int k = m->k, p = m->p;
    size_t kk = (size_t)k * (size_t)k;
    double *g = lpci_malloc(kk * sizeof *g), *u = lpci_malloc(kk * sizeof *u);
    double *lam = lpci_malloc((size_t)k * sizeof *lam);
    lpc_status s = LPC_OK;
    if (!g || !u || !lam) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %d classes", fn, k);
        goto done;
    }
    for (int c = 0; c < k; c++)
        for (int d = 0; d < k; d++)
            g[(size_t)c * k + d] = dot(m->mc + (size_t)c * p, m->mc + (size_t)d * p, p) / k;
    s = lpci_eigh(g, k, lam, u);
    if (s == LPC_OK && !(lam[0] > 0.0))
        s = lpci_error(LPC_E_NUMERIC, "%s: all class means coincide", fn);
    if (s != LPC_OK)
        goto done;
    int scale = (m->flags & LPC_NC_CUTOFF_P) || p > k ? p : k;
    double cut = scale * DBL_EPSILON * lam[0], pinv = 0.0, top = 0.0, trace_b = 0.0;
    for (int e = 0; e < k; e++) {
        trace_b += lam[e];
        if (!(lam[e] > cut))
            continue;
        double q = 0.0; /* u_e^T A u_e */
        for (int c = 0; c < k; c++) {
            double row = 0.0;
            for (int d = 0; d < k; d++)
                row += m->a[(size_t)c * k + d] * u[(size_t)d * k + e];
            q += u[(size_t)c * k + e] * row;
        }
        pinv += q / (k * lam[e] * lam[e]);
        if (e < k - 1)
            top += q / (k * lam[e] * lam[e]);
    }
    v[LPC_NC_NC1] = pinv / k;
    v[LPC_NC_NC1_SVD] = top / k;
    v[LPC_NC_NC1_QUOTIENT] = m->trace_w / trace_b;
done:
    lpci_free(g);
    lpci_free(u);
    lpci_free(lam);
    return s;
}

/* Equinorm, equiangularity and max-angle; norm receives |mu_c - mu_G|. */
static lpc_status geometry(const char *fn, const double *mc, int k, int p, double *norm, double *v)
{
    double mean = 0.0, var = 0.0;
    for (int c = 0; c < k; c++) {
        norm[c] = sqrt(dot(mc + (size_t)c * p, mc + (size_t)c * p, p));
        if (!(norm[c] > 0.0))
            return lpci_error(LPC_E_NUMERIC, "%s: the mean of class %d equals the global mean",
                              fn, c);
        mean += norm[c];
    }
    mean /= k;
    for (int c = 0; c < k; c++)
        var += (norm[c] - mean) * (norm[c] - mean);
    v[LPC_NC_EQUINORM] = sqrt(var / k) / mean;
    /* Two passes over the pairs: mean of the cosines, then their spread. */
    double pairs = 0.5 * k * (k - 1), cos_mean = 0.0, cos_sq = 0.0, angle = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (int c = 0; c < k; c++)
            for (int d = c + 1; d < k; d++) {
                double cs = dot(mc + (size_t)c * p, mc + (size_t)d * p, p) / (norm[c] * norm[d]);
                if (pass == 0) {
                    cos_mean += cs / pairs;
                    angle += fabs(cs + 1.0 / (k - 1));
                } else {
                    cos_sq += (cs - cos_mean) * (cs - cos_mean);
                }
            }
    v[LPC_NC_EQUIANGULARITY] = sqrt(cos_sq / pairs);
    v[LPC_NC_MAX_ANGLE] = angle / pairs;
    return LPC_OK;
}

/* S_cd = x_c . mc_d for x = mc (double) or the classifier (float). */
static double cross(const double *xd, const float *xf, const double *mc, int p, int c, int d)
{
    double s = 0.0;
    for (int j = 0; j < p; j++)
        s += (xd ? xd[(size_t)c * p + j] : xf[(size_t)c * p + j]) * mc[(size_t)d * p + j];
    return s;
}

/* Kothapalli's structure error | S/|S|_F - (I - 11^T/K)/sqrt(K-1) |_F for
 * S_cd = x_c . mc_d, with x = mc (ETF error) or the classifier W (self-duality). */
static lpc_status etf_distance(const char *fn, const double *xd, const float *xf,
                               const double *mc, int k, int p, double *out)
{
    double frob = 0.0, err = 0.0, root = sqrt(k - 1.0);
    for (int c = 0; c < k; c++)
        for (int d = 0; d < k; d++) {
            double s = cross(xd, xf, mc, p, c, d);
            frob += s * s;
        }
    if (!(frob > 0.0))
        return lpci_error(LPC_E_NUMERIC, "%s: W is orthogonal to every centred class mean", fn);
    frob = sqrt(frob);
    for (int c = 0; c < k; c++)
        for (int d = 0; d < k; d++) {
            double e = cross(xd, xf, mc, p, c, d) / frob - ((c == d) - 1.0 / k) / root;
            err += e * e;
        }
    *out = sqrt(err);
    return LPC_OK;
}

/* CDNV over pairs of class means. */
static lpc_status cdnv(const char *fn, const lpci_nc_moments *m, double *out)
{
    int k = m->k, p = m->p;
    double sum = 0.0;
    for (int c = 0; c < k; c++)
        for (int d = c + 1; d < k; d++) {
            double dist = 0.0;
            for (int j = 0; j < p; j++) {
                double t = m->means[(size_t)c * p + j] - m->means[(size_t)d * p + j];
                dist += t * t;
            }
            if (!(dist > 0.0))
                return lpci_error(LPC_E_NUMERIC, "%s: the means of classes %d and %d coincide",
                                  fn, c, d);
            sum += (m->class_v[c] + m->class_v[d]) / (2.0 * dist);
        }
    *out = sum / (0.5 * k * (k - 1));
    return LPC_OK;
}

/* NC3 (Papyan), self-duality and uniform duality; norm holds |mu_c - mu_G|. */
static lpc_status duality(const char *fn, const lpci_nc_moments *m, const double *norm, double *v)
{
    int k = m->k, p = m->p;
    const float *w = m->w;
    double wf = 0.0, mf = 0.0, s = 0.0, cos_mean = 0.0, cos_var = 0.0;
    for (size_t i = 0; i < (size_t)k * (size_t)p; i++) {
        wf += (double)w[i] * w[i];
        mf += m->mc[i] * m->mc[i];
    }
    if (!(wf > 0.0))
        return lpci_error(LPC_E_NUMERIC, "%s: the classifier W is zero", fn);
    wf = sqrt(wf);
    mf = sqrt(mf);
    for (size_t i = 0; i < (size_t)k * (size_t)p; i++) {
        double d = w[i] / wf - m->mc[i] / mf;
        s += d * d;
    }
    v[LPC_NC_NC3] = s;
    lpc_status st = etf_distance(fn, NULL, w, m->mc, k, p, &v[LPC_NC_SELF_DUALITY]);
    if (st != LPC_OK)
        return st;
    /* Uniform duality: spread of cos(w_c, mu_c - mu_G), two passes. */
    double *cs = lpci_malloc((size_t)k * sizeof *cs);
    if (!cs)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d cosines", fn, k);
    for (int c = 0; c < k; c++) {
        double wn = 0.0, t = 0.0;
        for (int j = 0; j < p; j++) {
            wn += (double)w[(size_t)c * p + j] * w[(size_t)c * p + j];
            t += w[(size_t)c * p + j] * m->mc[(size_t)c * p + j];
        }
        if (!(wn > 0.0)) {
            lpci_free(cs);
            return lpci_error(LPC_E_NUMERIC, "%s: row %d of the classifier W is zero", fn, c);
        }
        cs[c] = t / (sqrt(wn) * norm[c]);
        cos_mean += cs[c] / k;
    }
    for (int c = 0; c < k; c++)
        cos_var += (cs[c] - cos_mean) * (cs[c] - cos_mean) / k;
    lpci_free(cs);
    if (cos_mean == 0.0)
        return lpci_error(LPC_E_NUMERIC, "%s: the mean cosine of W and the class means is 0 "
                          "(uniform duality undefined)", fn);
    v[LPC_NC_UNIFORM_DUALITY] = sqrt(cos_var) / cos_mean;
    return LPC_OK;
}

lpc_status lpci_nc_from_moments(const char *fn, const lpci_nc_moments *m, lpc_nc *nc)
{
    double *norm = lpci_malloc((size_t)m->k * sizeof *norm);
    if (!norm)
        return lpci_error(LPC_E_NOMEM, "%s: no memory for %d classes", fn, m->k);
    lpc_status s = nc1_variants(fn, m, nc->value);
    if (s == LPC_OK)
        s = geometry(fn, m->mc, m->k, m->p, norm, nc->value);
    if (s == LPC_OK)
        s = cdnv(fn, m, &nc->value[LPC_NC_CDNV]);
    if (s == LPC_OK)
        s = etf_distance(fn, m->mc, NULL, m->mc, m->k, m->p, &nc->value[LPC_NC_ETF_ERROR]);
    if (s == LPC_OK && m->w)
        s = duality(fn, m, norm, nc->value);
    lpci_free(norm);
    if (s != LPC_OK)
        return s;
    nc->value[LPC_NC_NC1_WEIGHTED] = nc->value[LPC_NC_NC1] / m->p;
    unsigned always[] = {LPC_NC_NC1,          LPC_NC_NC1_WEIGHTED, LPC_NC_EQUINORM,
                         LPC_NC_EQUIANGULARITY, LPC_NC_MAX_ANGLE,  LPC_NC_NC1_SVD,
                         LPC_NC_NC1_QUOTIENT, LPC_NC_CDNV,         LPC_NC_ETF_ERROR};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        nc->have |= 1u << always[i];
    if (m->w)
        nc->have |= (1u << LPC_NC_NC3) | (1u << LPC_NC_SELF_DUALITY) |
                    (1u << LPC_NC_UNIFORM_DUALITY);
    return LPC_OK;
}
