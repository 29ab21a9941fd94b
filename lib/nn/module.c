/* Generic module machinery: registration, flattened named parameters,
 * train/eval propagation, forward dispatch and freeing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "module_internal.h"

lpc_module *lpci_module_new(const lpci_module_vt *vt, void *impl)
{
    lpc_module *m = lpci_calloc(1, sizeof *m);
    if (!m) {
        if (impl)
            vt->free_impl ? vt->free_impl(impl) : lpci_free(impl);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "%s: out of memory", vt->kind);
    }
    m->vt = vt;
    m->impl = impl;
    m->train = 1;
    return m;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = lpci_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void invalidate(lpc_module *m)
{
    for (; m; m = m->parent)
        m->flat_valid = 0;
}

static lpc_status add_named(lpci_named_tensor **list, int *n, const char *name, lpc_tensor *t)
{
    lpci_named_tensor *l = lpci_realloc(*list, (size_t)(*n + 1) * sizeof *l);
    char *copy = dup_str(name);
    if (!l || !copy) {
        if (l)
            *list = l;
        lpci_free(copy);
        lpc_tensor_free(t);
        return lpci_error(LPC_E_NOMEM, "module: out of memory registering '%s'", name);
    }
    *list = l;
    l[*n].name = copy;
    l[*n].t = t;
    (*n)++;
    return LPC_OK;
}

/* A tensor a module may take: persistent and not owned by anyone yet. */
static lpc_status check_ownable(const lpc_tensor *t, const char *what, const char *name)
{
    if (!t) /* its creation failed (a builder passes it through): keep that cause */
        return lpci_error_context("module: %s '%s'", what, name);
    if (!lpci_is_persistent(t) || (t->flags & LPCI_T_OWNED))
        return lpci_error(LPC_E_ARG, "module: %s '%s' is a temporary or already owned by a "
                          "module or optimizer", what, name);
    return LPC_OK;
}

lpc_status lpci_module_add_param(lpc_module *m, const char *name, lpc_tensor *t)
{
    lpc_status s = check_ownable(t, "parameter", name);
    if (s != LPC_OK)
        return s;
    t->flags |= LPCI_T_REQUIRES_GRAD;
    invalidate(m);
    if ((s = add_named(&m->params, &m->n_params, name, t)) == LPC_OK)
        t->flags |= LPCI_T_OWNED;
    return s;
}

lpc_status lpci_module_add_buffer(lpc_module *m, const char *name, lpc_tensor *t)
{
    lpc_status s = check_ownable(t, "buffer", name);
    if (s != LPC_OK)
        return s;
    invalidate(m);
    if ((s = add_named(&m->buffers, &m->n_buffers, name, t)) == LPC_OK)
        t->flags |= LPCI_T_OWNED;
    return s;
}

/* Whether child is m or an ancestor of m (a parent chain always ends, since
 * adding a module that would close a loop is refused). */
static int is_self_or_ancestor(const lpc_module *m, const lpc_module *child)
{
    for (const lpc_module *a = m; a; a = a->parent)
        if (a == child)
            return 1;
    return 0;
}

void lpci_module_discard(const lpc_module *m, lpc_module *child)
{
    if (child && !child->parent && !child->holder && !is_self_or_ancestor(m, child))
        lpc_module_free(child);
}

lpc_status lpci_module_add_child(lpc_module *m, const char *name, lpc_module *child)
{
    if (!child)
        return lpci_error(LPC_E_ARG, "module: child '%s' is NULL", name);
    if (child->parent) /* never free a module that belongs to another */
        return lpci_error(LPC_E_ARG, "module: '%s' already belongs to a container", name);
    if (child->holder)
        return lpci_error(LPC_E_ARG, "module: '%s' already belongs to %s", name, child->holder);
    if (is_self_or_ancestor(m, child))
        return lpci_error(LPC_E_ARG, "module: adding '%s' would make a cycle (it is the "
                              "container itself or one of its ancestors)", name);
    for (int i = 0; i < m->n_children; i++)
        if (strcmp(m->child_names[i], name) == 0) { /* names address parameters */
            lpc_module_free(child);
            return lpci_error(LPC_E_ARG, "module: a child named '%s' already exists", name);
        }
    lpc_module **c = lpci_realloc(m->children, (size_t)(m->n_children + 1) * sizeof *c);
    if (c)
        m->children = c;
    char **nm = c ? lpci_realloc(m->child_names, (size_t)(m->n_children + 1) * sizeof *nm) : NULL;
    if (nm)
        m->child_names = nm;
    char *copy = nm ? dup_str(name) : NULL;
    if (!copy) {
        lpc_module_free(child);
        return lpci_error(LPC_E_NOMEM, "module: out of memory adding '%s'", name);
    }
    m->children[m->n_children] = child;
    m->child_names[m->n_children] = copy;
    m->n_children++;
    child->parent = m;
    child->train = m->train;
    invalidate(m);
    return LPC_OK;
}

