/* liblpc — checkpoint (declarations added by the work on this concern). */
#ifndef LPC_CHECKPOINT_H
#define LPC_CHECKPOINT_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
