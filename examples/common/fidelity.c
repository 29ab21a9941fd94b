#include "fidelity.h"
#include <string.h>
#include "options.h"

static const char *const decays[] = {"protocol", "constant", "halvings", "cosine"};
static const char *const picks[] = {"first", "random", "correct", "random-correct"};

void ex_fidelity_default(ex_fidelity *f)
{
    *f = (ex_fidelity){.lr_decay = LPC_LR_DECAY_PROTOCOL, .warmup = -1, .lr_hold = -1,
                       .lr_floor = -1.0};
}

void ex_fidelity_authors(ex_fidelity *f)
{
    f->gamma_uncapped = 1;
    f->margin_clamp = 1;
    f->train_augmented = 1;
    f->nc_flags = LPC_NC_BY_PREDICTION | LPC_NC_CLASS_COVARIANCE | LPC_NC_CUTOFF_P;
    f->pick = LPC_PICK_RANDOM;
}

/* Index of value in names, or -1 with a message. */
static int choose(const char *opt, const char *value, const char *const *names, int n)
{
    for (int i = 0; value && i < n; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    fprintf(stderr, "error: --%s is one of", opt);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fprintf(stderr, "; got '%s'\n", value ? value : "");
    return -1;
}

int ex_fidelity_option(ex_fidelity *f, const char *name, const char *value)
{
    static const char *const gamma[] = {"capped", "uncapped"}, *const onoff[] = {"off", "on"};
    static const char *const train[] = {"clean", "augmented"}, *const nc1[] = {"liblpc", "authors"};
    int i;
    if (strcmp(name, "authors") == 0) {
        ex_fidelity_authors(f);
        return 1;
    } else if (strcmp(name, "schedule") == 0) {
        if (value && strcmp(value, "v1") == 0)
            f->schedule = 0;
        else if ((i = ex_schedule_index(value)) < 0)
            return 0;
        else
            f->schedule = i + 1;
    } else if (strcmp(name, "gamma-final") == 0) {
        return ex_parse_double("--gamma-final", value, 1e-12, 1e12, &f->gamma_final);
    } else if (strcmp(name, "warmup") == 0) {
        return ex_parse_long("--warmup", value, 0, 1000000, &f->warmup);
    } else if (strcmp(name, "warmup-factor") == 0) {
        return ex_parse_double("--warmup-factor", value, 1e-6, 1, &f->warmup_factor);
    } else if (strcmp(name, "lr-hold") == 0) {
        return ex_parse_long("--lr-hold", value, 0, 1000000, &f->lr_hold);
    } else if (strcmp(name, "lr-floor") == 0) {
        return ex_parse_double("--lr-floor", value, 0, 10, &f->lr_floor);
    } else if (strcmp(name, "lr-decay") == 0) {
        if ((i = choose(name, value, decays, 4)) < 0)
            return 0;
        f->lr_decay = (lpc_lr_decay)i;
    } else if (strcmp(name, "gamma") == 0) {
        if ((i = choose(name, value, gamma, 2)) < 0)
            return 0;
        f->gamma_uncapped = i;
    } else if (strcmp(name, "margin-clamp") == 0) {
        if ((i = choose(name, value, onoff, 2)) < 0)
            return 0;
        f->margin_clamp = i;
    } else if (strcmp(name, "train-metrics") == 0) {
        if ((i = choose(name, value, train, 2)) < 0)
            return 0;
        f->train_augmented = i;
    } else if (strcmp(name, "nc1") == 0) {
        if ((i = choose(name, value, nc1, 2)) < 0)
            return 0;
        f->nc_flags = i ? LPC_NC_BY_PREDICTION | LPC_NC_CLASS_COVARIANCE | LPC_NC_CUTOFF_P : 0;
    } else if (strcmp(name, "deepfool-pick") == 0) {
        if ((i = choose(name, value, picks, 4)) < 0)
            return 0;
        f->pick = (unsigned)i; /* first 0, random 1, correct 2, random-correct 3 */
    } else {
        return -1;
    }
    return 1;
}

void ex_fidelity_usage(FILE *out)
{
    fprintf(out,
        "  --lr-decay D         non-classifier LR decay: protocol (default: halvings for\n"
        "                       paper/compressed, constant for ramp) | constant | halvings\n"
        "                       (the paper's, on the compressed clock) | cosine\n"
        "  The authors' conventions (doc/fidelity.md; defaults are liblpc's):\n"
        "  --gamma capped|uncapped           gamma stops at 1e6 | x1.05 while < 1e6\n"
        "  --margin-clamp off|on             ArcFace/CosFace clamp after the margin\n"
        "  --train-metrics clean|augmented   training-set metrics without | with augmentation\n"
        "  --nc1 liblpc|authors              NC1: true labels, pooled 1/N Sigma_W,\n"
        "                                    max(P,K) eps | predictions, per-class unbiased, P eps\n"
        "  --deepfool-pick first|random|correct|random-correct  DeepFool's test samples\n"
        "  --authors                         all of the above as the authors' code does\n"
        "  --schedule S         v1 (default: the paper's first version, above) or the authors'\n"
        "                       current configuration S (doc/fidelity.md):\n");
    ex_schedule_list(out);
    fprintf(out,
        "  Changes to a --schedule (on its clock of epochs; --protocol maps a run onto it):\n"
        "  --gamma-final X      final gamma (the second phase's cap)\n"
        "  --warmup N           linear warmup of both groups over epochs 1..N (0: none)\n"
        "  --warmup-factor F    its first fraction of the rate (default 0.1)\n"
        "  --lr-hold N          last epoch at the base rate before the cosine\n"
        "  --lr-floor X         rate at the end of the clock\n");
}

static int changes_schedule(const ex_fidelity *f)
{
    return f->gamma_final > 0 || f->warmup >= 0 || f->warmup_factor > 0 || f->lr_hold >= 0 ||
           f->lr_floor >= 0;
}

int ex_fidelity_schedule(const ex_fidelity *f, ex_schedule *out)
{
    if (!f->schedule) {
        if (!changes_schedule(f))
            return 0;
        fprintf(stderr, "error: --gamma-final, --warmup, --warmup-factor, --lr-hold and "
                        "--lr-floor change a named --schedule (the default, v1, has none)\n");
        return -1;
    }
    if (f->lr_decay != LPC_LR_DECAY_PROTOCOL || f->gamma_uncapped) {
        fprintf(stderr, "error: --lr-decay and --gamma uncapped apply to the v1 schedules, not "
                        "to --schedule %s\n", ex_schedule_at(f->schedule - 1)->name);
        return -1;
    }
    *out = *ex_schedule_at(f->schedule - 1);
    if (f->gamma_final > 0)
        out->gamma.max_2 = f->gamma_final;
    if (f->warmup >= 0) {
        out->lr.warmup_begin = 0;
        out->lr.warmup_end = f->warmup;
        if (out->lr.warmup_factor >= 1.0)
            out->lr.warmup_factor = 0.1;
    }
    if (f->warmup_factor > 0)
        out->lr.warmup_factor = f->warmup_factor;
    if (f->lr_hold >= 0)
        out->lr.hold = f->lr_hold;
    if (f->lr_floor >= 0)
        out->lr.floor = f->lr_floor;
    return ex_schedule_valid(out) ? 1 : -1;
}

lpc_status ex_fidelity_apply(const ex_fidelity *f, ex_trainer *t)
{
    ex_schedule sched;
    int named = ex_fidelity_schedule(f, &sched);
    if (named < 0)
        return LPC_E_ARG;
    lpc_status s = ex_trainer_set_schedule(t, named ? &sched : NULL);
    if (s == LPC_OK)
        s = ex_trainer_set(t, EX_TRAIN_LR_DECAY, (double)f->lr_decay);
    if (s == LPC_OK)
        s = ex_trainer_set(t, EX_TRAIN_GAMMA_UNCAPPED, f->gamma_uncapped);
    if (s == LPC_OK)
        s = ex_trainer_set(t, EX_TRAIN_MARGIN_CLAMP, f->margin_clamp);
    return s;
}

void ex_fidelity_describe(const ex_fidelity *f, unsigned parts, char *buf, size_t n)
{
    int train = (parts & EX_FIDELITY_TRAINING) != 0, analysis = (parts & EX_FIDELITY_ANALYSIS) != 0;
    char sched[256] = "";
    if (train && f->schedule) {
        size_t at = (size_t)snprintf(sched, sizeof sched, ",schedule=%s",
                                     ex_schedule_at(f->schedule - 1)->name);
        if (f->gamma_final > 0 && at < sizeof sched)
            at += (size_t)snprintf(sched + at, sizeof sched - at, ",gamma-final=%.17g",
                                   f->gamma_final);
        if (f->warmup >= 0 && at < sizeof sched)
            at += (size_t)snprintf(sched + at, sizeof sched - at, ",warmup=%ld", f->warmup);
        if (f->warmup_factor > 0 && at < sizeof sched)
            at += (size_t)snprintf(sched + at, sizeof sched - at, ",warmup-factor=%.17g",
                                   f->warmup_factor);
        if (f->lr_hold >= 0 && at < sizeof sched)
            at += (size_t)snprintf(sched + at, sizeof sched - at, ",lr-hold=%ld", f->lr_hold);
        if (f->lr_floor >= 0 && at < sizeof sched)
            snprintf(sched + at, sizeof sched - at, ",lr-floor=%.17g", f->lr_floor);
    }
    snprintf(buf, n, "%s%s%s%s%s%s%s%s", train && f->lr_decay ? ",lr-decay=" : "",
             train && f->lr_decay ? decays[f->lr_decay] : "",
             train && f->gamma_uncapped ? ",gamma=uncapped" : "",
             train && f->margin_clamp ? ",margin-clamp=on" : "", sched,
             analysis && f->train_augmented ? ",train-metrics=augmented" : "",
             analysis && f->nc_flags ? ",nc1=authors" : "",
             analysis && f->pick ? ",deepfool-pick=" : "");
    if (analysis && f->pick && strlen(buf) + strlen(picks[f->pick & 3]) < n)
        strcat(buf, picks[f->pick & 3]);
    if (buf[0] == ',')
        memmove(buf, buf + 1, strlen(buf));
}
