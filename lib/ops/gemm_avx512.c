/* Row-major sgemm with an AVX-512 micro-kernel, used instead of BLIS on CPUs
 * with AVX-512F: Debian's BLIS 0.9 runs its AVX2 (haswell) kernels on our
 * AVX-512 Xeons (its skx context cannot be selected), and those reach about
 * half of the CPU's FMA throughput.
 *
 * The structure is the classic Goto/BLIS one. C is computed in 12 x 32
 * tiles: 12 rows broadcast from a packed panel of A against two 16-float
 * vectors of a packed panel of B, accumulated in 24 zmm registers. Loops:
 * K in blocks of KC, then rows of A in blocks of MB (packed once), then
 * columns of B in blocks of NB (packed into L2), then 12-row A micro-panels
 * (kept in L1) against 32-column B micro-panels streamed from L2.
 *
 * Threads split C into column (or row) ranges; every element of C is
 * computed by one thread with one summation order, so results are identical
 * for a given thread count. */
#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include "../core/internal.h"

#define AVX512 __attribute__((target("avx512f,fma")))

enum { MR = 12, NR = 32, KC = 256, MB = 384, NB = 512 };
enum { WORK_FLOATS = MB * KC + KC * NB };

/* ---- per-thread packing workspace, allocated once per thread ---- */

static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;
static int work_key_ok;

static void work_free(void *p) { lpci_free(p); }
static void work_key_init(void) { work_key_ok = pthread_key_create(&work_key, work_free) == 0; }

/* 64-byte aligned workspace of WORK_FLOATS, or NULL when none can be had. */
static float *workspace(void)
{
    pthread_once(&work_once, work_key_init);
    if (!work_key_ok)
        return NULL;
    char *raw = pthread_getspecific(work_key);
    if (!raw) {
        raw = lpci_malloc(WORK_FLOATS * sizeof(float) + 64);
        if (!raw)
            return NULL;
        if (pthread_setspecific(work_key, raw) != 0) {
            lpci_free(raw);
            return NULL;
        }
    }
    return lpci_align64(raw);
}

/* ---- packing ---- */

typedef struct {
    const float *p;
    int64_t ld;
    int trans;
} matrix;

/* 8 x 8 block transpose of rows r: dst[i*ldd + j] = r[j][i]. */
AVX512 static void transpose8_regs(const __m256 *r, float *dst, int64_t ldd)
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
           t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]),
           t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
           t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
           u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
           u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* 4 x 8 block transpose of rows r: dst[i*ldd + j] = r[j][i] for j < 4. */
AVX512 static void transpose4x8_regs(const __m256 *r, float *dst, int64_t ldd)
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
           t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                   _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
    for (int i = 0; i < 4; i++) { /* u[i] holds columns i and i + 4 */
        _mm_storeu_ps(dst + i * ldd, _mm256_castps256_ps128(u[i]));
        _mm_storeu_ps(dst + (i + 4) * ldd, _mm256_extractf128_ps(u[i], 1));
    }
}

/* 8 x 8 block transpose: dst[i*ldd + j] = src[j*lds + i]. */
AVX512 static void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd)
{
    __m256 r[8];
    for (int j = 0; j < 8; j++)
        r[j] = _mm256_loadu_ps(src + j * lds);
    transpose8_regs(r, dst, ldd);
}

/* Rows [i0, i0+mr) x cols [p0, p0+kc) of A into a 12-wide micro-panel:
 * dst[p*MR + r] = A(i0+r, p0+p), zero for r >= mr. */
AVX512 static void pack_a_panel(matrix a, int64_t i0, int mr, int64_t p0, int kc, float *dst)
{
    if (a.trans) { /* A(i, p) = a[p*ld + i]: the 12 values of one p are adjacent */
        __mmask16 live = (__mmask16)((1u << mr) - 1), row = (__mmask16)((1u << MR) - 1);
        const float *src = a.p + p0 * a.ld + i0;
        for (int p = 0; p < kc; p++, src += a.ld)
            _mm512_mask_storeu_ps(dst + p * MR, row, _mm512_maskz_loadu_ps(live, src));
        return;
    }
    /* rows lie ld apart: 8 columns at a time through block transposes of
     * rows 0-7 and 8-11 (rows from mr on read as zero) */
    const float *src = a.p + i0 * a.ld + p0;
    int p8 = kc & ~7;
    for (int p = 0; p < p8; p += 8) {
        __m256 r[MR];
        for (int i = 0; i < MR; i++)
            r[i] = i < mr ? _mm256_loadu_ps(src + i * a.ld + p) : _mm256_setzero_ps();
        transpose8_regs(r, dst + p * MR, MR);
        transpose4x8_regs(r + 8, dst + p * MR + 8, MR);
    }
    for (int p = p8; p < kc; p++)
        for (int i = 0; i < MR; i++)
            dst[p * MR + i] = i < mr ? src[i * a.ld + p] : 0.0f;
}

