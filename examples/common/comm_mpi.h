/* Data-parallel runs of the example programs under an MPI launcher
 * (`mpirun -np R lpc-train ...`): MPI behind liblpc's lpc_comm. Built with
 * MPI when meson finds it (option -Dmpi); without it a process started by a
 * launcher is refused with a message. */
#ifndef LPC_EXAMPLES_COMM_MPI_H
#define LPC_EXAMPLES_COMM_MPI_H
#include <lpc/lpc.h>

/* The MPI all-reduce sums buffers of at least this many bytes with a ring
 * (reduce-scatter, then all-gather; chunk c of `size` is summed starting at
 * rank c + 1 and going round to rank c), smaller ones by gathering every
 * rank's buffer and adding them up rank 0 first. Either order depends only
 * on the rank count and the buffer's size, so repeated runs are
 * bit-identical. */
#define EX_COMM_RING_MIN_BYTES 65536

/* When this process was started by an MPI launcher (Open MPI, PMI, PMIx
 * environment), initialises MPI and sets *out to a communicator over all
 * its processes; otherwise *out = NULL (one process, no MPI). 0 on
 * success, 1 with a message on stderr. */
int ex_comm_start(int *argc, char ***argv, lpc_comm **out);
/* Rank of comm (0 for NULL). */
int ex_comm_rank(const lpc_comm *comm);
/* Ends the run: MPI_Finalize after success; after a failure MPI_Abort, so
 * that the other ranks, possibly waiting in a collective, stop too. Frees
 * comm; returns exit_code for `return ex_comm_end(comm, rc);`. */
int ex_comm_end(lpc_comm *comm, int exit_code);
#endif
