/* The computation context: arena, tape, sticky error, backward pass. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

lpc_ctx *lpc_ctx_new(void)
{
    if (lpci_cpu_env_status() != LPC_OK) /* LPC_CPU asked for a path this CPU lacks */
        return NULL;
    lpc_ctx *ctx = lpci_calloc(1, sizeof *ctx);
    if (!ctx)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_ctx_new: out of memory");
    ctx->grad_enabled = 1;
    ctx->poison.flags = LPCI_T_POISON;
    return ctx;
}

void lpc_ctx_free(lpc_ctx *ctx)
{
    if (!ctx)
        return;
    lpci_arena_free(&ctx->arena);
    lpci_free(ctx->tape);
    lpci_free(ctx->scratch_raw);
    lpci_free(ctx);
}

void lpc_ctx_reset(lpc_ctx *ctx)
{
    if (!ctx)
        return;
    lpci_arena_reset(&ctx->arena);
    ctx->grad_pool = NULL;
    ctx->grad_pool_size = 0;
    ctx->tape_len = 0;
    ctx->status = LPC_OK;
    ctx->message[0] = '\0';
}

lpc_status lpc_ctx_status(const lpc_ctx *ctx)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_ctx_status: ctx is NULL");
    return ctx->status;
}

const char *lpc_ctx_error(const lpc_ctx *ctx) { return ctx ? ctx->message : ""; }

lpc_status lpc_ctx_set_grad(lpc_ctx *ctx, int enabled)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_ctx_set_grad: ctx is NULL");
    ctx->grad_enabled = enabled != 0;
    return LPC_OK;
}

lpc_status lpc_ctx_set_check_finite(lpc_ctx *ctx, int enabled)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_ctx_set_check_finite: ctx is NULL");
    ctx->check_finite = enabled != 0;
    return LPC_OK;
}

/* Index of the first non-finite value of v[0..n), or -1. */
static int64_t first_non_finite(const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return -1;
}

int lpc_ctx_grad_enabled(const lpc_ctx *ctx) { return ctx ? ctx->grad_enabled : 0; }

size_t lpc_ctx_arena_bytes(const lpc_ctx *ctx)
{
    return ctx ? lpci_arena_capacity(&ctx->arena) : 0;
}

lpc_tensor *lpci_ctx_fail(lpc_ctx *ctx, lpc_status s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lpci_error(s, "%s", msg);
    if (ctx->status == LPC_OK) {
        ctx->status = s;
        memcpy(ctx->message, msg, sizeof msg);
    }
    return &ctx->poison;
}

void *lpci_ctx_alloc(lpc_ctx *ctx, size_t bytes)
{
    void *p = lpci_arena_alloc(&ctx->arena, bytes);
    if (!p)
        lpci_ctx_fail(ctx, LPC_E_NOMEM, "arena: out of memory allocating %zu bytes", bytes);
    return p;
}

void *lpci_ctx_scratch(lpc_ctx *ctx, size_t bytes)
{
    if (bytes > ctx->scratch_size) {
        void *raw = bytes <= SIZE_MAX - 64 ? lpci_malloc(bytes + 64) : NULL;
        if (!raw) {
            lpci_ctx_fail(ctx, LPC_E_NOMEM, "scratch: out of memory allocating %zu bytes", bytes);
            return NULL;
        }
        lpci_free(ctx->scratch_raw);
        ctx->scratch_raw = raw;
        ctx->scratch_size = bytes;
    }
    return lpci_align64(ctx->scratch_raw);
}

int lpci_op_check(lpc_ctx *ctx, const char *op, int n, lpc_tensor *const *ts)
{
    if (!ctx) {
        lpci_error(LPC_E_ARG, "%s: ctx is NULL", op);
        return 0;
    }
    if (ctx->status != LPC_OK)
        return 0;
    for (int i = 0; i < n; i++) {
        if (!ts[i]) {
            lpci_ctx_fail(ctx, LPC_E_ARG, "%s: input %d is NULL", op, i);
            return 0;
        }
        if (ts[i]->flags & LPCI_T_POISON) {
            lpci_ctx_fail(ctx, LPC_E_ARG, "%s: input %d is a poisoned tensor", op, i);
            return 0;
        }
        char what[32];
        snprintf(what, sizeof what, "input %d", i);
        if (!lpci_own_temp(ctx, op, what, ts[i]))
            return 0;
    }
    return 1;
}

