/* Certified upper bounds of spectral norms (the guarantee behind
 * lpc_lipschitz_bound; doc/robustness.md, "Matrix norms" and "Convolutions:
 * kernel reshapes").
 *
 * Matrices: |A|_2^2 is the largest eigenvalue of the smaller Gram matrix
 * G = A A^T. Lanczos gives an estimate lam from below; the bound is a c
 * slightly above it for which c I - G is proven positive semi-definite
 * by its Cholesky factorisation in floating point: when the factorisation
 * of a symmetric M runs to completion, the computed factor satisfies
 * L L^T = M + E with |E| <= gamma_(n+1) |L| |L^T| entry-wise (Higham,
 * Accuracy and Stability of Numerical Algorithms, Thm 10.3), so
 * lambda_max(G) <= c + gamma_(n+1) |L|_F^2 (the verification of Rump,
 * BIT 2006). Every other rounding (forming G, c I - G, the final scalar
 * steps, rounded entries) is bounded too and added, rounding upward
 * (gamma_n <= n DBL_EPSILON here). Scalings are by powers of two (exact).
 * If no c passes, the Frobenius norm, also rounded up, is the bound.
 *
 * Convolutions: Singla & Feizi (ICLR 2021), |conv|_2 <= sqrt(kh kw) times
 * the smallest norm of four reshapes of the kernel, for zero padding; a
 * stride keeps every s-th output, a coordinate projection, which cannot
 * increase the norm. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "lipschitz_internal.h"

/* Beyond this smaller side a matrix gets its Frobenius norm (memory and
 * time of the P x P factorisation). */
#define GRAM_LIMIT 4096
/* c = lam (1 + delta): delta from 2 tol, grown this much per failed
 * factorisation, at most MAX_TRIES tries. */
#define DELTA_GROWTH 100.0
#define MAX_TRIES 6
/* The Lanczos estimate of lambda_max(G): at most this many products. */
#define LANCZOS_PRODUCTS 600
/* Covers the underflow of every product of one factorisation (P^2
 * entries, each off by at most P 2^-1074 with |G| scaled near 1). */
#define TINY 1e-300
/* Relative tightness asked of the reshapes' norms (the bound multiplies
 * them by sqrt(kh kw) anyway). */
#define CONV_TOL 1e-6

static double up(double x)
{
    return nextafter(x, INFINITY);
}

static double sqrt_up(double x)
{
    return up(sqrt(x));
}

/* Upper bound of sum(x^2) over n entries: the computed sum grown by the
 * rounding of n squares and n - 1 additions. */
static double sumsq_up(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return up(up(s * (1.0 + (double)(n + 1) * DBL_EPSILON)) + TINY);
}

/* A binary exponent e near log2(sqrt(x)): 2^-2e x is in [0.25, 2). */
static int half_exponent(double x)
{
    int e;
    frexp(x, &e);
    return e / 2;
}

/* g (p x p) = a a^T (rows) or a^T a (columns) for a (r x c), the upper
 * triangle mirrored. */
static void gram(const double *a, int64_t r, int64_t c, int rows, double *g)
{
    int64_t p = rows ? r : c;
    memset(g, 0, (size_t)(p * p) * sizeof *g);
    if (rows) {
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = i; j < r; j++) {
                double s = 0.0;
                for (int64_t k = 0; k < c; k++)
                    s += a[i * c + k] * a[j * c + k];
                g[i * p + j] = s;
            }
    } else {
        for (int64_t k = 0; k < r; k++) {
            const double *ak = a + k * c;
            for (int64_t i = 0; i < c; i++) {
                double aki = ak[i];
                for (int64_t j = i; j < c; j++)
                    g[i * p + j] += aki * ak[j];
            }
        }
    }
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j < i; j++)
            g[i * p + j] = g[j * p + i];
}

typedef struct {
    const double *g;
    int64_t p;
} sym_op;

/* out = g u */
static lpc_status sym_apply(void *op, const double *u, double *out)
{
    const sym_op *m = op;
    for (int64_t i = 0; i < m->p; i++) {
        double t = 0.0;
        for (int64_t j = 0; j < m->p; j++)
            t += m->g[i * m->p + j] * u[j];
        out[i] = t;
    }
    return LPC_OK;
}

/* If the Cholesky factorisation of fl(c I - g) (p x p; l: p x p work)
 * runs to completion, an upper bound of lambda_max(g) into *lam and 1;
 * else 0. */
static int verify_above(const double *g, int64_t p, double c, double *l, double *lam)
{
    double diag_err = 0.0;
    for (int64_t i = 0; i < p; i++) {
        for (int64_t j = 0; j < i; j++)
            l[i * p + j] = -g[i * p + j];
        l[i * p + i] = c - g[i * p + i];
        diag_err = fmax(diag_err, fabs(l[i * p + i]));
    }
    for (int64_t i = 0; i < p; i++) {
        double *li = l + i * p;
        for (int64_t j = 0; j <= i; j++) {
            const double *lj = l + j * p;
            double t = li[j];
            for (int64_t k = 0; k < j; k++)
                t -= li[k] * lj[k];
            if (j < i) {
                li[j] = t / lj[j];
            } else {
                if (!(t > 0.0) || !isfinite(t))
                    return 0;
                li[i] = sqrt(t);
            }
        }
    }
    double lf2 = 0.0;
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = 0; j <= i; j++)
            lf2 += l[i * p + j] * l[i * p + j];
    lf2 = up(lf2 * (1.0 + (double)(p * p + 1) * DBL_EPSILON)) + TINY;
    /* c I - g = L L^T - E - D, |E|_2 <= (p + 1) eps |L|_F^2, |D|_2 <= the
     * rounding of the diagonal's subtractions */
    double e = up(up((double)(p + 2) * DBL_EPSILON * lf2) + up(DBL_EPSILON * diag_err));
    *lam = up(up(c + e) + TINY);
    return 1;
}

