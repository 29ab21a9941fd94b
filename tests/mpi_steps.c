/* Helper of tests/test_mpi.sh (run under mpirun or alone):
 *   mpi_steps train BACKBONE STEPS OUT.lpcc
 *     trains model LPC on the first STEPS x 128 Fashion-MNIST images (one
 *     epoch of STEPS global batches, 1 thread per rank, data-parallel over
 *     the launcher's ranks) and saves the model's tensors (rank 0);
 *   mpi_steps allreduce
 *     sums buffers of several sizes and both types over the launcher's
 *     ranks and checks every rank's result bit for bit against the order
 *     that examples/common/comm_mpi.h documents (a ring for large buffers,
 *     rank 0 first for small ones), computed here from every rank's values;
 *     with 3 or more ranks the ring must also differ from the rank-0-first
 *     order somewhere (else this check could not tell them apart);
 *   mpi_steps compare A.lpcc B.lpcc PARAM_TOL BN_TOL
 *     compares the "model." tensors of two checkpoints: largest absolute
 *     difference of the weights and of the batch-norm running statistics,
 *     exit 1 when either exceeds its tolerance or the tensors differ in
 *     name or shape. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../examples/common/comm_mpi.h"
#include "../examples/common/options.h"
#include "../examples/common/recipes.h"
#include "../examples/common/trainer.h"

static int fail(const char *what, lpc_status s)
{
    fprintf(stderr, "mpi_steps: %s: %s (%s)\n", what, lpc_last_error(), lpc_status_name(s));
    return 1;
}

static int train(const char *backbone_name, long steps, const char *out, lpc_comm *comm)
{
    ex_backbone backbone;
    if (!ex_parse_backbone(backbone_name, &backbone))
        return 2;
    lpc_set_num_threads(1);
    lpc_dataset *data = NULL;
    lpc_status s = ex_load_dataset("fashion-mnist", 1, &data);
    if (s != LPC_OK)
        return fail("loading Fashion-MNIST", s);
    if ((s = lpc_dataset_truncate(data, steps * 128)) != LPC_OK)
        return fail("truncating", s);
    lpc_rng *rng = lpc_rng_new(0);
    lpc_head *m = NULL;
    ex_trainer *t = NULL;
    lpc_checkpoint *ck = NULL;
    int widths[3] = {64, 128, 16};
    if ((s = ex_model_new(ex_model_index("LPC"), backbone, 1, 28, 28, 10, widths, rng, &m)) ==
            LPC_OK &&
        (s = ex_trainer_new(m, data, LPC_PROTOCOL_RAMP, 1, 128, 1e-3, 5e-4, 0, &t)) == LPC_OK &&
        (s = ex_trainer_set_comm(t, comm)) == LPC_OK && (s = ex_trainer_epoch(t)) == LPC_OK &&
        ex_comm_rank(comm) == 0) {
        ck = lpc_checkpoint_new();
        if (!ck || (s = lpc_checkpoint_add_module(ck, "model.", lpc_head_module(m))) != LPC_OK ||
            (s = lpc_checkpoint_save(ck, out)) != LPC_OK)
            s = s == LPC_OK ? LPC_E_NOMEM : s;
        else
            printf("rank 0: %lld steps, loss %.6f\n", (long long)ex_trainer_get(t, EX_TRAIN_STEPS),
                   ex_trainer_get(t, EX_TRAIN_LOSS));
    }
    int rc = s == LPC_OK ? 0 : fail("training", s);
    lpc_checkpoint_free(ck);
    ex_trainer_free(t);
    lpc_head_free(m);
    lpc_rng_free(rng);
    lpc_dataset_free(data);
    return rc;
}

/* Rank r's element i: values of mixed sign and magnitude, so that the
 * order of a sum shows in its last bits. */
static double value(int r, int64_t i)
{
    uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15u ^ (uint64_t)(r + 1) * 0xBF58476D1CE4E5B9u;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBu;
    h ^= h >> 29;
    return ((double)(h >> 11) / 9007199254740992.0 - 0.5) * ldexp(1.0, (int)(h % 24) - 12);
}

/* Element i of the sum over `size` ranks in the documented order. */
static double expected(int size, int64_t count, int64_t i, int f64, int ring)
{
    int first = 0;
    if (ring) { /* chunk c of `size` starts at rank c + 1 */
        int c = 0;
        while (count * (c + 1) / size <= i)
            c++;
        first = (c + 1) % size;
    }
    double d = 0;
    float f = 0;
    for (int k = 0; k < size; k++) {
        int r = (first + k) % size;
        if (f64)
            d = k ? d + value(r, i) : value(r, i);
        else
            f = k ? f + (float)value(r, i) : (float)value(r, i);
    }
    return f64 ? d : (double)f;
}