int lpci_own_temp(lpc_ctx *ctx, const char *op, const char *what, const lpc_tensor *t)
{
    if (!t || lpci_is_persistent(t) || t->ctx == ctx)
        return 1;
    lpci_ctx_fail(ctx, LPC_E_ARG, "%s: %s is a temporary of another ctx (use tensors of this "
                  "ctx, or persistent ones)", op, what);
    return 0;
}

int lpci_needs_tape(const lpc_ctx *ctx, int n, lpc_tensor *const *ts)
{
    if (!ctx->grad_enabled)
        return 0;
    for (int i = 0; i < n; i++)
        if (lpci_requires_grad(ts[i]))
            return 1;
    return 0;
}

lpci_node *lpci_tape_push(lpc_ctx *ctx, int op, lpc_tensor *out, int n, lpc_tensor *const *in)
{
    return lpci_tape_push_named(ctx, op, lpci_ops[op].name, out, n, in);
}

lpci_node *lpci_tape_push_named(lpc_ctx *ctx, int op, const char *name, lpc_tensor *out, int n,
                                lpc_tensor *const *in)
{
    if (ctx->tape_len == ctx->tape_cap) {
        size_t cap = ctx->tape_cap ? ctx->tape_cap * 2 : 256;
        lpci_node *t = lpci_realloc(ctx->tape, cap * sizeof *t);
        if (!t) {
            lpci_ctx_fail(ctx, LPC_E_NOMEM, "tape: out of memory");
            return NULL;
        }
        ctx->tape = t;
        ctx->tape_cap = cap;
    }
    if (ctx->check_finite) {
        int64_t bad = first_non_finite(out->data, out->numel);
        if (bad >= 0) {
            lpci_ctx_fail(ctx, LPC_E_NUMERIC, "%s produced a non-finite value (%g at element %lld)",
                          name, (double)out->data[bad], (long long)bad);
            return NULL;
        }
    }
    lpci_node *node = &ctx->tape[ctx->tape_len++];
    memset(node, 0, sizeof *node);
    node->op = op;
    node->name = name;
    node->out = out;
    for (int i = 0; i < n && i < LPCI_MAX_INPUTS; i++)
        node->in[i] = in[i];
    out->flags |= LPCI_T_REQUIRES_GRAD;
    return node;
}

/* Give t a gradient buffer for this backward pass: temporaries get an arena
 * buffer marked unset (zeroed lazily by settle_grads, or stored into by the
 * first op that writes it), persistent tensors keep (and accumulate into)
 * theirs. */
static int prepare_grad(lpc_ctx *ctx, lpc_tensor *t)
{
    size_t bytes = (size_t)t->numel * sizeof(float);
    if (lpci_is_persistent(t)) {
        if (!t->grad) {
            t->grad = lpci_calloc((size_t)t->numel, sizeof(float));
            if (!t->grad) {
                lpci_ctx_fail(ctx, LPC_E_NOMEM, "backward: out of memory for a gradient");
                return 0;
            }
        }
        return 1;
    }
    if (!t->grad) {
        t->grad = lpci_ctx_alloc(ctx, bytes);
        if (!t->grad)
            return 0;
    }
    t->flags |= LPCI_T_GRAD_UNSET;
    return 1;
}

static void zero_if_unset(lpc_tensor *t)
{
    if (t && (t->flags & LPCI_T_GRAD_UNSET)) {
        memset(t->grad, 0, (size_t)t->numel * sizeof(float));
        t->flags &= ~LPCI_T_GRAD_UNSET;
    }
}

/* Whether node n's backward stores into input gradients nobody has written
 * yet (lpci_grad_fresh) rather than needing them zeroed: a property of its
 * op (LPCI_OP_STORES_GRADS), but not when an input appears twice. */
