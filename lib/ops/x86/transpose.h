/* 8 x 8 and 4 x 8 float transposes in AVX registers, for packing GEMM
 * micro-panels (x86 kernel files only: they compile with -mavx2 or more). */
#include <immintrin.h>
#include <stdint.h>

/* dst[i*ldd + j] = r[j][i] for the 8 rows r. */
static inline void transpose8_regs(const __m256 *r, float *dst, int64_t ldd)
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

/* dst[i*ldd + j] = r[j][i] for the 4 rows r (i < 8, j < 4). */
static inline void transpose4x8_regs(const __m256 *r, float *dst, int64_t ldd)
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

/* dst[i*ldd + j] = src[j*lds + i] for an 8 x 8 block. */
static inline void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd)
{
    __m256 r[8];
    for (int j = 0; j < 8; j++)
        r[j] = _mm256_loadu_ps(src + j * lds);
    transpose8_regs(r, dst, ldd);
}
