/* The Latent Point Collapse authors' current training configurations
 * (their published configuration files, doc/fidelity.md) as named
 * schedules built from the library's generic blocks (lpc_gamma_two_phase,
 * lpc_lr_cosine), and the clocks that map a shorter run onto them. The
 * paper's first-version schedules (lpc_schedule_eval_ex) stay the default
 * of the programs; a named schedule replaces them. */
#ifndef LPC_EXAMPLES_SCHEDULES_H
#define LPC_EXAMPLES_SCHEDULES_H
#include <stdio.h>
#include <lpc/lpc.h>

typedef struct {
    const char *name;                  /* "cifar10", "cifar10-06", ... */
    const char *what;                  /* one line for --help */
    lpc_gamma_two_phase_options gamma; /* the L2-latent weight per epoch */
    lpc_lr_cosine_options lr;          /* lr.lr is the run's base rate (set by the trainer);
                                        * lr.total is the length of the schedule's clock */
    double weight_decay;               /* the configuration's AdamW weight decay, all groups */
} ex_schedule;

/* Number of named schedules, and schedule i (NULL when out of range). */
int ex_schedule_count(void);
const ex_schedule *ex_schedule_at(int i);
/* Index of a schedule by name, or -1 after a message on stderr listing them. */
int ex_schedule_index(const char *name);
/* "  NAME  what" lines for --help. */
void ex_schedule_list(FILE *f);
/* Checks every field through the library (a message on stderr naming the
 * schedule when one is out of range); 1 when valid. */
int ex_schedule_valid(const ex_schedule *s);
/* First epoch of the schedule's clock at which gamma reaches gamma.max_2. */
int64_t ex_schedule_gamma_full_epoch(const ex_schedule *s);

/* Epochs of the schedule's clock (from 1) at step `step` (from 0) of epoch
 * `epoch` (from 0) of a run of `epochs` epochs of `steps` steps:
 *   PAPER       the run's own epoch, epoch + 1 (a run as long as the clock is
 *               the configuration itself; a shorter one is its beginning);
 *   COMPRESSED  floor((epoch + step / steps) * lr.total / epochs) + 1 for
 *               gamma and learning rate, so the run covers the whole clock;
 *   RAMP        the learning rate as COMPRESSED; gamma's clock runs to the
 *               epoch where gamma reaches its final value at the fraction
 *               `reach` of the steps: floor(min(g / (reach G), 1) (F - 1)) + 1
 *               at global step g of G, F = ex_schedule_gamma_full_epoch.
 * LPC_E_ARG for out-of-range arguments. */
lpc_status ex_schedule_clock(const ex_schedule *s, lpc_protocol p, int64_t epoch, int64_t step,
                             int64_t steps, int64_t epochs, double reach, int64_t *gamma_epoch,
                             int64_t *lr_epoch);
#endif
