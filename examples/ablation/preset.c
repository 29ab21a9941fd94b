#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../common/options.h"
#include "openset.h"
#include "preset.h"

static void all_models(ab_config *c)
{
    c->n_models = 0;
    for (int i = 0; i < ex_model_count() && i < AB_MAX_MODELS; i++)
        c->models[c->n_models++] = i;
}

/* Dense backbone on 10,000 Fashion-MNIST images: doc/method.md §5's ramp protocol run. */
static void quick(ab_config *c)
{
    *c = (ab_config){.dataset = "fashion-mnist", .backbone = EX_BACKBONE_MLP,
                     .protocol = LPC_PROTOCOL_RAMP, .epochs = 40, .batch = 128,
                     .subset = 10000, .deepfool_samples = 1000, .wd = 5e-4, .gamma_max = 100,
                     .reach = 0.7, .augment = 0, .widths = {64, 128, 16}, .lrs = {1e-3},
                     .n_lrs = 1, .seeds = {0}, .n_seeds = 1, .metrics_every = 1};
    ex_fidelity_default(&c->fid);
}

static void fmnist(ab_config *c)
{
    quick(c);
    c->backbone = EX_BACKBONE_RESNET_SMALL;
    c->subset = 0;
    c->epochs = 60;
    c->augment = 1;
    c->metrics_every = 5;
}

static void paper(ab_config *c, int cifar100)
{
    quick(c);
    snprintf(c->dataset, sizeof c->dataset, "%s",
             cifar100 ? "cifar100:data/cifar-100-binary" : "cifar10:data/cifar-10-batches-bin");
    c->backbone = cifar100 ? EX_BACKBONE_RESNET50 : EX_BACKBONE_RESNET18;
    c->protocol = LPC_PROTOCOL_PAPER;
    c->epochs = 800;
    c->metrics_every = 20;
    c->subset = 0;
    c->augment = 1;
    if (cifar100)
        memcpy(c->widths, (int[]){128, 256, 32}, sizeof c->widths);
    c->n_lrs = 5;
    for (int i = 0; i < 5; i++)
        c->lrs[i] = 1e-4 * (double)(1 << i);
    c->n_seeds = 5;
    for (int i = 0; i < 5; i++)
        c->seeds[i] = i;
}

/* The authors' current configuration `schedule` (schedules.h): their grid
 * of four rates 1e-4..8e-4, penultimate widths 64/128/32, 1000 epochs,
 * their weight decay, metrics every 50 epochs (their logging period). */
static int current(ab_config *c, const char *schedule)
{
    int i = 0;
    while (i < ex_schedule_count() && strcmp(ex_schedule_at(i)->name, schedule) != 0)
        i++;
    if (i == ex_schedule_count() || strcmp(schedule, "imagenet") == 0)
        return 0; /* no ImageNet reader for a preset of it */
    paper(c, strcmp(schedule, "cifar100") == 0);
    c->epochs = ex_schedule_at(i)->lr.total;
    c->wd = ex_schedule_at(i)->weight_decay;
    c->metrics_every = 50;
    memcpy(c->widths, (int[]){64, 128, 32}, sizeof c->widths);
    c->n_lrs = 4;
    c->fid.schedule = i + 1;
    return 1;
}

/* The authors' ImageNet configuration: WideResNet-50-2 with a 128-wide
 * penultimate layer, 224 x 224 images (RandomResizedCrop without flips for
 * training, Resize(256) + CenterCrop(224) for testing), batch 64, 200
 * epochs, --schedule imagenet, weight decay 1e-7, their three rates, LPC and
 * NoPen, metrics every 10 epochs (their logging period). */
static void current_imagenet(ab_config *c)
{
    quick(c);
    snprintf(c->dataset, sizeof c->dataset, "imagedir-224x224c0.875:data/imagenet");
    c->backbone = EX_BACKBONE_WRN50_2;
    c->protocol = LPC_PROTOCOL_PAPER;
    c->epochs = 200;
    c->batch = 64;
    c->subset = 0;
    c->wd = 1e-7;
    c->augment = 0;
    c->resized_crop = 1;
    c->metrics_every = 10;
    memcpy(c->widths, (int[]){128, 256, 32}, sizeof c->widths);
    c->n_lrs = 3;
    memcpy(c->lrs, (double[]){5e-5, 1e-4, 1e-3}, 3 * sizeof *c->lrs);
    c->n_seeds = 5;
    for (int i = 0; i < 5; i++)
        c->seeds[i] = i;
    c->fid.schedule = ex_schedule_index("imagenet") + 1;
}

