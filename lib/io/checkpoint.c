/* The in-memory checkpoint: named copies of tensors, optimizer states,
 * scalars, RNG states and blobs, and restoring them (validate all, then copy). */
#include <stdio.h>
#include <string.h>
#include "../optim/optim_internal.h"
#include "checkpoint_parse.h"

const char lpci_ck_tags[LPCI_CK_KINDS][5] = {"TNSR", "OPTM", "SCAL", "RNGS", "BLOB"};

lpc_checkpoint *lpc_checkpoint_new(void)
{
    lpc_checkpoint *ck = lpci_calloc(1, sizeof *ck);
    if (!ck)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_checkpoint_new: out of memory");
    return ck;
}

static void clear_entry(lpci_ck_entry *e)
{
    lpci_free(e->name);
    if (e->kind == LPCI_CK_TENSOR) {
        lpci_tensor_free_owned(e->u.tensor);
    } else if (e->kind == LPCI_CK_OPTIM) {
        for (int i = 0; e->u.opt.moment && i < 2 * e->u.opt.n_params; i++)
            lpci_tensor_free_owned(e->u.opt.moment[i]);
        lpci_free(e->u.opt.moment);
        lpci_free(e->u.opt.hyper);
        lpci_free(e->u.opt.group);
    } else if (e->kind == LPCI_CK_BLOB) {
        lpci_free(e->u.blob.data);
    }
}

void lpci_ck_truncate(lpc_checkpoint *ck, int n)
{
    for (int i = n; i < ck->n_entries; i++)
        clear_entry(&ck->entries[i]);
    if (n < ck->n_entries)
        ck->n_entries = n;
}

void lpc_checkpoint_free(lpc_checkpoint *ck)
{
    if (!ck)
        return;
    lpci_ck_truncate(ck, 0);
    lpci_free(ck->entries);
    lpci_free(ck->source);
    lpci_free(ck);
}

const char *lpci_ck_source(const lpc_checkpoint *ck)
{
    return ck->source ? ck->source : "(unsaved checkpoint)";
}

int lpci_ck_name_ok(const char *name, size_t len)
{
    if (len < 1 || len > LPCI_CK_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] < 0x21 || name[i] > 0x7e)
            return 0;
    return 1;
}

lpci_ck_entry *lpci_ck_find(const lpc_checkpoint *ck, int kind, const char *name)
{
    for (int i = 0; i < ck->n_entries; i++)
        if (ck->entries[i].kind == kind && strcmp(ck->entries[i].name, name) == 0)
            return &ck->entries[i];
    return NULL;
}

