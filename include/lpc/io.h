/* liblpc — io (declarations added by the work on this concern). */
#ifndef LPC_IO_H
#define LPC_IO_H
#include "tensor.h"
#include "module.h"

LPC_BEGIN_DECLS
LPC_END_DECLS
#endif
