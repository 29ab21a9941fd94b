/* liblpc — communication between the processes of a data-parallel run.
 *
 * liblpc does not depend on any transport. The caller wraps one (MPI, a
 * socket, shared memory) in an element-wise all-reduce (sum) callback and
 * hands the resulting lpc_comm to a ctx (batch-norm statistics over the
 * global batch) or to a trainer (which also splits every global batch
 * between the ranks and sums the gradients). The example programs' MPI
 * implementation is examples/common/comm_mpi.c.
 *
 * Determinism contract of the callback: every rank must receive the same
 * bits, summed in an order that depends only on the number of ranks (for
 * example rank 0 + rank 1 + rank 2 ..., which MPI_Allreduce does not
 * promise). Then repeated runs with the same rank and thread counts are
 * bit-identical. */
#ifndef LPC_COMM_H
#define LPC_COMM_H
#include <stdint.h>
#include "ctx.h"
#include "export.h"
#include "status.h"

typedef struct lpc_comm lpc_comm;

typedef enum { LPC_COMM_F32 = 0, LPC_COMM_F64 = 1 } lpc_comm_type;

/* Sums `count` elements of `type` at buf element-wise over every rank, in
 * place, in a fixed order (see above). Returns 0 on success, anything else
 * on failure (liblpc reports it as LPC_E_IO). `user` is the pointer given
 * to lpc_comm_new. */
typedef int (*lpc_comm_allreduce_fn)(void *user, void *buf, int64_t count, lpc_comm_type type);

LPC_BEGIN_DECLS
/* Communicator of process `rank` among `size` (0 <= rank < size) using
 * `allreduce`; `user` is borrowed and must outlive the communicator.
 * Caller owns *out (free with lpc_comm_free). LPC_E_ARG on bad arguments. */
LPC_API lpc_status lpc_comm_new(int rank, int size, lpc_comm_allreduce_fn allreduce, void *user,
                                lpc_comm **out);
LPC_API void lpc_comm_free(lpc_comm *comm); /* NULL is a no-op */
LPC_API int lpc_comm_rank(const lpc_comm *comm); /* -1 for NULL */
LPC_API int lpc_comm_size(const lpc_comm *comm); /* -1 for NULL */
/* Calls the all-reduce on buf (count >= 0 elements; buf may be NULL when
 * count is 0). LPC_E_IO with a message when the callback fails. */
LPC_API lpc_status lpc_comm_allreduce(lpc_comm *comm, void *buf, int64_t count,
                                      lpc_comm_type type);
/* Batch-norm ops of ctx in training mode compute their statistics, and the
 * backward pass its per-channel sums, over the union of every rank's batch
 * (parameter gradients stay per rank: sum them with the same comm).
 * comm is borrowed (NULL: this process alone, the default). A failing
 * transport (LPC_E_IO) or one that returns a non-finite sum or fewer values
 * than this rank holds (LPC_E_NUMERIC) fails the op through the ctx, and the
 * running statistics stay as they were. */
LPC_API lpc_status lpc_ctx_set_comm(lpc_ctx *ctx, lpc_comm *comm);
LPC_API lpc_comm *lpc_ctx_comm(const lpc_ctx *ctx); /* NULL when none */
LPC_END_DECLS
#endif
