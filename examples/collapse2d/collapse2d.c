/* lpc-collapse2d: the paper's Fig. 1 in seconds. Three Gaussian classes in
 * 10-D feed a small MLP whose penultimate layer is linear and 2-D; training
 * with CE + gamma * mean(z^2) and gamma growing per step collapses each
 * class onto one point of the latent plane. Writes PNG frames of the plane
 * and prints the within-class spread per frame. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../common/closeout.h"
#include "../common/files.h"
#include "../common/options.h"
#include "../common/plot.h"

#define CLASSES 3
#define DIM 10
#define HIDDEN 64
#define FRAME_W 700
#define FRAME_H 600

typedef struct {
    const char *out;
    long frames, steps, per_class, seed, threads;
    double gamma_max, lr;
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lpc-collapse2d [options]\n"
        "  --out DIR        where the frames go (default collapse2d)\n"
        "  --frames N       number of PNG frames (default 8)\n"
        "  --steps N        full-batch AdamW steps (default 2000)\n"
        "  --per-class N    samples per class (default 300)\n"
        "  --gamma-max X    final gamma, reached at 70%% of the steps (default 10)\n"
        "  --lr X           learning rate (default 1e-2)\n"
        "  --seed N         (default 0)         --threads N (default 1)\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.out = "collapse2d", .frames = 8, .steps = 2000, .per_class = 300,
                   .threads = 1, .gamma_max = 10, .lr = 1e-2};
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'}, {"out", required_argument, 0, 'o'},
        {"frames", required_argument, 0, 'f'}, {"steps", required_argument, 0, 's'},
        {"per-class", required_argument, 0, 'n'}, {"gamma-max", required_argument, 0, 'g'},
        {"lr", required_argument, 0, 'l'}, {"seed", required_argument, 0, 'S'},
        {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'h': usage(stdout); exit(0);
        case 'o': o->out = optarg; break;
        case 'f': ok = ex_parse_long("--frames", optarg, 1, 1000, &o->frames); break;
        case 's': ok = ex_parse_long("--steps", optarg, 1, 1000000, &o->steps); break;
        case 'n': ok = ex_parse_long("--per-class", optarg, 2, 100000, &o->per_class); break;
        case 'g': ok = ex_parse_double("--gamma-max", optarg, 1e-6, 1e9, &o->gamma_max); break;
        case 'l': ok = ex_parse_double("--lr", optarg, 1e-9, 1, &o->lr); break;
        case 'S': ok = ex_parse_long("--seed", optarg, 0, 1L << 40, &o->seed); break;
        case 't': ok = ex_parse_long("--threads", optarg, 1, 256, &o->threads); break;
        default: ok = 0;
        }
        if (!ok) {
            usage(stderr);
            return 0;
        }
    }
    return optind == argc || (usage(stderr), 0);
}

/* Class means on a sphere of radius 2.5, unit-variance noise. */
static void make_data(lpc_rng *rng, long per_class, float *x, int32_t *y)
{
    double mu[CLASSES][DIM];
    for (int c = 0; c < CLASSES; c++) {
        double norm = 0;
        for (int d = 0; d < DIM; d++) {
            mu[c][d] = lpc_rng_normal(rng);
            norm += mu[c][d] * mu[c][d];
        }
        for (int d = 0; d < DIM; d++)
            mu[c][d] *= 2.5 / sqrt(norm);
    }
    for (long i = 0; i < per_class * CLASSES; i++) {
        y[i] = (int32_t)(i % CLASSES);
        for (int d = 0; d < DIM; d++)
            x[i * DIM + d] = (float)(mu[y[i]][d] + lpc_rng_normal(rng));
    }
}

static lpc_module *build(lpc_rng *rng, lpc_module **classifier)
{
    lpc_module *net = lpc_sequential_new();
    *classifier = lpc_linear_new(2, CLASSES, 0, rng);
    if (!net || !*classifier ||
        lpc_sequential_add(net, "fc1", lpc_linear_new(DIM, HIDDEN, 1, rng)) != LPC_OK ||
        lpc_sequential_add(net, "act1", lpc_silu_new()) != LPC_OK ||
        lpc_sequential_add(net, "fc2", lpc_linear_new(HIDDEN, HIDDEN, 1, rng)) != LPC_OK ||
        lpc_sequential_add(net, "act2", lpc_silu_new()) != LPC_OK ||
        lpc_sequential_add(net, "penultimate", lpc_linear_new(HIDDEN, 2, 1, rng)) != LPC_OK) {
        lpc_module_free(net);
        lpc_module_free(*classifier);
        return NULL;
    }
    return net;
}