lpci_ck_entry *lpci_ck_append(lpc_checkpoint *ck, int kind, const char *name, size_t len)
{
    lpci_ck_entry *es = lpci_realloc(ck->entries, (size_t)(ck->n_entries + 1) * sizeof *es);
    char *copy = lpci_malloc(len + 1);
    if (es)
        ck->entries = es;
    if (!es || !copy) {
        lpci_free(copy);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "checkpoint: out of memory");
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    lpci_ck_entry *e = &es[ck->n_entries++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->name = copy;
    return e;
}

/* Front half of every add: arguments, name and uniqueness. */
static lpc_status new_entry(lpc_checkpoint *ck, int kind, const char *name, const char *fn,
                            lpci_ck_entry **out)
{
    if (!ck || !name)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    size_t len = strlen(name);
    if (!lpci_ck_name_ok(name, len))
        return lpci_error(LPC_E_ARG, "%s: name '%.40s' must be 1..%d printable characters, no spaces",
                          fn, name, LPCI_CK_NAME_MAX);
    if (lpci_ck_find(ck, kind, name))
        return lpci_error(LPC_E_ARG, "%s: name '%s' is already used", fn, name);
    *out = lpci_ck_append(ck, kind, name, len);
    return *out ? LPC_OK : LPC_E_NOMEM;
}

/* Drops the last entry after a failed fill. */
static lpc_status drop_last(lpc_checkpoint *ck, const char *fn)
{
    lpci_ck_truncate(ck, ck->n_entries - 1);
    return lpci_error(LPC_E_NOMEM, "%s: out of memory", fn);
}

static lpc_tensor *copy_tensor(const lpc_tensor *t)
{
    lpc_tensor *c = lpc_tensor_new(t->ndim, t->shape);
    if (c) {
        memcpy(c->data, t->data, (size_t)t->numel * sizeof(float));
        c->flags |= LPCI_T_OWNED; /* lpc_checkpoint_tensor hands it out: never freed by users */
    }
    return c;
}

static int usable(const lpc_tensor *t) { return t && !(t->flags & LPCI_T_POISON) && t->data; }

lpc_status lpc_checkpoint_add_tensor(lpc_checkpoint *ck, const char *name, const lpc_tensor *t)
{
    const char *fn = "lpc_checkpoint_add_tensor";
    if (!usable(t))
        return lpci_error(LPC_E_ARG, "%s: tensor is NULL or poisoned", fn);
    lpci_ck_entry *e;
    lpc_status s = new_entry(ck, LPCI_CK_TENSOR, name, fn, &e);
    if (s != LPC_OK)
        return s;
    if (!(e->u.tensor = copy_tensor(t)))
        return drop_last(ck, fn);
    return LPC_OK;
}

/* "<prefix><name>" into buf; 0 when it does not fit. */
static int join(char *buf, size_t n, const char *prefix, const char *name)
{
    int k = snprintf(buf, n, "%s%s", prefix ? prefix : "", name);
    return k >= 0 && (size_t)k < n;
}

/* Parameter (i < np) or buffer (i - np) of m, with its name. */
static lpc_tensor *module_tensor(lpc_module *m, int i, int np, const char **name)
{
    if (i < np) {
        *name = lpc_module_param_name(m, i);
        return lpc_module_param(m, i);
    }
    *name = lpc_module_buffer_name(m, i - np);
    return lpc_module_buffer(m, i - np);
}

lpc_status lpc_checkpoint_add_module(lpc_checkpoint *ck, const char *prefix, lpc_module *m)
{
    if (!ck || !m)
        return lpci_error(LPC_E_ARG, "lpc_checkpoint_add_module: NULL argument");
    int np = lpc_module_num_params(m), nt = np + lpc_module_num_buffers(m), start = ck->n_entries;
    for (int i = 0; i < nt; i++) {
        const char *name;
        lpc_tensor *t = module_tensor(m, i, np, &name);
        char full[LPCI_CK_NAME_MAX + 1];
        lpc_status s = join(full, sizeof full, prefix, name)
                           ? lpc_checkpoint_add_tensor(ck, full, t)
                           : lpci_error(LPC_E_ARG, "lpc_checkpoint_add_module: name '%s%s' too long",
                                        prefix ? prefix : "", name);
        if (s != LPC_OK) {
            lpci_ck_truncate(ck, start);
            return s;
        }
    }
    return LPC_OK;
}

lpc_status lpc_checkpoint_add_adamw(lpc_checkpoint *ck, const char *name, lpc_adamw *opt)
{
    const char *fn = "lpc_checkpoint_add_adamw";
    if (!opt)
        return lpci_error(LPC_E_ARG, "%s: opt is NULL", fn);
    lpci_ck_entry *e;
    lpc_status s = new_entry(ck, LPCI_CK_OPTIM, name, fn, &e);
    if (s != LPC_OK)
        return s;
    int ng = lpci_adamw_num_groups(opt), np = lpc_adamw_num_params(opt);
    e->u.opt.steps = lpc_adamw_steps(opt);
    e->u.opt.n_groups = ng;
    e->u.opt.hyper = lpci_malloc(2 * (size_t)ng * sizeof(double) + 1);
    e->u.opt.group = lpci_malloc((size_t)np * sizeof(int32_t) + 1);
    e->u.opt.moment = lpci_calloc(2 * (size_t)np + 1, sizeof(lpc_tensor *));
    if (!e->u.opt.hyper || !e->u.opt.group || !e->u.opt.moment)
        return drop_last(ck, fn);
    e->u.opt.n_params = np; /* moments are freed up to here from now on */
    for (int g = 0; g < ng; g++) {
        e->u.opt.hyper[2 * g] = lpc_adamw_get_lr(opt, g);
        e->u.opt.hyper[2 * g + 1] = lpci_adamw_group_wd(opt, g);
    }
    for (int i = 0; i < np; i++) {
        e->u.opt.group[i] = lpci_adamw_param_group(opt, i);
        for (int w = 0; w < 2; w++)
            if (!(e->u.opt.moment[2 * i + w] = copy_tensor(lpc_adamw_moment(opt, i, w + 1))))
                return drop_last(ck, fn);
    }
    return LPC_OK;
}

lpc_status lpc_checkpoint_add_rng(lpc_checkpoint *ck, const char *name, const lpc_rng *rng)
{
    const char *fn = "lpc_checkpoint_add_rng";
    if (!rng)
        return lpci_error(LPC_E_ARG, "%s: rng is NULL", fn);
    lpci_ck_entry *e;
    lpc_status s = new_entry(ck, LPCI_CK_RNG, name, fn, &e);
    if (s != LPC_OK)
        return s;
    return lpc_rng_get_state(rng, e->u.rng);
}

lpc_status lpc_checkpoint_add_blob(lpc_checkpoint *ck, const char *name, const void *data,
                                   size_t n)
{
    const char *fn = "lpc_checkpoint_add_blob";
    if (!data && n)
        return lpci_error(LPC_E_ARG, "%s: data is NULL", fn);
    if (n > (size_t)PTRDIFF_MAX - 1) /* no object is that large; n + 1 is allocated */
        return lpci_error(LPC_E_ARG, "%s: blob of %zu bytes is larger than any object can be "
                          "(at most %td)", fn, n, PTRDIFF_MAX - 1);
    lpci_ck_entry *e;
    lpc_status s = new_entry(ck, LPCI_CK_BLOB, name, fn, &e);
    if (s != LPC_OK)
        return s;
    if (!(e->u.blob.data = lpci_malloc(n + 1)))
        return drop_last(ck, fn);
    if (n)
        memcpy(e->u.blob.data, data, n);
    e->u.blob.n = n;
    return LPC_OK;
}

static lpc_status set_scalar(lpc_checkpoint *ck, const char *name, int type, uint64_t bits,
                             const char *fn)
{
    lpci_ck_entry *e = ck && name ? lpci_ck_find(ck, LPCI_CK_SCALAR, name) : NULL;
    if (!e) {
        lpc_status s = new_entry(ck, LPCI_CK_SCALAR, name, fn, &e);
        if (s != LPC_OK)
            return s;
    }
    e->u.scalar.type = type;
    e->u.scalar.bits = bits;
    return LPC_OK;
}

lpc_status lpc_checkpoint_set_u64(lpc_checkpoint *ck, const char *name, uint64_t v)
{
    return set_scalar(ck, name, LPCI_CK_U64, v, "lpc_checkpoint_set_u64");
}

lpc_status lpc_checkpoint_set_f64(lpc_checkpoint *ck, const char *name, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return set_scalar(ck, name, LPCI_CK_F64, bits, "lpc_checkpoint_set_f64");
}

/* ---- reading ---- */

int lpc_checkpoint_num_tensors(const lpc_checkpoint *ck)
{
    if (!ck)
        return lpci_error(LPC_E_ARG, "lpc_checkpoint_num_tensors: ck is NULL");
    int n = 0;
    for (int i = 0; i < ck->n_entries; i++)
        n += ck->entries[i].kind == LPCI_CK_TENSOR;
    return n;
}

const char *lpc_checkpoint_tensor_name(const lpc_checkpoint *ck, int i)
{
    for (int k = 0, seen = 0; ck && k < ck->n_entries; k++)
        if (ck->entries[k].kind == LPCI_CK_TENSOR && seen++ == i)
            return ck->entries[k].name;
    return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_checkpoint_tensor_name: no tensor %d", i);
}

/* The entry of kind called name: LPC_E_FORMAT naming it and the file when missing. */
static lpc_status need(const lpc_checkpoint *ck, int kind, const char *name, const char *fn,
                       lpci_ck_entry **e)
{
    *e = NULL;
    if (!ck || !name)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    if (!(*e = lpci_ck_find(ck, kind, name)))
        return lpci_error(LPC_E_FORMAT, "%s: %s has no %s entry '%s'", fn, lpci_ck_source(ck),
                          lpci_ck_tags[kind], name);
    return LPC_OK;
}

const lpc_tensor *lpc_checkpoint_tensor(const lpc_checkpoint *ck, const char *name)
{
    lpci_ck_entry *e;
    need(ck, LPCI_CK_TENSOR, name, "lpc_checkpoint_tensor", &e);
    return e ? e->u.tensor : NULL;
}

static lpc_status shape_error(const char *fn, const lpc_checkpoint *ck, const char *what,
                              const lpc_tensor *saved, const lpc_tensor *here)
{
    char a[64], b[64];
    return lpci_error(LPC_E_SHAPE, "%s: %s: %s is %s in the checkpoint but %s here", fn,
                      lpci_ck_source(ck), what, lpci_shape_str(saved, a, sizeof a),
                      lpci_shape_str(here, b, sizeof b));
}

lpc_status lpc_checkpoint_restore_module(const lpc_checkpoint *ck, const char *prefix,
                                         lpc_module *m)
{
    const char *fn = "lpc_checkpoint_restore_module";
    if (!ck || !m)
        return lpci_error(LPC_E_ARG, "%s: NULL argument", fn);
    int np = lpc_module_num_params(m), nt = np + lpc_module_num_buffers(m);
    for (int pass = 0; pass < 2; pass++) /* validate everything, then copy */
        for (int i = 0; i < nt; i++) {
            const char *name;
            lpc_tensor *t = module_tensor(m, i, np, &name);
            char full[LPCI_CK_NAME_MAX + 1];
            if (!join(full, sizeof full, prefix, name))
                return lpci_error(LPC_E_FORMAT, "%s: %s has no tensor '%s%s'", fn,
                                  lpci_ck_source(ck), prefix ? prefix : "", name);
            lpci_ck_entry *e;
            lpc_status s = need(ck, LPCI_CK_TENSOR, full, fn, &e);
            if (s != LPC_OK)
                return s;
            if (!lpci_same_shape(e->u.tensor, t))
                return shape_error(fn, ck, full, e->u.tensor, t);
            if (pass)
                memcpy(t->data, e->u.tensor->data, (size_t)t->numel * sizeof(float));
        }
    return LPC_OK;
}

lpc_status lpc_checkpoint_restore_adamw(const lpc_checkpoint *ck, const char *name,
                                        lpc_adamw *opt)
{
    const char *fn = "lpc_checkpoint_restore_adamw";
    if (!opt)
        return lpci_error(LPC_E_ARG, "%s: opt is NULL", fn);
    lpci_ck_entry *e;
    lpc_status s = need(ck, LPCI_CK_OPTIM, name, fn, &e);
    if (s != LPC_OK)
        return s;
    int ng = lpci_adamw_num_groups(opt), np = lpc_adamw_num_params(opt);
    if (ng != e->u.opt.n_groups || np != e->u.opt.n_params)
        return lpci_error(LPC_E_SHAPE,
                          "%s: %s: '%s' has %d groups and %d parameters, the optimizer %d and %d",
                          fn, lpci_ck_source(ck), name, e->u.opt.n_groups, e->u.opt.n_params, ng,
                          np);
    for (int i = 0; i < np; i++) {
        char what[64];
        snprintf(what, sizeof what, "parameter %d of '%.30s'", i, name);
        if (e->u.opt.group[i] != lpci_adamw_param_group(opt, i))
            return lpci_error(LPC_E_SHAPE, "%s: %s: %s is in group %d, here in group %d", fn,
                              lpci_ck_source(ck), what, (int)e->u.opt.group[i],
                              lpci_adamw_param_group(opt, i));
        if (!lpci_same_shape(e->u.opt.moment[2 * i], lpc_adamw_param(opt, i)))
            return shape_error(fn, ck, what, e->u.opt.moment[2 * i], lpc_adamw_param(opt, i));
    }
    lpc_adamw_set_steps(opt, e->u.opt.steps);
    for (int g = 0; g < ng; g++)
        lpci_adamw_set_group(opt, g, e->u.opt.hyper[2 * g], e->u.opt.hyper[2 * g + 1]);
    for (int i = 0; i < np; i++)
        for (int w = 0; w < 2; w++) {
            lpc_tensor *dst = lpc_adamw_moment(opt, i, w + 1);
            memcpy(dst->data, e->u.opt.moment[2 * i + w]->data, (size_t)dst->numel * sizeof(float));
        }
    return LPC_OK;
}

lpc_status lpc_checkpoint_restore_rng(const lpc_checkpoint *ck, const char *name, lpc_rng *rng)
{
    if (!rng)
        return lpci_error(LPC_E_ARG, "lpc_checkpoint_restore_rng: rng is NULL");
    lpci_ck_entry *e;
    lpc_status s = need(ck, LPCI_CK_RNG, name, "lpc_checkpoint_restore_rng", &e);
    if (s != LPC_OK)
        return s;
    return lpc_rng_set_state(rng, e->u.rng);
}

static lpc_status get_scalar(const lpc_checkpoint *ck, const char *name, int type, void *out,
                             const char *fn)
{
    if (!out)
        return lpci_error(LPC_E_ARG, "%s: out is NULL", fn);
    lpci_ck_entry *e;
    lpc_status s = need(ck, LPCI_CK_SCALAR, name, fn, &e);
    if (s != LPC_OK)
        return s;
    if (e->u.scalar.type != type)
        return lpci_error(LPC_E_FORMAT, "%s: %s: scalar '%s' is stored as %s", fn,
                          lpci_ck_source(ck), name, type == LPCI_CK_U64 ? "f64" : "u64");
    memcpy(out, &e->u.scalar.bits, sizeof e->u.scalar.bits);
    return LPC_OK;
}

lpc_status lpc_checkpoint_get_u64(const lpc_checkpoint *ck, const char *name, uint64_t *out)
{
    return get_scalar(ck, name, LPCI_CK_U64, out, "lpc_checkpoint_get_u64");
}

lpc_status lpc_checkpoint_get_f64(const lpc_checkpoint *ck, const char *name, double *out)
{
    return get_scalar(ck, name, LPCI_CK_F64, out, "lpc_checkpoint_get_f64");
}

const void *lpc_checkpoint_blob(const lpc_checkpoint *ck, const char *name, size_t *n)
{
    lpci_ck_entry *e;
    need(ck, LPCI_CK_BLOB, name, "lpc_checkpoint_blob", &e);
    if (n)
        *n = e ? e->u.blob.n : 0;
    return e ? e->u.blob.data : NULL;
}
