/* Largest eigenvalue of a symmetric positive semi-definite operator B = A^T A
 * given only its products, by explicitly restarted Lanczos with full
 * reorthogonalisation (in double): blocks of LANCZOS_STEPS products build a
 * Krylov basis, the largest Ritz value of its tridiagonal matrix estimates
 * lambda_max, and its Ritz vector starts the next block. Ritz values grow
 * towards lambda_max from below (they never exceed it), much faster than
 * power iteration's when the top eigenvalues lie close together. */
#include <math.h>
#include <string.h>
#include "analysis_internal.h"
#include "lipschitz_internal.h"

#define LANCZOS_STEPS 24

static double dot(const double *a, const double *b, int64_t d)
{
    double s = 0.0;
    for (int64_t i = 0; i < d; i++)
        s += a[i] * b[i];
    return s;
}

/* One block from the unit vector v[0]: fills v[1..], alpha, beta; returns
 * the number of steps taken (fewer on an invariant subspace). */
static lpc_status lanczos_block(int64_t d, lpci_gram_fn gram, void *op, double *v, int steps,
                                double *alpha, double *beta, int *taken)
{
    int j = 0;
    for (; j < steps; j++) {
        double *vj = v + j * d, *w = v + (j + 1) * d;
        lpc_status s = gram(op, vj, w);
        if (s != LPC_OK)
            return s;
        alpha[j] = dot(w, vj, d);
        /* full reorthogonalisation, twice ("twice is enough") */
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i <= j; i++) {
                double c = dot(w, v + i * d, d);
                for (int64_t q = 0; q < d; q++)
                    w[q] -= c * v[i * d + q];
            }
        beta[j] = sqrt(dot(w, w, d));
        if (!isfinite(alpha[j]) || !isfinite(beta[j]))
            return lpci_error(LPC_E_NUMERIC, "the operator gives non-finite values");
        if (beta[j] <= 1e-13 * fabs(alpha[j])) { /* invariant subspace: exact */
            j++;
            break;
        }
        for (int64_t q = 0; q < d; q++)
            w[q] /= beta[j];
    }
    *taken = j;
    return LPC_OK;
}

lpc_status lpci_lanczos_max(int64_t d, lpci_gram_fn gram, void *op, int max_products,
                            double tol, lpc_rng *rng, double *lambda)
{
    int steps = (int64_t)LANCZOS_STEPS < d ? LANCZOS_STEPS : (int)d;
    size_t cells;
    if (lpci_mul_size((size_t)(steps + 1), (size_t)d * sizeof(double), &cells))
        return lpci_error(LPC_E_ARG, "an operator on %lld values is too large", (long long)d);
    double *v = lpci_malloc(cells), *t = lpci_malloc((size_t)(steps * steps) * sizeof *t);
    double *ev = lpci_malloc((size_t)steps * sizeof *ev);
    double *vec = lpci_malloc((size_t)(steps * steps) * sizeof *vec);
    double alpha[LANCZOS_STEPS], beta[LANCZOS_STEPS];
    lpc_status s = LPC_OK;
    if (!v || !t || !ev || !vec)
        s = lpci_error(LPC_E_NOMEM, "out of memory for %d Lanczos vectors of %lld values",
                       steps + 1, (long long)d);
    for (int64_t q = 0; s == LPC_OK && q < d; q++)
        v[q] = lpc_rng_normal(rng);
    double nrm = s == LPC_OK ? sqrt(dot(v, v, d)) : 0.0, theta = 0.0;
    for (int64_t q = 0; s == LPC_OK && q < d; q++)
        v[q] /= nrm;
    for (int used = 0; s == LPC_OK && used < max_products;) {
        int taken = 0;
        int budget = max_products - used < steps ? max_products - used : steps;
        s = lanczos_block(d, gram, op, v, budget, alpha, beta, &taken);
        if (s != LPC_OK)
            break;
        used += taken;
        memset(t, 0, (size_t)(taken * taken) * sizeof *t);
        for (int i = 0; i < taken; i++) {
            t[i * taken + i] = alpha[i];
            if (i + 1 < taken)
                t[i * taken + i + 1] = t[(i + 1) * taken + i] = beta[i];
        }
        if ((s = lpci_eigh(t, taken, ev, vec)) != LPC_OK)
            break;
        double prev = theta, resid = beta[taken - 1] * fabs(vec[(taken - 1) * taken]);
        theta = ev[0] > theta ? ev[0] : theta;
        int exact = taken < budget || taken == d;
        if (exact || theta == 0.0 || resid <= tol * theta ||
            (prev > 0.0 && theta - prev <= tol * theta))
            break;
        /* restart from the Ritz vector of the largest Ritz value */
        double *x = v + (int64_t)steps * d; /* free after the block */
        memset(x, 0, (size_t)d * sizeof *x);
        for (int i = 0; i < taken; i++)
            for (int64_t q = 0; q < d; q++)
                x[q] += vec[i * taken] * v[i * d + q];
        nrm = sqrt(dot(x, x, d));
        for (int64_t q = 0; q < d; q++)
            v[q] = x[q] / nrm;
    }
    if (s == LPC_OK)
        *lambda = theta;
    lpci_free(v);
    lpci_free(t);
    lpci_free(ev);
    lpci_free(vec);
    return s;
}
