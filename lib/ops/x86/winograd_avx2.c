/* Winograd transforms for the AVX2 path: the portable lane loops compiled
 * with -mavx2 -mfma, which vectorises them 8 lanes at a time (AVX2 gathers
 * with masks for the input taps). */
#define WINO_ISA avx2
#include "../winograd_lanes.h"
