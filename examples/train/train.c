/* lpc-train: trains one model of the ablation on one data set and reports
 * accuracy and the training-set within-class covariance Sigma_W. Under
 * mpirun the ranks train the model together (data-parallel) and rank 0
 * evaluates and reports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../common/closeout.h"
#include "../common/comm_mpi.h"
#include "../common/files.h"
#include "../common/atomic.h"
#include "../common/fidelity.h"
#include "../common/options.h"
#include "../common/trainer.h"
#include "lipschitz.h"

typedef struct {
    const char *model, *dataset, *json;
    ex_backbone backbone;
    long epochs, seed, threads, subset, batch;
    double lr, wd, gamma_max, reach;
    int widths[3], augment, protocol_set, quiet, lipschitz, print_schedule, resized_crop;
    lpc_protocol protocol;
    ex_fidelity fid;
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lpc-train [options]\n"
        "  --model NAME         LPC, LPC-Wide, LPC-Narrow, LPC-SCL, LPC-NoPen, LinPen,\n"
        "                       NonlinPen, SCL, ArcFace, CosFace, NoPen (default LPC)\n"
        "  --backbone B         mlp | resnet-small | resnet18 | resnet50 | wrn50-2 (default mlp;\n"
        "                       wrn50-2 with --widths 128,256,32: the authors' 128-wide\n"
        "                       penultimate layer)\n"
        "  --dataset D          fashion-mnist | mnist:DIR | cifar10:DIR | cifar100:DIR |\n"
        "                       pngdir:DIR (DIR/train, DIR/test) | imagedir:DIR (JPEG or\n"
        "                       PNG) | imagedir-HxW[xC][cF]:DIR (resized to HxW, C channels;\n"
        "                       test images: Resize + CenterCrop keeping F, e.g. c0.875)\n"
        "                       (default fashion-mnist)\n"
        "  --epochs N           (default 10)        --batch N   (default 128)\n"
        "  --lr X               (default 1e-3)\n"
        "  --weight-decay X     AdamW decoupled weight decay of every group, as the authors\n"
        "                       (alias --wd; default 5e-4)\n"
        "  --seed N             (default 0)         --threads N (default 2)\n"
        "  --subset N           first N training images only\n"
        "  --widths M,W,N       penultimate widths mid,wide,narrow (default 64,128,16)\n"
        "  --protocol P         paper | compressed | ramp (default: ramp below 800 epochs,\n"
        "                       or below the clock of a --schedule)\n"
        "  --gamma-max X        ramp protocol final gamma (default 100)\n"
        "  --reach X            ramp protocol fraction of steps to reach it (default 0.7)\n"
        "  --no-augment         no random crop / flip (default on for ResNet backbones)\n"
        "  --resized-crop       torchvision's RandomResizedCrop (area 0.08-1, ratio 3/4-4/3)\n"
        "                       instead of the padded crop (flips still follow --no-augment)\n"
        "  --json FILE          write acc_test, acc_train, sigma_w_train, seconds\n"
        "  --quiet              only the summary line\n"
        "  --lipschitz          also measure on the test set the margin-gradient norm\n"
        "                       (max, mean; all and correct samples), the certified\n"
        "                       bound of x -> z and certified accuracy (doc/robustness.md)\n"
        "  --print-schedule     print gamma and both groups' rates at the first step of\n"
        "                       every epoch of this run, and exit without training\n");
    ex_fidelity_usage(f);
    fprintf(f, "  (lpc-train reports accuracy and Sigma_W only: --nc1 and --deepfool-pick act\n"
               "  in lpc-ablation)\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.model = "LPC", .dataset = "fashion-mnist", .backbone = EX_BACKBONE_MLP,
                   .epochs = 10, .threads = 2, .batch = 128, .lr = 1e-3, .wd = 5e-4,
                   .gamma_max = 100, .reach = 0.7, .widths = {64, 128, 16}, .augment = -1};
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'}, {"model", required_argument, 0, 'm'},
        {"backbone", required_argument, 0, 'b'}, {"dataset", required_argument, 0, 'd'},
        {"epochs", required_argument, 0, 'e'}, {"batch", required_argument, 0, 'B'},
        {"lr", required_argument, 0, 'l'}, {"wd", required_argument, 0, 'w'},
        {"seed", required_argument, 0, 's'}, {"threads", required_argument, 0, 't'},
        {"subset", required_argument, 0, 'n'}, {"widths", required_argument, 0, 'W'},
        {"protocol", required_argument, 0, 'p'}, {"gamma-max", required_argument, 0, 'g'},
        {"reach", required_argument, 0, 'r'}, {"no-augment", no_argument, 0, 'A'},
        {"json", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
        {"lipschitz", no_argument, 0, 'L'},
        {"lr-decay", required_argument, 0, 'F'}, {"gamma", required_argument, 0, 'F'},
        {"margin-clamp", required_argument, 0, 'F'}, {"train-metrics", required_argument, 0, 'F'},
        {"nc1", required_argument, 0, 'F'}, {"deepfool-pick", required_argument, 0, 'F'},
        {"authors", no_argument, 0, 'F'}, {"schedule", required_argument, 0, 'F'},
        {"gamma-final", required_argument, 0, 'F'}, {"warmup", required_argument, 0, 'F'},
        {"warmup-factor", required_argument, 0, 'F'}, {"lr-hold", required_argument, 0, 'F'},
        {"lr-floor", required_argument, 0, 'F'}, {"weight-decay", required_argument, 0, 'w'},
        {"print-schedule", no_argument, 0, 'P'}, {"resized-crop", no_argument, 0, 'R'},
        {0, 0, 0, 0}};
    ex_fidelity_default(&o->fid);
    int c, at;
    while ((c = getopt_long(argc, argv, "h", longopts, &at)) != -1) {
        int ok = 1;
        switch (c) {
        case 'F': ok = ex_fidelity_option(&o->fid, longopts[at].name, optarg) == 1; break;
        case 'h': usage(stdout); exit(0);
        case 'm': o->model = optarg; break;
        case 'b': ok = ex_parse_backbone(optarg, &o->backbone); break;
        case 'd': o->dataset = optarg; break;
        case 'e': ok = ex_parse_long("--epochs", optarg, 1, 100000, &o->epochs); break;
        case 'B': ok = ex_parse_long("--batch", optarg, 1, 65536, &o->batch); break;
        case 'l': ok = ex_parse_double("--lr", optarg, 1e-12, 10, &o->lr); break;
        case 'w': ok = ex_parse_double("--weight-decay", optarg, 0, 10, &o->wd); break;
        case 's': ok = ex_parse_long("--seed", optarg, 0, 1L << 40, &o->seed); break;
        case 't': ok = ex_parse_long("--threads", optarg, 1, 256, &o->threads); break;
        case 'n': ok = ex_parse_long("--subset", optarg, 1, 1L << 40, &o->subset); break;
        case 'W': ok = ex_parse_widths(optarg, o->widths); break;
        case 'p': ok = ex_parse_protocol(optarg, &o->protocol); o->protocol_set = 1; break;
        case 'g': ok = ex_parse_double("--gamma-max", optarg, 1e-12, 1e12, &o->gamma_max); break;
        case 'r': ok = ex_parse_double("--reach", optarg, 1e-6, 1, &o->reach); break;
        case 'A': o->augment = 0; break;
        case 'j': o->json = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'L': o->lipschitz = 1; break;
        case 'P': o->print_schedule = 1; break;
        case 'R': o->resized_crop = 1; break;
        default: ok = 0;
        }
        if (!ok) {
            usage(stderr);
            return 0;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
        return 0;
    }
    ex_schedule sched;
    int named = ex_fidelity_schedule(&o->fid, &sched);
    if (named < 0)
        return 0;
    if (!o->protocol_set)
        o->protocol = o->epochs < (named ? sched.lr.total : 800) ? LPC_PROTOCOL_RAMP
                                                                 : LPC_PROTOCOL_PAPER;
    if (o->augment < 0)
        o->augment = o->backbone != EX_BACKBONE_MLP;
    return 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Everything main allocates; freed on every path by release(). */
