#include "comm_mpi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef EX_HAVE_MPI
#include <mpi.h>
#endif

/* Environment variables set by the launchers of Open MPI, MPICH/Slurm (PMI)
 * and PMIx for the processes they start. */
static int under_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int ex_comm_rank(const lpc_comm *comm) { return comm ? lpc_comm_rank(comm) : 0; }

#ifdef EX_HAVE_MPI
typedef struct {
    int rank, size;
    void *scratch; /* gathered buffers, or one received segment of the ring */
    size_t scratch_bytes;
} mpi_state;

static mpi_state state;

/* Messages stay below MPI's int counts: at most this many elements each. */
#define SEGMENT ((int64_t)1 << 26)

static void *scratch(mpi_state *s, size_t bytes)
{
    if (bytes > s->scratch_bytes) {
        void *p = realloc(s->scratch, bytes);
        if (!p)
            return NULL;
        s->scratch = p;
        s->scratch_bytes = bytes;
    }
    return s->scratch;
}

/* dst[i] = src[i] + dst[i]: src holds the sum of the ranks before this one. */
static void add_into(void *dst, const void *src, int64_t n, lpc_comm_type type)
{
    if (type == LPC_COMM_F64) {
        double *d = dst;
        const double *a = src;
        for (int64_t i = 0; i < n; i++)
            d[i] = a[i] + d[i];
    } else {
        float *d = dst;
        const float *a = src;
        for (int64_t i = 0; i < n; i++)
            d[i] = a[i] + d[i];
    }
}

/* Small buffers (batch-norm sums, counters), where the number of messages
 * matters more than their size: gather every rank's buffer, then add them
 * up 0, 1, 2, ... on every rank. Each rank receives (size - 1) x the
 * buffer. */
static int allreduce_gather(mpi_state *s, void *buf, int64_t count, lpc_comm_type type)
{
    size_t elem = type == LPC_COMM_F64 ? sizeof(double) : sizeof(float);
    int64_t chunk = count < SEGMENT ? count : SEGMENT;
    char *g = scratch(s, (size_t)s->size * (size_t)chunk * elem);
    if (!g)
        return 1;
    MPI_Datatype dt = type == LPC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    for (int64_t at = 0; at < count; at += chunk) {
        int n = (int)(count - at < chunk ? count - at : chunk);
        char *mine = (char *)buf + (size_t)at * elem;
        if (MPI_Allgather(mine, n, dt, g, n, dt, MPI_COMM_WORLD) != MPI_SUCCESS)
            return 2;
        memcpy(mine, g, (size_t)n * elem);
        for (int r = 1; r < s->size; r++)
            add_into(mine, g + (size_t)r * (size_t)n * elem, n, type);
    }
    return 0;
}

/* Elements [lo, hi) of chunk c of a buffer of count elements cut into
 * `size` chunks that differ in length by at most one. */
static void chunk_bounds(int64_t count, int size, int c, int64_t *lo, int64_t *hi)
{
    *lo = count * c / size;
    *hi = count * (c + 1) / size;
}

/* One ring step: sends chunk `send_c` of buf to the next rank while the
 * previous rank's chunk `recv_c` arrives, segment by segment; `reduce`
 * adds it in front of this rank's values, otherwise it replaces them. */