void lpci_init_uniform(lpc_tensor *t, double bound, lpc_rng *rng)
{
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = (float)((2.0 * lpc_rng_uniform(rng) - 1.0) * bound);
}

lpc_status lpci_module_add_weight_bias(lpc_module *m, int ndim, const int64_t *shape,
                                       int64_t fan_in, int bias, lpc_rng *rng)
{
    double bound = 1.0 / sqrt((double)fan_in);
    lpc_tensor *w = lpc_tensor_new(ndim, shape);
    if (w)
        lpci_init_uniform(w, bound, rng);
    lpc_status s = lpci_module_add_param(m, "weight", w);
    if (s != LPC_OK || !bias)
        return s;
    lpc_tensor *b = lpc_tensor_new(1, shape);
    if (b)
        lpci_init_uniform(b, bound, rng);
    return lpci_module_add_param(m, "bias", b);
}

/* ---- flattened views ---- */

static void flat_free(lpci_named_tensor *l, int n)
{
    for (int i = 0; i < n; i++)
        lpci_free(l[i].name);
    lpci_free(l);
}

/* Appends m's tensors (own first, then children) with `prefix`. */
static int flatten(lpc_module *m, const char *prefix, int buffers, lpci_named_tensor **out,
                   int *n, int *cap)
{
    lpci_named_tensor *own = buffers ? m->buffers : m->params;
    int n_own = buffers ? m->n_buffers : m->n_params;
    char name[512];
    for (int i = 0; i < n_own; i++) {
        if (*n == *cap) {
            int nc = *cap ? *cap * 2 : 16;
            lpci_named_tensor *l = lpci_realloc(*out, (size_t)nc * sizeof *l);
            if (!l)
                return 0;
            *out = l;
            *cap = nc;
        }
        snprintf(name, sizeof name, "%s%s", prefix, own[i].name);
        (*out)[*n].name = dup_str(name);
        (*out)[*n].t = own[i].t;
        if (!(*out)[*n].name)
            return 0;
        (*n)++;
    }
    for (int c = 0; c < m->n_children; c++) {
        snprintf(name, sizeof name, "%s%s.", prefix, m->child_names[c]);
        if (!flatten(m->children[c], name, buffers, out, n, cap))
            return 0;
    }
    return 1;
}

static int ensure_flat(lpc_module *m)
{
    if (m->flat_valid)
        return 1;
    flat_free(m->flat_params, m->n_flat_params);
    flat_free(m->flat_buffers, m->n_flat_buffers);
    m->flat_params = m->flat_buffers = NULL;
    m->n_flat_params = m->n_flat_buffers = 0;
    int cap_p = 0, cap_b = 0;
    if (!flatten(m, "", 0, &m->flat_params, &m->n_flat_params, &cap_p) ||
        !flatten(m, "", 1, &m->flat_buffers, &m->n_flat_buffers, &cap_b)) {
        lpci_error(LPC_E_NOMEM, "module: out of memory listing parameters");
        return 0;
    }
    m->flat_valid = 1;
    return 1;
}

/* ---- collecting inner outputs ----
 * lpc_module_forward_collect pushes the modules it wants on a per-thread
 * stack; every module's forward goes through lpc_module_forward, which
 * records its output there when the stack is not empty (one thread-local
 * load otherwise). The stack, rather than a mark on the modules, keeps
 * forwards of one network on other threads (their own ctx) unaffected. */

typedef struct collect_frame {
    const lpc_ctx *ctx;
    int n;
    lpc_module *const *mods;
    lpc_tensor **outs;
    struct collect_frame *prev;
} collect_frame;

static _Thread_local collect_frame *collecting;

static void record(const lpc_module *m, const lpc_ctx *ctx, lpc_tensor *y)
{
    for (collect_frame *f = collecting; f; f = f->prev)
        if (f->ctx == ctx)
            for (int i = 0; i < f->n; i++)
                if (f->mods[i] == m)
                    f->outs[i] = y;
}

