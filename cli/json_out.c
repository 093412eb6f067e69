/* SPDX-License-Identifier: MIT */
#include "json_out.h"

#include <string.h>

void cli_json_pairs(struct rvm_json *j, const char *key, const char *pairs)
{
    rvm_json_key(j, key);
    if (pairs == NULL) {
        rvm_json_null(j);
        return;
    }
    rvm_json_object_begin(j);
    const char *p = pairs;
    while (*p != '\0') { /* bound: p advances over every byte of the string once */
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t word = strcspn(p, " ");
        const char *eq = memchr(p, '=', word);
        size_t klen = eq != NULL ? (size_t)(eq - p) : word;
        char name[64];
        if (klen >= sizeof(name)) {
            klen = sizeof(name) - 1;
        }
        memcpy(name, p, klen);
        name[klen] = '\0';
        rvm_json_key(j, name);
        if (eq != NULL) {
            rvm_json_string_n(j, eq + 1, word - (size_t)(eq + 1 - p));
        } else {
            rvm_json_bool(j, true);
        }
        p += word;
    }
    rvm_json_object_end(j);
}

void cli_json_sim_outcome_members(struct rvm_json *j, const struct rvm_sim_outcome *o)
{
    rvm_json_key_string(j, "result", rvm_sim_class_name(o->cls));
    rvm_json_key_int(j, "exit_code", o->cls);
    rvm_json_key(j, "failure");
    if (o->cls == 0) {
        rvm_json_null(j);
    } else {
        rvm_json_object_begin(j);
        rvm_json_key_string(j, "class", rvm_sim_class_name(o->cls));
        rvm_json_key_string(j, "invariant", o->invariant);
        rvm_json_key_string(j, "phase", rvm_sim_phase_name(o->phase));
        rvm_json_key_int(j, "step", (int64_t)o->fail_step);
        rvm_json_key_int(j, "line", o->fail_line);
        rvm_json_key_u64(j, "time_ns", o->time_ns);
        rvm_json_key_string(j, "detail", o->detail);
        rvm_json_object_end(j);
    }
    rvm_json_key_int(j, "steps", (int64_t)o->steps);
    rvm_json_key_int(j, "records", (int64_t)o->records);
    rvm_json_key_int(j, "checkpoints", (int64_t)o->checkpoints);
    rvm_json_key_int(j, "faults_fired", (int64_t)o->faults_fired);
    rvm_json_key_int(j, "events", (int64_t)o->events);
    rvm_json_key_u64(j, "time_ns", o->time_ns);
    rvm_json_key_hex(j, "digest", o->digest, sizeof(o->digest));
    rvm_json_key_hex(j, "state", o->state, sizeof(o->state));
    rvm_json_key_hex(j, "chain", o->chain, sizeof(o->chain));
}

void cli_json_store_run(struct rvm_json *j, const struct rvm_store_run *run)
{
    rvm_json_object_begin(j);
    rvm_json_key_int(j, "run", run->id);
    rvm_json_key_string(j, "status", run->status);
    rvm_json_key_string(j, "content", run->content);
    rvm_json_key_string(j, "source", run->source);
    rvm_json_key_string(j, "platform", run->platform);
    rvm_json_key_string(j, "target", run->target);
    rvm_json_key_string(j, "result", run->result);
    rvm_json_key(j, "exit_code");
    if (run->has_exit_code) {
        rvm_json_int(j, run->exit_code);
    } else {
        rvm_json_null(j);
    }
    rvm_json_key(j, "seed");
    if (run->has_seed) {
        rvm_json_u64(j, run->seed);
    } else {
        rvm_json_null(j);
    }
    rvm_json_key_int(j, "records", (int64_t)run->record_count);
    rvm_json_key_int(j, "checkpoints", (int64_t)run->checkpoint_count);
    rvm_json_key(j, "digest");
    if (run->has_digest) {
        rvm_json_hex(j, run->digest, sizeof(run->digest));
    } else {
        rvm_json_null(j);
    }
    rvm_json_key(j, "scenario_sha256");
    if (run->has_scenario_sha256) {
        rvm_json_hex(j, run->scenario_sha256, sizeof(run->scenario_sha256));
    } else {
        rvm_json_null(j);
    }
    rvm_json_key_string(j, "key_source", run->key_source);
    rvm_json_key_string(j, "build_id", run->build_id);
    rvm_json_key_string(j, "core_version", run->core_version);
    cli_json_pairs(j, "options", run->options);
    cli_json_pairs(j, "outcome", run->outcome);
    rvm_json_key_string(j, "command", run->command);
    rvm_json_key_string(j, "created_at", run->created_at);
    rvm_json_object_end(j);
}
