/* AdamW with parameter groups and decoupled weight decay (PyTorch's update
 * order: decay first, then the Adam step). Moments are allocated when a
 * parameter is added, so a step allocates nothing. */
#include <math.h>
#include <string.h>
#include "optim_internal.h"

#define PAR_MIN 32768 /* below this many elements threads cost more than they save */

typedef struct {
    double lr, wd;
} adamw_group;

typedef struct {
    lpc_tensor *p; /* borrowed */
    lpc_tensor *m, *v;
    int group;
} entry;

struct lpc_adamw {
    double b1, b2, eps;
    int64_t t;
    adamw_group *groups;
    int n_groups;
    entry *params;
    int n_params;
};

lpc_adamw *lpc_adamw_new(double beta1, double beta2, double eps)
{
    if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0) ||
        !(eps >= 0.0 && isfinite(eps)))
        return LPCI_FAIL_NULL(LPC_E_ARG,
                              "lpc_adamw_new: need betas in [0, 1) and finite eps >= 0, got "
                              "(%g, %g), %g", beta1, beta2, eps);
    lpc_adamw *o = lpci_calloc(1, sizeof *o);
    if (!o)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_adamw_new: out of memory");
    o->b1 = beta1;
    o->b2 = beta2;
    o->eps = eps;
    return o;
}

void lpc_adamw_free(lpc_adamw *opt)
{
    if (!opt)
        return;
    for (int i = 0; i < opt->n_params; i++) {
        lpci_tensor_free_owned(opt->params[i].m);
        lpci_tensor_free_owned(opt->params[i].v);
    }
    lpci_free(opt->params);
    lpci_free(opt->groups);
    lpci_free(opt);
}

static int valid_rate(double x) { return x >= 0.0 && isfinite(x); }

int lpc_adamw_add_group(lpc_adamw *opt, double lr, double weight_decay)
{
    if (!opt)
        return lpci_error(LPC_E_ARG, "lpc_adamw_add_group: opt is NULL");
    if (!valid_rate(lr) || !valid_rate(weight_decay))
        return lpci_error(LPC_E_ARG,
                          "lpc_adamw_add_group: lr %g and weight_decay %g must be finite and >= 0",
                          lr, weight_decay);
    adamw_group *g = lpci_realloc(opt->groups, (size_t)(opt->n_groups + 1) * sizeof *g);
    if (!g)
        return lpci_error(LPC_E_NOMEM, "lpc_adamw_add_group: out of memory");
    opt->groups = g;
    g[opt->n_groups] = (adamw_group){lr, weight_decay};
    return opt->n_groups++;
}

static lpc_status check_group(const lpc_adamw *opt, int group, const char *fn)
{
    if (!opt)
        return lpci_error(LPC_E_ARG, "%s: opt is NULL", fn);
    if (group < 0 || group >= opt->n_groups)
        return lpci_error(LPC_E_ARG, "%s: group %d does not exist (%d groups)", fn, group,
                          opt->n_groups);
    return LPC_OK;
}

lpc_status lpc_adamw_add_param(lpc_adamw *opt, int group, lpc_tensor *param)
{
    lpc_status s = check_group(opt, group, "lpc_adamw_add_param");
    if (s != LPC_OK)
        return s;
    if (!param || !lpci_is_persistent(param))
        return lpci_error(LPC_E_ARG, "lpc_adamw_add_param: param must be a persistent tensor, "
                          "got %s", !param ? "NULL" : (param->flags & LPCI_T_POISON)
                                                          ? "a poisoned tensor" : "a temporary");
    for (int i = 0; i < opt->n_params; i++)
        if (opt->params[i].p == param)
            return lpci_error(LPC_E_ARG, "lpc_adamw_add_param: tensor already added as param %d",
                              i);
    lpc_tensor *m = lpc_tensor_new(param->ndim, param->shape);
    lpc_tensor *v = m ? lpc_tensor_new(param->ndim, param->shape) : NULL;
    entry *e = v ? lpci_realloc(opt->params, (size_t)(opt->n_params + 1) * sizeof *e) : NULL;
    if (!e) {
        lpc_tensor_free(m);
        lpc_tensor_free(v);
        return lpci_error(LPC_E_NOMEM, "lpc_adamw_add_param: out of memory");
    }
    opt->params = e;
    m->flags |= LPCI_T_OWNED; /* lpc_adamw_moment hands them out: never freed by users */
    v->flags |= LPCI_T_OWNED;
    e[opt->n_params++] = (entry){param, m, v, group};
    return LPC_OK;
}

lpc_status lpc_adamw_set_lr(lpc_adamw *opt, int group, double lr)
{
    lpc_status s = check_group(opt, group, "lpc_adamw_set_lr");
    if (s != LPC_OK)
        return s;
    if (!valid_rate(lr))
        return lpci_error(LPC_E_ARG, "lpc_adamw_set_lr: lr %g must be finite and >= 0", lr);
    opt->groups[group].lr = lr;
    return LPC_OK;
}

double lpc_adamw_get_lr(const lpc_adamw *opt, int group)
{
    if (check_group(opt, group, "lpc_adamw_get_lr") != LPC_OK)
        return NAN;
    return opt->groups[group].lr;
}

