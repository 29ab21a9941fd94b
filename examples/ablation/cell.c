#include "cell.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../common/atomic.h"
#include "../common/files.h"
#include "../common/options.h"
#include "../common/trainer.h"
#include "collapse.h"
#include "json.h"
#include "lock.h"
#include "metrics.h"
#include "openset.h"
#include "result.h"
#include "resume.h"

#define EVAL_BATCH 500
/* Test samples evaluated after every epoch for the accuracy curve. */
#define CURVE_SAMPLES 1000

void ab_cell_path(const char *out, const ab_cell *cell, const char *file, char *buf, size_t n)
{
    snprintf(buf, n, "%s/cells/%s%s%s", out, cell->name, file ? "/" : "", file ? file : "");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Everything a run holds; freed by release(). */
typedef struct {
    const ab_config *c;
    ab_cell cell;
    char identity[2048], train_identity[2048], dir[4096];
    char ckpt_identity[2560]; /* train_identity + AB_DATA_MARK + the data fingerprints */
    lpc_dataset *train, *test, *test_head; /* test_head: first CURVE_SAMPLES */
    lpc_dataset *near;                     /* --holdout: the held-out classes' test images */
    ab_ood ood;
    lpc_rng *rng;
    lpc_head *model;
    ex_trainer *trainer;
    ab_epoch_log *log;
    float *z_train, *z_test;
    int32_t *pred_train, *pred_test;
    double acc_train, acc_test, robustness, seconds_analysis;
    int have_robustness;
    double fmn_ratio, pgd_acc[2]; /* --attacks: median FMN ratio, PGD at AB_PGD_RADII */
    int have_attacks;
    lpc_comm *comm; /* data-parallel ranks, NULL: alone */
    int rank;       /* only rank 0 writes files */
} run;

static void release(run *r)
{
    free(r->z_train);
    free(r->z_test);
    free(r->pred_train);
    free(r->pred_test);
    free(r->log);
    ex_trainer_free(r->trainer);
    lpc_head_free(r->model);
    lpc_rng_free(r->rng);
    lpc_dataset_free(r->train);
    lpc_dataset_free(r->test);
    lpc_dataset_free(r->test_head);
    lpc_dataset_free(r->near);
}

static int fail(const run *r, const char *what, lpc_status s)
{
    fprintf(stderr, "error: cell %s: %s: %s (%s)\n", r->cell.name, what, ex_status_reason(s),
            lpc_status_name(s));
    return 1;
}

static int setup(run *r)
{
    const ab_config *c = r->c;
    lpc_status s;
    if ((s = ex_load_dataset(c->dataset, 1, &r->train)) != LPC_OK)
        return fail(r, "loading the training set", s);
    if (!ex_enough_classes(c->dataset, r->train))
        return 1;
    if ((s = ex_load_dataset(c->dataset, 0, &r->test)) != LPC_OK)
        return fail(r, "loading the test set", s);
    if (c->holdout && ab_openset_split(c, r->cell.name, &r->train, &r->test, &r->near))
        return 1;
    if (c->subset && c->subset < lpc_dataset_size(r->train)) {
        if ((s = lpc_dataset_truncate(r->train, c->subset)) != LPC_OK)
            return fail(r, "taking the training subset", s);
        ex_report_empty_classes(c->dataset, 1, r->train);
    }
    char ftrain[200], ftest[200];
    ab_data_fingerprint("train", r->train, ftrain, sizeof ftrain);
    ab_data_fingerprint("test", r->test, ftest, sizeof ftest);
    snprintf(r->ckpt_identity, sizeof r->ckpt_identity, "%s%s%s %s", r->train_identity,
             AB_DATA_MARK, ftrain, ftest);
    int64_t head = lpc_dataset_size(r->test) < CURVE_SAMPLES ? lpc_dataset_size(r->test)
                                                              : CURVE_SAMPLES;
    if ((s = lpc_dataset_from_memory(lpc_dataset_images(r->test), lpc_dataset_labels(r->test),
                                     head, lpc_dataset_channels(r->test),
                                     lpc_dataset_height(r->test), lpc_dataset_width(r->test),
                                     lpc_dataset_num_classes(r->test), &r->test_head)) != LPC_OK)
        return fail(r, "copying the test head", s);
    r->rng = lpc_rng_new((uint64_t)r->cell.seed);
    r->log = calloc((size_t)c->epochs, sizeof *r->log);
    if (!r->rng || !r->log)
        return fail(r, "allocating", LPC_E_NOMEM);
    if (!ex_same_shape(r->train, r->test))
        return fail(r, "checking the test set", LPC_E_SHAPE);
    if ((s = ex_model_new(ex_model_index(r->cell.model), c->backbone,
                          lpc_dataset_channels(r->train), lpc_dataset_height(r->train),
                          lpc_dataset_width(r->train), lpc_dataset_num_classes(r->train),
                          c->widths, r->rng, &r->model)) != LPC_OK)
        return fail(r, "building the model", s);
    if ((s = ex_trainer_new(r->model, r->train, c->protocol, c->epochs, c->batch, r->cell.lr,
                             c->wd, (uint64_t)r->cell.seed, &r->trainer)) != LPC_OK ||
        (s = ex_trainer_set(r->trainer, EX_TRAIN_GAMMA_MAX, c->gamma_max)) != LPC_OK ||
        (s = ex_trainer_set(r->trainer, EX_TRAIN_REACH, c->reach)) != LPC_OK ||
        (s = ex_trainer_set(r->trainer, EX_TRAIN_AUGMENT_PAD, c->augment ? 4 : 0)) != LPC_OK ||
        (s = ex_trainer_set(r->trainer, EX_TRAIN_AUGMENT_FLIP, c->augment)) != LPC_OK ||
        (s = ex_trainer_set(r->trainer, EX_TRAIN_RESIZED_CROP, c->resized_crop)) != LPC_OK ||
        (s = ex_trainer_set_comm(r->trainer, r->comm)) != LPC_OK ||
        (s = ex_fidelity_apply(&c->fid, r->trainer)) != LPC_OK)
        return fail(r, "setting up training", s);
    return 0;
}

static int train(run *r, const char *ckpt, ab_progress_mode mode)
{
    long done = 0, epochs = r->c->epochs;
    if (access(ckpt, F_OK) == 0) {
        if (ab_resume_load(ckpt, r->ckpt_identity, r->model, r->trainer, r->log, epochs, &done))
            return 1;
        ab_progress_note(mode, "cell %s: resuming after epoch %ld of %ld", r->cell.name, done,
                         epochs);
    }
    double t0 = now();
    for (long e = done; e < epochs; e++) {
        double te = now();
        lpc_status s = ex_trainer_epoch(r->trainer);
        if (s != LPC_OK)
            return fail(r, "training", s);
        if (r->rank != 0) /* identical weights everywhere: rank 0 logs and saves */
            continue;
        double acc_test = 0;
        if ((s = ex_evaluate(r->model, r->test_head, ex_trainer_mean(r->trainer),
                                    ex_trainer_std(r->trainer), EVAL_BATCH, NULL, NULL, NULL,
                                    &acc_test)) != LPC_OK)
            return fail(r, "evaluating the test head", s);
        r->log[e] = (ab_epoch_log){.loss = ex_trainer_get(r->trainer, EX_TRAIN_LOSS),
                                   .acc = ex_trainer_get(r->trainer, EX_TRAIN_ACCURACY),
                                   .gamma = ex_trainer_get(r->trainer, EX_TRAIN_GAMMA),
                                   .seconds = now() - te, .acc_test = acc_test};
        ab_collapse_clear(&r->log[e]);
        long every = r->c->metrics_every;
        if (every > 0 && ((e + 1) % every == 0 || e + 1 == epochs) &&
            ab_collapse_measure(r->c, r->model, r->trainer, r->train,
                                (uint64_t)r->cell.seed + 1, r->cell.name, &r->log[e]))
            return 1;
        if (ab_resume_save(ckpt, r->ckpt_identity, r->model, r->trainer, r->log, e + 1))
            return 1;
        double per = (now() - t0) / (double)(e + 1 - done);
        ab_progress_epoch(mode, r->cell.name, e + 1, epochs, r->log[e].loss, r->log[e].acc,
                          r->log[e].gamma, per * (double)(epochs - e - 1));
    }
    return 0;
}

static int evaluate(run *r)
{
    const double *mean = ex_trainer_mean(r->trainer), *std = ex_trainer_std(r->trainer);
    int64_t ntr = lpc_dataset_size(r->train), nte = lpc_dataset_size(r->test);
    int64_t p = lpc_head_latent_dim(r->model);
    r->z_train = malloc((size_t)(ntr * p) * sizeof(float));
    r->z_test = malloc((size_t)(nte * p) * sizeof(float));
    r->pred_train = malloc((size_t)ntr * sizeof(int32_t));
    r->pred_test = malloc((size_t)nte * sizeof(int32_t));
    if (!r->z_train || !r->z_test || !r->pred_train || !r->pred_test)
        return fail(r, "allocating features", LPC_E_NOMEM);
    lpc_status s;
    /* The authors evaluate the training set through its training transforms. */
    int augmented = r->c->fid.train_augmented && r->c->augment;
    if ((s = augmented ? ex_evaluate_augmented(r->model, r->train, mean, std, EVAL_BATCH, 4, 1,
                                               (uint64_t)r->cell.seed + 1, r->z_train, NULL,
                                               r->pred_train, &r->acc_train)
                       : ex_evaluate(r->model, r->train, mean, std, EVAL_BATCH, r->z_train, NULL,
                                     r->pred_train, &r->acc_train)) != LPC_OK ||
        (s = ex_evaluate(r->model, r->test, mean, std, EVAL_BATCH, r->z_test, NULL,
                                r->pred_test, &r->acc_test)) != LPC_OK)
        return fail(r, "evaluating", s);
    return 0;
}

/* A cell is never finished on garbage: every weight, buffer and feature must
 * be finite (a diverged run or a damaged checkpoint gives NaN or Inf). */
static int all_finite(run *r)
{
    lpc_module *net = lpc_head_module(r->model);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < (b ? lpc_module_num_buffers(net) : lpc_module_num_params(net)); i++) {
            lpc_tensor *t = b ? lpc_module_buffer(net, i) : lpc_module_param(net, i);
            const float *v = lpc_tensor_cdata(t);
            for (int64_t k = 0; k < lpc_tensor_numel(t); k++)
                if (!isfinite(v[k])) {
                    fprintf(stderr, "error: cell %s: %s %s[%lld] is %g; not finishing the cell "
                            "(the training diverged or its checkpoint is damaged)\n",
                            r->cell.name, b ? "buffer" : "weight",
                            b ? lpc_module_buffer_name(net, i) : lpc_module_param_name(net, i),
                            (long long)k, (double)v[k]);
                    return 1;
                }
        }
    int64_t p = lpc_head_latent_dim(r->model);
    for (int split = 0; split < 2; split++) {
        const float *z = split ? r->z_test : r->z_train;
        int64_t n = lpc_dataset_size(split ? r->test : r->train) * p;
        for (int64_t k = 0; k < n; k++)
            if (!isfinite(z[k])) {
                fprintf(stderr, "error: cell %s: the %s feature of sample %lld is %g; not "
                        "finishing the cell\n", r->cell.name, split ? "test" : "training",
                        (long long)(k / p), (double)z[k]);
                return 1;
            }
    }
    return 0;
}

