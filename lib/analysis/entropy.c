/* Kozachenko–Leonenko entropy. The k-nearest-neighbour search is a blocked
 * brute force over the symmetric distance matrix: squared distances
 * |a|^2 + |b|^2 - 2 a.b of one TILE x TILE block from a float GEMM serve the
 * block's rows and its columns alike, so only the blocks on and above the
 * diagonal are computed (half the GEMM work). Each row keeps its smallest
 * candidates in a max-heap; the candidates' distances are then
 * recomputed from coordinate differences, so the reported rho does not
 * suffer the cancellation of the GEMM form; see kth_neighbour for when the
 * float GEMM is trusted and when a row is searched again in double. */
#include <blis.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include "analysis_internal.h"

#define ROW_BLOCK 1024 /* rows and columns of one double GEMM of the recheck */
#define COL_BLOCK 2048
#define TILE 256        /* rows and columns of one float distance block (256 KB) */
#define SCAN_BLOCK 16   /* columns checked at once for a new neighbour candidate */
#define EULER_GAMMA 0.57721566490153286061

double lpc_ln_unit_ball_volume(int d)
{
    if (d < 0)
        return NAN;
    return 0.5 * d * log(M_PI) - lgamma(0.5 * d + 1.0);
}

/* psi(n) for a positive integer: -gamma + sum_{i<n} 1/i (summed small terms first). */
static double digamma_int(int64_t n)
{
    double s = 0.0;
    for (int64_t i = n - 1; i >= 1; i--)
        s += 1.0 / (double)i;
    return s - EULER_GAMMA;
}

/* Copies z to double, centred (distances are translation invariant and the
 * GEMM form loses less to cancellation near the origin) and optionally
 * scaled to unit population std. Fails when all samples are identical. */