/* ---- public API ---- */

lpc_tensor *lpc_module_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    if (!lpci_op_check(ctx, "lpc_module_forward", 1, &x))
        return ctx ? &ctx->poison : NULL;
    if (!m)
        return lpci_ctx_fail(ctx, LPC_E_ARG, "lpc_module_forward: module is NULL");
    lpc_tensor *y = m->vt->forward(m, ctx, x);
    if (collecting)
        record(m, ctx, y);
    return y;
}

/* outs[0..n) set to the poisoned tensor, which is returned. */
static lpc_tensor *collect_fail(lpc_ctx *ctx, int n, lpc_tensor **outs)
{
    for (int i = 0; outs && i < n; i++)
        outs[i] = &ctx->poison;
    return &ctx->poison;
}

lpc_tensor *lpc_module_forward_collect(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x, int n,
                                       const char *const *names, lpc_tensor **outs)
{
    static const char fn[] = "lpc_module_forward_collect";
    if (!lpci_op_check(ctx, fn, 1, &x))
        return ctx ? collect_fail(ctx, n, outs) : NULL;
    if (!m || n < 0 || (n > 0 && (!names || !outs))) {
        lpci_ctx_fail(ctx, LPC_E_ARG, "%s: %s", fn, !m ? "module is NULL"
                      : n < 0 ? "negative number of names" : "names or outs is NULL");
        return collect_fail(ctx, n, outs);
    }
    if ((size_t)n > SIZE_MAX / sizeof(lpc_module *)) {
        lpci_ctx_fail(ctx, LPC_E_ARG, "%s: %d names is too many", fn, n);
        return collect_fail(ctx, n, outs);
    }
    lpc_module **mods = n ? lpci_ctx_alloc(ctx, (size_t)n * sizeof *mods) : NULL;
    if (n && !mods) /* the ctx has recorded LPC_E_NOMEM */
        return collect_fail(ctx, n, outs);
    for (int i = 0; i < n; i++) {
        mods[i] = names[i] ? lpc_module_find(m, names[i]) : NULL;
        if (!mods[i]) {
            if (names[i])
                lpci_ctx_fail(ctx, LPC_E_ARG, "%s: no module at '%s'", fn, names[i]);
            else
                lpci_ctx_fail(ctx, LPC_E_ARG, "%s: names[%d] is NULL", fn, i);
            return collect_fail(ctx, n, outs);
        }
        outs[i] = NULL;
    }
    collect_frame frame = {ctx, n, mods, outs, collecting};
    collecting = &frame;
    lpc_tensor *y = m->vt->forward(m, ctx, x);
    collecting = frame.prev;
    for (int i = 0; i < n; i++)
        if (mods[i] == m)
            outs[i] = y;
    if (lpc_ctx_status(ctx) != LPC_OK)
        return collect_fail(ctx, n, outs);
    for (int i = 0; i < n; i++)
        if (!outs[i]) {
            lpci_ctx_fail(ctx, LPC_E_ARG, "%s: the module at '%s' did not run its own forward "
                          "(its parent computes it in a fused op, or does not use it)",
                          fn, names[i]);
            return collect_fail(ctx, n, outs);
        }
    return y;
}

lpc_status lpc_module_set_train(lpc_module *m, int train)
{
    if (!m)
        return lpci_error(LPC_E_ARG, "lpc_module_set_train: module is NULL");
    m->train = train != 0;
    for (int i = 0; i < m->n_children; i++)
        lpc_module_set_train(m->children[i], train);
    if (m->vt->on_train)
        m->vt->on_train(m, m->train);
    return LPC_OK;
}

int lpc_module_is_train(const lpc_module *m) { return m ? m->train : 0; }

int lpc_module_num_params(const lpc_module *m)
{
    if (!m) {
        lpci_error(LPC_E_ARG, "lpc_module_num_params: module is NULL");
        return -1;
    }
    return ensure_flat((lpc_module *)m) ? m->n_flat_params : -1;
}

int lpc_module_num_buffers(const lpc_module *m)
{
    if (!m) {
        lpci_error(LPC_E_ARG, "lpc_module_num_buffers: module is NULL");
        return -1;
    }
    return ensure_flat((lpc_module *)m) ? m->n_flat_buffers : -1;
}

