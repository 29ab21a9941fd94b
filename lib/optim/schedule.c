/* The paper's training schedules (doc/method.md §5) as pure functions of the
 * fractional paper epoch t (epochs counted from 1), and the two short-run
 * protocols that map onto them. */
#include <math.h>
#include <string.h>
#include "../core/internal.h"

#define PAPER_EPOCHS 800
#define GAMMA_START 0.01
#define GAMMA_CAP 1e6
#define GAMMA_LAST_GROWTH 378 /* first n with 0.01 * 1.05^n >= 1e6 */

/* Whole paper epoch of t, at least 1 (schedules are constant before epoch 1). */
static double whole_epoch(double t) { return t < 1.0 ? 1.0 : floor(t); }

/* 0.01 for epochs 1-2, then x1.05 per epoch for at most `growths` epochs. */
static double gamma_grown(double t, double growths)
{
    if (isnan(t))
        return NAN;
    double e = whole_epoch(t);
    return e <= 2.0 ? GAMMA_START : GAMMA_START * pow(1.05, fmin(e - 2.0, growths));
}

double lpc_gamma_paper(double t)
{
    double g = gamma_grown(t, INFINITY);
    return g > GAMMA_CAP ? GAMMA_CAP : g; /* NaN stays NaN */
}

double lpc_gamma_paper_uncapped(double t) { return gamma_grown(t, GAMMA_LAST_GROWTH); }

double lpc_lr_factor_cosine(int64_t g, int64_t total)
{
    if (total <= 0)
        return NAN;
    double frac = g < 0 ? 0.0 : g > total ? 1.0 : (double)g / (double)total;
    return 0.5 * (1.0 + cos(M_PI * frac));
}

double lpc_lr_factor_paper(double t)
{
    if (isnan(t))
        return NAN;
    double e = whole_epoch(t);
    if (e < 301.0)
        return 1.0;
    double halvings = floor((e - 301.0) / 50.0) + 1.0; /* effective at 301, 351, ... 751 */
    return ldexp(1.0, -(int)fmin(halvings, 10.0));
}

double lpc_arcface_scale(double t)
{
    if (isnan(t))
        return NAN;
    return fmin(16.0 + (whole_epoch(t) - 1.0), 64.0);
}

double lpc_arcface_margin(double t)
{
    if (isnan(t))
        return NAN;
    return fmin(0.1 + 0.01 * (whole_epoch(t) - 1.0), 0.5);
}

double lpc_paper_epoch(int64_t epoch, int64_t step, int64_t steps_per_epoch,
                       int64_t total_epochs)
{
    if (steps_per_epoch <= 0 || total_epochs <= 0)
        return NAN;
    double e = (double)epoch + (double)step / (double)steps_per_epoch;
    return e * PAPER_EPOCHS / (double)total_epochs + 1.0;
}

double lpc_gamma_ramp(int64_t g, int64_t total, double gamma_max, double reach)
{
    if (total <= 0 || !(gamma_max > 0.0) || !(reach > 0.0 && reach <= 1.0))
        return NAN;
    double frac = (g < 0 ? 0.0 : (double)g) / (reach * (double)total);
    return GAMMA_START * pow(gamma_max / GAMMA_START, fmin(frac, 1.0));
}

lpc_status lpc_schedule_eval(lpc_protocol p, lpc_sched_value what, int64_t epoch, int64_t step,
                             int64_t steps_per_epoch, int64_t total_epochs, double gamma_max,
                             double reach, double *out)
{
    return lpc_schedule_eval_ex(p, what, epoch, step, steps_per_epoch, total_epochs, gamma_max,
                                reach, LPC_LR_DECAY_PROTOCOL, 0, out);
}

/* Non-classifier LR factor of a decay at paper epoch t, global step g of G. */
static double lr_factor(lpc_protocol p, lpc_lr_decay decay, double t, int64_t g, int64_t total)
{
    if (decay == LPC_LR_DECAY_PROTOCOL)
        decay = p == LPC_PROTOCOL_RAMP ? LPC_LR_DECAY_CONSTANT : LPC_LR_DECAY_HALVINGS;
    switch (decay) {
    case LPC_LR_DECAY_HALVINGS: return lpc_lr_factor_paper(t);
    case LPC_LR_DECAY_COSINE: return lpc_lr_factor_cosine(g, total);
    default: return 1.0;
    }
}

