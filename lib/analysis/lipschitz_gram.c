/* Certified upper bounds of spectral norms (the guarantee behind
 * lpc_lipschitz_bound; doc/robustness.md, "Operator norms").
 *
 * Matrices: Gram iteration. For a symmetric H, |H|_2^2 = |H H|_2, and
 * |H|_2 <= |H|_F; squaring the Gram matrix G = A A^T t times gives
 * |A|_2 <= |G^(2^t)|_F^(1 / 2^(t+1)), which approaches |A|_2 as the
 * smaller singular values fade (Delattre et al., ICML 2023). Every
 * floating-point step is accounted for: a product of n-term sums differs
 * from the exact one by at most gamma_n |X||Y| entry-wise (gamma_n <=
 * n DBL_EPSILON here), so fl(H H) = H^2 + F with |F|_2 <= n eps |H|_F^2,
 * and the chain back from the last Frobenius norm adds those terms and
 * rounds every scalar step upward. Scalings are by powers of two (exact).
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
 * time of the P x P products). */
#define GRAM_LIMIT 2048
#define GRAM_MAX_STEPS 40
/* Stop squaring when the bound improves by less than this, relatively. */
#define GRAM_STALL 1e-12
/* Covers the underflow of every product of one step (P^2 entries, each
 * off by at most P * 2^-1074 after the scalings keep |H|_F near 1). */
#define TINY 1e-300

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

/* out (n x n) = h h for symmetric h: the upper triangle, mirrored, so the
 * result is exactly symmetric. */
static void square_sym(const double *h, int64_t n, double *out)
{
    for (int64_t i = 0; i < n; i++) {
        double *row = out + i * n;
        memset(row + i, 0, (size_t)(n - i) * sizeof *row);
        for (int64_t k = 0; k < n; k++) {
            double hik = h[i * n + k];
            const double *hk = h + k * n;
            for (int64_t j = i; j < n; j++)
                row[j] += hik * hk[j];
        }
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < i; j++)
            out[i * n + j] = out[j * n + i];
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

/* Bound of sigma_0 = |H_0|_2 from u >= |H_t|_2, with H_{s+1} = 2^-exps[s+1]
 * fl(H_s H_s) and f[s] >= |fl(H_s H_s) - H_s^2|_2:
 * sigma_s^2 <= 2^exps[s+1] sigma_{s+1} + f[s]. */
static double chain_back(double u, int t, const int *exps, const double *f)
{
    for (int s = t - 1; s >= 0; s--)
        u = sqrt_up(up(ldexp(u, exps[s + 1]) + f[s]));
    return u;
}

lpc_status lpci_norm_upper(const char *who, double *a, int64_t r, int64_t c, double *bound)
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
    double *h = lpci_malloc((size_t)(p * p) * sizeof *h);
    double *tmp = lpci_malloc((size_t)(p * p) * sizeof *tmp);
    if (!h || !tmp) {
        lpci_free(h);
        lpci_free(tmp);
        for (size_t i = 0; i < cells; i++)
            a[i] = ldexp(a[i], shift);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for a %lld x %lld Gram matrix", who,
                          (long long)p, (long long)p);
    }
    gram(a, r, c, r <= c, h);
    for (size_t i = 0; i < cells; i++)
        a[i] = ldexp(a[i], shift);
    /* |A_s A_s^T - G|_2 <= m eps |A_s|_F^2 */
    double e_gram = up(up((double)m * DBL_EPSILON * fro2_s) + TINY);
    int exps[GRAM_MAX_STEPS + 1];
    double f[GRAM_MAX_STEPS];
    exps[0] = half_exponent(sumsq_up(h, (size_t)(p * p)));
    for (int64_t i = 0; i < p * p; i++)
        h[i] = ldexp(h[i], -exps[0]);
    for (int t = 0;; t++) {
        double hf2 = sumsq_up(h, (size_t)(p * p));
        /* |H_0|_2 from |H_t|_2 <= |H_t|_F, then |A|_2 */
        double s0 = chain_back(sqrt_up(hf2), t, exps, f);
        double lam = up(ldexp(s0, exps[0]) + e_gram);
        double norm = ldexp(sqrt_up(lam), shift);
        int stalled = !(norm < best * (1.0 - GRAM_STALL));
        if (norm < best)
            best = norm;
        if (stalled || t == GRAM_MAX_STEPS)
            break;
        f[t] = up(up((double)p * DBL_EPSILON * hf2) + TINY);
        square_sym(h, p, tmp);
        exps[t + 1] = half_exponent(sumsq_up(tmp, (size_t)(p * p)));
        for (int64_t i = 0; i < p * p; i++)
            h[i] = ldexp(tmp[i], -exps[t + 1]);
    }
    lpci_free(h);
    lpci_free(tmp);
    *bound = up(best + entry_slack);
    return LPC_OK;
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
        s = lpci_norm_upper(who, a, shape[v][0], shape[v][1], &n);
        if (s == LPC_OK && n < best)
            best = n;
    }
    lpci_free(a);
    if (s == LPC_OK)
        *bound = up(sqrt_up((double)(kh * kw)) * best);
    return s;
}