static lpc_status prepare(const float *z, int64_t n, int p, int standardize, double *x)
{
    double *mean = lpci_calloc((size_t)p, sizeof *mean);
    double *var = lpci_calloc((size_t)p, sizeof *var);
    lpc_status s = LPC_OK;
    if (!mean || !var) {
        s = lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for %d dimensions", p);
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            mean[j] += z[i * p + j];
    for (int j = 0; j < p; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < p; j++) {
            double d = z[i * p + j] - mean[j];
            x[i * p + j] = d;
            var[j] += d * d;
        }
    int varying = 0;
    for (int j = 0; j < p; j++)
        varying += var[j] > 0.0;
    if (!varying) {
        s = lpci_error(LPC_E_NUMERIC, "lpc_kl_entropy: all %lld samples are identical",
                       (long long)n);
        goto done;
    }
    if (standardize)
        for (int j = 0; j < p; j++) {
            double scale = var[j] > 0.0 ? 1.0 / sqrt(var[j] / (double)n) : 1.0;
            for (int64_t i = 0; i < n; i++)
                x[i * p + j] *= scale;
        }
done:
    lpci_free(mean);
    lpci_free(var);
    return s;
}

/* Scales x (count values) by the power of two 2^-e that brings its largest
 * magnitude into [0.5, 1) and returns e (0 when x is all zero). Exact in
 * double: the float pass then squares and sums values of at most 1, which
 * cannot overflow whatever the input's magnitude (a float feature of 2^64
 * squared would), and distances scale back exactly by 2^e. */
static int scale_to_unit(double *x, int64_t count)
{
    double top = 0.0;
    for (int64_t i = 0; i < count; i++)
        top = fabs(x[i]) > top ? fabs(x[i]) : top;
    if (top == 0.0)
        return 0;
    int e;
    frexp(top, &e);
    for (int64_t i = 0; i < count; i++)
        x[i] = ldexp(x[i], -e);
    return e;
}

/* Each row's m candidates form a max-heap on the distance (the worst at
 * index 0). Replaces the worst by (d, j), d < bd[0]: O(log m) per new
 * candidate where a sorted buffer would shift m / 2 entries on average. */
static inline void heap_replace(double *bd, int64_t *bi, int m, double d, int64_t j)
{
    int t = 0;
    for (int c; (c = 2 * t + 1) < m; t = c) {
        if (c + 1 < m && bd[c + 1] > bd[c])
            c++;
        if (bd[c] <= d)
            break;
        bd[t] = bd[c];
        bi[t] = bi[c];
    }
    bd[t] = d;
    bi[t] = j;
}

/* Whether any distance ni + nb[j] - 2 g[j] of a block is below worst: a
 * vectorised pre-check, so that only blocks holding a new candidate are
 * scanned element by element (with the same arithmetic). */
LPCI_VECTOR_BODY int any_below_d_body(const double *g, const double *nb, double ni,
                                      double worst, int64_t len)
{
    int any = 0;
    for (int64_t j = 0; j < len; j++)
        any |= ni + nb[j] - 2.0 * g[j] < worst;
    return any;
}
LPCI_VECTOR_PREDICATE(any_below_d,
                      (const double *g, const double *nb, double ni, double worst, int64_t len),
                      (g, nb, ni, worst, len))

typedef struct {
    const double *xd;   /* n x p, centred (and standardised) */
    const float *xf;    /* the same in float */
    const double *norm; /* squared row norms (of xf in the float pass, of xd after) */
    const float *normf; /* the float pass's norms in float, n + TILE entries (+inf padded) */
    int64_t n;
    int p;
    int m;              /* candidates kept per row */
    float margin;       /* bound on |float distance - double distance| of the pre-check */
    double *bd;         /* n x m candidate distances, ascending per row */
    int64_t *bi;        /* and their row indices */
} space;

/* For each listed row, the m smallest squared distances |a|^2 + |b|^2 - 2 a.b
 * to other rows (bd/bi: a heap of m entries per listed row) with double GEMMs (BLIS,
 * threaded); rows are split over threads, one writer each. g: ROW_BLOCK x
 * COL_BLOCK doubles, pack: ROW_BLOCK x p doubles of scratch. */
static void search_double(const space *s, const int64_t *rows, int64_t count, double *bd,
                          int64_t *bi, double *g, double *pack)
{
    int64_t n = s->n;
    int p = s->p, m = s->m;
    for (int64_t i = 0; i < count * m; i++) {
        bd[i] = INFINITY;
        bi[i] = -1;
    }
    for (int64_t r0 = 0; r0 < count; r0 += ROW_BLOCK) {
        int64_t rb = count - r0 < ROW_BLOCK ? count - r0 : ROW_BLOCK;
        for (int64_t r = 0; r < rb; r++)
            memcpy(pack + r * p, s->xd + rows[r0 + r] * p, (size_t)p * sizeof *pack);
        for (int64_t c0 = 0; c0 < n; c0 += COL_BLOCK) {
            int64_t cb = n - c0 < COL_BLOCK ? n - c0 : COL_BLOCK;
            double one = 1.0, zero = 0.0;
            bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, (dim_t)rb, (dim_t)cb, (dim_t)p, &one, pack,
                      (inc_t)p, 1, (double *)s->xd + c0 * p, (inc_t)p, 1, &zero, g, (inc_t)cb, 1);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
            for (int64_t r = 0; r < rb; r++) {
                int64_t row = rows[r0 + r];
                double *d_r = bd + (r0 + r) * m, ni = s->norm[row], worst = d_r[0];
                int64_t *j_r = bi + (r0 + r) * m;
                const double *nb = s->norm + c0, *gr = g + r * cb;
                for (int64_t j0 = 0; j0 < cb; j0 += SCAN_BLOCK) {
                    int64_t len = cb - j0 < SCAN_BLOCK ? cb - j0 : SCAN_BLOCK;
                    if (!any_below_d(gr + j0, nb + j0, ni, worst, len))
                        continue; /* the common case once the candidates are near */
                    for (int64_t j = j0; j < j0 + len; j++) {
                        double d = ni + nb[j] - 2.0 * gr[j];
                        if (d < worst && c0 + j != row) {
                            heap_replace(d_r, j_r, m, d, c0 + j);
                            worst = d_r[0];
                        }
                    }
                }
            }
        }
    }
}

/* Per column of one distance-tile row (len a multiple of SCAN_BLOCK): bit 0
 * when the float distance ni + nb[j] - 2 g[j] is below the row's threshold
 * tr, bit 1 when below column j's tc[j]. Padding columns have nb = inf. */