static const struct {
    const char *name, *what;
} presets[] = {
    {"quick", "Fashion-MNIST 10k, dense 784-512-512, 40 epochs, ramp, 1 seed (~10 min on 2 cores)"},
    {"fmnist", "full Fashion-MNIST, resnet-small, pad-4 crop + flip, 60 epochs, ramp"},
    {"paper-cifar10", "CIFAR-10 (--dataset cifar10:DIR), ResNet-18, 800 epochs, paper protocol, 5 LRs x 5 seeds"},
    {"paper-cifar100", "CIFAR-100 (--dataset cifar100:DIR), ResNet-50, widths 128/256/32, as above"},
    {"current-cifar10", "the authors' current CIFAR-10: ResNet-18, widths 64/128/32,\n"
     "                     1000 epochs, --schedule cifar10, wd 5e-4, 4 LRs 1e-4..8e-4 x 5 seeds"},
    {"current-cifar10-06", "as current-cifar10, final gamma 6e5 (--schedule cifar10-06)"},
    {"current-cifar10-08", "as current-cifar10, final gamma 8e5 (--schedule cifar10-08)"},
    {"current-cifar10-12", "as current-cifar10, final gamma 1.2e6 (--schedule cifar10-12)"},
    {"current-cifar100", "CIFAR-100, ResNet-50, as current-cifar10 (--schedule cifar100)"},
    {"current-imagenet", "the authors' ImageNet (--dataset imagedir-224x224c0.875:DIR):\n"
     "                     wrn50-2, widths 128/256/32, 200 epochs, batch 64, --schedule\n"
     "                     imagenet, wd 1e-7, RandomResizedCrop, LPC and NoPen x 3 LRs x 5 seeds"},
};

void ab_preset_list(FILE *f)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        fprintf(f, "  %-18s %s\n", presets[i].name, presets[i].what);
}

static int parse_models(ab_config *c, const char *v);

int ab_preset_load(const char *name, ab_config *c)
{
    if (strcmp(name, "quick") == 0)
        quick(c);
    else if (strcmp(name, "fmnist") == 0)
        fmnist(c);
    else if (strcmp(name, "paper-cifar10") == 0)
        paper(c, 0);
    else if (strcmp(name, "paper-cifar100") == 0)
        paper(c, 1);
    else if (strcmp(name, "current-imagenet") == 0)
        current_imagenet(c);
    else if (strncmp(name, "current-", 8) != 0 || !current(c, name + 8)) {
        fprintf(stderr, "error: unknown preset '%s'; known presets:\n", name);
        ab_preset_list(stderr);
        return 0;
    }
    snprintf(c->preset, sizeof c->preset, "%s", name);
    all_models(c);
    if (strcmp(name, "current-imagenet") == 0) /* their ImageNet jobs: LPC and NoPen */
        return parse_models(c, "LPC,NoPen");
    return 1;
}

/* Splits a comma list into at most max tokens of buf; returns the count or -1. */
static int split(const char *s, char *buf, size_t n, char **tok, int max)
{
    if (strlen(s) >= n)
        return -1;
    strcpy(buf, s);
    int k = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (k == max)
            return -1;
        tok[k++] = t;
    }
    return k ? k : -1;
}

static int parse_lrs(ab_config *c, const char *v)
{
    char buf[512], *tok[AB_MAX_LRS];
    int k = split(v, buf, sizeof buf, tok, AB_MAX_LRS);
    if (k < 0) {
        fprintf(stderr, "error: --lrs needs 1..%d comma-separated rates\n", AB_MAX_LRS);
        return 0;
    }
    for (int i = 0; i < k; i++) {
        if (!ex_parse_double("--lrs", tok[i], 1e-12, 10, &c->lrs[i]))
            return 0;
        /* Two equal rates would be two cells of one run, averaged as two;
         * rates equal in the cell names' %g form would share a folder. */
        for (int j = 0; j < i; j++) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%g", c->lrs[i]);
            snprintf(b, sizeof b, "%g", c->lrs[j]);
            if (c->lrs[i] == c->lrs[j] || strcmp(a, b) == 0) {
                fprintf(stderr, "error: --lrs lists the rate %s twice ('%s' and '%s')%s\n", a,
                        tok[j], tok[i],
                        c->lrs[i] == c->lrs[j] ? "" : "; rates must differ in 6 digits");
                return 0;
            }
        }
    }
    c->n_lrs = k;
    return 1;
}