LPCI_VECTOR_BODY int any_nonfinite_span_body(const float *g, int64_t n)
{
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) { /* exponent all ones: Inf or NaN */
        uint32_t u;
        memcpy(&u, g + i, sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    return bad != 0;
}
LPCI_VECTOR_PREDICATE(any_nonfinite_span, (const float *g, int64_t n), (g, n))

/* Index of the first non-finite element of g, or -1. The parallel pass only
 * answers "any?"; the rare failure path finds the index serially. */
static int64_t first_nonfinite(const float *g, int64_t n)
{
    int bad = 0;
#pragma omp parallel num_threads(lpci_threads()) if(n > PAR_MIN) reduction(|:bad)
    {
        int64_t lo, hi;
        lpci_thread_span(n, &lo, &hi);
        bad |= any_nonfinite_span(g + lo, hi - lo);
    }
    if (!bad)
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(g[i]))
            return i;
    return -1;
}

/* Per-step scalars of one group. The (1 - beta) factors come from double so
 * that float rounding of beta does not bias them (1 - 0.99f is off by 1e-6). */
typedef struct {
    float b1, omb1, b2, omb2, eps, step, decay, inv_sqrt_bc2;
} coefs;

LPCI_VECTOR_BODY void update_span_body(float *restrict p, float *restrict m,
                                           float *restrict v, const float *restrict g, int64_t n,
                                           coefs c)
{
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = c.b1 * m[i] + c.omb1 * gi;
        float vi = c.b2 * v[i] + c.omb2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * c.decay - c.step * mi / (sqrtf(vi) * c.inv_sqrt_bc2 + c.eps);
    }
}
LPCI_VECTOR_KERNEL(update_span,
                   (float *restrict p, float *restrict m, float *restrict v,
                    const float *restrict g, int64_t n, coefs c),
                   (p, m, v, g, n, c))

/* One fused pass over a parameter; each element is owned by one thread. */
static void update(const entry *e, coefs c)
{
    int64_t n = e->p->numel;
    LPCI_PARALLEL_SPANS(n, PAR_MIN, update_span(e->p->data + lo, e->m->data + lo, e->v->data + lo,
                                                e->p->grad + lo, hi - lo, c));
}

lpc_status lpc_adamw_step(lpc_adamw *opt)
{
    if (!opt)
        return lpci_error(LPC_E_ARG, "lpc_adamw_step: opt is NULL");
    if (opt->t == INT64_MAX)
        return lpci_error(LPC_E_STATE, "lpc_adamw_step: the step count %lld cannot grow "
                          "(see lpc_adamw_set_steps); nothing updated", (long long)opt->t);
    for (int i = 0; i < opt->n_params; i++) {
        const lpc_tensor *p = opt->params[i].p;
        if (!p->grad)
            continue;
        int64_t k = first_nonfinite(p->grad, p->numel);
        if (k >= 0) {
            char sh[64];
            return lpci_error(LPC_E_NUMERIC,
                              "lpc_adamw_step: non-finite gradient %g in parameter %d (%s) at "
                              "element %lld; nothing updated",
                              (double)p->grad[k], i, lpci_shape_str(p, sh, sizeof sh),
                              (long long)k);
        }
    }
    int64_t t = opt->t + 1;
    double bc1 = 1.0 - pow(opt->b1, (double)t), bc2 = 1.0 - pow(opt->b2, (double)t);
    for (int i = 0; i < opt->n_params; i++) {
        const entry *e = &opt->params[i];
        if (!e->p->grad)
            continue;
        const adamw_group *gr = &opt->groups[e->group];
        coefs c = {(float)opt->b1, (float)(1.0 - opt->b1), (float)opt->b2,
                   (float)(1.0 - opt->b2), (float)opt->eps, (float)(gr->lr / bc1),
                   (float)(1.0 - gr->lr * gr->wd), (float)(1.0 / sqrt(bc2))};
        update(e, c);
    }
    opt->t = t;
    return LPC_OK;
}

int64_t lpc_adamw_steps(const lpc_adamw *opt)
{
    if (!opt)
        return lpci_error(LPC_E_ARG, "lpc_adamw_steps: opt is NULL");
    return opt->t;
}

lpc_status lpc_adamw_set_steps(lpc_adamw *opt, int64_t t)
{
    if (!opt || t < 0)
        return lpci_error(LPC_E_ARG, "lpc_adamw_set_steps: need an optimizer and t >= 0, got %lld",
                          (long long)t);
    opt->t = t;
    return LPC_OK;
}

int lpc_adamw_num_params(const lpc_adamw *opt)
{
    if (!opt)
        return lpci_error(LPC_E_ARG, "lpc_adamw_num_params: opt is NULL");
    return opt->n_params;
}

static int check_index(const lpc_adamw *opt, int i, const char *fn)
{
    if (!opt || i < 0 || i >= opt->n_params) {
        lpci_error(LPC_E_ARG, "%s: no parameter %d", fn, i);
        return 0;
    }
    return 1;
}

lpc_tensor *lpc_adamw_param(lpc_adamw *opt, int i)
{
    return check_index(opt, i, "lpc_adamw_param") ? opt->params[i].p : NULL;
}

lpc_tensor *lpc_adamw_moment(lpc_adamw *opt, int i, int which)
{
    if (!check_index(opt, i, "lpc_adamw_moment"))
        return NULL;
    if (which != 1 && which != 2)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_adamw_moment: which must be 1 (m) or 2 (v), got %d",
                              which);
    return which == 1 ? opt->params[i].m : opt->params[i].v;
}

int lpci_adamw_num_groups(const lpc_adamw *opt) { return opt->n_groups; }

int lpci_adamw_param_group(const lpc_adamw *opt, int i)
{
    return i >= 0 && i < opt->n_params ? opt->params[i].group : -1;
}

double lpci_adamw_group_wd(const lpc_adamw *opt, int group) { return opt->groups[group].wd; }

void lpci_adamw_set_group(lpc_adamw *opt, int group, double lr, double wd)
{
    opt->groups[group] = (adamw_group){lr, wd};
}