LPCI_VECTOR_BODY void scan_row_body(const float *g, const float *nb, float ni, float tr,
                                    const float *tc, int64_t len, unsigned char *hit)
{
    for (int64_t j = 0; j < len; j++) {
        float d = ni + nb[j] - 2.0f * g[j];
        hit[j] = (unsigned char)((d < tr) | ((d < tc[j]) << 1));
    }
}
LPCI_VECTOR_KERNEL(scan_row,
                   (const float *g, const float *nb, float ni, float tr, const float *tc,
                    int64_t len, unsigned char *hit),
                   (g, nb, ni, tr, tc, len, hit))

/* Float pre-check threshold for a candidate buffer whose worst entry is w. */
static inline float threshold(const space *s, double w) { return (float)(w + s->margin); }

/* Tile (r0, c0) of the distance matrix: rows r0.. against rows c0.. (c0 >=
 * r0). Offers each distance to the row's candidates and, off the diagonal,
 * to the column's (d(i, j) = d(j, i)); the caller guarantees that no other
 * thread touches these rows' buffers meanwhile. g: TILE x TILE floats. */
static void tile(const space *s, int64_t r0, int64_t c0, float *g)
{
    int64_t n = s->n, m = s->m;
    int64_t rb = n - r0 < TILE ? n - r0 : TILE, cb = n - c0 < TILE ? n - c0 : TILE;
    int64_t cbp = (cb + SCAN_BLOCK - 1) / SCAN_BLOCK * SCAN_BLOCK, diag = r0 == c0;
    lpci_sgemm(0, 1, rb, cb, s->p, 1.0f, s->xf + r0 * s->p, s->p, s->xf + c0 * s->p, s->p, 0.0f,
               g, cbp);
    float tc[TILE];
    unsigned char hit[TILE];
    for (int64_t j = 0; j < cbp; j++)
        tc[j] = diag || j >= cb ? -INFINITY : threshold(s, s->bd[(c0 + j) * m]);
    const double *nb = s->norm + c0;
    for (int64_t r = 0; r < rb; r++) {
        int64_t i = r0 + r;
        double *d_i = s->bd + i * m, ni = s->norm[i];
        int64_t *j_i = s->bi + i * m;
        const float *gr = g + r * cbp;
        scan_row(gr, s->normf + c0, s->normf[i], threshold(s, d_i[0]), tc, cbp, hit);
        for (int64_t j0 = 0; j0 < cb; j0 += 8) {
            uint64_t word;
            memcpy(&word, hit + j0, sizeof word);
            if (!word)
                continue; /* the common case once the candidates are near */
            int64_t end = j0 + 8 < cb ? j0 + 8 : cb;
            for (int64_t j = j0; j < end; j++) {
                if (!hit[j])
                    continue;
                double d = ni + nb[j] - 2.0 * (double)gr[j];
                if ((hit[j] & 1) && d < d_i[0] && c0 + j != i)
                    heap_replace(d_i, j_i, (int)m, d, c0 + j);
                double *d_j = s->bd + (c0 + j) * m;
                if ((hit[j] & 2) && d < d_j[0]) {
                    heap_replace(d_j, s->bi + (c0 + j) * m, (int)m, d, i);
                    tc[j] = threshold(s, d_j[0]);
                }
            }
        }
    }
}

/* The tiles of block pair (a, b), a <= b, of `span` rows each: for a == b
 * the tiles on and above the diagonal. */
static void block_pair(const space *s, int64_t a, int64_t b, int64_t span, float *g)
{
    int64_t r_end = (a + 1) * span < s->n ? (a + 1) * span : s->n;
    int64_t c_end = (b + 1) * span < s->n ? (b + 1) * span : s->n;
    for (int64_t r0 = a * span; r0 < r_end; r0 += TILE)
        for (int64_t c0 = a == b ? r0 : b * span; c0 < c_end; c0 += TILE)
            tile(s, r0, c0, g);
}

/* Every row's m smallest float-GEMM distances to other rows, in s->bd/bi.
 * Blocks of rows meet in the rounds of a round-robin tournament: in each
 * round every block meets at most one other, so threads work on disjoint
 * candidate buffers without locks, and the order in which a row sees its
 * candidates (round by round) does not depend on the thread count. Blocks
 * are 1 to 4 tiles high, fewer rounds (barriers) for larger inputs while
 * every round keeps enough pairs for the threads. g: one tile per thread. */
