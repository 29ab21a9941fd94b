#include "openset.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/options.h"
#include "../common/trainer.h"

#define EVAL_BATCH 500
/* Seed of the generated far-OOD images: the same sets for every cell. */
#define FAR_SEED 0x6f6f64u

static const char *const set_names[AB_OOD_SETS] = {"near", "permuted", "noise"};
static const char *const set_titles[AB_OOD_SETS] = {
    "near OOD (the held-out classes' test images)",
    "far OOD: pixel-permuted ID test images",
    "far OOD: uniform-noise images"};

int ab_openset_option(ab_config *c, const char *v)
{
    c->holdout = 0;
    if (strcmp(v, "none") == 0)
        return 1;
    const char *p = v;
    for (;;) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || k < 0 || k > 63 || (*end && *end != ',')) {
            fprintf(stderr, "error: --holdout needs a comma list of class indices in [0, 63] "
                            "(or none), not '%s'\n", v);
            return 0;
        }
        if (c->holdout >> k & 1) {
            fprintf(stderr, "error: --holdout lists the class %ld twice\n", k);
            return 0;
        }
        c->holdout |= UINT64_C(1) << k;
        if (!*end)
            return 1;
        p = end + 1;
    }
}

void ab_openset_describe(const ab_config *c, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < 64 && len < n; k++)
        if (c->holdout >> k & 1)
            len += (size_t)snprintf(buf + len, n - len, "%s%d", len ? "," : " holdout=", k);
}

static int held(const ab_config *c, int32_t label)
{
    return label >= 0 && label < 64 && (c->holdout >> label & 1);
}

/* The samples of ds whose held-out state is `want`, with labels renumbered
 * by map (NULL: label 0) and k classes. */
static lpc_status select_samples(const ab_config *c, const lpc_dataset *ds, int want,
                                 const int32_t *map, int k, lpc_dataset **out)
{
    int64_t n = lpc_dataset_size(ds), got = 0;
    size_t pixels = (size_t)lpc_dataset_channels(ds) * (size_t)lpc_dataset_height(ds) *
                    (size_t)lpc_dataset_width(ds);
    const int32_t *y = lpc_dataset_labels(ds);
    const uint8_t *img = lpc_dataset_images(ds);
    uint8_t *sel = malloc((size_t)n * pixels);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    lpc_status s = LPC_E_NOMEM;
    if (sel && lab) {
        for (int64_t i = 0; i < n; i++)
            if (held(c, y[i]) == want) {
                memcpy(sel + (size_t)got * pixels, img + (size_t)i * pixels, pixels);
                lab[got++] = map ? map[y[i]] : 0;
            }
        s = got ? lpc_dataset_from_memory(sel, lab, got, lpc_dataset_channels(ds),
                                          lpc_dataset_height(ds), lpc_dataset_width(ds), k, out)
                : LPC_E_ARG;
    }
    free(sel);
    free(lab);
    return s;
}

int ab_openset_split(const ab_config *c, const char *cell, lpc_dataset **train,
                     lpc_dataset **test, lpc_dataset **near)
{
    int k = lpc_dataset_num_classes(*train), kept = 0;
    int32_t map[64];
    if (k > 64 || (k < 64 && c->holdout >> k)) {
        fprintf(stderr, "error: cell %s: --holdout names a class outside the data set's %d "
                        "(0..%d)\n", cell, k, k - 1);
        return 1;
    }
    for (int i = 0; i < k; i++)
        map[i] = held(c, i) ? -1 : kept++;
    if (kept < 2) {
        fprintf(stderr, "error: cell %s: --holdout leaves %d class(es) to train on; a "
                        "classifier needs two\n", cell, kept);
        return 1;
    }
    lpc_dataset *tr = NULL, *te = NULL, *ne = NULL;
    lpc_status s = select_samples(c, *train, 0, map, kept, &tr);
    if (s == LPC_OK)
        s = select_samples(c, *test, 0, map, kept, &te);
    if (s == LPC_OK)
        s = select_samples(c, *test, 1, NULL, kept, &ne);
    if (s != LPC_OK) {
        fprintf(stderr, "error: cell %s: splitting the data by --holdout: %s\n", cell,
                s == LPC_E_ARG ? "a split has no images (no held-out test image, or every "
                                 "image held out)"
                               : ex_status_reason(s));
        lpc_dataset_free(tr);
        lpc_dataset_free(te);
        lpc_dataset_free(ne);
        return 1;
    }
    lpc_dataset_free(*train);
    lpc_dataset_free(*test);
    *train = tr;
    *test = te;
    *near = ne;
    return 0;
}