/* The test samples DeepFool measures (config fid.pick: the first ones by
 * default), as a data set of their own. */
static lpc_status picked_samples(const run *r, int64_t n, lpc_dataset **out)
{
    const lpc_dataset *t = r->test;
    int64_t size = lpc_dataset_size(t), got = 0;
    int64_t pixels = (int64_t)lpc_dataset_channels(t) * lpc_dataset_height(t) * lpc_dataset_width(t);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    uint8_t *img = malloc((size_t)(n * pixels));
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    lpc_status s = idx && img && lab ? LPC_OK : LPC_E_NOMEM;
    if (s == LPC_OK)
        s = lpc_deepfool_pick(size, n, r->c->fid.pick, (uint64_t)r->cell.seed,
                              lpc_dataset_labels(t), r->pred_test, idx, &got);
    for (int64_t i = 0; s == LPC_OK && i < got; i++) {
        memcpy(img + i * pixels, lpc_dataset_images(t) + idx[i] * pixels, (size_t)pixels);
        lab[i] = lpc_dataset_labels(t)[idx[i]];
    }
    if (s == LPC_OK && got == 0)
        s = LPC_E_NUMERIC;
    if (s == LPC_OK)
        s = lpc_dataset_from_memory(img, lab, got, lpc_dataset_channels(t), lpc_dataset_height(t),
                                    lpc_dataset_width(t), lpc_dataset_num_classes(t), out);
    free(idx);
    free(img);
    free(lab);
    return s;
}