static lpci_named_tensor *flat_at(const lpc_module *m, int i, int buffers, const char *who)
{
    if (!m || !ensure_flat((lpc_module *)m)) {
        lpci_error(LPC_E_ARG, "%s: module is NULL", who);
        return NULL;
    }
    int n = buffers ? m->n_flat_buffers : m->n_flat_params;
    if (i < 0 || i >= n) {
        lpci_error(LPC_E_ARG, "%s: index %d is not in [0, %d)", who, i, n);
        return NULL;
    }
    return buffers ? &m->flat_buffers[i] : &m->flat_params[i];
}

lpc_tensor *lpc_module_param(lpc_module *m, int i)
{
    lpci_named_tensor *e = flat_at(m, i, 0, "lpc_module_param");
    return e ? e->t : NULL;
}

const char *lpc_module_param_name(const lpc_module *m, int i)
{
    lpci_named_tensor *e = flat_at(m, i, 0, "lpc_module_param_name");
    return e ? e->name : NULL;
}

lpc_tensor *lpc_module_buffer(lpc_module *m, int i)
{
    lpci_named_tensor *e = flat_at(m, i, 1, "lpc_module_buffer");
    return e ? e->t : NULL;
}

const char *lpc_module_buffer_name(const lpc_module *m, int i)
{
    lpci_named_tensor *e = flat_at(m, i, 1, "lpc_module_buffer_name");
    return e ? e->name : NULL;
}

lpc_tensor *lpc_module_find_param(lpc_module *m, const char *name)
{
    if (!m || !name || !ensure_flat(m))
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_module_find_param: NULL argument");
    for (int i = 0; i < m->n_flat_params; i++)
        if (strcmp(m->flat_params[i].name, name) == 0)
            return m->flat_params[i].t;
    return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_module_find_param: no parameter named '%s'", name);
}

lpc_module *lpc_module_find(lpc_module *m, const char *path)
{
    if (!m || !path)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_module_find: NULL argument");
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        lpc_module *next = NULL;
        for (int i = 0; i < m->n_children && !next; i++)
            if (strlen(m->child_names[i]) == len && strncmp(m->child_names[i], p, len) == 0)
                next = m->children[i];
        if (!next)
            return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_module_find: no module at '%s'", path);
        m = next;
        p += len + (dot ? 1 : 0);
    }
    return m;
}

int64_t lpc_module_num_weights(const lpc_module *m)
{
    int n = lpc_module_num_params(m);
    if (n < 0)
        return -1;
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += m->flat_params[i].t->numel;
    return total;
}

lpc_status lpc_module_zero_grad(lpc_module *m)
{
    int n = lpc_module_num_params(m);
    if (n < 0)
        return lpci_error(LPC_E_ARG, "lpc_module_zero_grad: module is NULL");
    for (int i = 0; i < n; i++)
        lpc_tensor_zero_grad(m->flat_params[i].t);
    return LPC_OK;
}

void lpc_module_free(lpc_module *m)
{
    if (!m)
        return;
    if (m->parent) { /* as lpc_tensor_free refuses temporaries */
        lpci_error(LPC_E_ARG, "lpc_module_free: refusing to free a module owned by a container "
                   "(free the outermost module)");
        return;
    }
    if (m->holder) {
        lpci_error(LPC_E_ARG, "lpc_module_free: refusing to free a module owned by %s (free "
                   "its owner)", m->holder);
        return;
    }
    for (int i = 0; i < m->n_children; i++) {
        m->children[i]->parent = NULL;
        lpc_module_free(m->children[i]);
        lpci_free(m->child_names[i]);
    }
    for (int i = 0; i < m->n_params; i++) {
        lpci_tensor_free_owned(m->params[i].t);
        lpci_free(m->params[i].name);
    }
    for (int i = 0; i < m->n_buffers; i++) {
        lpci_tensor_free_owned(m->buffers[i].t);
        lpci_free(m->buffers[i].name);
    }
    flat_free(m->flat_params, m->n_flat_params);
    flat_free(m->flat_buffers, m->n_flat_buffers);
    lpci_free(m->children);
    lpci_free(m->child_names);
    lpci_free(m->params);
    lpci_free(m->buffers);
    if (m->impl)
        m->vt->free_impl ? m->vt->free_impl(m->impl) : lpci_free(m->impl);
    lpci_free(m);
}
