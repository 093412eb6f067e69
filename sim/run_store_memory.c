/* SPDX-License-Identifier: MIT */
/* The default run sink: numbers runs from 1 and keeps nothing (the engine holds the last run). */
#include "run_store.h"

#include <stdlib.h>

struct memory_store {
    uint64_t next_id;
};

static bool mem_begin(void *ctx, const struct rvm_run_info *info, uint64_t *run_id)
{
    struct memory_store *m = ctx;
    (void)info;
    *run_id = ++m->next_id;
    return true;
}

static bool mem_records(void *ctx, uint64_t run_id, uint64_t first_seq, const uint8_t *images,
                        uint64_t count)
{
    (void)ctx, (void)run_id, (void)first_seq, (void)images, (void)count;
    return true;
}

static bool mem_checkpoint(void *ctx, uint64_t run_id, const struct rvm_witness_checkpoint *cp)
{
    (void)ctx, (void)run_id, (void)cp;
    return true;
}

static bool mem_end(void *ctx, uint64_t run_id, const struct rvm_sim_outcome *o,
                    const struct rvm_sim_target *target, const struct rvm_sim_fired *faults,
                    uint64_t nfaults)
{
    (void)ctx, (void)run_id, (void)o, (void)target, (void)faults, (void)nfaults;
    return true;
}

static bool mem_commit(void *ctx)
{
    (void)ctx;
    return true;
}

static void mem_close(void *ctx)
{
    free(ctx);
}

static const struct rvm_run_sink_ops memory_ops = {
    mem_begin, mem_records, mem_checkpoint, mem_end, mem_commit, mem_close,
};

bool rvm_run_sink_open_memory(struct rvm_run_sink *s)
{
    s->ops = &memory_ops;
    s->ctx = calloc(1, sizeof(struct memory_store));
    return s->ctx != NULL;
}

bool rvm_run_sink_open(struct rvm_run_sink *s, const char *db_path, char *err, size_t errlen)
{
    if (db_path == NULL) {
        return rvm_run_sink_open_memory(s);
    }
    return rvm_run_sink_open_sqlite(s, db_path, err, errlen);
}

void rvm_run_sink_close(struct rvm_run_sink *s)
{
    if (s->ops != NULL) {
        (void)s->ops->commit(s->ctx);
        s->ops->close(s->ctx);
    }
    s->ops = NULL;
    s->ctx = NULL;
}

bool rvm_run_store(struct rvm_run_sink *s, const struct rvm_run_info *info,
                   const struct rvm_sim *sim, const struct rvm_sim_target *target,
                   const struct rvm_sim_outcome *o, bool full, uint64_t *run_id)
{
    if (!s->ops->begin_run(s->ctx, info, run_id)) {
        return false;
    }
    if (full) {
        uint64_t n, ncp;
        const uint8_t *recs = rvm_sim_records(sim, &n);
        const struct rvm_witness_checkpoint *cps = rvm_sim_checkpoints(sim, &ncp);
        if (n != 0 && !s->ops->records(s->ctx, *run_id, 0, recs, n)) {
            return false;
        }
        for (uint64_t i = 0; i < ncp; i++) {
            if (!s->ops->checkpoint(s->ctx, *run_id, &cps[i])) {
                return false;
            }
        }
    }
    uint64_t nf;
    const struct rvm_sim_fired *f = rvm_sim_fired(sim, &nf);
    return s->ops->end_run(s->ctx, *run_id, o, target, f, nf);
}