/* PGD's radii in pixel units (--attacks). */
static const double AB_PGD_RADII[2] = {2.0 / 255, 8.0 / 255};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --attacks: FMN (L2, the normalised input, as DeepFool) and PGD (Linf, in
 * [0,1] pixels) on DeepFool's samples x (n, normalised) with labels y. */
static lpc_status attacks(run *r, lpc_module *net, const float *x, const int32_t *y, int64_t n)
{
    const lpc_dataset *t = r->test;
    int c = lpc_dataset_channels(t), h = lpc_dataset_height(t), w = lpc_dataset_width(t);
    double *norms = malloc((size_t)n * sizeof *norms);
    float *mean = malloc(2 * (size_t)c * sizeof *mean), *std = mean + c;
    if (!norms || !mean) {
        free(norms);
        free(mean);
        return LPC_E_NOMEM;
    }
    for (int i = 0; i < c; i++) {
        mean[i] = (float)ex_trainer_mean(r->trainer)[i];
        std[i] = (float)ex_trainer_std(r->trainer)[i];
    }
    lpc_samples predicted = lpc_samples_make(x, n, c, h, w, NULL);
    lpc_samples labelled = lpc_samples_make(x, n, c, h, w, y);
    lpc_status s = lpc_fmn(net, &predicted, NULL,
                           &(lpc_fmn_outputs){.size = sizeof(lpc_fmn_outputs), .ratios = norms});
    if (s == LPC_OK) {
        qsort(norms, (size_t)n, sizeof *norms, cmp_double);
        r->fmn_ratio = n % 2 ? norms[n / 2] : 0.5 * (norms[n / 2 - 1] + norms[n / 2]);
        lpc_pgd_options o;
        lpc_pgd_options_init(&o);
        o.seed = (uint64_t)r->cell.seed;
        o.domain = LPC_ATTACK_DOMAIN_PIXEL_BOX;
        o.mean = mean;
        o.std = std;
        s = lpc_pgd(net, &labelled, AB_PGD_RADII, 2, &o,
                    &(lpc_pgd_outputs){.size = sizeof(lpc_pgd_outputs),
                                       .robust_accuracy = r->pgd_acc});
    }
    free(norms);
    free(mean);
    r->have_attacks = s == LPC_OK;
    return s;
}