static int stores_grads(const lpci_node *n)
{
    if (!(lpci_ops[n->op].flags & LPCI_OP_STORES_GRADS))
        return 0;
    for (int i = 0; i < LPCI_MAX_INPUTS; i++)
        for (int j = i + 1; j < LPCI_MAX_INPUTS; j++)
            if (n->in[i] && n->in[i] == n->in[j])
                return 0;
    return 1;
}

/* Before node n's backward: its output gradient is complete (zero if no
 * consumer wrote it) and its inputs' are zeroed unless the op stores. */
static void settle_grads(const lpci_node *n)
{
    zero_if_unset(n->out);
    if (stores_grads(n))
        return;
    for (int j = 0; j < LPCI_MAX_INPUTS; j++)
        if (lpci_requires_grad(n->in[j]))
            zero_if_unset(n->in[j]);
}

/* After a backward pass over tape[0, end): gradients no op reached read as zero. */
static void zero_unreached(lpc_ctx *ctx, size_t end)
{
    for (size_t k = 0; k < end; k++) {
        zero_if_unset(ctx->tape[k].out);
        for (int j = 0; j < LPCI_MAX_INPUTS; j++)
            if (lpci_requires_grad(ctx->tape[k].in[j]))
                zero_if_unset(ctx->tape[k].in[j]);
    }
}

lpc_status lpc_backward(lpc_ctx *ctx, lpc_tensor *loss)
{
    if (!ctx)
        return lpci_error(LPC_E_ARG, "lpc_backward: ctx is NULL");
    if (ctx->status != LPC_OK)
        return lpci_error(ctx->status, "lpc_backward: ctx has a sticky error: %s", ctx->message);
    if (!loss || (loss->flags & LPCI_T_POISON))
        return lpci_error(LPC_E_ARG, "lpc_backward: loss is NULL or poisoned");
    if (!lpci_is_persistent(loss) && loss->ctx != ctx)
        return lpci_error(LPC_E_ARG, "lpc_backward: loss is a temporary of another ctx");
    if (loss->numel != 1)
        return lpci_error(LPC_E_SHAPE, "lpc_backward: loss must have 1 element, has %lld",
                          (long long)loss->numel);
    size_t end = ctx->tape_len;
    while (end > 0 && ctx->tape[end - 1].out != loss)
        end--;
    if (end == 0)
        return lpci_error(LPC_E_STATE, "lpc_backward: loss was not produced by a taped op "
                          "(no input requires grad, or grad recording was off)");
    int planned = lpci_grad_plan(ctx, end);
    if (planned < 0)
        return ctx->status;
    for (size_t k = 0; k < end; k++) {
        lpci_node *n = &ctx->tape[k];
        if (!prepare_grad(ctx, n->out))
            return ctx->status;
        for (int j = 0; j < LPCI_MAX_INPUTS; j++)
            if (lpci_requires_grad(n->in[j]) && !prepare_grad(ctx, n->in[j]))
                return ctx->status;
    }
    loss->grad[0] = 1.0f;
    loss->flags &= ~LPCI_T_GRAD_UNSET;
    for (size_t k = end; k-- > 0;) {
        const lpci_node *n = &ctx->tape[k];
        settle_grads(n);
        lpci_ops[n->op].backward(ctx, n);
        if (ctx->status != LPC_OK) { /* a backward function failed (memory, custom op) */
            zero_unreached(ctx, end);
            return lpci_error(ctx->status, "lpc_backward: %s", ctx->message);
        }
        for (int j = 0; ctx->check_finite && j < LPCI_MAX_INPUTS; j++)
            if (lpci_requires_grad(n->in[j]) && !(n->in[j]->flags & LPCI_T_GRAD_UNSET) &&
                first_non_finite(n->in[j]->grad, n->in[j]->numel) >= 0) {
                lpci_ctx_fail(ctx, LPC_E_NUMERIC, "backward of %s produced a non-finite gradient",
                              n->name);
                zero_unreached(ctx, end);
                return lpci_error(LPC_E_NUMERIC, "lpc_backward: %s", ctx->message);
            }
        if (planned && !lpci_is_persistent(n->out))
            n->out->grad = NULL; /* consumed: its memory goes to later gradients */
    }
    zero_unreached(ctx, end);
    return ctx->status;
}