/* Rows [p0, p0+kc) x cols [j0, j0+nr) of B into a 32-wide micro-panel:
 * dst[p*NR + c] = B(p0+p, j0+c), zero for c >= nr. A contiguous panel
 * streams into L1 far better than rows that lie ldb apart. */
AVX512 static void pack_b_panel(matrix b, int64_t p0, int kc, int64_t j0, int nr, float *dst)
{
    if (!b.trans) {
        __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
        __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
        const float *src = b.p + p0 * b.ld + j0;
        for (int p = 0; p < kc; p++, src += b.ld) {
            _mm512_store_ps(dst + p * NR, _mm512_maskz_loadu_ps(m0, src));
            _mm512_store_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
        return;
    }
    /* B stored transposed, B(p, j) = b[j*ld + p]: 8 x 8 block transposes */
    const float *src = b.p + j0 * b.ld + p0;
    int c8 = nr & ~7, p8 = kc & ~7;
    for (int c = 0; c < c8; c += 8)
        for (int p = 0; p < p8; p += 8)
            transpose8(src + c * b.ld + p, b.ld, dst + p * NR + c, NR);
    for (int p = 0; p < kc; p++)
        for (int c = p < p8 ? c8 : 0; c < NR; c++)
            dst[p * NR + c] = c < nr ? src[c * b.ld + p] : 0.0f;
}

/* ---- micro-kernel ---- */

/* Tile of C (mr x nr, both at most the full 12 x 32) = beta C + alpha a b
 * from packed micro-panels a and b. beta == 0 never reads C. */
AVX512 static void kernel(int kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                          int nr, float alpha, float beta)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00,
           c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00, c90 = c00, c91 = c00,
           ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
    for (int r = 0; r < mr; r++) { /* C's rows are far apart: fetch them during the loop */
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + nr - 1), _MM_HINT_T0);
    }
#define LPCI_ROW(r, x0, x1)                                                                        \
    {                                                                                              \
        __m512 ar = _mm512_set1_ps(a[r]);                                                          \
        x0 = _mm512_fmadd_ps(ar, b0, x0);                                                          \
        x1 = _mm512_fmadd_ps(ar, b1, x1);                                                          \
    }
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0); /* B streams from L2 */
        _mm_prefetch((const char *)(b + 8 * NR + 16), _MM_HINT_T0);
        LPCI_ROW(0, c00, c01) LPCI_ROW(1, c10, c11) LPCI_ROW(2, c20, c21)
        LPCI_ROW(3, c30, c31) LPCI_ROW(4, c40, c41) LPCI_ROW(5, c50, c51)
        LPCI_ROW(6, c60, c61) LPCI_ROW(7, c70, c71) LPCI_ROW(8, c80, c81)
        LPCI_ROW(9, c90, c91) LPCI_ROW(10, ca0, ca1) LPCI_ROW(11, cb0, cb1)
        a += MR;
        b += NR;
    }
#undef LPCI_ROW
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define LPCI_STORE(r, x0, x1)                                                                      \
    if (r < mr) {                                                                                  \
        float *cr = c + (r) * ldc;                                                                 \
        __m512 y0 = _mm512_mul_ps(va, x0), y1 = _mm512_mul_ps(va, x1);                             \
        if (beta != 0.0f) {                                                                        \
            y0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), y0);                           \
            y1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), y1);                      \
        }                                                                                          \
        _mm512_mask_storeu_ps(cr, m0, y0);                                                         \
        _mm512_mask_storeu_ps(cr + 16, m1, y1);                                                    \
    }
    LPCI_STORE(0, c00, c01) LPCI_STORE(1, c10, c11) LPCI_STORE(2, c20, c21)
    LPCI_STORE(3, c30, c31) LPCI_STORE(4, c40, c41) LPCI_STORE(5, c50, c51)
    LPCI_STORE(6, c60, c61) LPCI_STORE(7, c70, c71) LPCI_STORE(8, c80, c81)
    LPCI_STORE(9, c90, c91) LPCI_STORE(10, ca0, ca1) LPCI_STORE(11, cb0, cb1)
