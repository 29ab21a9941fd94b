/* Optimizer internals shared with the checkpoint code (lib/io/checkpoint.c). */
#ifndef LPC_OPTIM_INTERNAL_H
#define LPC_OPTIM_INTERNAL_H
#include "../core/internal.h"

/* Number of groups; the group a parameter belongs to (-1 if out of range). */
int lpci_adamw_num_groups(const lpc_adamw *opt);
int lpci_adamw_param_group(const lpc_adamw *opt, int i);
/* Hyper-parameters of a group (for saving), and setting both (for restoring). */
double lpci_adamw_group_wd(const lpc_adamw *opt, int group);
void lpci_adamw_set_group(lpc_adamw *opt, int group, double lr, double wd);
#endif
