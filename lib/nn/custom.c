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

/* What keeps `item` (a tensor, or a child) from being added under `name`
 * to m, or NULL when nothing does. A name must be non-empty, without '.',
 * at most 200 bytes and not used yet by the module's parameters, buffers
 * (one checkpoint namespace) or children. */
static const char *refusal(const lpc_module *m, const char *name, int child, int item_ok)
{
    if (!m)
        return "the module is NULL";
    if (m->vt != &custom_vt)
        return "the module was not made by lpc_module_new";
    if (!item_ok)
        return child ? "the child is NULL" : "the tensor is NULL or poisoned";
    if (!name || !name[0])
        return "the name is NULL or empty";
    if (strchr(name, '.'))
        return "the name contains '.'";
    if (strlen(name) > 200)
        return "the name is longer than 200 bytes";
    if (child) {
        for (int i = 0; i < m->n_children; i++)
            if (strcmp(m->child_names[i], name) == 0)
                return "a child has that name already";
        return NULL;
    }
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return "a parameter has that name already";
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0)
            return "a buffer has that name already";
    return NULL;
}

static lpc_status add_tensor(lpc_module *m, const char *name, lpc_tensor *t, int buffer)
{
    const char *fn = buffer ? "lpc_module_add_buffer" : "lpc_module_add_param";
    int usable = t && lpc_tensor_ndim(t) >= 0 && lpc_tensor_data(t) != NULL;
    const char *why = refusal(m, name, 0, usable);
    if (why) {
        lpc_tensor_free(t); /* refuses temporaries and tensors someone owns */
        return lpci_error(LPC_E_ARG, "%s: %s (name '%.200s')", fn, why, name ? name : "(null)");
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
    const char *why = refusal(m, name, 1, child != NULL);
    if (why) {
        lpci_module_discard(m, child);
        return lpci_error(LPC_E_ARG, "lpc_module_add_child: %s (name '%.200s')", why,
                          name ? name : "(null)");
    }
    return lpci_module_add_child(m, name, child);
}