lpc_status lpc_schedule_eval_ex(lpc_protocol p, lpc_sched_value what, int64_t epoch,
                                int64_t step, int64_t steps_per_epoch, int64_t total_epochs,
                                double gamma_max, double reach, lpc_lr_decay decay,
                                unsigned flags, double *out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: out is NULL");
    if (p < LPC_PROTOCOL_PAPER || p > LPC_PROTOCOL_RAMP)
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: unknown protocol %d", (int)p);
    if (what < LPC_SCHED_GAMMA || what > LPC_SCHED_ARC_M)
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: unknown schedule value %d", (int)what);
    if (decay < LPC_LR_DECAY_PROTOCOL || decay > LPC_LR_DECAY_COSINE)
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: unknown learning-rate decay %d",
                          (int)decay);
    if (flags & ~LPC_SCHED_GAMMA_UNCAPPED)
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: unknown flags 0x%x", flags);
    if (steps_per_epoch <= 0 || steps_per_epoch > INT32_MAX || epoch < 0 || epoch > INT32_MAX ||
        step < 0 || step >= steps_per_epoch)
        return lpci_error(LPC_E_ARG,
                          "lpc_schedule_eval: need 0 <= epoch < 2^31 and 0 <= step < "
                          "steps_per_epoch < 2^31, got epoch %lld, step %lld, steps_per_epoch %lld",
                          (long long)epoch, (long long)step, (long long)steps_per_epoch);
    if (p != LPC_PROTOCOL_PAPER && (total_epochs <= 0 || total_epochs > INT32_MAX))
        return lpci_error(LPC_E_ARG, "lpc_schedule_eval: total_epochs %lld must be in 1..2^31-1",
                          (long long)total_epochs);
    if (p == LPC_PROTOCOL_RAMP &&
        (!(gamma_max > 0.0 && isfinite(gamma_max)) || !(reach > 0.0 && reach <= 1.0)))
        return lpci_error(LPC_E_ARG,
                          "lpc_schedule_eval: ramp needs gamma_max > 0 and reach in (0, 1], got "
                          "%g and %g", gamma_max, reach);
    /* The paper's protocol is the compressed mapping with E = 800. */
    int64_t e_total = p == LPC_PROTOCOL_PAPER ? PAPER_EPOCHS : total_epochs;
    double t = lpc_paper_epoch(epoch, step, steps_per_epoch, e_total);
    int64_t g = epoch * steps_per_epoch + step, total = e_total * steps_per_epoch;
    switch (what) {
    case LPC_SCHED_GAMMA:
        *out = p == LPC_PROTOCOL_RAMP ? lpc_gamma_ramp(g, total, gamma_max, reach)
               : flags & LPC_SCHED_GAMMA_UNCAPPED ? lpc_gamma_paper_uncapped(t)
                                                  : lpc_gamma_paper(t);
        break;
    case LPC_SCHED_LR_FACTOR:
        *out = lr_factor(p, decay, t, g, total);
        break;
    case LPC_SCHED_ARC_S:
        *out = lpc_arcface_scale(t);
        break;
    case LPC_SCHED_ARC_M:
        *out = lpc_arcface_margin(t);
        break;
    }
    return LPC_OK;
}

/* ---- generic building blocks ---- */

#define MAX_EPOCH ((int64_t)INT32_MAX)
#define MAX_UPDATES 1000000 /* multiplications per phase of the two-phase ramp */

void lpc_gamma_two_phase_options_init(lpc_gamma_two_phase_options *o)
{
    if (o)
        *o = (lpc_gamma_two_phase_options){.size = sizeof *o, .initial = 1e-4, .start = 1,
                                           .factor_1 = 2.0, .step_1 = 5, .max_1 = 1e3,
                                           .factor_2 = 1.25, .step_2 = 5, .max_2 = 1e6};
}

void lpc_lr_cosine_options_init(lpc_lr_cosine_options *o)
{
    if (o)
        *o = (lpc_lr_cosine_options){.size = sizeof *o, .lr = 1e-3, .floor = 0.0, .hold = 0,
                                     .total = 100, .warmup_factor = 1.0, .warmup_begin = 0,
                                     .warmup_end = 0};
}

/* Copies the caller's fields that lie within its size over the defaults in
 * *dst (of `full` bytes); LPC_E_ARG for a size the library cannot read. */
static lpc_status read_options(const char *fn, const void *src, void *dst, size_t full)
{
    if (!src)
        return LPC_OK;
    size_t size = *(const size_t *)src;
    if (size < sizeof(size_t) || size > full)
        return lpci_error(LPC_E_ARG, "%s: options size %zu is not in [%zu, %zu] (call the "
                          "_options_init function first)", fn, size, sizeof(size_t), full);
    memcpy(dst, src, size);
    return LPC_OK;
}

static lpc_status check_epoch(const char *fn, int64_t epoch, const double *out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: out is NULL", fn);
    if (epoch < 0 || epoch > MAX_EPOCH)
        return lpci_error(LPC_E_ARG, "%s: epoch %lld is not in [0, 2^31)", fn, (long long)epoch);
    return LPC_OK;
}

/* Whether reaching `max` from `from` by `factor` takes at most MAX_UPDATES steps. */
static int reachable(double from, double factor, double max)
{
    return from >= max || log(max / from) / log(factor) <= (double)MAX_UPDATES;
}

