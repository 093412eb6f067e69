/* SPDX-License-Identifier: MIT */
#include "simcli.h"

#include "util.h"

#include "rvm/sha256.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int simcli_load(const char *path, struct rvm_scenario *scn)
{
    struct rvm_scn_error err;
    if (rvm_scenario_load(path, scn, &err)) {
        return 0;
    }
    if (err.line == 0) {
        rvm_errorf("%s: %s", path, err.msg);
    } else {
        rvm_errorf("%s:%u:%u: %s", path, err.line, err.col, err.msg);
    }
    return 2;
}

int simcli_load_text(const char *path, struct rvm_scenario *scn, char **text)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rvm_errorf("%s: cannot open: %s", path, strerror(errno));
        return 2;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    bool ok = buf != NULL;
    while (ok) { /* bound: 64 MiB, like rvm_scenario_load */
        if (len == cap) {
            char *grown = cap < (64u << 20) ? realloc(buf, cap * 2 + 1) : NULL;
            if (grown == NULL) {
                ok = false;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    ok = ok && ferror(f) == 0;
    fclose(f);
    if (!ok) {
        rvm_errorf("%s: cannot read the file (read error, out of memory or larger than 64 MiB)",
                   path);
        free(buf);
        return 2;
    }
    buf[len] = '\0';
    struct rvm_scn_error err;
    if (!rvm_scenario_parse(path, buf, len, scn, &err)) {
        if (err.line == 0) {
            rvm_errorf("%s: %s", path, err.msg);
        } else {
            rvm_errorf("%s:%u:%u: %s", path, err.line, err.col, err.msg);
        }
        free(buf);
        return 2;
    }
    *text = buf;
    return 0;
}

struct rvm_openssl_crypto *simcli_crypto(struct rvm_crypto *out)
{
    struct rvm_openssl_crypto *oc = rvm_openssl_crypto_new();
    if (oc == NULL) {
        rvm_errorf("OpenSSL could not provide SHA-256/HMAC");
        return NULL;
    }
    rvm_openssl_crypto_bind(oc, out);
    return oc;
}

bool simcli_file_sha256(const struct rvm_crypto *crypto, const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    struct rvm_sha256_ctx ctx;
    uint8_t buf[65536], digest[32];
    rvm_sha256_init(&ctx, crypto);
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) != 0) {
        rvm_sha256_update(&ctx, buf, n);
    }
    bool ok = ferror(f) == 0;
    fclose(f);
    rvm_sha256_final(&ctx, digest);
    rvm_hex(digest, sizeof(digest), out);
    return ok;
}

bool simcli_parse_range(const char *text, uint64_t *a, uint64_t *b)
{
    const char *dots = strstr(text, "..");
    if (dots == NULL) {
        if (!rvm_parse_u64(text, a)) {
            return false;
        }
        *b = *a;
        return true;
    }
    char lo[32];
    size_t n = (size_t)(dots - text);
    if (n == 0 || n >= sizeof(lo)) {
        return false;
    }
    memcpy(lo, text, n);
    lo[n] = '\0';
    return rvm_parse_u64(lo, a) && rvm_parse_u64(dots + 2, b) && *a <= *b;
}

bool simcli_parse_shard(const char *text, uint32_t *k, uint32_t *n)
{
    const char *slash = strchr(text, '/');
    char left[32];
    uint64_t kk, nn;
    if (slash == NULL || slash == text || (size_t)(slash - text) >= sizeof(left)) {
        return false;
    }
    memcpy(left, text, (size_t)(slash - text));
    left[slash - text] = '\0';
    if (!rvm_parse_u64(left, &kk) || !rvm_parse_u64(slash + 1, &nn) || nn == 0 || nn > UINT32_MAX ||
        kk >= nn) {
        return false;
    }
    *k = (uint32_t)kk;
    *n = (uint32_t)nn;
    return true;
}

void simcli_repro(char *buf, size_t len, const char *path, uint64_t seed,
                  enum rvm_sim_fault_mode mode)
{
    char prog[512], file[1024];
    rvm_shell_quote(prog, sizeof(prog), program_invocation_name);
    rvm_shell_quote(file, sizeof(file), path);
    snprintf(buf, len, "%s run %s --seed %" PRIu64 " --faults %s", prog, file, seed,
             rvm_sim_fault_mode_name(mode));
}

void simcli_describe(char *buf, size_t len, const struct rvm_sim_outcome *o, const char *path)
{
    if (o->phase == RVM_SIM_PHASE_WORKLOAD && o->fail_step == 0 && o->fail_line != 0) {
        snprintf(buf, len, "%s [%s] before the first operation (%s:%u), t=%" PRIu64 "ns: %s",
                 rvm_sim_class_name(o->cls), o->invariant, path, o->fail_line, o->time_ns,
                 o->detail);
    } else if (o->phase == RVM_SIM_PHASE_WORKLOAD && o->fail_step != 0) {
        if (o->fail_line != 0) {
            snprintf(buf, len, "%s [%s] at step %" PRIu64 " (%s:%u), t=%" PRIu64 "ns: %s",
                     rvm_sim_class_name(o->cls), o->invariant, o->fail_step, path, o->fail_line,
                     o->time_ns, o->detail);
        } else {
            snprintf(buf, len, "%s [%s] at step %" PRIu64 ", t=%" PRIu64 "ns: %s",
                     rvm_sim_class_name(o->cls), o->invariant, o->fail_step, o->time_ns, o->detail);
        }
    } else {
        snprintf(buf, len, "%s [%s] in the %s phase, t=%" PRIu64 "ns: %s",
                 rvm_sim_class_name(o->cls), o->invariant, rvm_sim_phase_name(o->phase), o->time_ns,
                 o->detail);
    }
}