static void search_float(const space *s, float *g)
{
    int64_t tiles = s->n / (TILE * 16);
    int64_t span = TILE * (tiles < 1 ? 1 : tiles > 4 ? 4 : tiles);
    int64_t blocks = (s->n + span - 1) / span, teams = blocks + (blocks & 1);
    for (int64_t i = 0; i < s->n * s->m; i++) {
        s->bd[i] = INFINITY;
        s->bi[i] = -1;
    }
#pragma omp parallel num_threads(lpci_threads())
    {
        float *gt = g + (size_t)omp_get_thread_num() * TILE * TILE;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < blocks; b++)
            block_pair(s, b, b, span, gt);
        /* Circle method: team teams-1 stays, the others rotate. */
        for (int64_t round = 0; round < teams - 1; round++) {
#pragma omp for schedule(dynamic, 1)
            for (int64_t q = 0; q < teams / 2; q++) {
                int64_t a = q == 0 ? teams - 1 : (round + q) % (teams - 1);
                int64_t b = (round + teams - 1 - q) % (teams - 1);
                if (a < blocks && b < blocks)
                    block_pair(s, a < b ? a : b, a < b ? b : a, span, gt);
            }
        }
    }
}

/* Replaces the m candidates of `row` by their exact squared distances from
 * coordinate differences, sorted ascending. */
static void exact_sorted(const space *s, int64_t row, double *d, const int64_t *idx, int m)
{
    const double *a = s->xd + row * s->p;
    for (int t = 0; t < m; t++) {
        const double *b = s->xd + idx[t] * s->p;
        double d2 = 0.0;
        for (int j = 0; j < s->p; j++)
            d2 += (a[j] - b[j]) * (a[j] - b[j]);
        int u = t;
        while (u > 0 && d[u - 1] > d2) {
            d[u] = d[u - 1];
            u--;
        }
        d[u] = d2;
    }
}

/* rho[i] = exact distance from row i to its k-th nearest other row.
 * A float pass keeps m = 2k candidates per row; their exact distances give
 * rho unless float rounding (bounded by delta) could have hidden a closer
 * row: then that row is searched again in double. Tightly collapsed data
 * (distances near float resolution) thus cost a double pass, others not. */
static lpc_status kth_neighbour(const double *x, int64_t n, int p, int k, double *rho)
{
    int m = (int64_t)2 * k < n - 1 ? 2 * k : (int)(n - 1); /* k <= INT_MAX / 2 */
    space s = {x, NULL, NULL, NULL, n, p, m, 0.0f, NULL, NULL};
    float *xf = lpci_malloc((size_t)n * (size_t)p * sizeof *xf);
    double *norm = lpci_malloc((size_t)n * sizeof *norm);
    float *normf = lpci_malloc((size_t)(n + TILE) * sizeof *normf);
    float *g = lpci_malloc((size_t)lpci_threads() * TILE * TILE * sizeof *g);
    double *bd = lpci_malloc((size_t)n * (size_t)m * sizeof *bd);
    int64_t *bi = lpci_malloc((size_t)n * (size_t)m * sizeof *bi);
    int64_t *rows = lpci_malloc((size_t)n * sizeof *rows);
    double *dg = NULL, *pack = NULL;
    lpc_status st = LPC_OK;
    if (!xf || !norm || !normf || !g || !bd || !bi || !rows) {
        st = lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for the neighbour search of "
                        "%lld samples", (long long)n);
        goto done;
    }
    double norm_max = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < p; j++) {
            xf[i * p + j] = (float)x[i * p + j];
            t += (double)xf[i * p + j] * xf[i * p + j];
        }
        norm[i] = t;
        normf[i] = (float)t;
        norm_max = t > norm_max ? t : norm_max;
    }
    for (int64_t i = n; i < n + TILE; i++)
        normf[i] = INFINITY; /* padding columns of the last tile: never a candidate */
    s.xf = xf;
    s.norm = norm;
    s.normf = normf;
    s.bd = bd;
    s.bi = bi;
    /* The float pre-check's distance differs from the double one by a few
     * float roundings of terms up to 2 norm_max; 16 eps norm_max bounds it. */
    s.margin = (float)(16.0 * FLT_EPSILON * norm_max);
    search_float(&s, g);
    int64_t flagged = 0;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < n; i++) {
        double float_worst = bd[i * m]; /* the heap's root */
        double delta = p * FLT_EPSILON * (norm[i] + norm_max);
        exact_sorted(&s, i, bd + i * m, bi + i * m, m);
        rho[i] = sqrt(bd[i * m + k - 1]);
        /* Every row outside the candidates is at float distance >= float_worst. */
        if (m < n - 1 && !(float_worst > bd[i * m + k - 1] + 2.0 * delta))
            rho[i] = -1.0;
    }
    for (int64_t i = 0; i < n; i++)
        if (rho[i] < 0.0)
            rows[flagged++] = i;
    if (flagged > 0) {
        dg = lpci_malloc((size_t)ROW_BLOCK * COL_BLOCK * sizeof *dg);
        pack = lpci_malloc((size_t)ROW_BLOCK * (size_t)p * sizeof *pack);
        if (!dg || !pack) {
            st = lpci_error(LPC_E_NOMEM, "lpc_kl_entropy: no memory for the double-precision "
                            "search of %lld samples", (long long)flagged);
            goto done;
        }
        /* Norms in double for the double pass (the float ones were of xf). */
        for (int64_t i = 0; i < n; i++) {
            double t = 0.0;
            for (int j = 0; j < p; j++)
                t += x[i * p + j] * x[i * p + j];
            norm[i] = t;
        }
        search_double(&s, rows, flagged, bd, bi, dg, pack);
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
        for (int64_t r = 0; r < flagged; r++) {
            exact_sorted(&s, rows[r], bd + r * m, bi + r * m, m);
            rho[rows[r]] = sqrt(bd[r * m + k - 1]);
        }
    }
