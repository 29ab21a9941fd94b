/* lpc-analyze --ood-features: out-of-distribution detection from the
 * training features (the detector's fit), ID evaluation rows and OOD rows.
 * Prints every score the inputs allow with AUROC, AUPR-In, AUPR-Out and
 * FPR95, and NC5. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>
#include "load.h"
#include "ood.h"

void an_ood_defaults(an_ood_args *a)
{
    memset(a, 0, sizeof *a);
    a->temperature = 1.0;
}

int an_ood_option(int argc, char **argv, int *i, an_ood_args *a)
{
    static const char *const files[] = {"--id-features", "--id-logits", "--ood-features",
                                        "--ood-logits", "--bias"};
    const char **slot[] = {&a->id_features, &a->id_logits, &a->ood_features, &a->ood_logits,
                           &a->bias};
    const char *o = argv[*i];
    if (strcmp(o, "--generalized") == 0) {
        a->generalized = 1;
        return 1;
    }
    if (*i + 1 >= argc)
        return 0;
    for (int f = 0; f < 5; f++)
        if (strcmp(o, files[f]) == 0) {
            *slot[f] = argv[++*i];
            return 1;
        }
    char *end;
    errno = 0;
    if (strcmp(o, "--temperature") == 0) {
        a->temperature = strtod(argv[++*i], &end);
        if (errno || *end || end == argv[*i] || !(a->temperature > 0) ||
            !isfinite(a->temperature)) {
            fprintf(stderr, "lpc-analyze: --temperature needs a number > 0, got '%s'\n", argv[*i]);
            return 2;
        }
        return 1;
    }
    if (strcmp(o, "--neco-dim") == 0) {
        a->neco_dim = strtol(argv[++*i], &end, 10);
        if (errno || *end || end == argv[*i] || a->neco_dim < 1 || a->neco_dim > 1 << 20) {
            fprintf(stderr, "lpc-analyze: --neco-dim needs an integer >= 1, got '%s'\n", argv[*i]);
            return 2;
        }
        return 1;
    }
    return 0;
}

/* A features file of p columns and, if given, its logits (rows x k). */
static int load_set(const char *fpath, const char *lpath, int p, int k, float **z, float **lg,
                    int64_t *rows)
{
    int64_t cols, lr, lc;
    if (!(*z = an_load_matrix(fpath, rows, &cols)))
        return 2;
    if (cols != p) {
        fprintf(stderr, "lpc-analyze: %s has %lld columns, the features %d\n", fpath,
                (long long)cols, p);
        return 2;
    }
    if (!lpath)
        return 0;
    if (!(*lg = an_load_matrix(lpath, &lr, &lc)))
        return 2;
    if (lr != *rows || lc != k) {
        fprintf(stderr, "lpc-analyze: %s is %lld x %lld, expected %lld x %d\n", lpath,
                (long long)lr, (long long)lc, (long long)*rows, k);
        return 2;
    }
    return 0;
}

/* The bias: a 1-D array of k finite values (NULL after a message otherwise). */
static float *load_bias(const char *path, int k)
{
    lpc_npy *a = NULL;
    float *b = NULL;
    if (lpc_npy_load(path, &a) != LPC_OK) {
        an_fail("cannot load", path);
        return NULL;
    }
    if (lpc_npy_ndim(a) != 1 || lpc_npy_dim(a, 0) != k) {
        fprintf(stderr, "lpc-analyze: %s: the bias must be a 1-D array of %d values\n", path, k);
    } else if (!(b = malloc((size_t)k * sizeof *b))) {
        fprintf(stderr, "lpc-analyze: %s: out of memory\n", path);
    } else if (lpc_npy_copy_f32(a, b, k) != LPC_OK) {
        an_fail("cannot read", path);
        free(b);
        b = NULL;
    }
    for (int c = 0; b && c < k; c++)
        if (!isfinite(b[c])) {
            fprintf(stderr, "lpc-analyze: %s: entry %d is %g (values must be finite)\n", path, c,
                    (double)b[c]);
            free(b);
            b = NULL;
        }
    lpc_npy_free(a);
    return b;
}