/* Mean over classes of the RMS distance to the class centroid, and the
 * smallest distance between centroids. */
static void spread(const float *z, const int32_t *y, long n, double *within, double *between)
{
    double mu[CLASSES][2] = {{0}}, cnt[CLASSES] = {0}, ss[CLASSES] = {0};
    for (long i = 0; i < n; i++) {
        mu[y[i]][0] += z[2 * i];
        mu[y[i]][1] += z[2 * i + 1];
        cnt[y[i]]++;
    }
    for (int c = 0; c < CLASSES; c++) {
        mu[c][0] /= cnt[c];
        mu[c][1] /= cnt[c];
    }
    for (long i = 0; i < n; i++) {
        double dx = z[2 * i] - mu[y[i]][0], dy = z[2 * i + 1] - mu[y[i]][1];
        ss[y[i]] += dx * dx + dy * dy;
    }
    *within = 0;
    *between = INFINITY;
    for (int c = 0; c < CLASSES; c++) {
        *within += sqrt(ss[c] / cnt[c]) / CLASSES;
        for (int d = c + 1; d < CLASSES; d++) {
            double dist = hypot(mu[c][0] - mu[d][0], mu[c][1] - mu[d][1]);
            *between = dist < *between ? dist : *between;
        }
    }
}

/* One frame: the latent plane with a colour and a marker per class, equal
 * scales on both axes so that distances look right. */
static int draw(const char *out, long frame, const float *z, const int32_t *y, long n,
                long step, double gamma)
{
    double *px = malloc((size_t)n * sizeof *px), *py = malloc((size_t)n * sizeof *py);
    double both[2] = {INFINITY, -INFINITY};
    ex_fig f = {0};
    int ok = px && py && ex_fig_init(&f, FRAME_W, FRAME_H) == 0;
    for (long i = 0; ok && i < n; i++) {
        px[i] = z[2 * i];
        py[i] = z[2 * i + 1];
        both[0] = fmin(both[0], fmin(px[i], py[i]));
        both[1] = fmax(both[1], fmax(px[i], py[i]));
    }
    /* A square plot area; the legend stands right of it, off the points. */
    ex_axes a = {.x = 78, .y = 56, .w = FRAME_H - 56 - 64, .h = FRAME_H - 56 - 64};
    ok = ok && ex_range(both, 2, 0, a.xr) == 0;
    char title[96], path[4200];
    if (ok) {
        memcpy(a.yr, a.xr, sizeof a.yr);
        snprintf(title, sizeof title, "Step %ld, \xce\xb3 = %.3g", step, gamma);
        ex_text(&f, a.x + a.w / 2, 14, title, 17, 1, 0.5, 0, 0);
        ex_axes_draw(&f, &a, NULL, "Latent z\xe2\x82\x81", "Latent z\xe2\x82\x82", 13);
        const char *labels[CLASSES] = {"Class 1", "Class 2", "Class 3"};
        uint32_t rgb[CLASSES];
        ex_marker mk[CLASSES];
        for (int c = 0; c < CLASSES; c++) {
            rgb[c] = ex_color(c);
            mk[c] = (ex_marker)c;
            for (long i = 0; i < n; i++)
                if (y[i] == c)
                    ex_plot_points(&f, &a, &px[i], &py[i], 1, 3, rgb[c], mk[c]);
        }
        ex_legend(&f, a.x + a.w + 16, a.y, labels, rgb, mk, CLASSES, 12);
        snprintf(path, sizeof path, "%s/frame_%03ld.png", out, frame);
        ok = ex_fig_save(&f, path) == 0;
    }
    ex_fig_done(&f);
    free(px);
    free(py);
    return ok;
}