typedef struct {
    lpc_dataset *train, *test;
    lpc_rng *rng;
    lpc_head *model;
    ex_trainer *trainer;
    float *z;
    int32_t *pred;
} state;

static void release(state *st)
{
    free(st->z);
    free(st->pred);
    ex_trainer_free(st->trainer);
    lpc_head_free(st->model);
    lpc_rng_free(st->rng);
    lpc_dataset_free(st->train);
    lpc_dataset_free(st->test);
}

static int fail(state *st, const char *what, lpc_status s)
{
    fprintf(stderr, "error: %s: %s (%s)\n", what, ex_status_reason(s), lpc_status_name(s));
    release(st);
    return 1;
}

/* The Lipschitz fields of the summary JSON (", ..." or "" without lip). */
static int lipschitz_json(char *text, size_t size, const ex_lipschitz *lip)
{
    if (!lip)
        return snprintf(text, size, "%s", "");
    int n = snprintf(text, size, ", \"lipschitz_grad_max\": %.6e, \"lipschitz_grad_mean\": %.6e, "
                     "\"lipschitz_grad_max_correct\": %.6e, \"lipschitz_grad_mean_correct\": "
                     "%.6e, \"lipschitz_latent_bound\": %.6e, \"certified_median_radius\": "
                     "%.6e, \"certified_bound_over_grad_median\": %.6e, \"certified_accuracy\": {",
                     lip->grad.max, lip->grad.mean, lip->grad.max_correct,
                     lip->grad.mean_correct, lip->latent_bound, lip->median_radius,
                     lip->median_looseness);
    for (int r = 0; r < EX_CERT_RADII && n >= 0 && (size_t)n < size; r++)
        n += snprintf(text + n, size - (size_t)n, "%s\"%g\": %.6f", r ? ", " : "",
                      lip->radii[r], lip->cert_acc[r]);
    if (n >= 0 && (size_t)n < size)
        n += snprintf(text + n, size - (size_t)n, "}");
    return n;
}

