/* lpc-bench-dp: data-parallel training-step time, alone or under mpirun
 * (`mpirun -np R lpc-bench-dp resnet18`): model LPC on synthetic images
 * (1x28x28 for mlp and resnet-small, 3x32x32 otherwise), global batch 128,
 * 1 thread per rank, one warm-up epoch of STEPS steps then one timed.
 * Rank 0 prints "BACKBONE ranks=R params=P step_ms=... images_per_s=...
 * cpu_ms=... allreduce_ms=... allreduce_mb=... exchange_ms=...": per step
 * the wall time, the CPU time of this process (which, unlike wall time,
 * hardly depends on other load on a shared machine), the wall time inside
 * the all-reduce calls (transfers plus waiting for the slowest rank) and
 * the bytes they summed (gradients plus batch-norm sums), and exchange_ms,
 * the best of 5 all-reduces of the gradient alone with every rank ready
 * (the transfer cost without waiting).
 * `mpirun -np R lpc-bench-dp exchange COUNT` times only the all-reduce of
 * COUNT floats: best wall and CPU time of 5, each with every rank ready. */
#include <lpc/lpc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../examples/common/comm_mpi.h"
#include "../examples/common/options.h"
#include "../examples/common/recipes.h"
#include "../examples/common/trainer.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* Best wall time of 5 all-reduces of `count` floats, each after a
 * one-value all-reduce that lines the ranks up; *cpu (when not NULL) gets
 * the least CPU time of this process among them. */
static double exchange_seconds(lpc_comm *comm, int64_t count, double *cpu)
{
    float *buf = calloc((size_t)count, sizeof *buf);
    double best = -1, best_cpu = -1, sync = 0;
    for (int i = 0; buf && i < 5; i++) {
        if (lpc_comm_allreduce(comm, &sync, 1, LPC_COMM_F64) != LPC_OK)
            break;
        double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (lpc_comm_allreduce(comm, buf, count, LPC_COMM_F32) != LPC_OK)
            break;
        double dt = now() - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        best = best < 0 || dt < best ? dt : best;
        best_cpu = best_cpu < 0 || dc < best_cpu ? dc : best_cpu;
    }
    free(buf);
    if (cpu)
        *cpu = best_cpu;
    return best;
}

/* Times and counts the calls of the real communicator. */
typedef struct {
    lpc_comm *inner;
    double seconds, bytes;
} timed_comm;

static int timed_allreduce(void *user, void *buf, int64_t count, lpc_comm_type type)
{
    timed_comm *t = user;
    double t0 = now();
    lpc_status s = lpc_comm_allreduce(t->inner, buf, count, type);
    t->seconds += now() - t0;
    t->bytes += (double)count * (type == LPC_COMM_F64 ? 8.0 : 4.0);
    return s != LPC_OK;
}

static int bench(const char *name, long steps, lpc_comm *world)
{
    ex_backbone backbone;
    if (!ex_parse_backbone(name, &backbone))
        return 2;
    int c = backbone == EX_BACKBONE_MLP || backbone == EX_BACKBONE_RESNET_SMALL ? 1 : 3;
    int hw = c == 1 ? 28 : 32, widths[3] = {64, 128, 16};
    int64_t n = steps * 128, per = (int64_t)c * hw * hw;
    uint8_t *images = malloc((size_t)(n * per));
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (!images || !labels)
        return 1;
    lpc_rng *rng = lpc_rng_new(1);
    for (int64_t i = 0; i < n * per; i++)
        images[i] = (uint8_t)(lpc_rng_u64(rng) >> 56);
    for (int64_t i = 0; i < n; i++)
        labels[i] = (int32_t)(i % 10);
    lpc_set_num_threads(1);
    timed_comm tc = {world, 0, 0};
    lpc_comm *comm = NULL;
    lpc_dataset *data = NULL;
    lpc_head *m = NULL;
    ex_trainer *t = NULL;
    lpc_status s;
    if ((s = lpc_dataset_from_memory(images, labels, n, c, hw, hw, 10, &data)) != LPC_OK ||
        (s = ex_model_new(ex_model_index("LPC"), backbone, c, hw, hw, 10, widths, rng, &m)) !=
            LPC_OK ||
        (s = ex_trainer_new(m, data, LPC_PROTOCOL_RAMP, 2, 128, 1e-3, 5e-4, 0, &t)) != LPC_OK ||
        (world && (s = lpc_comm_new(lpc_comm_rank(world), lpc_comm_size(world), timed_allreduce,
                                    &tc, &comm)) != LPC_OK) ||
        (s = ex_trainer_set_comm(t, comm)) != LPC_OK || (s = ex_trainer_epoch(t)) != LPC_OK) {
        fprintf(stderr, "lpc-bench-dp: %s\n", lpc_last_error());
        return 1;
    }
    tc.seconds = tc.bytes = 0;
    double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if ((s = ex_trainer_epoch(t)) != LPC_OK) {
        fprintf(stderr, "lpc-bench-dp: %s\n", lpc_last_error());
        return 1;
    }
    double dt = now() - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    int64_t params = lpc_module_num_weights(lpc_head_module(m));
    double exchange = world ? exchange_seconds(world, params, NULL) : 0;
    if (ex_comm_rank(world) == 0)
        printf("%s ranks=%d params=%lld step_ms=%.1f images_per_s=%.1f cpu_ms=%.1f "
               "allreduce_ms=%.2f allreduce_mb=%.2f exchange_ms=%.2f\n", name,
               world ? lpc_comm_size(world) : 1, (long long)params, 1e3 * dt / (double)steps,
               128.0 * (double)steps / dt, 1e3 * cpu / (double)steps,
               1e3 * tc.seconds / (double)steps, tc.bytes / (double)steps / 1e6,
               1e3 * exchange);
    ex_trainer_free(t);
    lpc_comm_free(comm);
    lpc_head_free(m);
    lpc_dataset_free(data);
    lpc_rng_free(rng);
    free(images);
    free(labels);
    return 0;
}

int main(int argc, char **argv)
{
    lpc_comm *world = NULL;
    if (ex_comm_start(&argc, &argv, &world) != 0)
        return 1;
    long steps = 5;
    if (argc == 3 && strcmp(argv[1], "exchange") == 0) {
        long count = 0;
        if (!world || !ex_parse_long("COUNT", argv[2], 1, 1L << 31, &count))
            return ex_comm_end(world, 2);
        double cpu, wall = exchange_seconds(world, count, &cpu);
        if (ex_comm_rank(world) == 0)
            printf("exchange ranks=%d floats=%ld mb=%.2f wall_ms=%.2f cpu_ms=%.2f\n",
                   lpc_comm_size(world), count, 4e-6 * (double)count, 1e3 * wall, 1e3 * cpu);
        return ex_comm_end(world, wall < 0);
    }
    if (argc < 2 || argc > 3 || (argc == 3 && !ex_parse_long("STEPS", argv[2], 1, 10000, &steps))) {
        fprintf(stderr, "usage: [mpirun -np R] lpc-bench-dp mlp|resnet-small|resnet18|resnet50 "
                        "[STEPS]\n       mpirun -np R lpc-bench-dp exchange COUNT\n");
        return ex_comm_end(world, 2);
    }
    return ex_comm_end(world, bench(argv[1], steps, world));
}
