/* SPDX-License-Identifier: MIT */
/* The default run sink: numbers runs from 1 and keeps nothing (the engine holds the last run). */
#include "run_store.h"

#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memory_store {
    uint64_t next_id;
};

static bool mem_store(void *ctx, const struct rvm_run_info *info, const struct rvm_sim_outcome *o,
                      const struct rvm_sim *sim, bool full, uint64_t *run_id)
{
    struct memory_store *m = ctx;
    (void)info, (void)o, (void)sim, (void)full;
    *run_id = ++m->next_id;
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

static const char *mem_error(void *ctx)
{
    (void)ctx;
    return "out of memory";
}

static const struct rvm_run_sink_ops memory_ops = {
    .store = mem_store,
    .commit = mem_commit,
    .close = mem_close,
    .error = mem_error,
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
        if (!rvm_run_sink_open_memory(s)) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        return true;
    }
    return rvm_run_sink_open_replay(s, db_path, err, errlen);
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
                   const struct rvm_sim_outcome *o, const struct rvm_sim *sim, bool full,
                   uint64_t *run_id)
{
    return s->ops->store(s->ctx, info, o, full ? sim : NULL, full, run_id);
}

void rvm_run_options_format(char *buf, size_t len, enum rvm_sim_fault_mode faults,
                            uint32_t nwnm_every, uint64_t epoch)
{
    snprintf(buf, len, "faults=%s nwnm_every=%" PRIu32 " epoch=%" PRIu64,
             rvm_sim_fault_mode_name(faults), nwnm_every < 1 ? 1u : nwnm_every, epoch);
}

bool rvm_run_options_parse(const char *text, enum rvm_sim_fault_mode *faults, uint32_t *nwnm_every,
                           uint64_t *epoch, char *err, size_t errlen)
{
    bool seen[3] = {false, false, false};
    if (text == NULL) {
        snprintf(err, errlen, "the run has no options");
        return false;
    }
    const char *p = text;
    while (*p != '\0') { /* bound: the length of text */
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *end = strchr(p, ' ');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char word[96];
        if (n >= sizeof(word)) {
            snprintf(err, errlen, "option '%.40s...' is too long", p);
            return false;
        }
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;
        char *eq = strchr(word, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "option '%s' is not key=value", word);
            return false;
        }
        *eq = '\0';
        const char *value = eq + 1;
        uint64_t v;
        if (strcmp(word, "faults") == 0 && !seen[0]) {
            if (!rvm_sim_fault_mode_parse(value, faults)) {
                snprintf(err, errlen, "faults=%s is not none, default or swarm", value);
                return false;
            }
            seen[0] = true;
        } else if (strcmp(word, "nwnm_every") == 0 && !seen[1]) {
            if (!rvm_parse_u64(value, &v) || v == 0 || v > UINT32_MAX) {
                snprintf(err, errlen, "nwnm_every=%s is not 1..2^32-1", value);
                return false;
            }
            *nwnm_every = (uint32_t)v;
            seen[1] = true;
        } else if (strcmp(word, "epoch") == 0 && !seen[2]) {
            if (!rvm_parse_u64(value, &v)) {
                snprintf(err, errlen, "epoch=%s is not a count", value);
                return false;
            }
            *epoch = v;
            seen[2] = true;
        } else {
            snprintf(err, errlen, "unknown or repeated option '%s'", word);
            return false;
        }
    }
    if (!seen[0] || !seen[1] || !seen[2]) {
        snprintf(err, errlen, "missing option %s",
                 !seen[0]   ? "faults"
                 : !seen[1] ? "nwnm_every"
                            : "epoch");
        return false;
    }
    return true;
}