/* Writes the summary JSON atomically (ex_write_atomic); lip may be NULL. */
static int write_json(const char *path, const char *model, double acc_test, double acc_train,
                      double sigma_w, double seconds, const ex_lipschitz *lip)
{
    char text[1536], extra[1024];
    int m = lipschitz_json(extra, sizeof extra, lip);
    if (m < 0 || m >= (int)sizeof extra)
        return 1;
    int n = snprintf(text, sizeof text, "{\"model\": \"%s\", \"acc_test\": %.6f, "
                     "\"acc_train\": %.6f, \"sigma_w_train\": %.6e, \"seconds\": %.3f%s}\n",
                     model, acc_test, acc_train, sigma_w, seconds, extra);
    return n < 0 || n >= (int)sizeof text || ex_write_atomic(path, text, (size_t)n) != 0;
}

static int train_and_report(const options *po, lpc_comm *comm);

/* --print-schedule: one line per epoch, at its first step. */
static int print_schedule(state *st, long epochs, int rank)
{
    for (long e = 0; e < epochs && rank == 0; e++) {
        double gamma, lr[2];
        lpc_status s = ex_trainer_schedule_at(st->trainer, e, 0, &gamma, lr);
        if (s != LPC_OK)
            return fail(st, "evaluating the schedules", s);
        printf("epoch %ld gamma %.17g lr %.17g lr_classifier %.17g\n", e + 1, gamma, lr[0], lr[1]);
    }
    release(st);
    return 0;
}

int main(int argc, char **argv)
{
    ex_closeout_init("lpc-train");
    lpc_comm *comm = NULL;
    if (ex_comm_start(&argc, &argv, &comm) != 0)
        return 1;
    options o;
    if (!parse(argc, argv, &o) || (o.json && !ex_check_file_option("--json", o.json)))
        return ex_comm_end(comm, 2);
    return ex_comm_end(comm, train_and_report(&o, comm));
}