/* DeepFool on the chosen test samples, normalised like training. */
static int robustness(run *r)
{
    int64_t n = r->c->deepfool_samples;
    if (n > lpc_dataset_size(r->test))
        n = lpc_dataset_size(r->test);
    if (n <= 0)
        return 0;
    lpc_dataset *chosen = NULL;
    lpc_status s = picked_samples(r, n, &chosen);
    if (s != LPC_OK)
        return fail(r, "choosing the DeepFool samples", s);
    n = lpc_dataset_size(chosen);
    lpc_batcher *b = lpc_batcher_new(chosen, n, 0, 0, ex_trainer_mean(r->trainer),
                                     ex_trainer_std(r->trainer));
    lpc_ctx *ctx = lpc_ctx_new();
    lpc_tensor *x = NULL;
    const int32_t *y;
    s = LPC_E_NOMEM;
    lpc_module *net = lpc_head_module(r->model);
    if (b && ctx && lpc_batcher_next(b, ctx, &x, &y) == n &&
        (s = lpc_module_set_train(net, 0)) == LPC_OK)
        s = lpc_deepfool(net, lpc_tensor_cdata(x), n, lpc_dataset_channels(r->test),
                         lpc_dataset_height(r->test), lpc_dataset_width(r->test),
                         LPC_DEEPFOOL_CANDIDATES, LPC_DEEPFOOL_OVERSHOOT,
                         LPC_DEEPFOOL_MAX_ITER, NULL, &r->robustness);
    lpc_status sa = s == LPC_OK && r->c->attacks ? attacks(r, net, lpc_tensor_cdata(x), y, n)
                                                 : LPC_OK;
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
    lpc_dataset_free(chosen);
    if (s != LPC_OK)
        return fail(r, "DeepFool", s);
    r->have_robustness = 1;
    if (sa != LPC_OK)
        return fail(r, "FMN and PGD", sa);
    return 0;
}