/* "N" is N seeds 0..N-1; a list with commas ("3,7" or "7,") gives the seeds themselves. */
static int parse_seeds(ab_config *c, const char *v)
{
    if (!strchr(v, ',')) {
        long n;
        if (!ex_parse_long("--seeds", v, 1, AB_MAX_SEEDS, &n))
            return 0;
        c->n_seeds = (int)n;
        for (long i = 0; i < n; i++)
            c->seeds[i] = i;
        return 1;
    }
    char buf[1024], *tok[AB_MAX_SEEDS];
    int k = split(v, buf, sizeof buf, tok, AB_MAX_SEEDS);
    if (k < 0) {
        fprintf(stderr, "error: --seeds needs a count or a comma list of up to %d seeds\n",
                AB_MAX_SEEDS);
        return 0;
    }
    for (int i = 0; i < k; i++) {
        if (!ex_parse_long("--seeds", tok[i], 0, 1L << 40, &c->seeds[i]))
            return 0;
        for (int j = 0; j < i; j++)
            if (c->seeds[i] == c->seeds[j]) {
                fprintf(stderr, "error: --seeds lists the seed %ld twice ('%s' and '%s')\n",
                        c->seeds[i], tok[j], tok[i]);
                return 0;
            }
    }
    c->n_seeds = k;
    return 1;
}

static int parse_models(ab_config *c, const char *v)
{
    char buf[512], *tok[AB_MAX_MODELS];
    int k = split(v, buf, sizeof buf, tok, AB_MAX_MODELS);
    if (k < 0) {
        fprintf(stderr, "error: --models needs a comma list of model names\n");
        return 0;
    }
    /* Keep the canonical table order so that cell indices do not depend on the list order. */
    int chosen[AB_MAX_MODELS] = {0};
    for (int i = 0; i < k; i++) {
        int found = -1;
        for (int m = 0; m < ex_model_count(); m++)
            if (strcasecmp(tok[i], ex_model_name_at(m)) == 0)
                found = m;
        if (found < 0) {
            fprintf(stderr, "error: unknown model '%s'; models:", tok[i]);
            for (int m = 0; m < ex_model_count(); m++)
                fprintf(stderr, " %s", ex_model_name_at(m));
            fprintf(stderr, "\n");
            return 0;
        }
        if (chosen[found]) {
            fprintf(stderr, "error: --models lists the model %s twice\n", ex_model_name_at(found));
            return 0;
        }
        chosen[found] = 1;
    }
    c->n_models = 0;
    for (int m = 0; m < ex_model_count() && m < AB_MAX_MODELS; m++)
        if (chosen[m])
            c->models[c->n_models++] = m;
    return 1;
}

