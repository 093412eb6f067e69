/* SPDX-License-Identifier: MIT */
/* rvmsim import: a raw log or a serial capture becomes a verified run, in one transaction. */
#include "cmd_common.h"
#include "commands.h"
#include "import.h"
#include "options.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void import_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim import --db PATH FILE [--format raw|serial] [--seed N] [--platform P]\n"
            "                     [--hmac-key HEX] [--ed25519-pub HEX] [--strict]\n"
            "                     [--allow-unsealed]\n\n"
            "raw (default): FILE is concatenated 64-byte record images (`export --format raw`).\n"
            "serial: FILE is a UART capture with witness frames (docs/replay-store.md); other\n"
            "console lines are skipped and counted (--strict refuses them). Every record is\n"
            "verified against the chain while it is read; serial checkpoints are checked with\n"
            "the run's key (derived from the seed of the capture's header or --seed, or\n"
            "--hmac-key) and must seal the log unless --allow-unsealed. The import is one\n"
            "transaction: on any error nothing is stored. Creates PATH if needed.\n"
            "Exit 0 imported, 1 the log does not verify, 2 unreadable or malformed input.\n");
}

int rvmsim_cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},       {"format", required_argument, NULL, 'f'},
        {"seed", required_argument, NULL, 's'},     {"platform", required_argument, NULL, 'P'},
        {"hmac-key", required_argument, NULL, 'k'}, {"ed25519-pub", required_argument, NULL, 'p'},
        {"strict", no_argument, NULL, 'S'},         {"allow-unsealed", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    struct rvm_import_options opt = {.format = RVM_IMPORT_RAW};
    uint8_t key[64];
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:f:s:P:k:p:Suh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "raw") == 0) {
                opt.format = RVM_IMPORT_RAW;
            } else if (strcmp(optarg, "serial") == 0) {
                opt.format = RVM_IMPORT_SERIAL;
            } else {
                rvm_errorf("import: --format must be raw or serial, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 's':
            if (!cli_option_u64("import", "seed", optarg, &opt.seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            opt.has_seed = true;
            break;
        case 'P':
            opt.platform = optarg;
            break;
        case 'k': {
            size_t len = strlen(optarg) / 2;
            if (len == 0 || len > sizeof(key) || !rvm_cmd_parse_hex(optarg, key, len)) {
                rvm_errorf("import: --hmac-key must be 1..64 bytes of hex, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            opt.hmac_key = key;
            opt.hmac_key_len = len;
            break;
        }
        case 'p':
            if (!rvm_cmd_parse_hex(optarg, opt.ed25519_pub, sizeof(opt.ed25519_pub))) {
                rvm_errorf("import: --ed25519-pub must be 64 hex digits, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            opt.pin_ed25519 = true;
            break;
        case 'S':
            opt.strict = true;
            break;
        case 'u':
            opt.allow_unsealed = true;
            break;
        case 'h':
            return cli_option_usage(import_usage, true);
        default:
            return cli_option_usage(import_usage, false);
        }
    }
    if (db == NULL || argc - optind != 1) {
        rvm_errorf("import: %s", db == NULL ? "--db PATH is required" : "expected one FILE");
        import_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    const char *file = argv[optind];
    char command[1024];
    snprintf(command, sizeof(command), "rvmsim import %s", file);
    opt.command = command;

    int rc;
    struct rvm_store *st = rvm_cmd_open_store("import", db, RVM_STORE_WRITE, &rc);
    if (st == NULL) {
        return rc;
    }
    struct rvm_import_result res;
    rvm_import_file(st, file, &opt, &res);
    if (res.text_lines != 0) {
        rvm_errorf("import: note: skipped %" PRIu64 " console line%s that %s not frames (first "
                   "at line %" PRIu64 ")",
                   res.text_lines, res.text_lines == 1 ? "" : "s",
                   res.text_lines == 1 ? "is" : "are", res.first_text_line);
    }
    if (res.exit_code != RVMSIM_EXIT_PASS) {
        rvm_errorf("import: %s; nothing imported", res.message);
    } else {
        char digest[65];
        rvm_hex(res.digest, sizeof(res.digest), digest);
        printf("imported run %lld from %s: %" PRIu64 " records verified, %" PRIu64
               " checkpoints (%" PRIu64 " Ed25519 signatures), %s, digest %s\n",
               (long long)res.run, file, res.records, res.checkpoints, res.signatures,
               res.sealed ? "sealed"
                          : (opt.format == RVM_IMPORT_RAW
                                 ? "unsealed (raw images carry no checkpoints; verify reports the "
                                   "run unsealed, exit 8, unless --allow-unsealed)"
                                 : "unsealed (no seal ends the log; verify reports the run "
                                   "unsealed, exit 8, unless --allow-unsealed)"),
               digest);
    }
    rvm_store_close(st);
    return res.exit_code;
}
