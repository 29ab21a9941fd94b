/* Communicator handle: a rank, a size and the caller's all-reduce. */
#include "internal.h"

struct lpc_comm {
    int rank, size;
    lpc_comm_allreduce_fn allreduce;
    void *user;
};

lpc_status lpc_comm_new(int rank, int size, lpc_comm_allreduce_fn allreduce, void *user,
                        lpc_comm **out)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "lpc_comm_new: out is NULL");
    *out = NULL;
    if (size < 1 || rank < 0 || rank >= size || !allreduce)
        return lpci_error(LPC_E_ARG, "lpc_comm_new: need 0 <= rank < size and an all-reduce "
                          "(got rank %d of %d%s)", rank, size, allreduce ? "" : ", no callback");
    lpc_comm *c = lpci_calloc(1, sizeof *c);
    if (!c)
        return lpci_error(LPC_E_NOMEM, "lpc_comm_new: out of memory");
    *c = (lpc_comm){rank, size, allreduce, user};
    *out = c;
    return LPC_OK;
}

void lpc_comm_free(lpc_comm *comm) { lpci_free(comm); }
int lpc_comm_rank(const lpc_comm *comm) { return comm ? comm->rank : -1; }
int lpc_comm_size(const lpc_comm *comm) { return comm ? comm->size : -1; }

lpc_status lpc_comm_allreduce(lpc_comm *comm, void *buf, int64_t count, lpc_comm_type type)
{
    if (!comm || count < 0 || (!buf && count > 0) ||
        (type != LPC_COMM_F32 && type != LPC_COMM_F64))
        return lpci_error(LPC_E_ARG, "lpc_comm_allreduce: need a communicator, a buffer, "
                          "count >= 0 and a known type (got count %lld, type %d)",
                          (long long)count, (int)type);
    int rc = comm->allreduce(comm->user, buf, count, type);
    if (rc != 0)
        return lpci_error(LPC_E_IO, "lpc_comm_allreduce: the transport failed on rank %d of %d "
                          "(code %d) summing %lld values", comm->rank, comm->size, rc,
                          (long long)count);
    return LPC_OK;
}

lpc_status lpc_ctx_set_comm(lpc_ctx *ctx, lpc_comm *comm)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_ctx_set_comm: ctx is NULL");
    ctx->comm = comm;
    return LPC_OK;
}

lpc_comm *lpc_ctx_comm(const lpc_ctx *ctx) { return ctx ? ctx->comm : NULL; }