static int save_arrays(run *r)
{
    char path[4200];
    int64_t p = lpc_head_latent_dim(r->model);
    for (int i = 0; i < 2; i++) {
        const lpc_dataset *ds = i ? r->test : r->train;
        const char *split = i ? "test" : "train";
        int64_t shape[2] = {lpc_dataset_size(ds), p};
        lpc_status s;
        snprintf(path, sizeof path, "%s/features_%s.npy", r->dir, split);
        if ((s = lpc_npy_save_f32(path, i ? r->z_test : r->z_train, 2, shape)) != LPC_OK)
            return fail(r, "writing features", s);
        snprintf(path, sizeof path, "%s/labels_%s.npy", r->dir, split);
        if ((s = lpc_npy_save_i32(path, lpc_dataset_labels(ds), shape[0])) != LPC_OK)
            return fail(r, "writing labels", s);
    }
    return 0;
}

static void write_config(jw *w, const run *r, int threads)
{
    const ab_config *c = r->c;
    jw_obj(w, "config");
    jw_str(w, "preset", c->preset);
    jw_str(w, "model", r->cell.model);
    jw_int(w, "cell", r->cell.index);
    jw_num(w, "lr", r->cell.lr);
    jw_int(w, "seed", r->cell.seed);
    jw_str(w, "dataset", c->dataset);
    jw_int(w, "train_samples", lpc_dataset_size(r->train));
    jw_int(w, "test_samples", lpc_dataset_size(r->test));
    jw_str(w, "backbone", ab_backbone_name(c->backbone));
    jw_str(w, "protocol", ab_protocol_name(c->protocol));
    jw_int(w, "epochs", c->epochs);
    jw_int(w, "batch", c->batch);
    jw_num(w, "weight_decay", c->wd);
    jw_num(w, "gamma_max", c->gamma_max);
    jw_num(w, "reach", c->reach);
    jw_int(w, "augment", c->augment);
    jw_arr(w, "widths");
    for (int i = 0; i < 3; i++)
        jw_int(w, NULL, c->widths[i]);
    jw_end_arr(w);
    jw_int(w, "latent_dim", lpc_head_latent_dim(r->model));
    jw_int(w, "deepfool_samples", c->deepfool_samples);
    jw_int(w, "attacks", c->attacks);
    char fid[512];
    ex_fidelity_describe(&c->fid, EX_FIDELITY_TRAINING | EX_FIDELITY_ANALYSIS, fid, sizeof fid);
    jw_str(w, "conventions", fid[0] ? fid : "liblpc");
    jw_int(w, "metrics_every", c->metrics_every);
    jw_int(w, "threads", threads);
    jw_int(w, "ranks", r->comm ? lpc_comm_size(r->comm) : 1);
    jw_str(w, "kernel_path", lpc_cpu_path_name(lpc_get_cpu_path()));
    jw_str(w, "identity", r->identity);
    jw_end_obj(w);
}