int ab_preset_override(ab_config *c, const char *what, const char *v)
{
    if (strcmp(what, "epochs") == 0)
        return ex_parse_long("--epochs", v, 1, 100000, &c->epochs);
    if (strcmp(what, "subset") == 0)
        return ex_parse_long("--subset", v, 0, 1L << 40, &c->subset);
    if (strcmp(what, "deepfool-samples") == 0)
        return ex_parse_long("--deepfool-samples", v, 0, 1000000, &c->deepfool_samples);
    if (strcmp(what, "attacks") == 0)
        return ex_parse_long("--attacks", v, 0, 1, &c->attacks);
    if (strcmp(what, "batch") == 0)
        return ex_parse_long("--batch", v, 1, 65536, &c->batch);
    if (strcmp(what, "weight-decay") == 0)
        return ex_parse_double("--weight-decay", v, 0, 10, &c->wd);
    if (strcmp(what, "gamma-max") == 0)
        return ex_parse_double("--gamma-max", v, 1e-12, 1e12, &c->gamma_max);
    if (strcmp(what, "lrs") == 0)
        return parse_lrs(c, v);
    if (strcmp(what, "seeds") == 0)
        return parse_seeds(c, v);
    if (strcmp(what, "models") == 0)
        return parse_models(c, v);
    if (strcmp(what, "backbone") == 0)
        return ex_parse_backbone(v, &c->backbone);
    if (strcmp(what, "protocol") == 0)
        return ex_parse_protocol(v, &c->protocol);
    if (strcmp(what, "widths") == 0)
        return ex_parse_widths(v, c->widths);
    if (strcmp(what, "augment") == 0) {
        long on;
        if (!ex_parse_long("--augment", v, 0, 1, &on))
            return 0;
        c->augment = (int)on;
        return 1;
    }
    if (strcmp(what, "resized-crop") == 0) {
        long on;
        if (!ex_parse_long("--resized-crop", v, 0, 1, &on))
            return 0;
        c->resized_crop = (int)on;
        return 1;
    }
    if (strcmp(what, "metrics-every") == 0)
        return ex_parse_long("--metrics-every", v, 0, 100000, &c->metrics_every);
    if (strcmp(what, "holdout") == 0)
        return ab_openset_option(c, v);
    int f = ex_fidelity_option(&c->fid, what, v);
    if (f >= 0)
        return f;
    if (strcmp(what, "dataset") == 0) {
        if (strlen(v) >= sizeof c->dataset) {
            fprintf(stderr, "error: --dataset is too long\n");
            return 0;
        }
        snprintf(c->dataset, sizeof c->dataset, "%s", v);
        return 1;
    }
    fprintf(stderr, "error: unknown override '%s'\n", what);
    return 0;
}

int ab_num_cells(const ab_config *c) { return c->n_models * c->n_lrs * c->n_seeds; }

void ab_cell_at(const ab_config *c, int i, ab_cell *out)
{
    int seed = i % c->n_seeds, lr = (i / c->n_seeds) % c->n_lrs, m = i / (c->n_seeds * c->n_lrs);
    out->index = i;
    out->model = ex_model_name_at(c->models[m]);
    out->lr = c->lrs[lr];
    out->seed = c->seeds[seed];
    snprintf(out->name, sizeof out->name, "%d-%s-lr%g-s%ld", i, out->model, out->lr, out->seed);
}

const char *ab_backbone_name(ex_backbone b)
{
    static const char *names[] = {"mlp", "resnet-small", "resnet18", "resnet50", "wrn50-2"};
    return b >= 0 && b <= EX_BACKBONE_WRN50_2 ? names[b] : "?";
}

const char *ab_protocol_name(lpc_protocol p)
{
    static const char *names[] = {"paper", "compressed", "ramp"};
    return p >= 0 && p <= LPC_PROTOCOL_RAMP ? names[p] : "?";
}

void ab_cell_identity(const ab_config *c, const ab_cell *cell, char *buf, size_t n)
{
    char analysis[512];
    size_t len;
    ab_cell_training_identity(c, cell, buf, n);
    ex_fidelity_describe(&c->fid, EX_FIDELITY_ANALYSIS, analysis, sizeof analysis);
    if (analysis[0] && (len = strlen(buf)) < n)
        snprintf(buf + len, n - len, " analysis=%s", analysis);
}

void ab_cell_training_identity(const ab_config *c, const ab_cell *cell, char *buf, size_t n)
{
    char fid[512], held[160];
    ex_fidelity_describe(&c->fid, EX_FIDELITY_TRAINING, fid, sizeof fid);
    ab_openset_describe(c, held, sizeof held);
    snprintf(buf, n,
             "model=%s lr=%.17g seed=%ld dataset=%s subset=%ld backbone=%s protocol=%s "
             "epochs=%ld batch=%ld wd=%.17g gamma_max=%.17g reach=%.17g augment=%d "
             "widths=%d,%d,%d%s%s metrics_every=%ld%s",
             cell->model, cell->lr, cell->seed, c->dataset, c->subset,
             ab_backbone_name(c->backbone), ab_protocol_name(c->protocol), c->epochs, c->batch,
             c->wd, c->gamma_max, c->reach, c->augment, c->widths[0], c->widths[1],
             c->widths[2], fid[0] ? " " : "", fid, c->metrics_every, held);
    size_t len = strlen(buf);
    if (c->resized_crop && len < n) /* only when on: earlier identities stay valid */
        snprintf(buf + len, n - len, " resized_crop=1");
}
