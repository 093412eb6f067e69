/* SPDX-License-Identifier: MIT */
#include "events.h"

static inline bool before(const struct rvm_evq_item *x, const struct rvm_evq_item *y)
{
    return x->time < y->time || (x->time == y->time && x->order < y->order);
}

void rvm_evq_init(struct rvm_evq *q, struct rvm_evq_item *storage, uint32_t capacity)
{
    q->heap = storage;
    q->capacity = capacity;
    rvm_evq_clear(q);
}

void rvm_evq_clear(struct rvm_evq *q)
{
    q->count = 0;
    q->next_order = 0;
}

bool rvm_evq_push(struct rvm_evq *q, uint64_t time, uint32_t kind, uint32_t a, uint32_t b,
                  uint64_t arg)
{
    if (q->count == q->capacity) {
        return false;
    }
    struct rvm_evq_item it = {time, q->next_order++, arg, kind, a, b};
    uint32_t i = q->count++;
    while (i > 0) { /* bound: log2(capacity) */
        uint32_t parent = (i - 1) / 2;
        if (!before(&it, &q->heap[parent])) {
            break;
        }
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = it;
    return true;
}

bool rvm_evq_pop(struct rvm_evq *q, struct rvm_evq_item *out)
{
    if (q->count == 0) {
        return false;
    }
    *out = q->heap[0];
    struct rvm_evq_item last = q->heap[--q->count];
    uint32_t i = 0, n = q->count;
    for (;;) { /* bound: log2(capacity) */
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const struct rvm_evq_item *best = &last;
        if (l < n && before(&q->heap[l], best)) {
            m = l;
            best = &q->heap[l];
        }
        if (r < n && before(&q->heap[r], best)) {
            m = r;
        }
        if (m == i) {
            break;
        }
        q->heap[i] = q->heap[m];
        i = m;
    }
    if (n != 0) {
        q->heap[i] = last;
    }
    return true;
}
