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
    void *gathered; /* size x the largest buffer so far */
    size_t gathered_bytes;
} mpi_state;

static mpi_state state;

/* All-reduce in rank order: gather every rank's buffer, then add them up
 * 0, 1, 2, ... on every rank, so the bits do not depend on MPI's reduction
 * algorithm. Chunks keep the counts within MPI's int. */
static int allreduce_in_rank_order(void *user, void *buf, int64_t count, lpc_comm_type type)
{
    mpi_state *s = user;
    size_t elem = type == LPC_COMM_F64 ? sizeof(double) : sizeof(float);
    const int64_t chunk_max = (int64_t)1 << 26;
    int64_t chunk = count < chunk_max ? count : chunk_max;
    size_t need = (size_t)s->size * (size_t)chunk * elem;
    if (need > s->gathered_bytes) {
        void *p = realloc(s->gathered, need);
        if (!p)
            return 1;
        s->gathered = p;
        s->gathered_bytes = need;
    }
    MPI_Datatype dt = type == LPC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    for (int64_t at = 0; at < count; at += chunk) {
        int n = (int)(count - at < chunk ? count - at : chunk);
        char *mine = (char *)buf + (size_t)at * elem;
        if (MPI_Allgather(mine, n, dt, s->gathered, n, dt, MPI_COMM_WORLD) != MPI_SUCCESS)
            return 2;
        if (type == LPC_COMM_F64) {
            double *out = (double *)mine, *g = s->gathered;
            memcpy(out, g, (size_t)n * elem);
            for (int r = 1; r < s->size; r++)
                for (int i = 0; i < n; i++)
                    out[i] += g[(size_t)r * (size_t)n + (size_t)i];
        } else {
            float *out = (float *)mine, *g = s->gathered;
            memcpy(out, g, (size_t)n * elem);
            for (int r = 1; r < s->size; r++)
                for (int i = 0; i < n; i++)
                    out[i] += g[(size_t)r * (size_t)n + (size_t)i];
        }
    }
    return 0;
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
    if (lpc_comm_new(state.rank, state.size, allreduce_in_rank_order, &state, out) != LPC_OK) {
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
    free(state.gathered);
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
