/* liblpc internals shared by lib/ (never installed). Internal names use the
 * lpci_ prefix and hidden visibility, so they are never exported. */
#ifndef LPC_INTERNAL_H
#define LPC_INTERNAL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "lpc/lpc.h"

/* ---- errors (lib/core/status.c) ---- */
/* Record a thread-local error detail and return `s` (printf-style message). */
lpc_status lpci_error(lpc_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* After a failed lpci_error-reporting call: prefixes "<context>: " to its
 * message and returns its status (the cause stays what it was). */
lpc_status lpci_error_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* LPC_E_FORMAT with "<who>: '<src>' refused: <reason> (at byte <at>)", the
 * reason printf-style: the message of a file parser that finds its input
 * malformed. */
lpc_status lpci_format_error(const char *who, const char *src, size_t at, const char *fmt,
                             va_list ap) __attribute__((format(printf, 4, 0)));
/* Set a NULL-returning function's failure: records and returns NULL. */
#define LPCI_FAIL_NULL(s, ...) (lpci_error((s), __VA_ARGS__), NULL)

/* ---- allocation with a counter (lib/core/alloc.c) ---- */
void *lpci_malloc(size_t n);
void *lpci_calloc(size_t count, size_t size);
void *lpci_realloc(void *p, size_t n);
void lpci_free(void *p);
/* The first 64-byte boundary at or after p (allocate 63 bytes more). */
static inline void *lpci_align64(void *p)
{
    return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}
/* Overflow-checked a*b; returns 0 and sets *out on success, -1 on overflow. */
int lpci_mul_size(size_t a, size_t b, size_t *out);

/* ---- input files (lib/core/openfile.c) ---- */
/* open(2) for reading that refuses anything but a regular file (a folder,
 * FIFO or device) and never blocks on a FIFO: the fd (and the file's size
 * in *size unless NULL), or -1 with LPC_E_IO recorded as
 * "<who>: <path>: <strerror or what the file is>" (who may be ""). */
int lpci_open_regular(const char *who, const char *path, size_t *size);
/* The same as a stdio stream: LPC_OK and *f, or the error recorded. */
lpc_status lpci_fopen_regular(const char *who, const char *path, FILE **f, size_t *size);

/* ---- tensors ---- */
enum {
    LPCI_T_PERSISTENT = 1u << 0,  /* heap-owned, survives ctx resets */
    LPCI_T_REQUIRES_GRAD = 1u << 1,
    LPCI_T_VIEW = 1u << 2,        /* data borrowed from another tensor */
    LPCI_T_POISON = 1u << 3,
    LPCI_T_GRAD_UNSET = 1u << 4,  /* grad buffer not yet written in this backward pass */
    LPCI_T_OWNED = 1u << 5,       /* persistent, owned by a module or optimizer */
};

struct lpc_tensor {
    int ndim;
    int64_t shape[LPC_MAX_DIMS];
    int64_t numel;
    float *data;
    float *grad;
    unsigned flags;
    lpc_ctx *ctx; /* the ctx whose arena holds a temporary (NULL when persistent) */
};

static inline int lpci_is_persistent(const lpc_tensor *t)
{
    return (t->flags & LPCI_T_PERSISTENT) != 0;
}
static inline int lpci_requires_grad(const lpc_tensor *t)
{
    return t && (t->flags & LPCI_T_REQUIRES_GRAD) != 0;
}
/* For backward functions of the ops flagged LPCI_OP_STORES_GRADS (see
 * stores_grads in lib/core/ctx.c): 1 when t's gradient has not been
 * written yet in this backward pass, so the op must store every element
 * instead of accumulating (saving a memset); clears the mark. Every other op
 * finds its input gradients zeroed. */
static inline int lpci_grad_fresh(lpc_tensor *t)
{
    int fresh = (t->flags & LPCI_T_GRAD_UNSET) != 0;
    t->flags &= ~LPCI_T_GRAD_UNSET;
    return fresh;
}
/* Frees a tensor marked LPCI_T_OWNED (which lpc_tensor_free refuses). */
void lpci_tensor_free_owned(lpc_tensor *t);
/* Same ndim and sizes. */
int lpci_same_shape(const lpc_tensor *a, const lpc_tensor *b);
/* "2x3x4" into buf (for error messages). */
const char *lpci_shape_str(const lpc_tensor *t, char *buf, size_t n);

/* ---- arena (lib/core/arena.c) ---- */
typedef struct lpci_chunk lpci_chunk;
typedef struct {
    lpci_chunk *head;    /* current chunk (linked list of chunks) */
    size_t used_total;   /* bytes used since the last reset */
    size_t high_water;   /* largest used_total seen (drives coalescing) */
} lpci_arena;
void *lpci_arena_alloc(lpci_arena *a, size_t bytes); /* 64-byte aligned, NULL on OOM */
void lpci_arena_reset(lpci_arena *a);
void lpci_arena_free(lpci_arena *a);
size_t lpci_arena_capacity(const lpci_arena *a);

/* ---- tape (lib/core/tape.c) ---- */
#define LPCI_MAX_INPUTS 4
typedef struct lpci_node {
    int op;                               /* index into the op table */
    const char *name;                     /* for messages: the op's, or a custom op's */
    lpc_tensor *out;
    lpc_tensor *in[LPCI_MAX_INPUTS];      /* NULL where unused */
    void *aux, *aux2;                     /* op-specific saved data (arena) */
    double f[4];                          /* op-specific scalars */
    int64_t i[4];                         /* op-specific integers */
} lpci_node;

typedef void (*lpci_backward_fn)(lpc_ctx *ctx, const lpci_node *n);
/* Properties of an op (lpci_op_info.flags). */
enum {
    /* Its backward stores into input gradients nobody has written yet
     * (lpci_grad_fresh) instead of needing them zeroed: the big activations
     * of dense and convolutional nets. */
    LPCI_OP_STORES_GRADS = 1u << 0,
};
typedef struct {
    const char *name;
    lpci_backward_fn backward;
    unsigned flags;
} lpci_op_info;

/* The op table (lib/ops/table.c): one row per op, indexed by these ids.
 * Each entry is X(NAME, flags); the table in lib/ops/table.c follows it. */
#define LPCI_OP_LIST(X)                                                      \
    X(MATMUL, 0) X(LINEAR, LPCI_OP_STORES_GRADS) X(ADD, 0) X(SUB, 0)         \
    X(MUL, 0) X(SCALE, 0) X(BIAS_ADD, 0) X(SILU, 0) X(RELU, 0) X(SUM, 0)     \
    X(MEAN, 0) X(LOG_SOFTMAX, 0) X(GATHER, 0) X(RESHAPE, 0)                  \
    X(CROSS_ENTROPY, 0) X(L2_LATENT, 0) X(AVGPOOL, 0) X(CUSTOM, 0)           \
    LPCI_OP_LIST_CONV(X)                                                     \
    LPCI_OP_LIST_LOSS(X)
/* Convolutional ops (lib/ops/conv2d.c, batchnorm.c). */
#define LPCI_OP_LIST_CONV(X) X(CONV2D, LPCI_OP_STORES_GRADS) X(BATCHNORM2D, LPCI_OP_STORES_GRADS)
/* Margin and contrastive losses (lib/loss/). */
#define LPCI_OP_LIST_LOSS(X) X(SUPCON, 0) X(ARCFACE, 0) X(COSFACE, 0)
enum {
#define LPCI_OP_ENUM_(n, f) LPCI_OP_##n,
    LPCI_OP_LIST(LPCI_OP_ENUM_)
#undef LPCI_OP_ENUM_
    LPCI_OP_COUNT
};
extern const lpci_op_info lpci_ops[LPCI_OP_COUNT];
/* Backward functions, one per op: lpci_backward_MATMUL, ... */
#define LPCI_OP_DECL_(n, f) void lpci_backward_##n(lpc_ctx *ctx, const lpci_node *node);
LPCI_OP_LIST(LPCI_OP_DECL_)
#undef LPCI_OP_DECL_

/* Row-major GEMM: C (m x n) = alpha op(A) op(B) + beta C, where op(A) is
 * m x k (A stored k x m when ta), op(B) is k x n (B stored n x k when tb).
 * Runs the micro-kernel of the kernel path in use (lib/ops/kernels.h), BLIS
 * on the generic path. */
void lpci_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/* BLIS alone, for tests and benchmarks. */
void lpci_sgemm_blis(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Tests only: 0 makes conv2d compute 3x3 convolutions by im2col + GEMM
 * instead of Winograd (to compare both); 1 restores. */
void lpci_conv2d_set_winograd(int on);

struct lpc_ctx {
    lpci_arena arena;
    lpci_node *tape;
    size_t tape_len, tape_cap;
    lpc_status status;
    char message[512];
    int grad_enabled;
    int check_finite; /* debug: fail on the first op producing NaN/Inf */
    lpc_tensor poison;
    void *scratch_raw; /* lpci_ctx_scratch's buffer and its size */
    size_t scratch_size;
    void *grad_pool; /* this step's planned gradient block (arena) and its size */
    size_t grad_pool_size;
    lpc_comm *comm; /* borrowed; batch-norm sums over every rank (lpc_ctx_set_comm) */
};

/* Sticky failure: records the first error in ctx (and thread-locally) and
 * returns the ctx's poisoned tensor, so ops can `return lpci_ctx_fail(...)`. */
lpc_tensor *lpci_ctx_fail(lpc_ctx *ctx, lpc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Arena memory of ctx; records LPC_E_NOMEM and returns NULL on failure. */
void *lpci_ctx_alloc(lpc_ctx *ctx, size_t bytes);
/* Working memory for one op's forward or backward (its column matrices,
 * per-thread partials), 64-byte aligned and reused by the next call: unlike
 * arena memory it does not stay allocated until the step ends, which keeps
 * the peak of a deep network's step down. It grows only when a call asks
 * for more than before (after the first step: never). Records LPC_E_NOMEM
 * and returns NULL on failure. */
void *lpci_ctx_scratch(lpc_ctx *ctx, size_t bytes);
/* New temporary with the given shape (data uninitialised); poison on error. */
lpc_tensor *lpci_temp(lpc_ctx *ctx, int ndim, const int64_t *shape);
lpc_tensor *lpci_temp_like(lpc_ctx *ctx, const lpc_tensor *t);
/* Common op preamble: ctx usable and the tensors non-NULL, not poisoned and
 * persistent or temporaries of ctx (another ctx's would be taped here and
 * dangle once that ctx is reset or freed). */
int lpci_op_check(lpc_ctx *ctx, const char *op, int n, lpc_tensor *const *ts);
/* The last part of that for one optional tensor (NULL passes): 0 with the
 * ctx failed (LPC_E_ARG naming op and `what`) when t is another ctx's
 * temporary. */
int lpci_own_temp(lpc_ctx *ctx, const char *op, const char *what, const lpc_tensor *t);
/* Gradient memory plan (lib/core/memplan.c): gives every temporary that
 * tape[0, end) produces a gradient buffer, marked unset, in one arena block
 * where buffers never live at the same time share memory. Backward must
 * drop a node's output gradient (grad = NULL) once that node's backward has
 * run. Returns 1 when planned, 0 when not (planning off, or a tensor is the
 * output of two nodes), -1 on a sticky error (out of memory). */
int lpci_grad_plan(lpc_ctx *ctx, size_t end);
/* Tests only: 0 turns the plan off (every gradient gets its own arena
 * buffer that lives until the step ends, as before the plan); 1 restores. */
void lpci_grad_plan_set(int on);
/* Whether an op with these inputs must be taped. */
int lpci_needs_tape(const lpc_ctx *ctx, int n, lpc_tensor *const *ts);
/* Append a tape entry; marks out as requiring grad. NULL (ctx poisoned) on
 * OOM, or when the finite check is on and out holds NaN/Inf. */
lpci_node *lpci_tape_push(lpc_ctx *ctx, int op, lpc_tensor *out, int n, lpc_tensor *const *in);
/* The same, naming the node `name` in messages (custom ops). */
lpci_node *lpci_tape_push_named(lpc_ctx *ctx, int op, const char *name, lpc_tensor *out, int n,
                                lpc_tensor *const *in);

/* Labels in [0, k) (lib/loss/cross_entropy.c); sticky error otherwise. */
int lpci_check_labels(lpc_ctx *ctx, const char *op, const int32_t *labels, int64_t n, int64_t k);

/* ---- threads (lib/core/threads.c) ---- */
int lpci_threads(void);
/* This thread's share [*lo, *hi) of [0, n) inside an OpenMP parallel region
 * (contiguous, the same split for the same thread count). */
void lpci_thread_span(int64_t n, int64_t *lo, int64_t *hi);
/* Runs `call` once per thread on that thread's [lo, hi) of [0, n), threaded
 * only when n exceeds par_min. */
#define LPCI_PRAGMA(x) _Pragma(#x)
#define LPCI_PARALLEL_SPANS(n, par_min, call)                                                      \
    LPCI_PRAGMA(omp parallel num_threads(lpci_threads()) if ((n) > (par_min)))                     \
    {                                                                                              \
        int64_t lo, hi;                                                                            \
        lpci_thread_span((n), &lo, &hi);                                                           \
        call;                                                                                      \
    }

/* ---- kernel path (lib/ops/cpu.c) ---- */
/* The instruction set the kernels run on, chosen once per process. */
lpc_cpu_path lpci_cpu(void);
/* LPC_E_ARG with lpc_last_error set when LPC_CPU asked for a path this CPU
 * cannot run (the kernels then run the generic path), LPC_OK otherwise. */
lpc_status lpci_cpu_env_status(void);

/* Hot elementwise kernels: written once in portable C as `name_body`, then
 * LPCI_VECTOR_KERNEL (void) or LPCI_VECTOR_PREDICATE (int) defines
 * `static name` that runs it compiled for the kernel path in use (on x86-64:
 * the baseline, AVX2 + FMA or AVX-512F + FMA; elsewhere what the compiler
 * targets). The bodies must not contain OpenMP pragmas (outlined regions
 * keep the baseline target): callers split the work with lpci_thread_span
 * and call the kernels per span. */
#define LPCI_VECTOR_BODY static inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__)
#define LPCI_VECTOR_CLONES_(ret, name, params, args)                                               \
    __attribute__((target("avx512f,fma"))) static ret name##_avx512 params                         \
    {                                                                                              \
        return name##_body args;                                                                   \
    }                                                                                              \
    __attribute__((target("avx2,fma"))) static ret name##_avx2 params { return name##_body args; } \
    static ret name##_generic params { return name##_body args; }
#define LPCI_VECTOR_PREDICATE(name, params, args)                                                  \
    LPCI_VECTOR_CLONES_(int, name, params, args)                                                   \
    static int name params                                                                         \
    {                                                                                              \
        lpc_cpu_path path = lpci_cpu();                                                            \
        return path == LPC_CPU_AVX512 ? name##_avx512 args                                         \
               : path == LPC_CPU_AVX2 ? name##_avx2 args                                           \
                                      : name##_generic args;                                       \
    }
/* void functions cannot return a call: wrap the body in one that returns 0 */
#define LPCI_VECTOR_KERNEL(name, params, args)                                                     \
    LPCI_VECTOR_BODY int name##_int_body params                                                    \
    {                                                                                              \
        name##_body args;                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
    LPCI_VECTOR_PREDICATE(name##_int, params, args)                                                \
    static void name params { (void)name##_int args; }
#else
#define LPCI_VECTOR_PREDICATE(name, params, args)                                                  \
    static int name params { return name##_body args; }
#define LPCI_VECTOR_KERNEL(name, params, args)                                                     \
    static void name params { name##_body args; }
#endif
#endif
