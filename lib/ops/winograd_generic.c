/* The portable Winograd transforms, for CPUs without a kernel path of their
 * own (and LPC_CPU=generic). */
#define WINO_ISA generic
#include "winograd_lanes.h"
