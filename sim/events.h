/* SPDX-License-Identifier: MIT */
/*
 * The deterministic event queue: a binary min-heap ordered by (time, insertion number), so events
 * due at the same virtual time come out in the order they were scheduled, on every host. Fixed
 * capacity chosen at init; no allocation afterwards.
 */
#ifndef RVM_SIM_EVENTS_H
#define RVM_SIM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rvm_evq_kind {
    RVM_EVQ_TIMER,       /* a = cpu, b = timer generation (stale generations are dropped) */
    RVM_EVQ_IRQ,         /* a = cpu, b = irq */
    RVM_EVQ_CPU_OFFLINE, /* a = cpu */
    RVM_EVQ_CPU_ONLINE,  /* a = cpu */
    RVM_EVQ_SINK_READY,  /* the sink's stall may be over */
    RVM_EVQ_TARGET,      /* a = cpu, b = tag, arg */
};

struct rvm_evq_item {
    uint64_t time;
    uint64_t order; /* insertion number: ties at equal time are FIFO */
    uint64_t arg;
    uint32_t kind;
    uint32_t a, b;
};

struct rvm_evq {
    struct rvm_evq_item *heap;
    uint32_t count;
    uint32_t capacity;
    uint64_t next_order;
};

/* `storage` holds `capacity` items. */
void rvm_evq_init(struct rvm_evq *q, struct rvm_evq_item *storage, uint32_t capacity);
void rvm_evq_clear(struct rvm_evq *q);
/* false when the queue is full (nothing is added). */
bool rvm_evq_push(struct rvm_evq *q, uint64_t time, uint32_t kind, uint32_t a, uint32_t b,
                  uint64_t arg);
/* The earliest event, or NULL when empty. */
static inline const struct rvm_evq_item *rvm_evq_peek(const struct rvm_evq *q)
{
    return q->count != 0 ? &q->heap[0] : NULL;
}
/* Remove the earliest event into *out; false when empty. */
bool rvm_evq_pop(struct rvm_evq *q, struct rvm_evq_item *out);

#endif /* RVM_SIM_EVENTS_H */
