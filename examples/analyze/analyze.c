/* lpc-analyze: the paper's analysis metrics of a feature matrix saved as
 * .npy (e.g. from NumPy or lpc_npy_save_tensor), printed as one JSON object.
 *
 *   lpc-analyze --features Z.npy --labels Y.npy [--weights W.npy]
 *               [--logits L.npy] [--k 20] [--standardize]
 *   lpc-analyze --stream ...   features in chunks: see stream.c
 *
 * Exit status 0 on success, 2 on bad arguments or files (NaN or Inf in the
 * features, weights or logits included), and then nothing on stdout. A
 * metric that is undefined for the data (e.g. binarity with a constant
 * dimension) is printed as null with a warning on stderr. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lpc/lpc.h>
#include "../common/closeout.h"
#include "load.h"
#include "nc_keys.h"
#include "ood.h"
#include "stream.h"

static const char usage[] =
    "usage: lpc-analyze --features Z.npy --labels Y.npy [--weights W.npy] [--logits L.npy] "
    "[--k 20] [--standardize]\n"
    "  --features Z.npy  N x P penultimate features (float32 or float64)\n"
    "  --labels Y.npy    N true labels (int32 or int64)\n"
    "  --weights W.npy   K x P classifier weights: adds nc3 and nc4\n"
    "  --logits L.npy    N x K logits: predictions for sigma_w and nc4\n"
    "  --k K             neighbours of the entropy estimate (default 20)\n"
    "  --standardize     standardise each dimension before the entropy\n"
    AN_OOD_USAGE
    "  --stream ...      features in chunks, one .npy per chunk (lpc-analyze --stream --help)\n"
    "Prints one JSON object; exit status 2 on bad arguments or files.\n";


/* JSON output, collected in memory and printed only when nothing failed:
 * metrics print as numbers, or null with a warning when the library calls
 * them undefined (LPC_E_NUMERIC). Other failures are fatal. */
typedef struct {
    int first, fatal;
    FILE *out;
} json;

static void put(json *j, const char *key, lpc_status s, double v)
{
    if (s != LPC_OK && s != LPC_E_NUMERIC && !j->fatal) {
        fprintf(stderr, "lpc-analyze: %s: %s\n", key, lpc_last_error());
        j->fatal = 1;
    }
    if (s == LPC_E_NUMERIC)
        fprintf(stderr, "lpc-analyze: warning: %s is undefined: %s\n", key, lpc_last_error());
    fprintf(j->out, "%s\"%s\": ", j->first ? "" : ", ", key);
    j->first = 0;
    if (s == LPC_OK && isfinite(v))
        fprintf(j->out, "%.17g", v);
    else
        fprintf(j->out, "null");
}

