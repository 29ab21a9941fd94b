/* Data-parallel runs of the example programs under an MPI launcher
 * (`mpirun -np R lpc-train ...`): MPI behind liblpc's lpc_comm. Built with
 * MPI when meson finds it (option -Dmpi); without it a process started by a
 * launcher is refused with a message. */
#ifndef LPC_EXAMPLES_COMM_MPI_H
#define LPC_EXAMPLES_COMM_MPI_H
#include <lpc/lpc.h>

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
