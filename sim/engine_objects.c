/* SPDX-License-Identifier: MIT */
/* The objects a run has created, per class, and recently dead handles for stale-handle faults. */
#include "engine_internal.h"

#include "exit_codes.h"

int32_t engine_add_object(struct rvm_sim *sim, uint32_t cls, uint64_t handle, int32_t name)
{
    if (cls >= sim->target->nclasses) {
        return -1;
    }
    struct pool *p = &sim->pools[cls];
    if (!engine_grow32((void **)&sim->objs, &sim->objs_cap, sim->nobjs + 1, sizeof(*sim->objs)) ||
        !engine_grow32((void **)&p->items, &p->cap, p->count + 1, sizeof(*p->items))) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory tracking objects");
        return -1;
    }
    uint32_t idx = sim->nobjs++;
    sim->objs[idx] = (struct sim_obj){handle, cls, p->count, name, true};
    p->items[p->count++] = idx;
    if (name >= 0) {
        sim->name_obj[name] = (int32_t)idx;
    }
    return (int32_t)idx;
}

void rvm_sim_object_new(struct rvm_sim *sim, uint32_t cls, uint64_t handle)
{
    (void)engine_add_object(sim, cls, handle, -1);
}

void rvm_sim_object_dead(struct rvm_sim *sim, uint32_t cls, uint64_t handle)
{
    if (cls >= sim->target->nclasses) {
        return;
    }
    struct pool *p = &sim->pools[cls];
    for (uint32_t i = 0; i < p->count; i++) {
        struct sim_obj *o = &sim->objs[p->items[i]];
        if (o->handle != handle) {
            continue;
        }
        o->live = false;
        uint32_t last = p->items[--p->count];
        p->items[i] = last;
        sim->objs[last].pos = i;
        p->dead[p->ndead++ % DEAD_RING] = handle;
        return;
    }
}