int main(int argc, char **argv)
{
    ex_closeout_init("lpc-analyze");
    if (argc > 1 && strcmp(argv[1], "--stream") == 0)
        return analyze_stream(argc - 1, argv + 1);
    const char *features = NULL, *labels = NULL, *weights = NULL, *logits = NULL;
    long knn = LPC_KL_DEFAULT_K;
    int standardize = 0;
    an_ood_args ood;
    an_ood_defaults(&ood);
    for (int i = 1; i < argc; i++) {
        int taken = an_ood_option(argc, argv, &i, &ood);
        if (taken == 2)
            return 2;
        if (taken)
            continue;
        const char *o = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(o, "--standardize") == 0) {
            standardize = 1;
        } else if (has_value && strcmp(o, "--features") == 0) {
            features = argv[++i];
        } else if (has_value && strcmp(o, "--labels") == 0) {
            labels = argv[++i];
        } else if (has_value && strcmp(o, "--weights") == 0) {
            weights = argv[++i];
        } else if (has_value && strcmp(o, "--logits") == 0) {
            logits = argv[++i];
        } else if (has_value && strcmp(o, "--k") == 0) {
            char *end;
            errno = 0;
            knn = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || knn < 1 || knn > 100000) {
                fprintf(stderr, "lpc-analyze: --k needs an integer in 1..100000, got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "lpc-analyze: unknown or incomplete option '%s'\n%s", o, usage);
            return 2;
        }
    }
    if (!ood.ood_features && (ood.id_features || ood.id_logits || ood.ood_logits || ood.bias)) {
        fprintf(stderr, "lpc-analyze: --id-features, --id-logits, --ood-logits and --bias need "
                        "--ood-features\n");
        return 2;
    }
    if (!features || !labels) {
        fprintf(stderr, "lpc-analyze: --features and --labels are required\n%s", usage);
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    lpc_set_num_threads(cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus);

    int rc = 2;
    int64_t n = 0, p = 0, ny = 0, kw = 0, pw = 0, nl = 0, kl = 0;
    float *z = NULL, *w = NULL, *lg = NULL;
    int32_t *y = NULL, *pred = NULL;
    if (!(z = an_load_matrix(features, &n, &p)) || !(y = an_load_labels(labels, &ny)))
        goto done;
    if (weights && !(w = an_load_matrix(weights, &kw, &pw)))
        goto done;
    if (logits && !(lg = an_load_matrix(logits, &nl, &kl)))
        goto done;
    if (ny != n) {
        fprintf(stderr, "lpc-analyze: %lld labels for %lld feature rows\n", (long long)ny,
                (long long)n);
        goto done;
    }
    if (n < 1 || p < 1 || p > 1 << 20) {
        fprintf(stderr, "lpc-analyze: features are %lld x %lld; need N >= 1 samples and "
                "1 <= P <= %d dimensions\n", (long long)n, (long long)p, 1 << 20);
        goto done;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (y[i] < 0) {
            fprintf(stderr, "lpc-analyze: %s: label %d of sample %lld is negative\n", labels,
                    (int)y[i], (long long)i);
            goto done;
        }
        if (y[i] >= k)
            k = (int64_t)y[i] + 1;
    }
    if (w && (pw != p || kw < k)) {
        fprintf(stderr, "lpc-analyze: weights are %lld x %lld, expected K x %lld with K >= %lld\n",
                (long long)kw, (long long)pw, (long long)p, (long long)k);
        goto done;
    }
    if (lg && (nl != n || kl < k || (w && kl != kw))) {
        fprintf(stderr, "lpc-analyze: logits are %lld x %lld, expected %lld x K\n", (long long)nl,
                (long long)kl, (long long)n);
        goto done;
    }
    if (w)
        k = kw;
    else if (lg)
        k = kl;
    if (k > AN_MAX_CLASSES) {
        fprintf(stderr, "lpc-analyze: %lld classes (largest label %lld); at most %d\n",
                (long long)k, (long long)k - 1, AN_MAX_CLASSES);
        goto done;
    }
    if (lg) {
        if (!(pred = malloc((size_t)n * sizeof *pred))) {
            fprintf(stderr, "lpc-analyze: out of memory\n");
            goto done;
        }
        an_argmax_rows(lg, n, kl, pred);
    }

    char *text = NULL;
    size_t text_len = 0;
    json j = {1, 0, open_memstream(&text, &text_len)};
    if (!j.out) {
        fprintf(stderr, "lpc-analyze: out of memory\n");
        goto done;
    }
    double v = 0.0, h = 0.0, hp = 0.0;
    fprintf(j.out, "{");
    /* Each status is taken before put() reads v (argument order is unspecified). */
    lpc_status s = lpc_separation_ratio(z, n, (int)p, y, (int)k, &v);
    put(&j, "R", s, v);
    s = lpc_sigma_w(z, n, (int)p, pred ? pred : y, (int)k, &v);
    put(&j, "sigma_w", s, v);
    s = lpc_norm_cov(z, n, (int)p, &v);
    put(&j, "cov_norm", s, v);
    s = lpc_kl_entropy(z, n, (int)p, (int)knn, standardize ? LPC_KL_STANDARDIZE : 0,
                                  &h, &hp);
    put(&j, "entropy", s, h);
    put(&j, "entropy_per_dim", s, hp);
    lpc_binarity *b = NULL;
    s = lpc_binarity_compute(z, n, (int)p, &b);
    static const struct {
        const char *key;
        lpc_binarity_metric m;
    } bkeys[] = {{"gmm_l", LPC_BINARITY_L},         {"gmm_sigma", LPC_BINARITY_SIGMA},
                 {"gmm_mu", LPC_BINARITY_MU},       {"gmm_l_min", LPC_BINARITY_L_MIN},
                 {"gmm_mu_min", LPC_BINARITY_MU_MIN}};
    for (size_t i = 0; i < sizeof bkeys / sizeof bkeys[0]; i++) {
        v = 0.0;
        lpc_status g = s == LPC_OK ? lpc_binarity_get(b, bkeys[i].m, &v) : s;
        put(&j, bkeys[i].key, g, v);
    }
    lpc_binarity_free(b);
    lpc_nc *nc = NULL;
    s = lpc_nc_compute(z, n, (int)p, y, (int)k, w, NULL, pred, &nc);
    for (size_t i = 0; i < NC_KEY_COUNT; i++) {
        if (!nc_key_wanted(i, w != NULL, pred != NULL))
            continue;
        v = 0.0;
        lpc_status g = s == LPC_OK ? lpc_nc_get(nc, nc_keys[i].m, &v) : s;
        put(&j, nc_keys[i].key, g, v);
    }
    lpc_nc_free(nc);
    lpc_gnc *g = NULL;
    s = ood.generalized ? lpc_gnc_compute(z, n, (int)p, y, (int)k, &g) : LPC_OK;
    for (int m = 0; m < LPC_GNC_METRIC_COUNT && ood.generalized; m++) {
        char key[64];
        snprintf(key, sizeof key, "gnc_%s", lpc_gnc_metric_name((lpc_gnc_metric)m));
        v = 0.0;
        lpc_status q = s == LPC_OK ? lpc_gnc_get(g, (lpc_gnc_metric)m, &v) : s;
        put(&j, key, q, v);
    }
    lpc_gnc_free(g);
    if (ood.ood_features && !j.fatal &&
        an_ood_print(j.out, &ood, z, n, (int)p, y, (int)k, w, lg) != 0)
        j.fatal = 1;
    fprintf(j.out, "}\n");
    rc = fclose(j.out) != 0 || j.fatal ? 2 : 0;
    if (rc == 0)
        fwrite(text, 1, text_len, stdout);
    free(text);
done:
    free(z);
    free(y);
    free(w);
    free(lg);
    free(pred);
    return rc;
}
