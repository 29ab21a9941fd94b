/* liblpc — plot (declarations added by the work on this concern). */
#ifndef LPC_PLOT_H
#define LPC_PLOT_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
