/* SPDX-License-Identifier: MIT */
#include "cmd_common.h"

#include "commands.h"
#include "util.h"

#include "rvm/action.h"
#include "rvm/bytes.h"
#include "rvm/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int rvm_cmd_exit_for(enum rvm_store_status s)
{
    switch (s) {
    case RVM_STORE_OK:
        return RVMSIM_EXIT_PASS;
    case RVM_STORE_NOT_FOUND:
    case RVM_STORE_BAD_FILE:
        return RVMSIM_EXIT_USAGE;
    case RVM_STORE_CORRUPT:
        return RVMSIM_EXIT_EXPECTATION;
    default:
        return RVMSIM_EXIT_INTERNAL;
    }
}

struct rvm_store *rvm_cmd_open_store(const char *cmd, const char *path, enum rvm_store_mode mode,
                                     int *exit_code)
{
    struct rvm_store *st = NULL;
    char err[600];
    enum rvm_store_status s = rvm_store_open(path, mode, &st, err, sizeof(err));
    if (s != RVM_STORE_OK) {
        rvm_errorf("%s: %s", cmd, err);
        *exit_code = s == RVM_STORE_BAD_FILE ? RVMSIM_EXIT_USAGE : RVMSIM_EXIT_INTERNAL;
        return NULL;
    }
    *exit_code = RVMSIM_EXIT_PASS;
    return st;
}

