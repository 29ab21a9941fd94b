/* liblpc — Latent Point Collapse in C. Umbrella header: include this one.
 * Link with `pkg-config --cflags --libs lpc`. */
#ifndef LPC_LPC_H
#define LPC_LPC_H
#include "export.h"
#include "version.h"
#include "status.h"
#include "ctx.h"
#include "comm.h"
#include "cpu.h"
#include "tensor.h"
#include "rng.h"
#include "ops.h"
#include "loss.h"
#include "module.h"
#include "optim.h"
#include "data.h"
#include "samples.h"
#include "analysis.h"
#include "ood.h"
#include "robust.h"
#include "attack.h"
#include "lipschitz.h"
#include "io.h"
#include "checkpoint.h"
#include "safetensors.h"
#include "custom.h"
#include "head.h"
#endif
