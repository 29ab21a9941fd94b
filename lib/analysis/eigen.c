/* Symmetric eigensolver: cyclic Jacobi in double. Slower than Householder +
 * QL for large n, but simple, accurate for small eigenvalues and fast enough
 * for the K x K and P x P problems of the analysis (n <= a few hundred). */
#include <float.h>
#include <math.h>
#include <string.h>
#include "analysis_internal.h"

#define MAX_SWEEPS 100

static double off_diagonal_norm(const double *a, int n)
{
    double s = 0.0;
    for (int r = 0; r < n; r++)
        for (int c = r + 1; c < n; c++)
            s += a[(size_t)r * n + c] * a[(size_t)r * n + c];
    return sqrt(2.0 * s);
}

/* One rotation zeroing a[p][q] (p < q); updates a and the eigenvector columns. */
static void rotate(double *a, double *v, int n, int p, int q)
{
    double apq = a[(size_t)p * n + q], app = a[(size_t)p * n + p], aqq = a[(size_t)q * n + q];
    double theta = (aqq - app) / (2.0 * apq);
    double t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
    double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
    for (int r = 0; r < n; r++) {
        if (r == p || r == q)
            continue;
        double arp = a[(size_t)r * n + p], arq = a[(size_t)r * n + q];
        a[(size_t)r * n + p] = a[(size_t)p * n + r] = c * arp - s * arq;
        a[(size_t)r * n + q] = a[(size_t)q * n + r] = s * arp + c * arq;
    }
    a[(size_t)p * n + p] = app - t * apq;
    a[(size_t)q * n + q] = aqq + t * apq;
    a[(size_t)p * n + q] = a[(size_t)q * n + p] = 0.0;
    for (int r = 0; r < n; r++) {
        double vrp = v[(size_t)r * n + p], vrq = v[(size_t)r * n + q];
        v[(size_t)r * n + p] = c * vrp - s * vrq;
        v[(size_t)r * n + q] = s * vrp + c * vrq;
    }
}

/* Sort eigenpairs by descending eigenvalue (selection sort: n is small). */
static void sort_desc(double *w, double *v, int n)
{
    for (int i = 0; i < n; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] > w[best])
                best = j;
        if (best == i)
            continue;
        double t = w[i];
        w[i] = w[best];
        w[best] = t;
        for (int r = 0; r < n; r++) {
            t = v[(size_t)r * n + i];
            v[(size_t)r * n + i] = v[(size_t)r * n + best];
            v[(size_t)r * n + best] = t;
        }
    }
}

lpc_status lpci_eigh(const double *a, int n, double *w, double *v)
{
    if (!a || !w || !v || n < 1)
        return lpci_error(LPC_E_ARG, "eigh: NULL argument or n = %d < 1", n);
    size_t nn = (size_t)n * (size_t)n;
    double *m = lpci_malloc(nn * sizeof *m);
    if (!m)
        return lpci_error(LPC_E_NOMEM, "eigh: no memory for a %d x %d matrix", n, n);
    double frob = 0.0;
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(a[i])) {
            lpci_free(m);
            return lpci_error(LPC_E_NUMERIC, "eigh: entry %zu is not finite", i);
        }
        frob += a[i] * a[i];
    }
    frob = sqrt(frob);
    /* Symmetrise (the caller's matrix may differ from symmetry by rounding). */
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            m[(size_t)r * n + c] = 0.5 * (a[(size_t)r * n + c] + a[(size_t)c * n + r]);
    memset(v, 0, nn * sizeof *v);
    for (int r = 0; r < n; r++)
        v[(size_t)r * n + r] = 1.0;
    /* Converged when the off-diagonal mass is at rounding level of |A|_F. */
    double target = DBL_EPSILON * 1e-2 * frob;
    int sweep = 0;
    while (off_diagonal_norm(m, n) > target) {
        if (++sweep > MAX_SWEEPS) {
            lpci_free(m);
            return lpci_error(LPC_E_NUMERIC, "eigh: Jacobi did not converge in %d sweeps",
                              MAX_SWEEPS);
        }
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++)
                if (m[(size_t)p * n + q] != 0.0)
                    rotate(m, v, n, p, q);
    }
    for (int r = 0; r < n; r++)
        w[r] = m[(size_t)r * n + r];
    lpci_free(m);
    sort_desc(w, v, n);
    return LPC_OK;
}
