/* Step arena: bump allocation from a list of chunks. On reset, if a step
 * needed more than one chunk, the chunks are replaced by a single chunk of
 * the high-water size, so that from the second step on nothing is malloc'ed. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define ARENA_ALIGN 64
#define ARENA_MIN_CHUNK ((size_t)1 << 20)

struct lpci_chunk {
    lpci_chunk *next; /* older chunk */
    size_t size, used;
    unsigned char *base; /* ARENA_ALIGN-aligned start of the usable bytes */
    void *raw;           /* what the allocator returned */
};

static lpci_chunk *chunk_new(size_t size)
{
    lpci_chunk *c = lpci_malloc(sizeof *c);
    if (!c)
        return NULL;
    if (size > SIZE_MAX - ARENA_ALIGN) {
        lpci_free(c);
        return NULL;
    }
    c->raw = lpci_malloc(size + ARENA_ALIGN);
    if (!c->raw) {
        lpci_free(c);
        return NULL;
    }
    uintptr_t p = ((uintptr_t)c->raw + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    c->base = (unsigned char *)p;
    c->size = size;
    c->used = 0;
    c->next = NULL;
    return c;
}

static void chunks_free(lpci_chunk *c)
{
    while (c) {
        lpci_chunk *next = c->next;
        lpci_free(c->raw);
        lpci_free(c);
        c = next;
    }
}

void *lpci_arena_alloc(lpci_arena *a, size_t bytes)
{
    size_t need = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < bytes)
        return NULL;
    if (!a->head || a->head->size - a->head->used < need) {
        size_t size = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;
        if (a->head && a->head->size * 2 > size && a->head->size * 2 > a->head->size)
            size = a->head->size * 2;
        lpci_chunk *c = chunk_new(size);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->base + a->head->used;
    a->head->used += need;
    a->used_total += need;
    if (a->used_total > a->high_water)
        a->high_water = a->used_total;
    return p;
}

void lpci_arena_reset(lpci_arena *a)
{
    if (a->head && a->head->next) {
        /* Several chunks: coalesce into one big enough for the whole step. */
        chunks_free(a->head);
        a->head = chunk_new(a->high_water);
        /* On failure we simply start from scratch at the next allocation. */
    }
    if (a->head)
        a->head->used = 0;
    a->used_total = 0;
}

void lpci_arena_free(lpci_arena *a)
{
    chunks_free(a->head);
    memset(a, 0, sizeof *a);
}

size_t lpci_arena_capacity(const lpci_arena *a)
{
    size_t s = 0;
    for (const lpci_chunk *c = a->head; c; c = c->next)
        s += c->size;
    return s;
}