#undef LPCI_STORE
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* One thread's C[m x n] = alpha op(A) op(B) + beta C through `work`. */
AVX512 static void gemm_serial(matrix a, matrix b, int64_t m, int64_t n, int64_t k, float alpha,
                               float beta, float *c, int64_t ldc, float *work)
{
    float *apack = work, *bpack = work + MB * KC;
    if (k == 0) { /* no products: C = beta C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    /* equal K blocks of at most KC: 784 runs as 4 x 196, not 3 x 256 + 16 */
    int64_t k_blocks = (k + KC - 1) / KC, kc_even = (k + k_blocks - 1) / k_blocks;
    for (int64_t p0 = 0; p0 < k; p0 += kc_even) {
        int kc = (int)min64(kc_even, k - p0);
        float beta_k = p0 == 0 ? beta : 1.0f;
        for (int64_t i0 = 0; i0 < m; i0 += MB) {
            int64_t mb = min64(MB, m - i0);
            for (int64_t r = 0; r < mb; r += MR)
                pack_a_panel(a, i0 + r, (int)min64(MR, mb - r), p0, kc, apack + r * kc);
            for (int64_t j0 = 0; j0 < n; j0 += NB) {
                int64_t nb = min64(NB, n - j0);
                for (int64_t q = 0; q < nb; q += NR)
                    pack_b_panel(b, p0, kc, j0 + q, (int)min64(NR, nb - q), bpack + q * kc);
                for (int64_t r = 0; r < mb; r += MR)
                    for (int64_t q = 0; q < nb; q += NR)
                        kernel(kc, apack + r * kc, bpack + q * kc, c + (i0 + r) * ldc + j0 + q,
                               ldc, (int)min64(MR, mb - r), (int)min64(NR, nb - q), alpha,
                               beta_k);
            }
        }
    }
}

int lpci_sgemm_avx512_usable(void)
{
    static atomic_int usable = -1; /* threads may race to fill it in: same answer */
    int u = atomic_load(&usable);
    if (u < 0) {
        __builtin_cpu_init(); /* also checks that the OS saves the zmm state */
        u = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
        atomic_store(&usable, u);
    }
    return u;
}

/* Sub-matrix views for thread t's share: column blocks when C is wide enough,
 * row blocks otherwise. Shares are multiples of the tile size. */
static int split(int64_t m, int64_t n, int nt, int t, int64_t *i0, int64_t *mi, int64_t *j0,
                 int64_t *nj)
{
    int by_cols = (n + NR - 1) / NR >= nt;
    int64_t len = by_cols ? n : m, unit = by_cols ? NR : MR;
    int64_t units = (len + unit - 1) / unit, per = units / nt, extra = units % nt;
    int64_t start = (t * per + (t < extra ? t : extra)) * unit;
    int64_t count = min64((per + (t < extra)) * unit, len - start);
    *i0 = by_cols ? 0 : start;
    *mi = by_cols ? m : count;
    *j0 = by_cols ? start : 0;
    *nj = by_cols ? count : n;
    return count > 0;
}

/* 0 (with C untouched) when a thread cannot get its workspace. */
int lpci_sgemm_avx512(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc)
{
    int nt = omp_in_parallel() ? 1 : lpci_threads();
    if (m * n * k < (int64_t)1 << 18)
        nt = 1; /* too small to pay for waking threads */
    if (nt == 1) { /* no parallel region: callers inside one run many small GEMMs */
        float *work = workspace();
        if (!work)
            return 0;
        matrix av = {a, lda, ta}, bv = {b, ldb, tb};
        gemm_serial(av, bv, m, n, k, alpha, beta, c, ldc, work);
        return 1;
    }
    int ok = 1;
#pragma omp parallel num_threads(nt)
    {
        float *work = workspace();
        if (!work) {
#pragma omp atomic write
            ok = 0;
        }
#pragma omp barrier
        int64_t i0, mi, j0, nj;
        int all_ok;
#pragma omp atomic read
        all_ok = ok;
        int t = omp_get_thread_num();
        if (all_ok && split(m, n, omp_get_num_threads(), t, &i0, &mi, &j0, &nj)) {
            matrix av = {ta ? a + i0 : a + i0 * lda, lda, ta};
            matrix bv = {tb ? b + j0 * ldb : b + j0, ldb, tb};
            gemm_serial(av, bv, mi, nj, k, alpha, beta, c + i0 * ldc + j0, ldc, work);
        }
    }
    return ok;
}
