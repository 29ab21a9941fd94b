/* liblpc — recipe (declarations added by the work on this concern). */
#ifndef LPC_RECIPE_H
#define LPC_RECIPE_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