lpc_status lpci_norm_upper(const char *who, double *a, int64_t r, int64_t c, double tol,
                           double *bound)
{
    size_t cells = (size_t)r * (size_t)c;
    for (size_t i = 0; i < cells; i++)
        if (!isfinite(a[i]))
            return lpci_error(LPC_E_NUMERIC, "%s: weight %zu is not finite", who, i);
    double fro2 = sumsq_up(a, cells);
    if (!isfinite(fro2))
        return lpci_error(LPC_E_NUMERIC, "%s: the weights' norm overflows", who);
    size_t nonzero = 0;
    while (nonzero < cells && a[nonzero] == 0.0)
        nonzero++;
    if (nonzero == cells) {
        *bound = 0.0;
        return LPC_OK;
    }
    /* The entries may be rounded products (a weight times a batch-norm
     * scale, each off by a few units of the last place): a perturbation
     * of at most 4 eps |A|_F, added at the end. */
    double entry_slack = up(4.0 * DBL_EPSILON * sqrt_up(fro2));
    double best = sqrt_up(fro2);
    int64_t p = r < c ? r : c, m = r < c ? c : r;
    if (p > GRAM_LIMIT) {
        *bound = up(best + entry_slack);
        return LPC_OK;
    }
    /* A_s = 2^-shift A, |A_s|_F near 1 (exact: no entry gets near the
     * subnormal range for weights that are floats times finite scales). */
    int shift = half_exponent(fro2);
    for (size_t i = 0; i < cells; i++)
        a[i] = ldexp(a[i], -shift);
    double fro2_s = ldexp(fro2, -2 * shift);
    double *g = lpci_malloc((size_t)(p * p) * sizeof *g);
    double *l = lpci_malloc((size_t)(p * p) * sizeof *l);
    lpc_rng *rng = lpc_rng_new(0);
    lpc_status st = LPC_OK;
    if (!g || !l || !rng)
        st = lpci_error(LPC_E_NOMEM, "%s: out of memory for a %lld x %lld Gram matrix", who,
                        (long long)p, (long long)p);
    if (st == LPC_OK)
        gram(a, r, c, r <= c, g);
    for (size_t i = 0; i < cells; i++)
        a[i] = ldexp(a[i], shift);
    /* |A_s A_s^T - G|_2 <= m eps |A_s|_F^2 */
    double e_gram = up(up((double)m * DBL_EPSILON * fro2_s) + TINY), est = 0.0;
    sym_op op = {g, p};
    if (st == LPC_OK &&
        (st = lpci_lanczos_max(p, sym_apply, &op, LANCZOS_PRODUCTS, tol, rng, &est)) != LPC_OK)
        st = lpci_error_context("%s", who);
    double delta = 2.0 * tol, lam;
    for (int t = 0; st == LPC_OK && t < MAX_TRIES; t++, delta *= DELTA_GROWTH) {
        double cand = up(up(est * (1.0 + delta)) + TINY);
        if (cand >= fro2_s) /* the Frobenius bound is as good */
            break;
        if (verify_above(g, p, cand, l, &lam)) {
            double norm = ldexp(sqrt_up(up(lam + e_gram)), shift);
            best = fmin(best, norm);
            break;
        }
    }
    lpci_free(g);
    lpci_free(l);
    lpc_rng_free(rng);
    if (st == LPC_OK)
        *bound = up(best + entry_slack);
    return st;
}

lpc_status lpci_conv_norm_upper(const char *who, const float *w, const double *scale,
                                int64_t co, int64_t ci, int64_t kh, int64_t kw, double *bound)
{
    size_t cells = (size_t)(co * ci * kh * kw);
    double *a = lpci_malloc(cells * sizeof *a);
    if (!a)
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for its kernel", who);
    /* The four reshapes of K[o][i][y][x]: rows o | i y x, i | o y x,
     * o y | i x and o x | i y. */
    const int64_t shape[4][2] = {{co, ci * kh * kw}, {ci, co * kh * kw},
                                 {co * kh, ci * kw}, {co * kw, ci * kh}};
    double best = INFINITY;
    lpc_status s = LPC_OK;
    for (int v = 0; v < 4 && s == LPC_OK; v++) {
        for (int64_t o = 0; o < co; o++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t y = 0; y < kh; y++)
                    for (int64_t x = 0; x < kw; x++) {
                        double e = (double)w[((o * ci + i) * kh + y) * kw + x] *
                                   (scale ? scale[o] : 1.0);
                        int64_t row, col;
                        switch (v) {
                        case 0: row = o, col = (i * kh + y) * kw + x; break;
                        case 1: row = i, col = (o * kh + y) * kw + x; break;
                        case 2: row = o * kh + y, col = i * kw + x; break;
                        default: row = o * kw + x, col = i * kh + y; break;
                        }
                        a[row * shape[v][1] + col] = e;
                    }
        double n = 0.0;
        s = lpci_norm_upper(who, a, shape[v][0], shape[v][1], CONV_TOL, &n);
        if (s == LPC_OK && n < best)
            best = n;
    }
    lpci_free(a);
    if (s == LPC_OK)
        *bound = up(sqrt_up((double)(kh * kw)) * best);
    return s;
}