static int check_allreduce(lpc_comm *comm)
{
    int rank = ex_comm_rank(comm), size = comm ? lpc_comm_size(comm) : 1, bad = 0;
    int64_t ring_elems = 0, ring_differs = 0;
    /* Elements and type: both sides of the ring threshold, counts that do
     * not divide by the rank count, fewer elements than ranks. */
    const int64_t counts[] = {3, 1000, EX_COMM_RING_MIN_BYTES / 4 - 1, EX_COMM_RING_MIN_BYTES / 4,
                              100003, EX_COMM_RING_MIN_BYTES / 8, 50001};
    const int f64s[] = {1, 0, 0, 0, 0, 1, 1};
    for (size_t t = 0; t < sizeof counts / sizeof *counts && !bad; t++) {
        int64_t n = counts[t];
        int f64 = f64s[t], ring = n * (f64 ? 8 : 4) >= EX_COMM_RING_MIN_BYTES && size > 1;
        double *d = malloc((size_t)n * sizeof *d);
        float *f = malloc((size_t)n * sizeof *f);
        if (!d || !f) {
            free(d);
            free(f);
            return fail("allreduce: out of memory", LPC_E_NOMEM);
        }
        for (int64_t i = 0; i < n; i++)
            d[i] = value(rank, i), f[i] = (float)value(rank, i);
        lpc_status s = size > 1 ? lpc_comm_allreduce(comm, f64 ? (void *)d : (void *)f, n,
                                                     f64 ? LPC_COMM_F64 : LPC_COMM_F32)
                                : LPC_OK;
        if (s != LPC_OK)
            bad = fail("allreduce", s);
        for (int64_t i = 0; i < n && !bad; i++) {
            double got = f64 ? d[i] : (double)f[i], want = expected(size, n, i, f64, ring);
            if (memcmp(&got, &want, sizeof got) != 0) {
                fprintf(stderr, "mpi_steps: rank %d: %lld %s, element %lld: %.17g, expected "
                                "%.17g\n", rank, (long long)n, f64 ? "doubles" : "floats",
                        (long long)i, got, want);
                bad = 1;
            }
            if (ring) {
                double plain = expected(size, n, i, f64, 0);
                ring_elems++;
                ring_differs += memcmp(&got, &plain, sizeof got) != 0;
            }
        }
        free(d);
        free(f);
    }
    if (!bad && size >= 3 && ring_differs == 0) {
        fprintf(stderr, "mpi_steps: the ring's sums equal rank 0 + rank 1 + ... everywhere\n");
        bad = 1;
    }
    if (!bad && rank == 0)
        printf("rank 0 of %d: %zu sums bit-identical to the documented order; the ring's "
               "differ from rank 0 + rank 1 + ... in %lld of %lld elements\n", size,
               sizeof counts / sizeof *counts, (long long)ring_differs, (long long)ring_elems);
    return bad;
}

static int is_bn_stat(const char *name)
{
    return strstr(name, "running_mean") || strstr(name, "running_var");
}

static int compare(const char *pa, const char *pb, double param_tol, double bn_tol)
{
    lpc_checkpoint *a = NULL, *b = NULL;
    if (lpc_checkpoint_load(pa, &a) != LPC_OK || lpc_checkpoint_load(pb, &b) != LPC_OK) {
        fprintf(stderr, "mpi_steps: %s\n", lpc_last_error());
        lpc_checkpoint_free(a);
        return 1;
    }
    double worst[2] = {0, 0}, scale[2] = {0, 0};
    int counted[2] = {0, 0}, bad = 0;
    for (int i = 0; i < lpc_checkpoint_num_tensors(a); i++) {
        const char *name = lpc_checkpoint_tensor_name(a, i);
        if (strncmp(name, "model.", 6) != 0)
            continue;
        const lpc_tensor *ta = lpc_checkpoint_tensor(a, name), *tb = lpc_checkpoint_tensor(b, name);
        if (!tb || lpc_tensor_numel(ta) != lpc_tensor_numel(tb)) {
            fprintf(stderr, "mpi_steps: %s: missing or of another size in %s\n", name, pb);
            bad = 1;
            continue;
        }
        int k = is_bn_stat(name) != 0;
        const float *x = lpc_tensor_cdata(ta), *y = lpc_tensor_cdata(tb);
        for (int64_t j = 0; j < lpc_tensor_numel(ta); j++) {
            double d = fabs((double)x[j] - (double)y[j]);
            if (!(d <= worst[k])) /* NaN counts as worst */
                worst[k] = isnan(d) ? INFINITY : d;
            if (fabs(x[j]) > scale[k])
                scale[k] = fabs(x[j]);
        }
        counted[k]++;
    }
    printf("weights: %d tensors, max |diff| %.3g (max |w| %.3g, tolerance %.3g)\n", counted[0],
           worst[0], scale[0], param_tol);
    printf("batch-norm running statistics: %d tensors, max |diff| %.3g (max |v| %.3g, "
           "tolerance %.3g)\n", counted[1], worst[1], scale[1], bn_tol);
    bad |= counted[0] == 0 || !(worst[0] <= param_tol) || !(worst[1] <= bn_tol);
    lpc_checkpoint_free(a);
    lpc_checkpoint_free(b);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "train") == 0) {
        lpc_comm *comm = NULL;
        if (ex_comm_start(&argc, &argv, &comm) != 0)
            return 1;
        long steps = 0;
        if (!ex_parse_long("STEPS", argv[3], 1, 1000, &steps))
            return ex_comm_end(comm, 2);
        return ex_comm_end(comm, train(argv[2], steps, argv[4], comm));
    }
    if (argc == 2 && strcmp(argv[1], "allreduce") == 0) {
        lpc_comm *comm = NULL;
        if (ex_comm_start(&argc, &argv, &comm) != 0)
            return 1;
        return ex_comm_end(comm, check_allreduce(comm));
    }
    if (argc == 6 && strcmp(argv[1], "compare") == 0)
        return compare(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: mpi_steps train BACKBONE STEPS OUT.lpcc | allreduce | compare A B PARAM_TOL "
                    "BN_TOL\n");
    return 2;
}