static int train_and_report(const options *po, lpc_comm *comm)
{
    const options o = *po;
    int rank = ex_comm_rank(comm);
    int mi = ex_model_index(o.model);
    if (mi < 0) {
        fprintf(stderr, "error: unknown model '%s'; valid names: %s\n", o.model, ex_model_list());
        return 2;
    }
    const char *name = ex_model_name_at(mi);
    lpc_set_num_threads((int)o.threads);
    if (!o.quiet && rank == 0)
        printf("kernel path: %s\n", lpc_cpu_path_name(lpc_get_cpu_path()));
    state st = {0};
    lpc_status s;
    if ((s = ex_load_dataset(o.dataset, 1, &st.train)) != LPC_OK)
        return fail(&st, "loading the training set", s);
    if (!ex_enough_classes(o.dataset, st.train)) {
        release(&st);
        return 1;
    }
    if ((s = ex_load_dataset(o.dataset, 0, &st.test)) != LPC_OK)
        return fail(&st, "loading the test set", s);
    if (!ex_same_shape(st.train, st.test)) { /* before training, not after */
        release(&st);
        return 1;
    }
    if (o.subset && o.subset < lpc_dataset_size(st.train) &&
        (s = lpc_dataset_truncate(st.train, o.subset)) != LPC_OK)
        return fail(&st, "taking the training subset", s);

    st.rng = lpc_rng_new((uint64_t)o.seed);
    if (!st.rng)
        return fail(&st, "allocating", LPC_E_NOMEM);
    if ((s = ex_model_new(mi, o.backbone, lpc_dataset_channels(st.train),
                          lpc_dataset_height(st.train), lpc_dataset_width(st.train),
                          lpc_dataset_num_classes(st.train), o.widths, st.rng, &st.model)) != LPC_OK)
        return fail(&st, "building the model", s);
    if ((s = ex_trainer_new(st.model, st.train, o.protocol, o.epochs, o.batch, o.lr, o.wd,
                            (uint64_t)o.seed, &st.trainer)) != LPC_OK ||
        (s = ex_trainer_set(st.trainer, EX_TRAIN_GAMMA_MAX, o.gamma_max)) != LPC_OK ||
        (s = ex_trainer_set(st.trainer, EX_TRAIN_REACH, o.reach)) != LPC_OK ||
        (s = ex_trainer_set(st.trainer, EX_TRAIN_AUGMENT_PAD, o.augment ? 4 : 0)) != LPC_OK ||
        (s = ex_trainer_set(st.trainer, EX_TRAIN_AUGMENT_FLIP, o.augment)) != LPC_OK ||
        (s = ex_trainer_set(st.trainer, EX_TRAIN_RESIZED_CROP, o.resized_crop)) != LPC_OK ||
        (s = ex_trainer_set_comm(st.trainer, comm)) != LPC_OK ||
        (s = ex_fidelity_apply(&o.fid, st.trainer)) != LPC_OK)
        return fail(&st, "setting up training", s);
    if (o.print_schedule)
        return print_schedule(&st, o.epochs, rank);
    if (!o.quiet && rank == 0)
        printf("model %s, %lld training images, %lld weights, %ld epochs, %ld threads, "
               "%d rank(s)\n", name, (long long)lpc_dataset_size(st.train),
               (long long)lpc_module_num_weights(lpc_head_module(st.model)), o.epochs, o.threads,
               comm ? lpc_comm_size(comm) : 1);

    double t0 = now();
    for (long e = 0; e < o.epochs; e++) {
        if ((s = ex_trainer_epoch(st.trainer)) != LPC_OK)
            return fail(&st, "training", s);
        if (!o.quiet && rank == 0) {
            printf("epoch %3ld  loss %.5f  acc %.4f", e + 1,
                   ex_trainer_get(st.trainer, EX_TRAIN_LOSS),
                   ex_trainer_get(st.trainer, EX_TRAIN_ACCURACY));
            if (ex_model_has_l2(mi))
                printf("  gamma %.4g", ex_trainer_get(st.trainer, EX_TRAIN_GAMMA));
            printf("  time %.1fs\n", now() - t0);
        }
        fflush(stdout);
    }
    double seconds = now() - t0;
    if (rank != 0) { /* the weights are the same on every rank: rank 0 evaluates and reports */
        release(&st);
        return 0;
    }

    const double *mean = ex_trainer_mean(st.trainer), *std = ex_trainer_std(st.trainer);
    int64_t n = lpc_dataset_size(st.train), p = lpc_head_latent_dim(st.model);
    st.z = malloc((size_t)(n * p) * sizeof *st.z);
    st.pred = malloc((size_t)n * sizeof *st.pred);
    double acc_train, acc_test, sigma_w;
    if (!st.z || !st.pred)
        return fail(&st, "allocating features", LPC_E_NOMEM);
    if ((s = o.fid.train_augmented
                 ? ex_evaluate_augmented(st.model, st.train, mean, std, 500, o.augment ? 4 : 0,
                                         o.augment, (uint64_t)o.seed + 1, st.z, NULL, st.pred,
                                         &acc_train)
                 : ex_evaluate(st.model, st.train, mean, std, 500, st.z, NULL, st.pred,
                               &acc_train)) != LPC_OK ||
        (s = ex_evaluate(st.model, st.test, mean, std, 500, NULL, NULL, NULL, &acc_test)) != LPC_OK)
        return fail(&st, "evaluating", s);
    if ((s = lpc_sigma_w(st.z, n, p, st.pred, lpc_head_num_classes(st.model), &sigma_w)) != LPC_OK)
        return fail(&st, "computing Sigma_W", s);
    if (!o.quiet)
        printf("test accuracy %.4f\n", acc_test);
    printf("summary model=%s acc_test=%.4f acc_train=%.4f sigma_w_train=%.4e seconds=%.1f\n",
           name, acc_test, acc_train, sigma_w, seconds);
    ex_lipschitz lip;
    if (o.lipschitz) {
        if ((s = ex_lipschitz_measure(st.model, st.test, mean, std, &lip)) != LPC_OK) {
            release(&st);
            return 1;
        }
        printf("lipschitz grad_max=%.4g grad_mean=%.4g grad_max_correct=%.4g "
               "grad_mean_correct=%.4g latent_bound=%.4g median_radius=%.4g "
               "bound_over_grad=%.4g", lip.grad.max, lip.grad.mean, lip.grad.max_correct,
               lip.grad.mean_correct, lip.latent_bound, lip.median_radius,
               lip.median_looseness);
        for (int r = 0; r < EX_CERT_RADII; r++)
            printf(" cert_acc@%g=%.4f", lip.radii[r], lip.cert_acc[r]);
        printf(" seconds=%.1f+%.1f\n", lip.seconds_estimate, lip.seconds_bound);
    }
    int rc = o.json ? write_json(o.json, name, acc_test, acc_train, sigma_w, seconds,
                                 o.lipschitz ? &lip : NULL)
                    : 0;
    release(&st);
    return rc;
}