/* The far-OOD set `which` (1 permuted, 2 noise): min(AB_OOD_FAR_MAX, ID
 * test size) images from a generator seeded with FAR_SEED + which. */
static lpc_status far_set(const lpc_dataset *test, int which, lpc_dataset **out)
{
    int ch = lpc_dataset_channels(test);
    int64_t n = lpc_dataset_size(test) < AB_OOD_FAR_MAX ? lpc_dataset_size(test) : AB_OOD_FAR_MAX;
    size_t hw = (size_t)lpc_dataset_height(test) * (size_t)lpc_dataset_width(test);
    size_t pixels = (size_t)ch * hw;
    uint8_t *img = malloc((size_t)n * pixels);
    int32_t *lab = calloc((size_t)n, sizeof *lab);
    size_t *perm = malloc(hw * sizeof *perm);
    lpc_rng *rng = lpc_rng_new(FAR_SEED + (uint64_t)which);
    lpc_status s = LPC_E_NOMEM;
    if (img && lab && perm && rng) {
        const uint8_t *src = lpc_dataset_images(test);
        for (int64_t i = 0; i < n; i++) {
            uint8_t *dst = img + (size_t)i * pixels;
            if (which == 2) {
                for (size_t j = 0; j < pixels; j++)
                    dst[j] = (uint8_t)lpc_rng_below(rng, 256);
                continue;
            }
            /* Fisher-Yates over the pixel positions; channels move together. */
            for (size_t j = 0; j < hw; j++)
                perm[j] = j;
            for (size_t j = hw - 1; j > 0; j--) {
                size_t r = (size_t)lpc_rng_below(rng, (uint64_t)j + 1), t = perm[j];
                perm[j] = perm[r];
                perm[r] = t;
            }
            for (int c = 0; c < ch; c++)
                for (size_t j = 0; j < hw; j++)
                    dst[(size_t)c * hw + j] = src[(size_t)i * pixels + (size_t)c * hw + perm[j]];
        }
        s = lpc_dataset_from_memory(img, lab, n, ch, lpc_dataset_height(test),
                                    lpc_dataset_width(test), lpc_dataset_num_classes(test), out);
    }
    lpc_rng_free(rng);
    free(perm);
    free(lab);
    free(img);
    return s;
}

/* Features and logits of a data set (eval mode, training normalisation). */
typedef struct {
    int64_t n;
    float *z, *logits;
} outputs;

static lpc_status forward(lpc_head *m, const double *mean, const double *std,
                          const lpc_dataset *ds, outputs *o)
{
    int64_t p = lpc_head_latent_dim(m), k = lpc_head_num_classes(m);
    double acc;
    o->n = lpc_dataset_size(ds);
    o->z = malloc((size_t)(o->n * p) * sizeof *o->z);
    o->logits = malloc((size_t)(o->n * k) * sizeof *o->logits);
    if (!o->z || !o->logits)
        return LPC_E_NOMEM;
    return ex_evaluate(m, ds, mean, std, EVAL_BATCH, o->z, o->logits, NULL, &acc);
}

/* Scores of every kind for one set; a score undefined on the data (NaN
 * scores) is left NaN with a warning. */
static lpc_status score_all(const lpc_ood_detector *d, const outputs *o, int k, const char *cell,
                            const char *set, double *scores[LPC_OOD_SCORE_COUNT])
{
    for (int s = 0; s < LPC_OOD_SCORE_COUNT; s++) {
        lpc_status st = s <= LPC_OOD_ENERGY
                            ? lpc_ood_logit_score(o->logits, o->n, k, (lpc_ood_score)s, 1.0,
                                                  scores[s])
                            : lpc_ood_detector_score(d, (lpc_ood_score)s, o->z, NULL, o->n,
                                                     scores[s]);
        if (st == LPC_E_NUMERIC) {
            fprintf(stderr, "warning: cell %s: %s score of the %s set undefined: %s\n", cell,
                    lpc_ood_score_name((lpc_ood_score)s), set, lpc_last_error());
            scores[s][0] = NAN;
        } else if (st != LPC_OK) {
            return st;
        }
    }
    return LPC_OK;
}

