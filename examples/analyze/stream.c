/* lpc-analyze --stream: the streamable metrics of features stored as a list
 * of .npy chunks, holding one chunk in memory at a time (lpc_feature_stream):
 *
 *   lpc-analyze --stream --features Z0.npy --labels Y0.npy [--logits L0.npy]
 *                        --features Z1.npy --labels Y1.npy [--logits L1.npy] ...
 *                        [--weights W.npy] [--classes K]
 *
 * The i-th --labels (and --logits) belongs to the i-th --features. Reads the
 * chunks twice (R and NC4 need the final class means). K is the number of
 * rows of W, else --classes, else the largest label + 1 (a scan of the label
 * files). Prints R, sigma_w, cov_norm and the neural-collapse metrics as one
 * JSON object; entropy and binarity need all samples at once and are not
 * streamed. Exit status 0, or 2 on bad arguments or files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lpc/lpc.h>
#include "load.h"
#include "nc_keys.h"
#include "stream.h"

#define MAX_CHUNKS 100000

static const char usage[] =
    "usage: lpc-analyze --stream --features Z0.npy --labels Y0.npy [--logits L0.npy] "
    "[--features Z1.npy --labels Y1.npy ...] [--weights W.npy] [--classes K]\n"
    "  one --features/--labels (and optional --logits) per chunk, in the same order;\n"
    "  prints R, sigma_w, cov_norm and the neural-collapse metrics as JSON.\n";

typedef struct {
    const char **features, **labels, **logits;
    int nf, nl, ng;
    const char *weights;
    long classes;
} args;

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->features = calloc((size_t)argc, sizeof *a->features);
    a->labels = calloc((size_t)argc, sizeof *a->labels);
    a->logits = calloc((size_t)argc, sizeof *a->logits);
    if (!a->features || !a->labels || !a->logits) {
        fprintf(stderr, "lpc-analyze: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        } else if (has_value && strcmp(o, "--features") == 0) {
            a->features[a->nf++] = argv[++i];
        } else if (has_value && strcmp(o, "--labels") == 0) {
            a->labels[a->nl++] = argv[++i];
        } else if (has_value && strcmp(o, "--logits") == 0) {
            a->logits[a->ng++] = argv[++i];
        } else if (has_value && strcmp(o, "--weights") == 0) {
            a->weights = argv[++i];
        } else if (has_value && strcmp(o, "--classes") == 0) {
            char *end;
            errno = 0;
            a->classes = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || a->classes < 2 ||
                a->classes > AN_MAX_CLASSES) {
                fprintf(stderr, "lpc-analyze: --classes needs an integer in 2..%d, got '%s'\n",
                        AN_MAX_CLASSES, argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "lpc-analyze: unknown or incomplete option '%s'\n%s", o, usage);
            return 2;
        }
    }
    if (a->nf == 0 || a->nf != a->nl || (a->ng && a->ng != a->nf) || a->nf > MAX_CHUNKS) {
        fprintf(stderr, "lpc-analyze: --stream needs one --labels (and, if any, one --logits) "
                "per --features, got %d / %d / %d\n%s", a->nf, a->nl, a->ng, usage);
        return 2;
    }
    return 0;
}

/* Largest label + 1 over every label file. */
static int scan_classes(const args *a, long *k)
{
    *k = 0;
    for (int c = 0; c < a->nl; c++) {
        int64_t n;
        int32_t *y = an_load_labels(a->labels[c], &n);
        if (!y)
            return 2;
        for (int64_t i = 0; i < n; i++) {
            if (y[i] < 0 || y[i] >= AN_MAX_CLASSES) {
                fprintf(stderr, "lpc-analyze: %s: label %ld of sample %lld is %s (labels are "
                        "0..%d)\n", a->labels[c], (long)y[i], (long long)i,
                        y[i] < 0 ? "negative" : "too large", AN_MAX_CLASSES - 1);
                free(y);
                return 2;
            }
            if (y[i] >= *k)
                *k = (long)y[i] + 1;
        }
        free(y);
    }
    if (*k < 2) {
        fprintf(stderr, "lpc-analyze: the labels name fewer than two classes\n");
        return 2;
    }
    return 0;
}

