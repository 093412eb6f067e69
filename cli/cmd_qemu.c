/* SPDX-License-Identifier: MIT */
/*
 * rvmsim qemu SCENARIO --arch aarch64|riscv64 [--seed N] [--faults MODE] [--db PATH]
 *                      [--timeout S] [--firmware ELF] [--keep DIR]
 *
 * The hardware half's check: run the scenario in the simulator recording its operation tape,
 * boot the firmware under QEMU with the tape, import the UART capture as a run of platform
 * qemu-<arch>, verify it, and compare it with the simulator's run record by record. Exit 0 when
 * the two chains are identical, RVMSIM_EXIT_DIVERGED (7) when they differ (the first divergent
 * record is shown as `rvmsim diff` shows it), the usual classes otherwise.
 */
#define _GNU_SOURCE 1
#include "cmd_common.h"
#include "commands.h"
#include "import.h"
#include "options.h"
#include "rvm/crypto_portable.h"
#include "rvm/tape.h"
#include "scenario.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where each board description (firmware/<arch>/board_qemu_virt.c) expects the tape, and the
 * word QEMU's loader fills with its length (so the firmware can tell a truncated file). */
#define RVM_QEMU_TAPE_ADDR_AARCH64 "0x50000000"
#define RVM_QEMU_TAPE_LEN_AARCH64  "0x4ffff000"
#define RVM_QEMU_TAPE_ADDR_RISCV64 "0x90000000"
#define RVM_QEMU_TAPE_LEN_RISCV64  "0x8ffff000"

/* How each architecture boots (docs/firmware.md): the QEMU binary and the Debian package that
 * has it, the machine, and where the firmware expects the tape. */
struct qemu_arch {
    const char *name;
    const char *qemu;
    const char *package;
    const char *cross_package;
    const char *const *machine;
    const char *tape_addr;
    const char *tape_len_addr;
    bool riscv;
};

static const char *const aarch64_machine[] = {
    "-M",
    "virt,virtualization=on,gic-version=2",
    "-cpu",
    "cortex-a53",
    "-m",
    "1G",
    "-nographic",
    "-nic",
    "none",
    "-device",
    "pvpanic-pci",
    "-action",
    "panic=exit-failure",
    "-kernel",
    NULL,
};
static const char *const riscv64_machine[] = {
    "-M", "virt", "-m", "1G", "-nographic", "-nic", "none", "-bios", NULL,
};

static const struct qemu_arch arches[] = {
    {"aarch64", "qemu-system-aarch64", "qemu-system-arm", "gcc-aarch64-linux-gnu", aarch64_machine,
     RVM_QEMU_TAPE_ADDR_AARCH64, RVM_QEMU_TAPE_LEN_AARCH64, false},
    {"riscv64", "qemu-system-riscv64", "qemu-system-misc", "gcc-riscv64-linux-gnu", riscv64_machine,
     RVM_QEMU_TAPE_ADDR_RISCV64, RVM_QEMU_TAPE_LEN_RISCV64, true},
};

static void qemu_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim qemu SCENARIO --arch aarch64|riscv64 [--seed N] [--faults MODE]\n"
            "                   [--db PATH] [--timeout S] [--firmware ELF] [--keep DIR]\n\n"
            "Runs SCENARIO in the simulator recording its operation tape, boots the firmware\n"
            "under QEMU with that tape, imports the UART capture (platform qemu-ARCH), verifies\n"
            "it and compares it record by record with the simulator's run. The last line is\n"
            "`run=<id> seed=<n> records=<n> digest=<hex> result=<class>` for the QEMU run.\n"
            "Exit: 0 identical, 7 diverged from the simulator (the first divergent record is\n"
            "shown), otherwise the simulator's or the import's class (2 usage, 6 internal).\n"
            "--db keeps both runs (default: a temporary store); --keep DIR keeps the tape and\n"
            "the capture; --firmware defaults to the image `make firmware` builds next to this\n"
            "binary's build directory; --timeout defaults to 60 seconds.\n");
}