int main(int argc, char **argv)
{
    ex_closeout_init("lpc-collapse2d");
    options o;
    if (!parse(argc, argv, &o) || !ex_check_dir_option("--out", o.out))
        return 2;
    if (ex_mkdirs(o.out) != 0) {
        fprintf(stderr, "error: cannot create %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    lpc_set_num_threads((int)o.threads);
    long n = o.per_class * CLASSES;
    float *x = malloc((size_t)n * DIM * sizeof *x), *z = malloc((size_t)n * 2 * sizeof *z);
    int32_t *y = malloc((size_t)n * sizeof *y);
    lpc_rng *rng = lpc_rng_new((uint64_t)o.seed);
    lpc_module *cls = NULL, *net = rng ? build(rng, &cls) : NULL;
    lpc_adamw *opt = lpc_adamw_new(0.9, 0.999, 1e-8);
    lpc_ctx *ctx = lpc_ctx_new();
    if (!x || !z || !y || !net || !opt || !ctx) {
        fprintf(stderr, "error: setting up: %s\n", lpc_last_error());
        return 1;
    }
    make_data(rng, o.per_class, x, y);
    int group = lpc_adamw_add_group(opt, o.lr, 5e-4);
    for (int i = 0; i < lpc_module_num_params(net); i++)
        lpc_adamw_add_param(opt, group, lpc_module_param(net, i));
    for (int i = 0; i < lpc_module_num_params(cls); i++)
        lpc_adamw_add_param(opt, group, lpc_module_param(cls, i));

    printf("frame   step      gamma     loss    acc   within-class spread  min centroid distance  ratio\n");
    int64_t shape[2] = {n, DIM};
    long frame = 0;
    for (long step = 0; step <= o.steps; step++) {
        double gamma = lpc_gamma_ramp(step < o.steps ? step : o.steps - 1, o.steps, o.gamma_max, 0.7);
        lpc_ctx_reset(ctx);
        lpc_tensor *xt = lpc_tensor_from(ctx, 2, shape, x, n * DIM);
        lpc_tensor *zt = lpc_module_forward(net, ctx, xt);
        lpc_tensor *logits = lpc_module_forward(cls, ctx, zt);
        lpc_tensor *loss = lpc_add(ctx, lpc_cross_entropy(ctx, logits, y),
                                   lpc_l2_latent(ctx, zt, (float)gamma));
        if (lpc_ctx_status(ctx) != LPC_OK) {
            fprintf(stderr, "error: step %ld: %s\n", step, lpc_ctx_error(ctx));
            return 1;
        }
        /* Frames at evenly spaced steps, the last after the final update. */
        if (frame < o.frames && step >= frame * o.steps / (o.frames > 1 ? o.frames - 1 : 1)) {
            const float *lg = lpc_tensor_cdata(logits);
            long correct = 0;
            for (long i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < CLASSES; c++)
                    best = lg[i * CLASSES + c] > lg[i * CLASSES + best] ? c : best;
                correct += best == y[i];
            }
            double within, between;
            memcpy(z, lpc_tensor_cdata(zt), (size_t)n * 2 * sizeof *z);
            spread(z, y, n, &within, &between);
            printf("%5ld %6ld %10.4g %8.4f %6.3f %20.4e %22.4f %10.3g\n", frame, step, gamma,
                   lpc_tensor_cdata(loss)[0], (double)correct / n, within, between,
                   between / within);
            if (!draw(o.out, frame, z, y, n, step, gamma))
                return 1;
            frame++;
        }
        if (step == o.steps)
            break;
        if (lpc_backward(ctx, loss) != LPC_OK || lpc_adamw_step(opt) != LPC_OK) {
            fprintf(stderr, "error: step %ld: %s\n", step, lpc_last_error());
            return 1;
        }
        lpc_module_zero_grad(net);
        lpc_module_zero_grad(cls);
    }
    printf("wrote %ld frames to %s/frame_*.png\n", frame, o.out);
    lpc_ctx_free(ctx);
    lpc_adamw_free(opt);
    lpc_module_free(net);
    lpc_module_free(cls);
    lpc_rng_free(rng);
    free(x);
    free(z);
    free(y);
    return 0;
}