static int write_result(run *r, int threads)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return fail(r, "writing result.json", LPC_E_NOMEM);
    jw w;
    jw_init(&w, f);
    jw_obj(&w, NULL);
    write_config(&w, r, threads);
    double train_s = 0;
    jw_arr(&w, "log");
    for (long e = 0; e < r->c->epochs; e++) {
        jw_obj(&w, NULL);
        jw_int(&w, "epoch", e + 1);
        jw_num(&w, "loss", r->log[e].loss);
        jw_num(&w, "acc", r->log[e].acc);
        jw_num(&w, "gamma", r->log[e].gamma);
        jw_num(&w, "seconds", r->log[e].seconds);
        jw_num(&w, "acc_test_head", r->log[e].acc_test);
        ab_collapse_write(&w, &r->log[e]);
        jw_end_obj(&w);
        train_s += r->log[e].seconds;
    }
    jw_end_arr(&w);
    const lpc_tensor *wc = lpc_module_find_param(lpc_head_module(r->model), "classifier.weight");
    int p = (int)lpc_head_latent_dim(r->model), k = lpc_head_num_classes(r->model);
    double t0 = now();
    jw_obj(&w, "final");
    jw_num(&w, "acc_train", r->acc_train);
    jw_num(&w, "acc_test", r->acc_test);
    if (r->have_robustness)
        jw_num(&w, "robustness", r->robustness);
    else
        jw_null(&w, "robustness");
    if (r->have_attacks) {
        jw_num(&w, "fmn_median_ratio", r->fmn_ratio);
        jw_num(&w, "pgd_linf_2_255", r->pgd_acc[0]);
        jw_num(&w, "pgd_linf_8_255", r->pgd_acc[1]);
    }
    if (r->c->holdout)
        ab_openset_write(&w, &r->ood);
    ab_metrics_write(&w, "train", r->z_train, lpc_dataset_size(r->train), p,
                     lpc_dataset_labels(r->train), r->pred_train, k, lpc_tensor_cdata(wc),
                     r->c->fid.nc_flags, r->cell.name);
    ab_metrics_write(&w, "test", r->z_test, lpc_dataset_size(r->test), p,
                     lpc_dataset_labels(r->test), r->pred_test, k, lpc_tensor_cdata(wc),
                     r->c->fid.nc_flags, r->cell.name);
    jw_end_obj(&w);
    jw_obj(&w, "seconds");
    jw_num(&w, "training", train_s);
    jw_num(&w, "deepfool_and_evaluation", r->seconds_analysis);
    jw_num(&w, "metrics", now() - t0);
    jw_end_obj(&w);
    jw_end_obj(&w);
    int bad = fclose(f) != 0 || w.failed;
    char path[4200];
    snprintf(path, sizeof path, "%s/result.json", r->dir);
    if (bad)
        fprintf(stderr, "error: cell %s: cannot build %s: %s\n", r->cell.name, path,
                strerror(ENOMEM));
    bad = bad || ex_write_atomic(path, text, len) != 0;
    free(text);
    return bad;
}

/* Whether the cell must run: 0 to run it, otherwise the exit code (0 when
 * it finished before, 1 when its result.json is another configuration's).
 * A damaged result.json counts as missing: the cell runs again. */