static const struct qemu_arch *arch_named(const char *name)
{
    for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
        if (strcmp(arches[i].name, name) == 0) {
            return &arches[i];
        }
    }
    return NULL;
}

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (path == NULL) {
        return false;
    }
    char *copy = strdup(path);
    bool found = false;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char full[PATH_MAX];
        snprintf(full, sizeof(full), "%s/%s", dir, prog);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* The firmware image `make firmware` builds: <build>/firmware-ARCH/firmware/rvmfw-ARCH.elf,
 * where <build> holds this binary's cli/ directory. */
static void default_firmware(const struct qemu_arch *a, char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *cli_dir = dirname(exe);
    char *build_dir = dirname(cli_dir);
    snprintf(out, len, "%s/firmware-%s/firmware/rvmfw-%s.elf", build_dir, a->name, a->name);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* What one QEMU process took: wall time to its exit and to the first record line on the UART
 * (negative when none came), its own CPU time (user + system), and the UART bytes it wrote. */
struct boot_times {
    double exit_s;
    double first_record_s;
    double cpu_s;
    uint64_t uart_bytes;
};

/* Looks for the first "RVMW R" at a line start across reads; `carry` holds the tail of the
 * previous read (the bytes since its last newline, at most the marker's length). */
static bool first_record_in(const char *data, size_t len, char carry[8], size_t *carried)
{
    static const char marker[] = "RVMW R";
    const size_t mlen = sizeof(marker) - 1;
    for (size_t i = 0; i < len; i++) { /* bound: len */
        char c = data[i];
        if (c == '\n') {
            *carried = 0;
            continue;
        }
        if (*carried < mlen) {
            carry[(*carried)++] = c;
            if (*carried == mlen && memcmp(carry, marker, mlen) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* QEMU with the tape, its stdout copied into `capture` through a pipe (so the first record's
 * arrival is seen and QEMU's exit is noticed at once rather than by polling); its exit status,
 * -1 on a timeout, -2 when it could not be started. */
static int boot(const struct qemu_arch *a, const char *firmware, const char *tape,
                const char *capture, unsigned timeout_s, struct boot_times *times)
{
    char loader[PATH_MAX + 128], length[96];
    struct stat sb;
    times->exit_s = 0;
    times->first_record_s = -1;
    times->cpu_s = 0;
    times->uart_bytes = 0;
    if (stat(tape, &sb) != 0) {
        return -2;
    }
    snprintf(loader, sizeof(loader), "loader,file=%s,addr=%s,force-raw=on", tape, a->tape_addr);
    snprintf(length, sizeof(length), "loader,addr=%s,data=%lld,data-len=8", a->tape_len_addr,
             (long long)sb.st_size);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = a->qemu;
    for (size_t i = 0; a->machine[i] != NULL; i++) {
        argv[n++] = a->machine[i];
    }
    argv[n++] = firmware;
    argv[n++] = "-device";
    argv[n++] = loader;
    argv[n++] = "-device";
    argv[n++] = length;
    argv[n] = NULL;

    int out = open(capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fds[2];
    if (out < 0) {
        return -2;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        close(out);
        return -2;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        close(out);
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0) {
            _exit(127);
        }
        dup2(fds[1], STDOUT_FILENO);
        dup2(null, STDIN_FILENO);
        setpgid(0, 0);
        execvp(a->qemu, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    /* Room for a whole smoke capture, so QEMU never waits on a full pipe while we nap; the
     * default size (64 KiB) still works when the kernel refuses. */
    (void)fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);

    char buf[65536], carry[8];
    size_t carried = 0;
    bool timed_out = false;
    for (;;) { /* bound: timeout_s seconds; every pass reads or waits for the pipe */
        double left = (double)timeout_s - seconds_since(&t0);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int ready = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            timed_out = ready == 0;
            break;
        }
        ssize_t got = read(fds[0], buf, sizeof(buf));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break; /* end of file: QEMU closed its stdout, i.e. it is exiting */
        }
        if (times->first_record_s < 0 && first_record_in(buf, (size_t)got, carry, &carried)) {
            times->first_record_s = seconds_since(&t0);
        }
        times->uart_bytes += (uint64_t)got;
        if (write(out, buf, (size_t)got) != got) {
            break;
        }
        /* QEMU writes the UART a byte at a time: let a few milliseconds of output gather
         * rather than wake for every byte. */
        struct timespec nap = {0, 2 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    close(fds[0]);
    close(out);
    int status = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof(usage));
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    for (;;) { /* bound: timeout_s seconds in 1 ms steps (QEMU exits right after its stdout) */
        pid_t w = wait4(pid, &status, timed_out ? 0 : WNOHANG, &usage);
        if (w == pid || (w < 0 && errno != EINTR)) {
            break;
        }
        if (w == 0 && seconds_since(&t0) > (double)timeout_s) {
            timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            continue;
        }
        struct timespec nap = {0, 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    times->exit_s = seconds_since(&t0);
    times->cpu_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                   (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    if (timed_out) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The console lines of a capture (everything that is not a frame), for a failure message. */
static void print_console(const char *capture)
{
    FILE *f = fopen(capture, "r");
    if (f == NULL) {
        return;
    }
    char line[600];
    unsigned shown = 0;
    while (fgets(line, sizeof(line), f) != NULL && shown < 20) { /* bound: 20 lines */
        if (strncmp(line, "RVMW ", 5) != 0) {
            fprintf(stderr, "  qemu: %s", line);
            shown++;
        }
    }
    fclose(f);
}

/* The simulator's own account of its chain: the record count and log digest the tape ends with
 * (the stored run may hold fewer records when the simulated sink never took the last ones). */
static bool tape_end(const char *path, uint64_t *records, uint8_t digest[32], bool *riscv)
{
    size_t len = 0;
    uint8_t *bytes = NULL;
    FILE *f = fopen(path, "rb");
    bool ok = false;
    if (f != NULL && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)size)) != NULL) {
            len = fread(bytes, 1, (size_t)size, f);
            ok = len == (size_t)size;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    ok = ok && rvm_tape_open(&r, &h, &crypto, bytes, len) == RVM_TAPE_S_OK;
    if (ok) {
        *records = h.end_records;
        memcpy(digest, h.end_digest, 32);
        *riscv = h.config.arch == RVM_VCPU_RISCV64;
    }
    free(bytes);
    return ok;
}

static int64_t last_run(const char *db, struct rvm_store_run *run)
{
    struct rvm_store *st = NULL;
    char err[256];
    if (rvm_store_open(db, RVM_STORE_READ, &st, err, sizeof(err)) != RVM_STORE_OK) {
        rvm_errorf("qemu: %s", err);
        return -1;
    }
    int64_t *ids = NULL;
    size_t count = 0;
    int64_t id = -1;
    if (rvm_store_run_ids(st, &ids, &count) == RVM_STORE_OK && count != 0) {
        id = ids[count - 1];
        if (rvm_store_run_get(st, id, run) != RVM_STORE_OK) {
            id = -1;
        }
    }
    free(ids);
    rvm_store_close(st);
    return id;
}

struct qemu_request {
    const struct qemu_arch *arch;
    const char *scenario;
    uint64_t seed;
    bool has_seed;
    const char *faults;
    const char *db;
    const char *firmware;
    const char *workdir;
    unsigned timeout_s;
};

static int qemu_compare(const struct qemu_request *q)
{
    char tape[PATH_MAX + 32], capture[PATH_MAX + 32], seed_text[32];
    snprintf(tape, sizeof(tape), "%s/run.tape", q->workdir);
    snprintf(capture, sizeof(capture), "%s/qemu.txt", q->workdir);
    snprintf(seed_text, sizeof(seed_text), "%" PRIu64, q->seed);

    /* 1. the simulator's run, stored, with its tape */
    const char *run_argv[16];
    int n = 0;
    run_argv[n++] = "run";
    run_argv[n++] = q->scenario;
    if (q->has_seed) {
        run_argv[n++] = "--seed";
        run_argv[n++] = seed_text;
    }
    if (q->faults != NULL) {
        run_argv[n++] = "--faults";
        run_argv[n++] = q->faults;
    }
    run_argv[n++] = "--db";
    run_argv[n++] = q->db;
    run_argv[n++] = "--tape";
    run_argv[n++] = tape;
    run_argv[n] = NULL;
    printf("sim:  ");
    fflush(stdout);
    int rc = rvmsim_cmd_run(n, (char **)run_argv);
    if (access(tape, R_OK) != 0) {
        rvm_errorf("qemu: the simulator wrote no tape (exit %d)", rc);
        return rc != RVMSIM_EXIT_PASS ? rc : RVMSIM_EXIT_INTERNAL;
    }
    struct rvm_store_run sim_run;
    memset(&sim_run, 0, sizeof(sim_run));
    int64_t sim_id = last_run(q->db, &sim_run);
    if (sim_id < 0) {
        return RVMSIM_EXIT_INTERNAL;
    }

    uint64_t sim_records = 0;
    uint8_t sim_digest[32];
    bool riscv = false;
    if (!tape_end(tape, &sim_records, sim_digest, &riscv)) {
        rvm_errorf("qemu: the simulator's tape %s cannot be read back", tape);
        rvm_store_run_free(&sim_run);
        return RVMSIM_EXIT_INTERNAL;
    }
    if (riscv != q->arch->riscv) {
        rvm_errorf("qemu: %s runs on the simulated %s platform; use --arch %s (the chain is "
                   "per architecture: the boot measures it)",
                   q->scenario, riscv ? "RISC-V" : "AArch64", riscv ? "riscv64" : "aarch64");
        rvm_store_run_free(&sim_run);
        return RVMSIM_EXIT_USAGE;
    }

    /* 2. the firmware under QEMU */
    struct boot_times times;
    int status = boot(q->arch, q->firmware, tape, capture, q->timeout_s, &times);
    if (status == -1) {
        rvm_errorf("qemu: %s did not finish within %u s", q->arch->qemu, q->timeout_s);
        print_console(capture);
        rvm_store_run_free(&sim_run);
        return RVMSIM_EXIT_INTERNAL;
    }
    if (status != 0) {
        rvm_errorf("qemu: the firmware stopped with status %d", status);
        print_console(capture);
    }

    /* 3. the capture as a run of its own, verified on import */
    struct rvm_store *st = NULL;
    char err[256];
    if (rvm_store_open(q->db, RVM_STORE_WRITE, &st, err, sizeof(err)) != RVM_STORE_OK) {
        rvm_errorf("qemu: %s", err);
        rvm_store_run_free(&sim_run);
        return RVMSIM_EXIT_INTERNAL;
    }
    char platform[32];
    snprintf(platform, sizeof(platform), "qemu-%s", q->arch->name);
    struct rvm_import_options io = {
        .format = RVM_IMPORT_SERIAL,
        .has_seed = true,
        .seed = sim_run.has_seed ? sim_run.seed : q->seed,
        .platform = platform,
        .allow_unsealed = true,
        .command = "rvmsim qemu",
    };
    struct rvm_import_result res;
    memset(&res, 0, sizeof(res));
    rvm_import_file(st, capture, &io, &res);
    rvm_store_close(st);
    if (res.exit_code != RVMSIM_EXIT_PASS) {
        rvm_errorf("qemu: importing the capture failed: %s", res.message);
        print_console(capture);
        rvm_store_run_free(&sim_run);
        return status != 0 ? RVMSIM_EXIT_DIVERGED : res.exit_code;
    }

    /* 4. the comparison */
    bool same = res.records == sim_records &&
                memcmp(res.digest, sim_digest, sizeof(res.digest)) == 0 && status == 0;
    if (!same && sim_run.record_count == 0) {
        printf("diff: the simulator's stored run holds no records to compare with\n");
    } else if (!same) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "%" PRId64, sim_id);
        snprintf(b, sizeof(b), "%" PRId64, res.run);
        const char *diff_argv[] = {"diff", "--db", q->db, a, b, NULL};
        printf("diff: the QEMU run differs from the simulator's:\n");
        fflush(stdout);
        (void)rvmsim_cmd_diff(5, (char **)diff_argv);
    }
    char hex[65];
    rvm_hex(res.digest, sizeof(res.digest), hex);
    printf("qemu: %s boot to exit %.3f s, %" PRIu64 " records%s, first record %.3f s, "
           "QEMU cpu %.3f s, UART %" PRIu64 " bytes (%.1f per record)\n",
           q->arch->name, times.exit_s, res.records, res.sealed ? ", sealed" : "",
           times.first_record_s, times.cpu_s, times.uart_bytes,
           res.records != 0 ? (double)times.uart_bytes / (double)res.records : 0.0);
    printf("run=%" PRId64 " seed=%" PRIu64 " records=%" PRIu64 " digest=%s result=%s\n", res.run,
           io.seed, res.records, hex, same ? "pass" : "diverged");
    rvm_store_run_free(&sim_run);
    return same ? RVMSIM_EXIT_PASS : RVMSIM_EXIT_DIVERGED;
}

int rvmsim_cmd_qemu(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"arch", required_argument, NULL, 'a'},
        {"seed", required_argument, NULL, 's'},
        {"faults", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},
        {"firmware", required_argument, NULL, 'F'},
        {"keep", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct qemu_request q = {.timeout_s = 60};
    const char *arch = NULL, *keep = NULL;
    uint64_t timeout = 60;
    enum rvm_sim_fault_mode mode;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "a:s:f:d:t:F:k:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'a':
            arch = optarg;
            break;
        case 's':
            if (!cli_option_u64("qemu", "seed", optarg, &q.seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            q.has_seed = true;
            break;
        case 'f':
            if (!cli_option_faults("qemu", optarg, &mode)) {
                return RVMSIM_EXIT_USAGE;
            }
            q.faults = optarg;
            break;
        case 'd':
            q.db = optarg;
            break;
        case 't':
            if (!rvm_parse_u64(optarg, &timeout) || timeout == 0 || timeout > 3600) {
                rvm_errorf("qemu: --timeout must be 1..3600 seconds, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            q.timeout_s = (unsigned)timeout;
            break;
        case 'F':
            q.firmware = optarg;
            break;
        case 'k':
            keep = optarg;
            break;
        case 'h':
            return cli_option_usage(qemu_usage, true);
        default:
            return cli_option_usage(qemu_usage, false);
        }
    }
    if (optind + 1 != argc) {
        rvm_errorf(optind == argc ? "qemu: missing SCENARIO" : "qemu: unexpected argument '%s'",
                   optind == argc ? "" : argv[optind + 1]);
        qemu_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    q.scenario = argv[optind];
    if (arch == NULL || (q.arch = arch_named(arch)) == NULL) {
        rvm_errorf("qemu: --arch must be aarch64 or riscv64%s%s%s", arch != NULL ? ", got '" : "",
                   arch != NULL ? arch : "", arch != NULL ? "'" : "");
        return RVMSIM_EXIT_USAGE;
    }
    if (!on_path(q.arch->qemu)) {
        rvm_errorf("qemu: %s not found: install it with `apt-get install %s`", q.arch->qemu,
                   q.arch->package);
        return RVMSIM_EXIT_USAGE;
    }
    char firmware[PATH_MAX];
    if (q.firmware == NULL) {
        default_firmware(q.arch, firmware, sizeof(firmware));
        q.firmware = firmware;
    }
    if (access(q.firmware, R_OK) != 0) {
        rvm_errorf("qemu: firmware image %s not found: build it with `make firmware` (needs %s)",
                   q.firmware, q.arch->cross_package);
        return RVMSIM_EXIT_USAGE;
    }

    char workdir[PATH_MAX], db[PATH_MAX + 32];
    if (keep != NULL) {
        if (mkdir(keep, 0755) != 0 && errno != EEXIST) {
            rvm_errorf("qemu: cannot create '%s': %s", keep, strerror(errno));
            return RVMSIM_EXIT_USAGE;
        }
        snprintf(workdir, sizeof(workdir), "%s", keep);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(workdir, sizeof(workdir), "%s/rvmsim-qemu-XXXXXX", tmp != NULL ? tmp : "/tmp");
        if (mkdtemp(workdir) == NULL) {
            rvm_errorf("qemu: cannot create a temporary directory: %s", strerror(errno));
            return RVMSIM_EXIT_INTERNAL;
        }
    }
    q.workdir = workdir;
    if (q.db == NULL) {
        snprintf(db, sizeof(db), "%s/runs.db", workdir);
        q.db = db;
    }
    int rc = qemu_compare(&q);
    if (keep == NULL) {
        char path[PATH_MAX + 32];
        const char *const names[] = {"run.tape", "qemu.txt", "runs.db", "runs.db-wal",
                                     "runs.db-shm"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", workdir, names[i]);
            (void)unlink(path);
        }
        (void)rmdir(workdir);
    }
    return rc;
}