int ab_openset_measure(lpc_head *m, const double *mean, const double *std,
                       const lpc_dataset *train, const lpc_dataset *test,
                       const lpc_dataset *near, const char *cell, ab_ood *out)
{
    int k = lpc_head_num_classes(m), p = (int)lpc_head_latent_dim(m);
    const lpc_dataset *sets[1 + AB_OOD_SETS] = {test, near, NULL, NULL};
    lpc_dataset *far[2] = {NULL, NULL};
    outputs fit = {0}, o[1 + AB_OOD_SETS] = {{0}};
    double *scores[1 + AB_OOD_SETS][LPC_OOD_SCORE_COUNT] = {{0}};
    lpc_ood_detector *d = NULL;
    lpc_status s = LPC_OK;
    for (int f = 0; f < 2 && s == LPC_OK; f++)
        s = far_set(test, 1 + f, &far[f]);
    sets[2] = far[0];
    sets[3] = far[1];
    if (s == LPC_OK)
        s = forward(m, mean, std, train, &fit);
    for (int i = 0; i <= AB_OOD_SETS && s == LPC_OK; i++) {
        s = forward(m, mean, std, sets[i], &o[i]);
        for (int j = 0; j < LPC_OOD_SCORE_COUNT && s == LPC_OK; j++)
            if (!(scores[i][j] = malloc((size_t)o[i].n * sizeof(double))))
                s = LPC_E_NOMEM;
    }
    if (s == LPC_OK) {
        lpc_ood_detector_options opt;
        lpc_ood_detector_options_init(&opt);
        lpc_module *net = lpc_head_module(m);
        const lpc_tensor *w = lpc_module_find_param(net, "classifier.weight");
        const lpc_tensor *b = lpc_module_find_param(net, "classifier.bias");
        opt.w = w ? lpc_tensor_cdata(w) : NULL;
        opt.b = b ? lpc_tensor_cdata(b) : NULL;
        lpc_samples features = lpc_samples_make(fit.z, fit.n, p, 1, 1, lpc_dataset_labels(train));
        s = lpc_ood_detector_new(&features, k, &opt, &d);
    }
    for (int i = 0; i <= AB_OOD_SETS && s == LPC_OK; i++)
        s = score_all(d, &o[i], k, cell, i ? set_names[i - 1] : "ID test", scores[i]);
    if (s == LPC_OK) {
        out->n_id = o[0].n;
        for (int i = 0; i < AB_OOD_SETS; i++) {
            out->n_ood[i] = o[i + 1].n;
            for (int j = 0; j < LPC_OOD_SCORE_COUNT && s == LPC_OK; j++) {
                out->auroc[i][j] = out->fpr95[i][j] = NAN;
                if (isnan(scores[0][j][0]) || isnan(scores[i + 1][j][0]))
                    continue;
                s = lpc_ood_metric_compute(scores[0][j], o[0].n, scores[i + 1][j], o[i + 1].n,
                                           LPC_OOD_AUROC, &out->auroc[i][j]);
                if (s == LPC_OK)
                    s = lpc_ood_metric_compute(scores[0][j], o[0].n, scores[i + 1][j],
                                               o[i + 1].n, LPC_OOD_FPR95, &out->fpr95[i][j]);
            }
        }
    }
    if (s != LPC_OK)
        fprintf(stderr, "error: cell %s: out-of-distribution detection: %s\n", cell,
                ex_status_reason(s));
    lpc_ood_detector_free(d);
    for (int i = 0; i <= AB_OOD_SETS; i++) {
        free(o[i].z);
        free(o[i].logits);
        for (int j = 0; j < LPC_OOD_SCORE_COUNT; j++)
            free(scores[i][j]);
    }
    free(fit.z);
    free(fit.logits);
    lpc_dataset_free(far[0]);
    lpc_dataset_free(far[1]);
    return s != LPC_OK;
}

