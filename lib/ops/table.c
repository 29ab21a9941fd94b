/* The op table: name, backward function and properties of every taped op. */
#include "../core/internal.h"

const lpci_op_info lpci_ops[LPCI_OP_COUNT] = {
#define LPCI_OP_ROW_(n, f) [LPCI_OP_##n] = {#n, lpci_backward_##n, (f)},
    LPCI_OP_LIST(LPCI_OP_ROW_)
#undef LPCI_OP_ROW_
};

_Static_assert(sizeof lpci_ops / sizeof lpci_ops[0] == LPCI_OP_COUNT,
               "every op needs exactly one table row");
