/* liblpc — extending the library from user code: custom ops (forward and
 * backward callbacks, taped like built-in ops), custom modules (a forward
 * callback plus named parameters, buffers and children) and the
 * finite-difference gradient checker the library's own tests use.
 *
 * Ownership in one line: an lpc_op is the caller's (free it after the last
 * ctx that used it was reset or freed); a custom module owns everything
 * added to it and calls the user's free callback when it is freed. */
#ifndef LPC_CUSTOM_H
#define LPC_CUSTOM_H
#include "module.h"
#include "tensor.h"

typedef struct lpc_op lpc_op;

/* Forward of a custom op: fill out (numel floats, shape chosen by the
 * caller of lpc_op_apply) from the n inputs; return LPC_OK or an error
 * (which becomes the ctx's sticky error, with lpc_last_error() as message).
 * Must not call other ops on the ctx. */
typedef lpc_status (*lpc_op_forward_fn)(void *user, int n, const lpc_tensor *const *in,
                                        lpc_tensor *out);
/* Backward: given dL/d(out) in grad_out (numel(out) floats), ADD dL/d(in[i])
 * into grad_in[i] (numel(in[i]) floats, zero on entry unless another op
 * already accumulated into it). grad_in[i] is NULL for inputs that need no
 * gradient. The inputs and out hold their forward values. */
typedef lpc_status (*lpc_op_backward_fn)(void *user, int n, const lpc_tensor *const *in,
                                         const lpc_tensor *out, const float *grad_out,
                                         float *const *grad_in);

/* Inputs a custom op accepts at most. */
#define LPC_OP_MAX_INPUTS 4

/* Module callbacks. forward computes the module's output from x with ops on
 * ctx (children through lpc_module_forward); on_train (optional) runs after
 * lpc_module_set_train switched the module and its children; free_user
 * (optional) releases user data when the module is freed. */
typedef lpc_tensor *(*lpc_module_forward_fn)(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x,
                                             void *user);
typedef void (*lpc_module_train_fn)(lpc_module *self, int train, void *user);
typedef void (*lpc_module_free_fn)(void *user);

/* A scalar loss built from the persistent tensors `inputs` (for
 * lpc_gradcheck); it may read user data. */
typedef lpc_tensor *(*lpc_graph_fn)(lpc_ctx *ctx, lpc_tensor **inputs, void *user);

LPC_BEGIN_DECLS
/* ---- custom ops ---- */
/* New op named `name` (copied; used in error and NaN/Inf messages). forward
 * is required; backward may be NULL for an op never differentiated (then
 * applying it to an input that requires grad, with grad recording on, is a
 * sticky LPC_E_STATE). user is borrowed and passed to both callbacks. NULL
 * with LPC_E_ARG / LPC_E_NOMEM. The caller owns the op: lpc_op_free it after
 * every ctx whose tape refers to it was reset or freed. */
LPC_API lpc_op *lpc_op_new(const char *name, lpc_op_forward_fn forward,
                           lpc_op_backward_fn backward, void *user);
LPC_API void lpc_op_free(lpc_op *op); /* NULL is a no-op */
/* Applies op to n (1..LPC_OP_MAX_INPUTS) inputs, giving a temporary of ctx
 * with out_shape (ndim dims), or the shape of in[0] when out_shape is NULL.
 * Taped like a built-in op: sticky errors (a failing callback poisons the
 * ctx with the op's name), the ctx's NaN/Inf check on the output and, in
 * backward, on the gradients the backward callback produced. */
LPC_API lpc_tensor *lpc_op_apply(lpc_ctx *ctx, const lpc_op *op, int n, lpc_tensor *const *in,
                                 int ndim, const int64_t *out_shape);

/* ---- custom modules ---- */
/* New empty module whose forward is the callback; user (may be NULL) is
 * owned by the module from now on and released by free_user (if given) in
 * lpc_module_free, also when this function fails. Add parameters, buffers
 * and children with the functions below; it then works like a built-in
 * module (names, train/eval, optimizers, checkpoints, DeepFool). */
LPC_API lpc_module *lpc_module_new(lpc_module_forward_fn forward, void *user,
                                   lpc_module_free_fn free_user);
/* Hook called by lpc_module_set_train after the mode changed (NULL clears). */
LPC_API lpc_status lpc_module_set_train_hook(lpc_module *m, lpc_module_train_fn on_train);
/* The user pointer given to lpc_module_new (NULL for built-in modules). */
LPC_API void *lpc_module_user(const lpc_module *m);
/* Own parameter (gets requires_grad) or buffer under `name` (no '.', unique
 * within the module). t must be a persistent tensor not owned by a module;
 * the module takes ownership on success and frees t on failure, except when
 * t belongs to another module (LPC_E_ARG, left alone). Only for modules made
 * by lpc_module_new. The tensor pointer stays valid until the module is
 * freed, so forward callbacks may keep it in their user data. */
LPC_API lpc_status lpc_module_add_param(lpc_module *m, const char *name, lpc_tensor *t);
LPC_API lpc_status lpc_module_add_buffer(lpc_module *m, const char *name, lpc_tensor *t);
/* Child module under `name` (no '.', unique among children). Takes ownership
 * on success and frees child on failure, except when the child already
 * belongs to a container or a head, or adding it would make a cycle (child
 * is m or an ancestor of m): LPC_E_ARG, child left alone. Only for modules made by
 * lpc_module_new (use lpc_sequential_add for sequentials). */
LPC_API lpc_status lpc_module_add_child(lpc_module *m, const char *name, lpc_module *child);

/* ---- gradient checking ---- */
/* Compares the autograd gradient of every element of every input that
 * requires grad with a central finite difference of step eps (inputs are
 * persistent tensors: parameters or user inputs; their gradients are zeroed
 * first and hold the analytic gradient afterwards). *worst receives the
 * largest |a - n| / (atol + rtol |n|) (<= 1 passes). Errors of f (a sticky
 * ctx error, a non-scalar loss) are returned with a message. Costs two
 * forward passes per input element. Dropout-free, deterministic f only. */
LPC_API lpc_status lpc_gradcheck(lpc_graph_fn f, void *user, int n, lpc_tensor **inputs,
                                 double eps, double atol, double rtol, double *worst);
LPC_END_DECLS
#endif
