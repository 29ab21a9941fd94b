/* Vectorisable logistic sigmoid shared by SiLU and the fused batch norm. */
#ifndef LPC_OPS_SIGMOID_H
#define LPC_OPS_SIGMOID_H
#include <stdint.h>
#include <string.h>

/* 1 / (1 + exp(-v)) to a few ulp, branch-free so that the loops calling it
 * vectorise (libm's expf is a scalar call): exp(u) = 2^n exp(r) with
 * |r| <= ln2 / 2 and Cephes' polynomial for exp(r). */
static inline float lpci_sigmoid(float v)
{
    /* Clamp |u| to 87 on the bits: float compares would keep the loop scalar. */
    float u = -v;
    uint32_t ub;
    memcpy(&ub, &u, sizeof ub);
    ub = (ub & 0x7fffffffu) > 0x42ae0000u ? (ub & 0x80000000u) | 0x42ae0000u : ub;
    memcpy(&u, &ub, sizeof u);
    float n = (u * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = u - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return 1.0f / (1.0f + p * two_n);
}

#endif
