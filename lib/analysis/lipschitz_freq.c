/* Certified conv norm for one input size from the frequency domain
 * (doc/robustness.md, "Convolutions: frequency blocks"). A zero-padded
 * convolution of an h x w input, at stride 1, keeps some outputs of the
 * full correlation z[t] = sum_a K[a] x[t + a], which is the circular
 * correlation on an N1 x N2 grid (N1 >= h + kh - 1, N2 >= w + kw - 1) of x embedded with
 * zeros: no wrapped index reaches a nonzero input. The circular operator
 * is block-diagonalised by the 2-D DFT (Sedghi, Gupta & Long, ICLR 2019):
 * its norm is the largest over the N1 N2 frequencies of |K^(f)|_2, with
 * K^(f) = sum_{a,b} K[:, :, a, b] e^(-2 pi i (f1 a / N1 + f2 b / N2)), a
 * cout x cin complex matrix. A stride keeps a subset of the outputs (a
 * projection), so the bound holds for every stride.
 *
 * Each |K^(f)|_2 is the norm of the real matrix [[Re, -Im], [Im, Re]]
 * (2 cout x 2 cin, same singular values), bounded by lpci_norm_upper. The
 * computed K^(f) differs from the exact one by the twiddles' error (the
 * angle 2 pi m / N rounded, then the C library's sin and cos, taken as
 * within TWIDDLE_EPS DBL_EPSILON together) and the sums' rounding: at most
 * (TWIDDLE_EPS + 2 kh kw + 8) eps sum_{a,b} |K[o, i, a, b]| per entry, the
 * 8 covering kernel entries that are rounded products (weight times
 * batch-norm scale); its Frobenius norm is added to every frequency's
 * bound. K real gives K^(-f) = conj K^(f): half the frequencies suffice. */
#include <float.h>
#include <math.h>
#include "lipschitz_internal.h"

#define TWIDDLE_EPS 32.0
/* Relative tightness asked of each frequency block's norm. */
#define FREQ_TOL 1e-7

static double up(double x)
{
    return nextafter(x, INFINITY);
}

lpc_status lpci_conv_norm_freq(const char *who, const float *w, const double *scale, int64_t co,
                               int64_t ci, int64_t kh, int64_t kw, int64_t h, int64_t wd,
                               double max_cost, double *bound)
{
    int64_t n1 = h + kh - 1, n2 = wd + kw - 1, p = 2 * (co < ci ? co : ci);
    double freqs = (double)n1 * (double)(n2 / 2 + 1);
    if (freqs * (double)p * (double)p * (double)p > max_cost) {
        *bound = INFINITY;
        return LPC_OK;
    }
    size_t taps = (size_t)(kh * kw), cells = (size_t)(co * ci);
    double *k = lpci_malloc(cells * taps * sizeof *k);
    double *re = lpci_malloc(taps * sizeof *re), *im = lpci_malloc(taps * sizeof *im);
    double *emb = lpci_malloc(4 * cells * sizeof *emb);
    if (!k || !re || !im || !emb) {
        lpci_free(k);
        lpci_free(re);
        lpci_free(im);
        lpci_free(emb);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for its frequency blocks", who);
    }
    /* K[o][i][tap] in double, and the error bound's sum_{o,i} (sum |K|)^2 */
    double abs2 = 0.0;
    for (size_t oi = 0; oi < cells; oi++) {
        double sa = 0.0;
        for (size_t t = 0; t < taps; t++) {
            k[oi * taps + t] = (double)w[oi * taps + t] * (scale ? scale[oi / (size_t)ci] : 1.0);
            sa += fabs(k[oi * taps + t]);
        }
        sa = up(sa * (1.0 + (double)(taps + 1) * DBL_EPSILON));
        abs2 += sa * sa;
    }
    abs2 = up(abs2 * (1.0 + (double)(2 * cells + 1) * DBL_EPSILON));
    double err = up(up((TWIDDLE_EPS + 2.0 * (double)taps + 8.0) * DBL_EPSILON) *
                    up(sqrt(abs2) * (1.0 + 2.0 * DBL_EPSILON)));
    double step1 = 2.0 * M_PI / (double)n1, step2 = 2.0 * M_PI / (double)n2, worst = 0.0;
    lpc_status s = LPC_OK;
    for (int64_t f1 = 0; f1 < n1 && s == LPC_OK; f1++)
        for (int64_t f2 = 0; f2 <= n2 / 2 && s == LPC_OK; f2++) {
            /* e^(-i theta) per tap, theta = 2 pi (f1 a / N1 + f2 b / N2) */
            for (int64_t a = 0; a < kh; a++)
                for (int64_t b = 0; b < kw; b++) {
                    double th1 = (double)((f1 * a) % n1) * step1;
                    double th2 = (double)((f2 * b) % n2) * step2;
                    double c1 = cos(th1), s1 = sin(th1), c2 = cos(th2), s2 = sin(th2);
                    re[a * kw + b] = c1 * c2 - s1 * s2;
                    im[a * kw + b] = -(s1 * c2 + c1 * s2);
                }
            /* [[Re, -Im], [Im, Re]], 2 co x 2 ci */
            for (int64_t o = 0; o < co; o++)
                for (int64_t i = 0; i < ci; i++) {
                    const double *kk = k + (o * ci + i) * (int64_t)taps;
                    double sr = 0.0, si = 0.0;
                    for (size_t t = 0; t < taps; t++) {
                        sr += kk[t] * re[t];
                        si += kk[t] * im[t];
                    }
                    emb[o * 2 * ci + i] = sr;
                    emb[o * 2 * ci + ci + i] = -si;
                    emb[(co + o) * 2 * ci + i] = si;
                    emb[(co + o) * 2 * ci + ci + i] = sr;
                }
            double n = 0.0;
            s = lpci_norm_upper(who, emb, 2 * co, 2 * ci, FREQ_TOL, &n);
            worst = fmax(worst, n);
        }
    lpci_free(k);
    lpci_free(re);
    lpci_free(im);
    lpci_free(emb);
    if (s == LPC_OK)
        *bound = up(worst + err);
    return s;
}