lpc_status lpc_gamma_two_phase(const lpc_gamma_two_phase_options *opts, int64_t epoch,
                               double *out)
{
    static const char fn[] = "lpc_gamma_two_phase";
    lpc_gamma_two_phase_options o;
    lpc_gamma_two_phase_options_init(&o);
    lpc_status s = check_epoch(fn, epoch, out);
    if (s != LPC_OK || (s = read_options(fn, opts, &o, sizeof o)) != LPC_OK)
        return s;
    if (!(o.initial > 0.0) || !(o.max_1 >= o.initial) || !(o.max_2 >= o.max_1) ||
        !isfinite(o.max_2) || !(o.factor_1 > 1.0) || !(o.factor_2 > 1.0) ||
        !isfinite(o.factor_1) || !isfinite(o.factor_2) || o.start < 1 ||
        o.start > MAX_EPOCH || o.step_1 < 1 || o.step_1 > MAX_EPOCH || o.step_2 < 1 ||
        o.step_2 > MAX_EPOCH)
        return lpci_error(LPC_E_ARG, "%s: need 0 < initial <= max_1 <= max_2 < inf, factors "
                          "> 1 and finite, 1 <= start, step_1, step_2 < 2^31; got initial %g, "
                          "max_1 %g, max_2 %g, factors %g and %g, start %lld, steps %lld and "
                          "%lld", fn, o.initial, o.max_1, o.max_2, o.factor_1, o.factor_2,
                          (long long)o.start, (long long)o.step_1, (long long)o.step_2);
    if (!reachable(o.initial, o.factor_1, o.max_1) || !reachable(o.max_1, o.factor_2, o.max_2))
        return lpci_error(LPC_E_ARG, "%s: a phase needs more than %d multiplications to reach "
                          "its maximum (factor too close to 1)", fn, MAX_UPDATES);
    double g = o.initial;
    /* Phase 1: updates at start, start + step_1, ... while below max_1. */
    int64_t next = o.start, phase2 = o.start;
    while (g < o.max_1) {
        if (next > epoch) {
            *out = g;
            return LPC_OK;
        }
        g = fmin(g * o.factor_1, o.max_1);
        phase2 = next + 1; /* phase 2 begins the epoch after the one that reached max_1 */
        next += o.step_1;
    }
    /* Phase 2: updates at phase2, phase2 + step_2, ... while below max_2. */
    for (next = phase2; g < o.max_2 && next <= epoch; next += o.step_2)
        g = fmin(g * o.factor_2, o.max_2);
    *out = g;
    return LPC_OK;
}

lpc_status lpc_lr_cosine(const lpc_lr_cosine_options *opts, int64_t epoch, double *out)
{
    static const char fn[] = "lpc_lr_cosine";
    lpc_lr_cosine_options o;
    lpc_lr_cosine_options_init(&o);
    lpc_status s = check_epoch(fn, epoch, out);
    if (s != LPC_OK || (s = read_options(fn, opts, &o, sizeof o)) != LPC_OK)
        return s;
    if (!(o.lr > 0.0) || !isfinite(o.lr) || !(o.floor >= 0.0) || !(o.floor <= o.lr) ||
        o.hold < 0 || o.hold > MAX_EPOCH || o.total < 1 || o.total > MAX_EPOCH ||
        !(o.warmup_factor > 0.0 && o.warmup_factor <= 1.0) || o.warmup_begin < 0 ||
        o.warmup_end < 0 || o.warmup_end > MAX_EPOCH ||
        (o.warmup_end != 0 && o.warmup_end <= o.warmup_begin))
        return lpci_error(LPC_E_ARG, "%s: need 0 <= floor <= lr < inf, lr > 0, 0 <= hold, "
                          "1 <= total, warmup_factor in (0, 1], warmup_end 0 or > warmup_begin "
                          ">= 0 (all < 2^31); got lr %g, floor %g, hold %lld, total %lld, "
                          "warmup %g over (%lld, %lld]", fn, o.lr, o.floor, (long long)o.hold,
                          (long long)o.total, o.warmup_factor, (long long)o.warmup_begin,
                          (long long)o.warmup_end);
    if (epoch < 1)
        epoch = 1;
    if (o.warmup_end > 0 && epoch <= o.warmup_end) {
        double alpha = epoch <= o.warmup_begin ? 0.0
                       : (double)(epoch - o.warmup_begin) / (double)(o.warmup_end - o.warmup_begin);
        *out = o.lr * (o.warmup_factor + (1.0 - o.warmup_factor) * alpha);
        return LPC_OK;
    }
    if (o.hold >= o.total) {
        *out = o.lr;
        return LPC_OK;
    }
    int64_t span = o.total - o.hold > 1 ? o.total - o.hold : 1;
    int64_t t = epoch - o.hold < 0 ? 0 : epoch - o.hold > span ? span : epoch - o.hold;
    *out = o.floor + (o.lr - o.floor) * (1.0 + cos(M_PI * (double)t / (double)span)) / 2.0;
    return LPC_OK;
}
