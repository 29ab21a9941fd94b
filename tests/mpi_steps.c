/* Helper of tests/test_mpi.sh (run under mpirun or alone):
 *   mpi_steps train BACKBONE STEPS OUT.lpcc
 *     trains model LPC on the first STEPS x 128 Fashion-MNIST images (one
 *     epoch of STEPS global batches, 1 thread per rank, data-parallel over
 *     the launcher's ranks) and saves the model's tensors (rank 0);
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
    if (argc == 6 && strcmp(argv[1], "compare") == 0)
        return compare(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: mpi_steps train BACKBONE STEPS OUT.lpcc | compare A B PARAM_TOL BN_TOL\n");
    return 2;
}
