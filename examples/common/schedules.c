/* The authors' configuration files (configs/cifar10*.yml, cifar100.yml,
 * imagenet.yml) as rows of a table; adding one is one row. */
#include "schedules.h"
#include <math.h>
#include <string.h>

/* gamma: 1e-4 from epoch 1, x2 every `step_` epochs to 1e3, then x1.25
 * every `step_` epochs to `final_`. */
#define GAMMA(step_, final_)                                                                  \
    {.size = sizeof(lpc_gamma_two_phase_options), .initial = 1e-4, .start = 1,               \
     .factor_1 = 2.0, .step_1 = (step_), .max_1 = 1e3, .factor_2 = 1.25, .step_2 = (step_),   \
     .max_2 = (final_)}
/* The non-classifier rate: constant through epoch `hold_`, cosine to `floor_`
 * at epoch `total_`; warmup from `wf_` lr over epochs (0, `we_`] (0: none). The
 * base rate 1e-3 is a placeholder: the trainer uses the run's. */
#define LR(hold_, total_, floor_, wf_, we_)                                                   \
    {.size = sizeof(lpc_lr_cosine_options), .lr = 1e-3, .floor = (floor_), .hold = (hold_),   \
     .total = (total_), .warmup_factor = (wf_), .warmup_begin = 0, .warmup_end = (we_)}
#define CIFAR_LR LR(200, 1000, 1e-8, 1.0, 0)

static const ex_schedule table[] = {
    {"cifar10", "CIFAR-10, 1000 epochs, final gamma 1e6", GAMMA(5, 1e6), CIFAR_LR, 5e-4},
    {"cifar10-06", "as cifar10, final gamma 6e5", GAMMA(5, 6e5), CIFAR_LR, 5e-4},
    {"cifar10-08", "as cifar10, final gamma 8e5", GAMMA(5, 8e5), CIFAR_LR, 5e-4},
    {"cifar10-12", "as cifar10, final gamma 1.2e6", GAMMA(5, 1.2e6), CIFAR_LR, 5e-4},
    {"cifar100", "CIFAR-100: as cifar10", GAMMA(5, 1e6), CIFAR_LR, 5e-4},
    {"imagenet", "ImageNet, 200 epochs, warmup 5, gamma steps every epoch",
     GAMMA(1, 1e6), LR(70, 200, 1e-7, 0.1, 5), 1e-7},
};
#define COUNT ((int)(sizeof table / sizeof table[0]))

int ex_schedule_count(void) { return COUNT; }

const ex_schedule *ex_schedule_at(int i) { return i >= 0 && i < COUNT ? &table[i] : NULL; }

int ex_schedule_index(const char *name)
{
    for (int i = 0; name && i < COUNT; i++)
        if (strcmp(name, table[i].name) == 0)
            return i;
    fprintf(stderr, "error: unknown schedule '%s'; schedules: v1 (the paper's first version)",
            name ? name : "");
    for (int i = 0; i < COUNT; i++)
        fprintf(stderr, ", %s", table[i].name);
    fprintf(stderr, "\n");
    return -1;
}

void ex_schedule_list(FILE *f)
{
    for (int i = 0; i < COUNT; i++)
        fprintf(f, "      %-11s %s\n", table[i].name, table[i].what);
}

int ex_schedule_valid(const ex_schedule *s)
{
    double v;
    if (lpc_gamma_two_phase(&s->gamma, 0, &v) != LPC_OK ||
        lpc_lr_cosine(&s->lr, 0, &v) != LPC_OK) {
        fprintf(stderr, "error: schedule %s: %s\n", s->name, lpc_last_error());
        return 0;
    }
    return 1;
}

int64_t ex_schedule_gamma_full_epoch(const ex_schedule *s)
{
    /* The updates of lpc_gamma_two_phase, counted: phase 1 at start,
     * start + step_1, ... until max_1; phase 2 from the next epoch. */
    const lpc_gamma_two_phase_options *o = &s->gamma;
    double g = o->initial;
    int64_t last = 1, next = o->start;
    int grew = 0;
    for (; g < o->max_1; grew = 1, next += o->step_1) {
        g = fmin(g * o->factor_1, o->max_1);
        last = next;
    }
    next = grew ? last + 1 : o->start;
    while (g < o->max_2) {
        g = fmin(g * o->factor_2, o->max_2);
        last = next;
        next += o->step_2;
    }
    return last;
}

lpc_status ex_schedule_clock(const ex_schedule *s, lpc_protocol p, int64_t epoch, int64_t step,
                             int64_t steps, int64_t epochs, double reach, int64_t *gamma_epoch,
                             int64_t *lr_epoch)
{
    if (!s || !gamma_epoch || !lr_epoch || epoch < 0 || epoch >= INT32_MAX || steps < 1 ||
        step < 0 || step >= steps || epochs < 1 || !(reach > 0.0 && reach <= 1.0)) {
        fprintf(stderr, "error: ex_schedule_clock: arguments out of range\n");
        return LPC_E_ARG;
    }
    if (p == LPC_PROTOCOL_PAPER) {
        *gamma_epoch = *lr_epoch = epoch + 1;
        return LPC_OK;
    }
    double at = (double)epoch + (double)step / (double)steps; /* run epochs done, fractional */
    *lr_epoch = (int64_t)floor(at * (double)s->lr.total / (double)epochs) + 1;
    if (p == LPC_PROTOCOL_COMPRESSED) {
        *gamma_epoch = *lr_epoch;
        return LPC_OK;
    }
    double frac = fmin(at / (reach * (double)epochs), 1.0);
    *gamma_epoch = (int64_t)floor(frac * (double)(ex_schedule_gamma_full_epoch(s) - 1)) + 1;
    return LPC_OK;
}
