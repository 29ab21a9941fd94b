/* Winograd transforms for the NEON path: the portable lane loops, which
 * the aarch64 compiler vectorises with Advanced SIMD 4 lanes at a time. */
#define WINO_ISA neon
#include "../winograd_lanes.h"
