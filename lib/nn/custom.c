/* Custom modules: a user forward callback and user data, with parameters,
 * buffers and children registered by name like any built-in layer's. */
#include <string.h>
#include "module_internal.h"

typedef struct {
    lpc_module_forward_fn forward;
    lpc_module_train_fn on_train;
    lpc_module_free_fn free_user;
    void *user;
} custom_impl;

static lpc_tensor *custom_forward(lpc_module *m, lpc_ctx *ctx, lpc_tensor *x)
{
    custom_impl *c = m->impl;
    lpc_tensor *y = c->forward(m, ctx, x, c->user);
    if (!y) /* a callback that forgot to return its output */
        return lpci_ctx_fail(ctx, LPC_E_STATE, "custom module: forward returned NULL");
    return y;
}

static void custom_on_train(lpc_module *m, int train)
{
    custom_impl *c = m->impl;
    if (c->on_train)
        c->on_train(m, train, c->user);
}

static void custom_free(void *impl)
{
    custom_impl *c = impl;
    if (c->free_user)
        c->free_user(c->user);
    lpci_free(c);
}

static const lpci_module_vt custom_vt = {"custom", custom_forward, custom_free, custom_on_train};

lpc_module *lpc_module_new(lpc_module_forward_fn forward, void *user,
                           lpc_module_free_fn free_user)
{
    if (!forward) {
        if (free_user)
            free_user(user);
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_module_new: forward callback is NULL");
    }
    custom_impl *c = lpci_calloc(1, sizeof *c);
    if (!c) {
        if (free_user)
            free_user(user);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_module_new: out of memory");
    }
    *c = (custom_impl){forward, NULL, free_user, user};
    return lpci_module_new(&custom_vt, c); /* frees c (and user) on failure */
}

/* The custom module behind m, or NULL with an error naming fn. */
static custom_impl *custom_of(const lpc_module *m, const char *fn)
{
    if (!m || m->vt != &custom_vt)
        return LPCI_FAIL_NULL(LPC_E_ARG, "%s: module is NULL or not made by lpc_module_new", fn);
    return m->impl;
}

lpc_status lpc_module_set_train_hook(lpc_module *m, lpc_module_train_fn on_train)
{
    custom_impl *c = custom_of(m, "lpc_module_set_train_hook");
    if (!c)
        return LPC_E_ARG;
    c->on_train = on_train;
    return LPC_OK;
}

void *lpc_module_user(const lpc_module *m)
{
    return m && m->vt == &custom_vt ? ((custom_impl *)m->impl)->user : NULL;
}

/* A name a module's own tensor or child may take: non-empty, no '.', and not
 * used yet by the module's parameters, buffers (one checkpoint namespace)
 * or children. */
static int name_ok(const lpc_module *m, const char *name, int child)
{
    if (!name || !name[0] || strchr(name, '.') || strlen(name) > 200)
        return 0;
    if (child) {
        for (int i = 0; i < m->n_children; i++)
            if (strcmp(m->child_names[i], name) == 0)
                return 0;
        return 1;
    }
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return 0;
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0)
            return 0;
    return 1;
}

static lpc_status add_tensor(lpc_module *m, const char *name, lpc_tensor *t, int buffer)
{
    const char *fn = buffer ? "lpc_module_add_buffer" : "lpc_module_add_param";
    int usable = t && lpc_tensor_ndim(t) >= 0 && lpc_tensor_data(t) != NULL;
    if (!m || m->vt != &custom_vt || !usable || !name_ok(m, name, 0)) {
        lpc_tensor_free(t); /* refuses temporaries and tensors someone owns */
        return lpci_error(LPC_E_ARG, "%s: need a custom module, a tensor and a new name without "
                          "'.' (got '%s')", fn, name ? name : "(null)");
    }
    return buffer ? lpci_module_add_buffer(m, name, t) : lpci_module_add_param(m, name, t);
}

lpc_status lpc_module_add_param(lpc_module *m, const char *name, lpc_tensor *t)
{
    return add_tensor(m, name, t, 0);
}

lpc_status lpc_module_add_buffer(lpc_module *m, const char *name, lpc_tensor *t)
{
    return add_tensor(m, name, t, 1);
}

lpc_status lpc_module_add_child(lpc_module *m, const char *name, lpc_module *child)
{
    if (!m || m->vt != &custom_vt || !child || !name_ok(m, name, 1)) {
        lpci_module_discard(m, child);
        return lpci_error(LPC_E_ARG, "lpc_module_add_child: need a custom module, a child and a "
                          "new name without '.' (got '%s')", name ? name : "(null)");
    }
    return lpci_module_add_child(m, name, child);
}