/* Adds chunk c to the stream (one pass). */
static int add_chunk(lpc_feature_stream *st, const args *a, int c, int64_t p, long k)
{
    int64_t n = 0, pc = 0, ny = 0, nl = 0, kl = 0;
    float *z = an_load_matrix(a->features[c], &n, &pc), *lg = NULL;
    int32_t *y = z ? an_load_labels(a->labels[c], &ny) : NULL, *pred = NULL;
    int rc = 2;
    if (!z || !y)
        goto done;
    if (pc != p || ny != n) {
        fprintf(stderr, "lpc-analyze: %s is %lld x %lld with %lld labels, expected N x %lld "
                "with N labels\n", a->features[c], (long long)n, (long long)pc, (long long)ny,
                (long long)p);
        goto done;
    }
    if (a->ng) {
        if (!(lg = an_load_matrix(a->logits[c], &nl, &kl)))
            goto done;
        if (nl != n || kl != k || !(pred = malloc((size_t)(n ? n : 1) * sizeof *pred))) {
            fprintf(stderr, "lpc-analyze: %s: expected %lld x %ld logits\n", a->logits[c],
                    (long long)n, k);
            goto done;
        }
        an_argmax_rows(lg, n, kl, pred);
    }
    if (lpc_feature_stream_add(st, z, n, y, pred) != LPC_OK) {
        an_fail("cannot add", a->features[c]);
        goto done;
    }
    rc = 0;
done:
    free(z);
    free(y);
    free(lg);
    free(pred);
    return rc;
}

static void put(int *first, const char *key, lpc_status s, double v)
{
    if (s != LPC_OK)
        fprintf(stderr, "lpc-analyze: warning: %s is undefined: %s\n", key, lpc_last_error());
    printf("%s\"%s\": ", *first ? "" : ", ", key);
    *first = 0;
    if (s == LPC_OK && isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

int analyze_stream(int argc, char **argv)
{
    args a;
    int rc = parse(argc, argv, &a);
    float *w = NULL;
    lpc_feature_stream *st = NULL;
    lpc_nc *nc = NULL;
    if (rc)
        goto done;
    rc = 2;
    int64_t p, one, kw = 0, pw = 0;
    long k = a.classes;
    /* P from the first chunk's header (the chunk itself is read again below). */
    float *z0 = an_load_matrix(a.features[0], &one, &p);
    if (!z0)
        goto done;
    free(z0);
    if (a.weights) {
        if (!(w = an_load_matrix(a.weights, &kw, &pw)))
            goto done;
        if (pw != p || kw < 2 || kw > AN_MAX_CLASSES) {
            fprintf(stderr, "lpc-analyze: %s is %lld x %lld, expected K x %lld\n", a.weights,
                    (long long)kw, (long long)pw, (long long)p);
            goto done;
        }
        k = (long)kw;
    } else if (!k && scan_classes(&a, &k)) {
        goto done;
    }
    if (lpc_feature_stream_new((int)p, (int)k, w, NULL, 0, &st) != LPC_OK) {
        fprintf(stderr, "lpc-analyze: %s\n", lpc_last_error());
        goto done;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int c = 0; c < a.nf; c++)
            if (add_chunk(st, &a, c, p, k))
                goto done;
        if (lpc_feature_stream_end_pass(st) != LPC_OK) {
            fprintf(stderr, "lpc-analyze: pass %d: %s\n", pass + 1, lpc_last_error());
            goto done;
        }
    }
    int first = 1;
    double v = 0.0;
    printf("{");
    static const struct {
        const char *key;
        lpc_stream_metric m;
    } skeys[] = {{"R", LPC_STREAM_R}, {"sigma_w", LPC_STREAM_SIGMA_W},
                 {"cov_norm", LPC_STREAM_NORM_COV}};
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++) {
        lpc_status s = lpc_feature_stream_get(st, skeys[i].m, &v);
        put(&first, skeys[i].key, s, v);
    }
    lpc_status s = lpc_feature_stream_nc(st, &nc);
    for (size_t i = 0; i < NC_KEY_COUNT; i++) {
        if (!nc_key_wanted(i, w != NULL, a.ng > 0))
            continue;
        lpc_status g = s == LPC_OK ? lpc_nc_get(nc, nc_keys[i].m, &v) : s;
        put(&first, nc_keys[i].key, g, v);
    }
    printf("}\n");
    rc = 0;
done:
    lpc_nc_free(nc);
    lpc_feature_stream_free(st);
    free(w);
    free(a.features);
    free(a.labels);
    free(a.logits);
    return rc == 1 ? 0 : rc;
}