static int ring_step(mpi_state *s, char *buf, int64_t count, lpc_comm_type type, int send_c,
                     int recv_c, int reduce)
{
    size_t elem = type == LPC_COMM_F64 ? sizeof(double) : sizeof(float);
    MPI_Datatype dt = type == LPC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    int next = (s->rank + 1) % s->size, prev = (s->rank + s->size - 1) % s->size;
    int64_t slo, shi, rlo, rhi;
    chunk_bounds(count, s->size, send_c, &slo, &shi);
    chunk_bounds(count, s->size, recv_c, &rlo, &rhi);
    char *tmp = reduce ? scratch(s, (size_t)(rhi - rlo < SEGMENT ? rhi - rlo : SEGMENT) * elem)
                       : NULL;
    if (reduce && !tmp && rhi > rlo)
        return 1;
    /* Every rank makes the same number of calls (the longest chunk's
     * segments), so that each send meets its receive. */
    int64_t longest = count / s->size + (count % s->size != 0);
    for (int64_t off = 0; off < longest; off += SEGMENT) {
        int64_t ns = shi - slo - off, nr = rhi - rlo - off;
        ns = ns < 0 ? 0 : ns < SEGMENT ? ns : SEGMENT;
        nr = nr < 0 ? 0 : nr < SEGMENT ? nr : SEGMENT;
        char *dst = buf + (size_t)(rlo + off) * elem;
        if (MPI_Sendrecv(buf + (size_t)(slo + off) * elem, (int)ns, dt, next, 0,
                         reduce ? tmp : dst, (int)nr, dt, prev, 0, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return 2;
        if (reduce)
            add_into(dst, tmp, nr, type);
    }
    return 0;
}

/* Large buffers (the gradients): a ring, reduce-scatter then all-gather.
 * The buffer is cut into `size` chunks; chunk c starts on rank c + 1,
 * which sends its values to rank c + 2, which adds its own and passes the
 * sum on, and so on round the ring until rank c adds its values last:
 * chunk c is x[c+1] + x[c+2] + ... + x[c] (ranks mod size), left to right.
 * Then each finished chunk travels round the ring once more. Each rank
 * sends and receives 2 (size - 1) / size x the buffer. */
static int allreduce_ring(mpi_state *s, void *buf, int64_t count, lpc_comm_type type)
{
    int n = s->size, r = s->rank, rc = 0;
    for (int step = 0; step < n - 1 && !rc; step++)
        rc = ring_step(s, buf, count, type, (r - 1 - step + 2 * n) % n, (r - 2 - step + 2 * n) % n,
                       1);
    for (int step = 0; step < n - 1 && !rc; step++)
        rc = ring_step(s, buf, count, type, (r - step + n) % n, (r - 1 - step + n) % n, 0);
    return rc;
}

/* The sum over the ranks in an order fixed by the rank count and the
 * buffer's size (see the two functions above), so that the bits do not
 * depend on MPI's reduction algorithm. */
static int allreduce_fixed_order(void *user, void *buf, int64_t count, lpc_comm_type type)
{
    mpi_state *s = user;
    size_t elem = type == LPC_COMM_F64 ? sizeof(double) : sizeof(float);
    if (s->size == 1)
        return 0;
    return (size_t)count * elem >= EX_COMM_RING_MIN_BYTES ? allreduce_ring(s, buf, count, type)
                                                          : allreduce_gather(s, buf, count, type);
}

int ex_comm_start(int *argc, char ***argv, lpc_comm **out)
{
    *out = NULL;
    if (!under_launcher())
        return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "error: MPI_Init failed\n");
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &state.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &state.size);
    if (lpc_comm_new(state.rank, state.size, allreduce_fixed_order, &state, out) != LPC_OK) {
        fprintf(stderr, "error: rank %d: %s\n", state.rank, lpc_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
        return 1;
    }
    return 0;
}

int ex_comm_end(lpc_comm *comm, int exit_code)
{
    if (!comm)
        return exit_code;
    if (exit_code != 0) {
        fprintf(stderr, "error: rank %d of %d failed; stopping all ranks\n", state.rank,
                state.size);
        MPI_Abort(MPI_COMM_WORLD, exit_code);
    }
    lpc_comm_free(comm);
    free(state.scratch);
    MPI_Finalize();
    return exit_code;
}
#else
int ex_comm_start(int *argc, char ***argv, lpc_comm **out)
{
    (void)argc;
    (void)argv;
    *out = NULL;
    if (under_launcher()) {
        fprintf(stderr, "error: started by an MPI launcher, but this program was built "
                        "without MPI (install libopenmpi-dev and reconfigure with -Dmpi=enabled)\n");
        return 1;
    }
    return 0;
}

int ex_comm_end(lpc_comm *comm, int exit_code)
{
    lpc_comm_free(comm);
    return exit_code;
}
#endif
