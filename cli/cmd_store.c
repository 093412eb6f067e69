/* SPDX-License-Identifier: MIT */
/* rvmsim store check | repair: the store's own health, not its runs' (that is verify). */
#include "cmd_common.h"
#include "commands.h"
#include "manifest.h"
#include "options.h"
#include "store_check.h"
#include "util.h"

#include <inttypes.h>
#include <string.h>

static void store_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim store check --db PATH\n"
            "       rvmsim store repair --db PATH\n\n"
            "check: SQLite's integrity check, the schema this build expects, and runs whose\n"
            "writer never finished (status 'running'). Read-only. Exit 0 when all is well,\n"
            "1 for damage, a schema that is not this build's or runs left running, 2 when the\n"
            "store cannot be opened. It also checks the store manifest (the hash-chained list of\n"
            "finished runs) against the runs: a run deleted, downgraded or replaced is exit 1.\n"
            "repair: marks every run left 'running' as 'aborted' (verify then reports it\n"
            "unsealed, merge leaves it out without failing) and reclaims free space (VACUUM).\n"
            "It cannot tell a killed writer from a live one: run it when no writer is at work.\n"
            "Exit 0 when done, 2 when the store cannot be written, 6 for an internal error.\n");
}

static int store_check(const char *db)
{
    int rc;
    struct rvm_store *st = rvm_cmd_open_store("store check", db, RVM_STORE_READ, &rc);
    if (st == NULL) {
        return rc;
    }
    struct rvm_store_check_report rep;
    enum rvm_store_status s = rvm_store_check(st, &rep);
    if (s != RVM_STORE_OK) {
        rvm_errorf("store check: %s", rvm_store_error(st));
        rvm_store_close(st);
        return rvm_cmd_exit_for(s);
    }
    rc = RVMSIM_EXIT_PASS;
    printf("integrity: %s\n", rep.integrity_ok ? "ok" : rep.integrity);
    printf("schema: %s\n",
           rep.schema_ok ? (rep.schema[0] != '\0' ? rep.schema : "ok") : rep.schema);
    printf("runs: %" PRIu64 " (%" PRIu64 " running, %" PRIu64 " aborted)\n", rep.runs, rep.running,
           rep.aborted);
    if (rep.running != 0) {
        printf("running:");
        for (uint64_t i = 0; i < rep.running && i < RVM_STORE_CHECK_IDS; i++) {
            printf(" %lld", (long long)rep.running_ids[i]);
        }
        printf("%s (a writer that was killed, or one still at work; `rvmsim store repair "
               "--db %s` marks them aborted)\n",
               rep.running > RVM_STORE_CHECK_IDS ? " ..." : "", db);
    }
    struct rvm_manifest_report man = {.ok = true};
    if (rep.integrity_ok && rep.schema_ok) {
        s = rvm_store_manifest_check(st, NULL, 0, &man);
        char head[65];
        rvm_hex(man.head, sizeof(man.head), head);
        if (s != RVM_STORE_OK) {
            printf("manifest: cannot be read: %s\n", rvm_store_error(st));
            man.ok = false;
        } else if (!man.present) {
            printf("manifest: none (schema version %d; a writing command adds it)\n",
                   rvm_store_schema_version(st));
            man.ok = true;
        } else if (man.ok) {
            printf("manifest: ok: %" PRIu64 " entries, %" PRIu64 " runs, head %s\n", man.entries,
                   man.runs, head);
        } else {
            printf("manifest: tampered: %s\n", man.reason);
        }
    }
    printf("pages: %" PRIu64 " (%" PRIu64 " free)\n", rep.pages, rep.free_pages);
    if (!rep.integrity_ok || !rep.schema_ok || rep.running != 0 || !man.ok) {
        rc = RVMSIM_EXIT_EXPECTATION;
    }
    rvm_store_close(st);
    return rc;
}

static int store_repair(const char *db)
{
    int rc;
    struct rvm_store *st = rvm_cmd_open_store("store repair", db, RVM_STORE_WRITE, &rc);
    if (st == NULL) {
        return rc;
    }
    uint64_t marked = 0, before = 0, after = 0;
    enum rvm_store_status s = rvm_store_repair(st, &marked, &before, &after);
    if (s != RVM_STORE_OK) {
        rvm_errorf("store repair: %s", rvm_store_error(st));
        rvm_store_close(st);
        return rvm_cmd_exit_for(s);
    }
    printf("marked %" PRIu64 " run%s aborted; pages %" PRIu64 " -> %" PRIu64 "\n", marked,
           marked == 1 ? "" : "s", before, after);
    rvm_store_close(st);
    return RVMSIM_EXIT_PASS;
}

int rvmsim_cmd_store(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        store_usage(stdout);
        return RVMSIM_EXIT_PASS;
    }
    const char *action = argc >= 2 ? argv[1] : NULL;
    const char *db = NULL;
    if (argc == 4 && strcmp(argv[2], "--db") == 0) {
        db = argv[3];
    } else if (argc == 3 && strncmp(argv[2], "--db=", 5) == 0) {
        db = argv[2] + 5;
    }
    if (action == NULL || db == NULL ||
        (strcmp(action, "check") != 0 && strcmp(action, "repair") != 0)) {
        rvm_errorf("store: expected 'check --db PATH' or 'repair --db PATH'");
        store_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    return strcmp(action, "check") == 0 ? store_check(db) : store_repair(db);
}