static int check_result(const run *r, ab_progress_mode mode, int *done)
{
    char path[4200], why[256];
    snprintf(path, sizeof path, "%s/result.json", r->dir);
    *done = 1;
    switch (ab_result_load(path, r->identity, r->c->epochs, NULL, why, sizeof why)) {
    case AB_RESULT_OK:
        ab_progress_note(mode, "cell %s is already finished; nothing to do", r->cell.name);
        return 0;
    case AB_RESULT_FOREIGN:
        fprintf(stderr, "error: %s holds the result of another configuration; use another "
                        "--out or delete it\n", path);
        return 1;
    case AB_RESULT_DAMAGED:
        fprintf(stderr, "warning: %s is damaged (%s); counted as missing: running cell %s "
                        "again\n", path, why, r->cell.name);
        break;
    case AB_RESULT_NONE: break;
    }
    *done = 0;
    return 0;
}

ab_result_state ab_cell_result(const ab_config *c, const char *out, const ab_cell *cell)
{
    char path[4200], id[2048], why[256];
    ab_cell_path(out, cell, "result.json", path, sizeof path);
    ab_cell_identity(c, cell, id, sizeof id);
    return ab_result_load(path, id, c->epochs, NULL, why, sizeof why);
}

int ab_cell_run(const ab_config *c, int index, const char *out, int threads,
                ab_progress_mode mode, lpc_comm *comm)
{
    if (index < 0 || index >= ab_num_cells(c)) {
        fprintf(stderr, "error: --cell %d out of range: preset '%s' has %d cells (0..%d)\n",
                index, c->preset, ab_num_cells(c), ab_num_cells(c) - 1);
        return 2;
    }
    run r = {.c = c, .comm = comm, .rank = comm ? lpc_comm_rank(comm) : 0};
    ab_cell_at(c, index, &r.cell);
    ab_cell_identity(c, &r.cell, r.identity, sizeof r.identity);
    ab_cell_training_identity(c, &r.cell, r.train_identity, sizeof r.train_identity);
    ab_cell_path(out, &r.cell, NULL, r.dir, sizeof r.dir);
    if (ex_mkdirs(r.dir) != 0) {
        fprintf(stderr, "error: cannot create %s: %s\n", r.dir, strerror(errno));
        return 1;
    }
    int lock_fd = -1, done, rc;
    long holder;
    /* Rank 0 holds the lock for all ranks of a data-parallel run. */
    if (r.rank == 0 && (rc = ab_lock_cell(r.dir, &lock_fd, &holder)) != 0) {
        if (rc > 0)
            fprintf(stderr, "error: cell %s is locked by process %ld (another lpc-ablation on "
                            "%s); not running it twice\n", r.cell.name, holder, out);
        return rc > 0 ? AB_EXIT_LOCKED : 1;
    }
    if (r.rank == 0)
        ex_remove_stale_temps(r.dir);
    if ((rc = check_result(&r, mode, &done)) != 0 || done) {
        if (lock_fd >= 0)
            close(lock_fd);
        return rc;
    }
    lpc_set_num_threads(threads);
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.lpcc", r.dir);
    rc = setup(&r) || train(&r, ckpt, mode);
    if (r.rank != 0) { /* rank 0 evaluates and writes the results */
        release(&r);
        return rc;
    }
    double t0 = now();
    rc = rc || evaluate(&r) || all_finite(&r) || robustness(&r) ||
         (c->holdout && ab_openset_measure(r.model, ex_trainer_mean(r.trainer),
                                           ex_trainer_std(r.trainer), r.train, r.test, r.near,
                                           r.cell.name, &r.ood));
    r.seconds_analysis = now() - t0;
    rc = rc || save_arrays(&r) || write_result(&r, threads);
    if (!rc)
        ab_progress_note(mode, "cell %s finished: acc_test %.4f robustness %.4g", r.cell.name,
                         r.acc_test, r.have_robustness ? r.robustness : 0.0);
    release(&r);
    close(lock_fd);
    return rc;
}