/* Prints "key": value, or null with a warning when the library calls it
 * undefined. Returns 2 on any other failure. */
static int put(FILE *out, const char *sep, const char *key, lpc_status s, double v)
{
    if (s != LPC_OK && s != LPC_E_NUMERIC) {
        fprintf(stderr, "lpc-analyze: ood %s: %s\n", key, lpc_last_error());
        return 2;
    }
    if (s == LPC_E_NUMERIC)
        fprintf(stderr, "lpc-analyze: warning: ood %s is undefined: %s\n", key, lpc_last_error());
    if (s == LPC_OK && isfinite(v))
        fprintf(out, "%s\"%s\": %.17g", sep, key, v);
    else
        fprintf(out, "%s\"%s\": null", sep, key);
    return 0;
}

int an_ood_print(FILE *out, const an_ood_args *a, const float *z, int64_t n, int p,
                 const int32_t *y, int k, const float *w, const float *lg)
{
    float *zi = NULL, *li = NULL, *zo = NULL, *lo = NULL, *b = NULL;
    double *si = NULL, *so = NULL;
    lpc_ood_detector *d = NULL;
    int64_t ni = n, no = 0;
    int rc = 2;
    if (a->id_features && load_set(a->id_features, a->id_logits, p, k, &zi, &li, &ni))
        goto done;
    if (!a->id_features && a->id_logits) {
        fprintf(stderr, "lpc-analyze: --id-logits needs --id-features\n");
        goto done;
    }
    if (load_set(a->ood_features, a->ood_logits, p, k, &zo, &lo, &no))
        goto done;
    if (a->bias && !w) {
        fprintf(stderr, "lpc-analyze: --bias needs --weights\n");
        goto done;
    }
    if (a->bias && !(b = load_bias(a->bias, k)))
        goto done;
    lpc_ood_detector_options o;
    lpc_ood_detector_options_init(&o);
    o.w = w;
    o.b = b;
    o.temperature = a->temperature;
    o.neco_dim = (int)a->neco_dim;
    lpc_samples train = lpc_samples_make(z, n, p, 1, 1, y);
    if (lpc_ood_detector_new(&train, k, &o, &d) != LPC_OK) {
        fprintf(stderr, "lpc-analyze: ood detector: %s\n", lpc_last_error());
        goto done;
    }
    si = malloc((size_t)ni * sizeof *si);
    so = malloc((size_t)no * sizeof *so);
    if (!si || !so) {
        fprintf(stderr, "lpc-analyze: out of memory\n");
        goto done;
    }
    const float *ze = zi ? zi : z, *le = zi ? li : lg;
    double v = 0.0;
    lpc_status s = lpc_ood_detector_nc5(d, zo, no, &v);
    fprintf(out, ", \"ood\": {\"n_id\": %lld, \"n_ood\": %lld", (long long)ni, (long long)no);
    if (put(out, ", ", "nc5", s, v))
        goto done;
    for (int sc = 0; sc < LPC_OOD_SCORE_COUNT; sc++) {
        const char *name = lpc_ood_score_name((lpc_ood_score)sc);
        s = lpc_ood_detector_score(d, (lpc_ood_score)sc, ze, le, ni, si);
        if (s == LPC_OK)
            s = lpc_ood_detector_score(d, (lpc_ood_score)sc, zo, lo, no, so);
        if (s == LPC_E_STATE)
            continue; /* the inputs do not allow this score */
        if (s != LPC_OK) {
            if (put(out, ", ", name, s, 0.0))
                goto done;
            continue;
        }
        fprintf(out, ", \"%s\": {", name);
        for (int m = 0; m < LPC_OOD_METRIC_COUNT; m++) {
            lpc_status g = lpc_ood_metric_compute(si, ni, so, no, (lpc_ood_metric)m, &v);
            if (put(out, m ? ", " : "", lpc_ood_metric_name((lpc_ood_metric)m), g, v))
                goto done;
        }
        fprintf(out, "}");
    }
    fprintf(out, "}");
    rc = 0;
done:
    lpc_ood_detector_free(d);
    free(zi);
    free(li);
    free(zo);
    free(lo);
    free(b);
    free(si);
    free(so);
    return rc;
}