done:
    lpci_free(xf);
    lpci_free(norm);
    lpci_free(normf);
    lpci_free(g);
    lpci_free(dg);
    lpci_free(pack);
    lpci_free(bd);
    lpci_free(bi);
    lpci_free(rows);
    return st;
}

lpc_status lpc_kl_entropy(const float *z, int64_t n, int p, int k, unsigned flags, double *h,
                          double *h_per_dim)
{
    const char *fn = "lpc_kl_entropy";
    lpc_status s = lpci_check_features(fn, z, n, p);
    if (s != LPC_OK)
        return s;
    if (k == 0)
        k = LPC_KL_DEFAULT_K;
    /* 2k candidates per row are kept (an int); k + 1 must not overflow either. */
    if (k < 1 || k > INT_MAX / 2)
        return lpci_error(LPC_E_ARG, "%s: k = %d must be in [1, %d]", fn, k, INT_MAX / 2);
    if (n < (int64_t)k + 1)
        return lpci_error(LPC_E_ARG, "%s: needs N >= k + 1 = %lld samples, got %lld", fn,
                          (long long)k + 1, (long long)n);
    if (flags & ~LPC_KL_STANDARDIZE)
        return lpci_error(LPC_E_ARG, "%s: unknown flags 0x%x", fn, flags);
    size_t np, nm, m = (int64_t)2 * k < n - 1 ? 2 * (size_t)k : (size_t)(n - 1);
    if (lpci_mul_size((size_t)n, (size_t)p * sizeof(double), &np))
        return lpci_error(LPC_E_ARG, "%s: %lld x %d is too large", fn, (long long)n, p);
    if (lpci_mul_size((size_t)n, m * sizeof(double), &nm)) /* the candidate buffers */
        return lpci_error(LPC_E_ARG, "%s: %lld samples x %zu neighbour candidates is too large",
                          fn, (long long)n, m);
    double *x = lpci_malloc(np);
    double *rho = lpci_malloc((size_t)n * sizeof *rho);
    if (!x || !rho) {
        s = lpci_error(LPC_E_NOMEM, "%s: no memory for %lld x %d doubles", fn, (long long)n, p);
        goto done;
    }
    s = prepare(z, n, p, (flags & LPC_KL_STANDARDIZE) != 0, x);
    int e = s == LPC_OK ? scale_to_unit(x, n * (int64_t)p) : 0;
    if (s == LPC_OK)
        s = kth_neighbour(x, n, p, k, rho);
    if (s != LPC_OK)
        goto done;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += log(ldexp(rho[i], e) + 1e-10);
    double value = digamma_int(n) - digamma_int(k) + lpc_ln_unit_ball_volume(p) +
                   (double)p / (double)n * sum;
    if (h)
        *h = value;
    if (h_per_dim)
        *h_per_dim = value / p;
done:
    lpci_free(x);
    lpci_free(rho);
    return s;
}