bool rvm_cmd_parse_run(const char *cmd, const char *text, int64_t *out)
{
    uint64_t v;
    if (!rvm_parse_u64(text, &v) || v == 0 || v > (uint64_t)RVM_STORE_MAX_RUN) {
        rvm_errorf("%s: a run id is a number from 1 to %lld, got '%s'", cmd,
                   (long long)RVM_STORE_MAX_RUN, text);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

int rvm_cmd_get_run(const char *cmd, struct rvm_store *st, int64_t id, struct rvm_store_run *run)
{
    enum rvm_store_status s = rvm_store_run_get(st, id, run);
    if (s != RVM_STORE_OK) {
        rvm_errorf("%s: %s", cmd, rvm_store_error(st));
        return rvm_cmd_exit_for(s);
    }
    return RVMSIM_EXIT_PASS;
}

int rvm_cmd_need_records(const char *cmd, const struct rvm_store_run *run, const char *db)
{
    if (rvm_store_run_has_records(run)) {
        return RVMSIM_EXIT_PASS;
    }
    char digest[65] = "none";
    if (run->has_digest) {
        rvm_hex(run->digest, sizeof(run->digest), digest);
    }
    rvm_errorf("%s: run %lld stores only a summary (result %s, %" PRIu64
               " records, digest %s): its records were not stored (a sweep keeps the witness log "
               "of failing runs only)",
               cmd, (long long)run->id, run->result != NULL ? run->result : "unknown",
               run->record_count, digest);
    if (run->command != NULL && strncmp(run->command, "rvmsim run ", 11) == 0) {
        rvm_errorf("%s: to store it in full: %s --db %s", cmd, run->command, db);
    }
    return RVMSIM_EXIT_USAGE;
}

bool rvm_cmd_parse_hex(const char *text, uint8_t *out, size_t len)
{
    if (strlen(text) != 2 * len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char pair[3] = {text[2 * i], text[2 * i + 1], '\0'};
        if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1])) {
            return false;
        }
        out[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
    return true;
}

bool rvm_cmd_parse_kind(const char *text, uint8_t *kind)
{
    uint64_t v;
    if (rvm_parse_u64(text, &v)) {
        if (v > 255) {
            return false;
        }
        *kind = (uint8_t)v;
        return true;
    }
    for (unsigned k = 0; k < 256; k++) {
        const char *name = rvm_action_name((uint8_t)k);
        if (name != NULL && strcasecmp(name, text) == 0) {
            *kind = (uint8_t)k;
            return true;
        }
    }
    return false;
}

const char *rvm_cmd_kind_name(uint8_t kind, char buf[16])
{
    const char *name = rvm_action_name(kind);
    if (name != NULL) {
        return name;
    }
    snprintf(buf, 16, "Unknown(0x%02x)", kind);
    return buf;
}

void rvm_cmd_record_detail(const uint8_t image[RVM_WITNESS_RECORD_BYTES], char *out, size_t cap)
{
    static const char *const stages[] = {"?", "decode", "P1", "P2", "P3", "precondition"};
    out[0] = '\0';
    if (image[RVM_WOFF_KIND] != RVM_ACT_PROOF_REJECTED) {
        return;
    }
    uint64_t payload = rvm_load_le64(image + RVM_WOFF_PAYLOAD);
    uint8_t stage = image[RVM_WOFF_FLAGS];
    uint32_t code = (uint32_t)payload;
    char kbuf[16];
    snprintf(out, cap, "stage=%s err=%s tried=%s", stage < 6 ? stages[stage] : "?",
             rvm_err_is_known(code) ? rvm_err_name((enum rvm_err)code) : "UNKNOWN",
             rvm_cmd_kind_name((uint8_t)(payload >> 32), kbuf));
}

void rvm_cmd_table_header(FILE *out, const char *prefix)
{
    fprintf(out, "%s%10s %14s %-24s %4s %5s %10s %18s %10s %18s %18s  %s\n", prefix, "seq",
            "time_ns", "kind", "tier", "flags", "actor", "target", "cap_hash", "payload", "aux",
            "detail");
}

void rvm_cmd_table_row(FILE *out, const char *prefix, const uint8_t image[RVM_WITNESS_RECORD_BYTES])
{
    struct rvm_witness_record r;
    char kbuf[16], detail[96];
    rvm_witness_decode(image, &r);
    rvm_cmd_record_detail(image, detail, sizeof(detail));
    fprintf(out,
            "%s%10" PRIu64 " %14" PRIu64 " %-24s %4u  0x%02x %10" PRIu32 " 0x%016" PRIx64
            " 0x%08" PRIx32 " 0x%016" PRIx64 " 0x%016" PRIx64 "  %s\n",
            prefix, r.sequence, r.timestamp_ns, rvm_cmd_kind_name(r.kind, kbuf), r.proof_tier,
            r.flags, r.actor, r.target, r.cap_hash, r.payload, r.aux, detail);
}

void rvm_cmd_record_json_write(struct rvm_json *j, int64_t run,
                               const uint8_t image[RVM_WITNESS_RECORD_BYTES], const uint8_t *chain)
{
    struct rvm_witness_record r;
    char detail[96];
    rvm_witness_decode(image, &r);
    rvm_cmd_record_detail(image, detail, sizeof(detail));
    rvm_json_object_begin(j);
    rvm_json_key_int(j, "run", run);
    rvm_json_key_int(j, "seq", (int64_t)r.sequence);
    rvm_json_key_u64(j, "timestamp_ns", r.timestamp_ns);
    rvm_json_key_string(j, "kind", rvm_action_name(r.kind));
    rvm_json_key_int(j, "kind_code", r.kind);
    rvm_json_key_int(j, "proof_tier", r.proof_tier);
    rvm_json_key_int(j, "flags", r.flags);
    rvm_json_key_int(j, "actor", r.actor);
    rvm_json_key_u64(j, "target", r.target);
    rvm_json_key_int(j, "cap_hash", r.cap_hash);
    rvm_json_key_u64(j, "payload", r.payload);
    rvm_json_key_hex(j, "prev_link", r.prev_link, sizeof(r.prev_link));
    rvm_json_key_u64(j, "aux", r.aux);
    if (detail[0] != '\0') {
        rvm_json_key_string(j, "detail", detail);
    }
    if (chain != NULL) {
        rvm_json_key_hex(j, "chain", chain, RVM_WITNESS_CHAIN_BYTES);
    }
    rvm_json_key_hex(j, "image", image, RVM_WITNESS_RECORD_BYTES);
    rvm_json_object_end(j);
}

void rvm_cmd_record_json(FILE *out, int64_t run, const uint8_t image[RVM_WITNESS_RECORD_BYTES],
                         const uint8_t *chain)
{
    struct rvm_json j;
    rvm_json_init(&j, out);
    rvm_cmd_record_json_write(&j, run, image, chain);
}

struct rvm_store *rvm_cmd_open_run(const char *cmd, const char *db, int64_t id,
                                   struct rvm_store_run *run, int *rc)
{
    struct rvm_store *st = rvm_cmd_open_store(cmd, db, RVM_STORE_READ, rc);
    if (st == NULL) {
        return NULL;
    }
    enum rvm_store_status s = rvm_store_read_begin(st);
    if (s != RVM_STORE_OK) {
        rvm_errorf("%s: %s", cmd, rvm_store_error(st));
        rvm_store_close(st);
        *rc = rvm_cmd_exit_for(s);
        return NULL;
    }
    *rc = rvm_cmd_get_run(cmd, st, id, run);
    if (*rc != RVMSIM_EXIT_PASS) {
        rvm_store_read_end(st);
        rvm_store_close(st);
        return NULL;
    }
    *rc = rvm_cmd_need_records(cmd, run, db);
    if (*rc != RVMSIM_EXIT_PASS) {
        rvm_store_run_free(run);
        rvm_store_read_end(st);
        rvm_store_close(st);
        return NULL;
    }
    return st;
}
