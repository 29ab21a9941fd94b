/* Symmetric eigensolver for the P x P covariances of the OOD detector:
 * Householder reduction to tridiagonal form, then the implicit QL algorithm
 * with Wilkinson-style shifts (the EISPACK tred2 / tql2 pair, in the form of
 * the public-domain JAMA library). O(n^3) with a small constant, where the
 * cyclic Jacobi of eigen.c needs O(n^3) per sweep: P = 512 takes a fraction
 * of a second instead of tens of seconds. Backward stable: the eigenvalues
 * are exact for a matrix within a few eps |A| of the input. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "ood_internal.h"

#define MAX_QL_ITERATIONS 60

/* Householder tridiagonalisation of the symmetric v (n x n), overwritten by
 * the orthogonal transformation V: diagonal d, subdiagonal e (e[0] = 0).
 * v holds V column-major (V(r, c) at v[c n + r]), so that the inner loops,
 * which run down columns of V, read memory in order; on return row j of v
 * is column j of V. */
static void tred2(double *v, int n, double *d, double *e)
{
#define V(r, c) v[(size_t)(c) * n + (r)]
    for (int j = 0; j < n; j++)
        d[j] = V(n - 1, j);
    for (int i = n - 1; i > 0; i--) {
        double scale = 0.0, h = 0.0;
        for (int k = 0; k < i; k++)
            scale += fabs(d[k]);
        if (scale == 0.0) {
            e[i] = d[i - 1];
            for (int j = 0; j < i; j++) {
                d[j] = V(i - 1, j);
                V(i, j) = 0.0;
                V(j, i) = 0.0;
            }
        } else {
            for (int k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1], g = sqrt(h);
            if (f > 0)
                g = -g;
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for (int j = 0; j < i; j++)
                e[j] = 0.0;
            for (int j = 0; j < i; j++) {
                f = d[j];
                V(j, i) = f;
                g = e[j] + V(j, j) * f;
                for (int k = j + 1; k <= i - 1; k++) {
                    g += V(k, j) * d[k];
                    e[k] += V(k, j) * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for (int j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            for (int j = 0; j < i; j++)
                e[j] -= hh * d[j];
            for (int j = 0; j < i; j++) {
                f = d[j];
                g = e[j];
                for (int k = j; k <= i - 1; k++)
                    V(k, j) -= f * e[k] + g * d[k];
                d[j] = V(i - 1, j);
                V(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
    /* Accumulate the transformations. */
    for (int i = 0; i < n - 1; i++) {
        V(n - 1, i) = V(i, i);
        V(i, i) = 1.0;
        double h = d[i + 1];
        if (h != 0.0) {
            for (int k = 0; k <= i; k++)
                d[k] = V(k, i + 1) / h;
            for (int j = 0; j <= i; j++) {
                double g = 0.0;
                for (int k = 0; k <= i; k++)
                    g += V(k, i + 1) * V(k, j);
                for (int k = 0; k <= i; k++)
                    V(k, j) -= g * d[k];
            }
        }
        for (int k = 0; k <= i; k++)
            V(k, i + 1) = 0.0;
    }
    for (int j = 0; j < n; j++) {
        d[j] = V(n - 1, j);
        V(n - 1, j) = 0.0;
    }
    V(n - 1, n - 1) = 1.0;
    e[0] = 0.0;
#undef V
}

/* Implicit QL on the tridiagonal (d, e); q holds the eigenvectors as rows
 * (q = V^T of tred2 on entry). Returns 0 when an eigenvalue does not
 * converge. */
static int tql2(double *q, int n, double *d, double *e)
{
    for (int i = 1; i < n; i++)
        e[i - 1] = e[i];
    e[n - 1] = 0.0;
    double f = 0.0, tst1 = 0.0;
    for (int l = 0; l < n; l++) {
        tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
        int m = l;
        while (m < n && fabs(e[m]) > DBL_EPSILON * tst1)
            m++;
        if (m == n)
            m = n - 1;
        for (int iter = 0; m > l; iter++) {
            if (iter == MAX_QL_ITERATIONS)
                return 0;
            double g = d[l], p = (d[l + 1] - g) / (2.0 * e[l]), r = hypot(p, 1.0);
            if (p < 0)
                r = -r;
            d[l] = e[l] / (p + r);
            d[l + 1] = e[l] * (p + r);
            double dl1 = d[l + 1], h = g - d[l];
            for (int i = l + 2; i < n; i++)
                d[i] -= h;
            f += h;
            p = d[m];
            double c = 1.0, c2 = 1.0, c3 = 1.0, el1 = e[l + 1], s = 0.0, s2 = 0.0;
            for (int i = m - 1; i >= l; i--) {
                c3 = c2;
                c2 = c;
                s2 = s;
                g = c * e[i];
                h = c * p;
                r = hypot(p, e[i]);
                e[i + 1] = s * r;
                s = e[i] / r;
                c = p / r;
                p = c * d[i] - s * g;
                d[i + 1] = h + s * (c * g + s * d[i]);
                double *qi = q + (size_t)i * n, *qj = qi + n;
                for (int k = 0; k < n; k++) {
                    double t = qj[k];
                    qj[k] = s * qi[k] + c * t;
                    qi[k] = c * qi[k] - s * t;
                }
            }
            p = -s * s2 * c3 * el1 * e[l] / dl1;
            e[l] = s * p;
            d[l] = c * p;
            if (!(fabs(e[l]) > DBL_EPSILON * tst1))
                break;
        }
        d[l] += f;
        e[l] = 0.0;
    }
    return 1;
}

lpc_status lpci_eigh_rows(const double *a, int n, double *w, double *rows)
{
    const char *fn = "eigh_rows";
    size_t nn = (size_t)n * (size_t)n;
    double *v = lpci_malloc(nn * sizeof *v), *e = lpci_malloc((size_t)n * sizeof *e);
    if (!v || !e) {
        lpci_free(v);
        lpci_free(e);
        return lpci_error(LPC_E_NOMEM, "%s: no memory for a %d x %d matrix", fn, n, n);
    }
    lpc_status s = LPC_OK;
    for (size_t i = 0; i < nn && s == LPC_OK; i++)
        if (!isfinite(a[i]))
            s = lpci_error(LPC_E_NUMERIC, "%s: entry %zu is not finite", fn, i);
    if (s == LPC_OK) {
        for (int r = 0; r < n; r++) /* symmetrise away rounding */
            for (int c = 0; c < n; c++)
                v[(size_t)r * n + c] = 0.5 * (a[(size_t)r * n + c] + a[(size_t)c * n + r]);
        tred2(v, n, w, e);
        memcpy(rows, v, nn * sizeof *v);
        if (!tql2(rows, n, w, e))
            s = lpci_error(LPC_E_NUMERIC, "%s: QL did not converge in %d iterations", fn,
                           MAX_QL_ITERATIONS);
    }
    /* Descending order (selection: the swaps move whole rows). */
    for (int i = 0; i < n && s == LPC_OK; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] > w[best])
                best = j;
        if (best == i)
            continue;
        double t = w[i];
        w[i] = w[best];
        w[best] = t;
        memcpy(v, rows + (size_t)i * n, (size_t)n * sizeof *v);
        memcpy(rows + (size_t)i * n, rows + (size_t)best * n, (size_t)n * sizeof *v);
        memcpy(rows + (size_t)best * n, v, (size_t)n * sizeof *v);
    }
    lpci_free(v);
    lpci_free(e);
    return s;
}
