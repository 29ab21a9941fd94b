/* Gradient memory plan of one backward pass.
 *
 * The gradient of a temporary produced by tape node p and consumed by nodes
 * up to c is live only while backward runs nodes c down to p: the first
 * consumer in backward order (c) writes it, p's backward reads it last.
 * Before the backward pass these intervals are computed from the tape and
 * the buffers placed in one arena block, largest first, each at the lowest
 * offset not used by a buffer live at the same time (the greedy-by-size
 * placement of inference engines' static planners). The block thus holds
 * the most gradients live at once instead of all of them: a deep network's
 * activation gradients share a few buffers. The block comes from the step
 * arena, the plan's arrays from the ctx's scratch buffer, so a training step
 * still calls malloc zero times after the first.
 * Planning is O(n^2) in the tape length in the worst case (n = a few hundred
 * for a ResNet) and takes microseconds next to the step. */
#include <string.h>
#include "internal.h"

#define PLAN_ALIGN 64

typedef struct {
    lpc_tensor *t;
    size_t first, last; /* producer and last consumer on the tape */
    size_t bytes, offset;
} grad_slot;

static int plan_enabled = 1;

void lpci_grad_plan_set(int on) { plan_enabled = on != 0; }

/* Open-addressing table from tensor to slot index (power-of-two size). */
static size_t hash_ptr(const void *p, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & mask;
}

static grad_slot *lookup(grad_slot *slots, const size_t *table, size_t mask, const lpc_tensor *t)
{
    for (size_t h = hash_ptr(t, mask);; h = (h + 1) & mask) {
        if (table[h] == SIZE_MAX)
            return NULL;
        if (slots[table[h]].t == t)
            return &slots[table[h]];
    }
}

/* Placement order: larger first, then earlier producer (a total order, so the
 * plan is deterministic). */
static int before(const grad_slot *a, const grad_slot *b)
{
    return a->bytes != b->bytes ? a->bytes > b->bytes : a->first < b->first;
}

/* Heap sort of slot pointers by `before` (in place: qsort may malloc). */
static void sift(grad_slot **v, size_t root, size_t n)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && before(v[child], v[child + 1]))
            child++;
        if (!before(v[root], v[child]))
            return;
        grad_slot *tmp = v[root];
        v[root] = v[child];
        v[child] = tmp;
    }
}

static void sort_slots(grad_slot **v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n);
    for (size_t end = n; end-- > 1;) {
        grad_slot *tmp = v[0];
        v[0] = v[end];
        v[end] = tmp;
        sift(v, 0, end);
    }
}

/* Lowest offset where s fits beside the already placed slots live at the same
 * time; `placed` holds them, `scratch` room for as many pointers. */
static size_t place(const grad_slot *s, grad_slot **placed, size_t n_placed, grad_slot **scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n_placed; i++)
        if (placed[i]->first <= s->last && s->first <= placed[i]->last)
            scratch[m++] = placed[i];
    /* Insertion sort by offset: few buffers are live at once. */
    for (size_t i = 1; i < m; i++)
        for (size_t j = i; j > 0 && scratch[j - 1]->offset > scratch[j]->offset; j--) {
            grad_slot *tmp = scratch[j];
            scratch[j] = scratch[j - 1];
            scratch[j - 1] = tmp;
        }
    size_t off = 0;
    for (size_t i = 0; i < m; i++) {
        if (scratch[i]->offset >= off + s->bytes)
            break;
        size_t end = scratch[i]->offset + scratch[i]->bytes;
        off = end > off ? end : off;
    }
    return off;
}

int lpci_grad_plan(lpc_ctx *ctx, size_t end)
{
    if (!plan_enabled)
        return 0;
    size_t cap = 1;
    while (cap < 2 * end)
        cap *= 2;
    /* The plan's own arrays are needed only until the buffers are placed:
     * they live in the ctx's scratch buffer (free again when backward runs). */
    size_t slots_bytes = (end * sizeof(grad_slot) + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1);
    size_t table_bytes = (cap * sizeof(size_t) + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1);
    unsigned char *work =
        lpci_ctx_scratch(ctx, slots_bytes + table_bytes + 2 * end * sizeof(grad_slot *));
    if (!work)
        return -1;
    grad_slot *slots = (grad_slot *)work;
    size_t *table = (size_t *)(work + slots_bytes);
    grad_slot **order = (grad_slot **)(work + slots_bytes + table_bytes);
    memset(table, 0xff, cap * sizeof *table); /* SIZE_MAX: empty */
    size_t n = 0;
    for (size_t k = 0; k < end; k++) {
        lpc_tensor *t = ctx->tape[k].out;
        if (lpci_is_persistent(t))
            continue;
        size_t h = hash_ptr(t, cap - 1);
        while (table[h] != SIZE_MAX) {
            if (slots[table[h]].t == t)
                return 0; /* an output of two nodes: not planned */
            h = (h + 1) & (cap - 1);
        }
        table[h] = n;
        size_t bytes = (size_t)t->numel * sizeof(float);
        slots[n++] = (grad_slot){t, k, k, (bytes + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1), 0};
    }
    for (size_t k = 0; k < end; k++)
        for (int j = 0; j < LPCI_MAX_INPUTS; j++) {
            lpc_tensor *t = ctx->tape[k].in[j];
            grad_slot *s = lpci_requires_grad(t) ? lookup(slots, table, cap - 1, t) : NULL;
            if (s && k > s->last)
                s->last = k;
        }
    for (size_t i = 0; i < n; i++)
        order[i] = &slots[i];
    sort_slots(order, n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        /* order[0, i) are placed; order[n, 2n) is place's scratch. */
        order[i]->offset = place(order[i], order, i, order + n);
        if (order[i]->offset + order[i]->bytes > total)
            total = order[i]->offset + order[i]->bytes;
    }
    /* A second backward pass in the same step reuses the first's block: its
     * gradients were all released. */
    if (total > ctx->grad_pool_size) {
        ctx->grad_pool = lpci_ctx_alloc(ctx, total);
        if (!ctx->grad_pool)
            return -1;
        ctx->grad_pool_size = total;
    }
    unsigned char *pool = ctx->grad_pool;
    for (size_t i = 0; i < n; i++) {
        slots[i].t->grad = (float *)(pool + slots[i].offset);
        slots[i].t->flags |= LPCI_T_GRAD_UNSET;
    }
    return 1;
}
