/* liblpc — analysis (declarations added by the work on this concern). */
#ifndef LPC_ANALYSIS_H
#define LPC_ANALYSIS_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
