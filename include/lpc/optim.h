/* liblpc — optim (declarations added by the work on this concern). */
#ifndef LPC_OPTIM_H
#define LPC_OPTIM_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