void ab_openset_write(jw *w, const ab_ood *o)
{
    jw_obj(w, "ood");
    jw_int(w, "id_samples", o->n_id);
    for (int i = 0; i < AB_OOD_SETS; i++) {
        jw_obj(w, set_names[i]);
        jw_int(w, "samples", o->n_ood[i]);
        for (int j = 0; j < LPC_OOD_SCORE_COUNT; j++) {
            jw_obj(w, lpc_ood_score_name((lpc_ood_score)j));
            jw_num(w, "auroc", o->auroc[i][j]); /* NaN (undefined score) becomes null */
            jw_num(w, "fpr95", o->fpr95[i][j]);
            jw_end_obj(w);
        }
        jw_end_obj(w);
    }
    jw_end_obj(w);
}

typedef struct {
    double mean, std;
    int n;
} ood_stat;

/* Mean and population std over the chosen runs of one model. */
static ood_stat stat_of(const ab_record *recs, int n, int model, const char *path)
{
    ood_stat st = {NAN, NAN, 0};
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++) {
        double v = recs[i].json && recs[i].chosen && recs[i].model == model
                       ? jv_num(recs[i].json, path, NAN)
                       : NAN;
        if (isfinite(v)) {
            sum += v;
            st.n++;
        }
    }
    if (!st.n)
        return st;
    st.mean = sum / st.n;
    for (int i = 0; i < n; i++) {
        double v = recs[i].json && recs[i].chosen && recs[i].model == model
                       ? jv_num(recs[i].json, path, NAN)
                       : NAN;
        if (isfinite(v))
            sq += (v - st.mean) * (v - st.mean);
    }
    st.std = sqrt(sq / st.n);
    return st;
}

static void cell_text(char *buf, size_t size, const ood_stat *a, const ood_stat *f)
{
    if (!a->n || !f->n)
        snprintf(buf, size, "—");
    else if (a->n == 1 && f->n == 1)
        snprintf(buf, size, "%.3f / %.3f", a->mean, f->mean);
    else
        snprintf(buf, size, "%.3f ± %.3f / %.3f ± %.3f", a->mean, a->std, f->mean, f->std);
}

void ab_openset_report(FILE *md, FILE *csv, const ab_config *c, const ab_record *recs, int n)
{
    char held[160];
    ab_openset_describe(c, held, sizeof held);
    fprintf(md, "\n## Open-set OOD detection\n\n"
                "Trained without the classes %s (labels of the others renumbered); ID: the "
                "trained classes' test images. Each cell: AUROC / FPR95 (FPR at 95%% TPR), mean "
                "± std (population) over the chosen runs of Tables 1-2; AUROC higher is better, "
                "FPR95 lower. The feature scores are fitted on the training features; "
                "— marks a score undefined on a model's features.\n",
            held + strlen(" holdout="));
    fprintf(csv, "model,set,score,runs,auroc_mean,auroc_std,fpr95_mean,fpr95_std\n");
    for (int i = 0; i < AB_OOD_SETS; i++) {
        fprintf(md, "\n### %s\n\n| Model |", set_titles[i]);
        for (int j = 0; j < LPC_OOD_SCORE_COUNT; j++)
            fprintf(md, " %s |", lpc_ood_score_name((lpc_ood_score)j));
        fprintf(md, "\n|---|");
        for (int j = 0; j < LPC_OOD_SCORE_COUNT; j++)
            fprintf(md, "---|");
        fprintf(md, "\n");
        for (int m = 0; m < c->n_models; m++) {
            const char *name = ex_model_name_at(c->models[m]);
            fprintf(md, "| %s |", name);
            for (int j = 0; j < LPC_OOD_SCORE_COUNT; j++) {
                const char *score = lpc_ood_score_name((lpc_ood_score)j);
                char pa[160], pf[160], text[160];
                snprintf(pa, sizeof pa, "final.ood.%s.%s.auroc", set_names[i], score);
                snprintf(pf, sizeof pf, "final.ood.%s.%s.fpr95", set_names[i], score);
                ood_stat a = stat_of(recs, n, m, pa), f = stat_of(recs, n, m, pf);
                cell_text(text, sizeof text, &a, &f);
                fprintf(md, " %s |", text);
                fprintf(csv, "%s,%s,%s,%d", name, set_names[i], score, a.n);
                if (a.n && f.n)
                    fprintf(csv, ",%.10g,%.10g,%.10g,%.10g\n", a.mean, a.std, f.mean, f.std);
                else
                    fprintf(csv, ",,,,\n");
            }
            fprintf(md, "\n");
        }
    }
}
