/* SPDX-License-Identifier: MIT */
/*
 * rvmsim sweep FILE --seeds A..B [--jobs J] [--faults MODE] [--db PATH] [--shard K/N]
 *
 * The parent parses the scenario once and forks J worker processes, which inherit it. Seeds are
 * handed out in batches over pipes; each worker runs its seeds on one engine and sends back a
 * fixed-size outcome per seed. The parent re-runs every failing seed and a deterministic share
 * of the passing ones in its own process (a different process, so state or address-space
 * dependence shows up) and compares class, invariant, record count, digest and final state: a
 * mismatch is a failure of its own class (non-determinism). The parent is the only writer of the
 * replay store: a summary row for every run, batched thousands to a transaction, and the full
 * witness log of every failing run (from its own re-run, with state digests at epoch boundaries).
 * Workers never open the database: summaries are made from the fixed-size outcomes they already
 * send, so --db costs the workers nothing (measured in docs/simulator.md). A progress line
 * (done/total, runs/s, ETA, failures) is redrawn on stderr when it is a terminal (cut to its
 * width) and printed as a plain line every 10 s when it is not (a CI log). The last line is `N
 * passed, M failed`.
 *
 * SIGINT or SIGTERM (Ctrl-C) stops a sweep cleanly: no new batch is handed out, the batches in
 * flight finish and are reported, the failures found so far are re-run and stored, the store is
 * committed and closed, and the summary says how far it got. A second signal kills at once.
 * Workers ignore both signals (a Ctrl-C reaches the whole process group); the parent tells them
 * to stop.
 *
 * --shard K/N (0 <= K < N) runs only the seeds s of A..B with (s - A) mod N == K, so N machines
 * (GNU parallel, Slurm array jobs, Kubernetes indexed jobs) can share one range; `rvmsim merge`
 * joins their databases into one that lists every seed once.
 */
#include "commands.h"
#include "coverage.h"
#include "engine.h"
#include "options.h"
#include "prng.h"
#include "run_store.h"
#include "simcli.h"
#include "sweep_report.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS          256u
#define MAX_BATCH         256u
/* Results the parent takes from a worker's pipe in one read: more than a pipe holds (64 KiB, ~140
 * outcomes), so one wake-up takes everything a worker has sent since the last. */
#define READ_RESULTS      160u
#define PROGRESS_NS       200000000u
#define PLAIN_PROGRESS_NS 10000000000u /* off a terminal: a line every 10 s */

struct sweep_opts {
    const char *path;
    uint64_t a, b;
    uint32_t jobs;
    enum rvm_sim_fault_mode mode;
    const char *db;
    uint32_t shard_k, shard_n;
    uint32_t recheck_every; /* re-run 1 in N passing seeds; 0: none */
    uint64_t epoch;         /* state digests of stored failing runs every N records */
    uint64_t max_failures;  /* stop handing out seeds after this many failures; 0: never */
    bool json;              /* the summary as one JSON object on stdout, no FAIL lines */
    int coverage;           /* 0 off, 1 the ledger, 2 only the never-hit list (--coverage=brief) */
    int progress; /* -1 auto, 0 off, 1 a line redrawn in place (a terminal), 2 a plain line
                     every PLAIN_PROGRESS_NS (a log: CI must not look hung) */
};

struct cmd_msg {
    uint64_t first; /* index into the shard's seed sequence */
    uint64_t count; /* 0: exit */
};

struct res_msg {
    uint64_t seed;
    struct rvm_sim_outcome o;
};

struct worker {
    pid_t pid;
    int cmd_fd, res_fd;
    bool alive;
    uint64_t first, count, reported; /* the batch in flight */
    uint8_t buf[READ_RESULTS * sizeof(struct res_msg)];
    size_t have;
};

struct range {
    uint64_t first, count;
};

struct sweep {
    struct sweep_opts o;
    const struct rvm_scenario *scn;
    const char *text; /* the scenario file's bytes, stored with each run */
    struct rvm_crypto crypto;
    struct rvm_sim *local; /* the parent's engine for re-runs */
    struct rvm_run_sink sink;
    uint64_t total, next, done, passed, rechecked;
    uint64_t failures_seen; /* failing results received, re-run or not yet */
    struct range *requeue;
    size_t nrequeue, requeue_cap;
    struct res_msg *pending; /* results waiting for the parent's re-run */
    size_t npending, pending_cap;
    struct sweep_failure *fails;
    size_t nfails, fails_cap;
    bool nondeterminism, store_error;
    struct rvm_coverage cov; /* --coverage: per probe, the seeds that hit it */
    uint64_t t0, last_draw;
    bool drawn;
};

/* Set by the signal handler: the one piece of state a handler may touch. */
static volatile sig_atomic_t sweep_stop_signal;

static void on_stop_signal(int sig)
{
    sweep_stop_signal = sig;
}

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void restore_stop_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t seed_at(const struct sweep_opts *o, uint64_t index)
{
    return o->a + o->shard_k + index * o->shard_n;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len != 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len != 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        p += r;
        len -= (size_t)r;
    }
    return true;
}

static bool push(void **buf, size_t *n, size_t *cap, const void *item, size_t size)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        void *p = realloc(*buf, c * size);
        if (p == NULL) {
            return false;
        }
        *buf = p;
        *cap = c;
    }
    memcpy((uint8_t *)*buf + *n * size, item, size);
    (*n)++;
    return true;
}

/* Is passing seed `seed` one of those re-run in another process (a hash of the seed decides)? */
static bool rechecked_seed(const struct sweep_opts *o, uint64_t seed)
{
    uint64_t h = seed;
    return o->recheck_every != 0 && rvm_splitmix64(&h) % o->recheck_every == 0;
}

/* ------------------------------------------------------------------------------------------------
 * Workers
 * --------------------------------------------------------------------------------------------- */

/* RVMSIM_TEST_WORKER_CRASH=<seed>: a worker kills itself when it comes to that seed, so tests can
 * see a dying worker blamed on the right seed. */
static bool crash_hook(uint64_t *seed)
{
    const char *hook = getenv("RVMSIM_TEST_WORKER_CRASH");
    char *end = NULL;
    if (hook == NULL || *hook == '\0') {
        return false;
    }
    *seed = strtoull(hook, &end, 10);
    return *end == '\0';
}

static void worker_main(const struct sweep_opts *o, const struct rvm_scenario *scn, int cmd_fd,
                        int res_fd)
{
    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = simcli_crypto(&crypto);
    char err[256];
    struct rvm_sim *sim = oc != NULL ? rvm_sim_new(scn, &crypto, err, sizeof(err)) : NULL;
    if (sim == NULL) {
        _exit(RVMSIM_EXIT_INTERNAL);
    }
    uint64_t crash_seed = 0;
    const bool crash = crash_hook(&crash_seed);
    struct rvm_sim_options opt = {.faults = o->mode, .nwnm_every = 1};
    /* The parent decides when to stop; a batch in flight is finished and reported. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    for (;;) {
        struct cmd_msg cmd;
        if (!read_all(cmd_fd, &cmd, sizeof(cmd)) || cmd.count == 0) {
            break;
        }
        for (uint64_t i = 0; i < cmd.count; i++) {
            struct res_msg r;
            memset(&r, 0, sizeof(r));
            r.seed = seed_at(o, cmd.first + i);
            if (crash && r.seed == crash_seed) {
                raise(SIGKILL);
            }
            opt.seed = r.seed;
            /* the final state is compared by a re-run and kept by a store; a passing seed that
             * neither re-runs nor is stored does without it */
            opt.state_if_failed = o->db == NULL && !rechecked_seed(o, r.seed);
            rvm_sim_run(sim, scn, &opt, &r.o);
            if (!write_all(res_fd, &r, sizeof(r))) {
                _exit(RVMSIM_EXIT_INTERNAL);
            }
        }
    }
    rvm_sim_free(sim);
    rvm_openssl_crypto_free(oc);
    _exit(0);
}

/* `earlier` workers already run: a new worker closes its copies of their pipes and frees the
 * parent's table, so it holds nothing but its own two pipe ends. */
static bool spawn(struct sweep *s, struct worker *w, struct worker *earlier, uint32_t nearlier)
{
    int cmd[2], res[2];
    if (pipe(cmd) != 0) {
        return false;
    }
    if (pipe(res) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(cmd[0]), close(cmd[1]), close(res[0]), close(res[1]);
        return false;
    }
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        for (uint32_t i = 0; i < nearlier; i++) {
            close(earlier[i].cmd_fd);
            close(earlier[i].res_fd);
        }
        free(earlier);
        worker_main(&s->o, s->scn, cmd[0], res[1]);
    }
    close(cmd[0]);
    close(res[1]);
    *w = (struct worker){.pid = pid, .cmd_fd = cmd[1], .res_fd = res[0], .alive = true};
    return true;
}

static bool assign(struct sweep *s, struct worker *w, uint32_t nworkers)
{
    struct range r = {0, 0};
    if (sweep_stop_signal != 0 || s->store_error) { /* a store that failed gets no more runs */
        return false;
    }
    if (s->o.max_failures != 0 && s->failures_seen >= s->o.max_failures) {
        return false;
    }
    if (s->nrequeue != 0) {
        r = s->requeue[--s->nrequeue];
    } else if (s->next < s->total) {
        uint64_t left = s->total - s->next;
        uint64_t size = left / (8u * nworkers);
        size = size < 1 ? 1 : size > MAX_BATCH ? MAX_BATCH : size;
        if (s->o.max_failures != 0 && size > s->o.max_failures) {
            size = s->o.max_failures; /* so a stop at N failures does not wait for long batches */
        }
        r.first = s->next;
        r.count = size;
        s->next += size;
    }
    if (r.count == 0) {
        return false;
    }
    struct cmd_msg cmd = {r.first, r.count};
    if (!write_all(w->cmd_fd, &cmd, sizeof(cmd))) {
        (void)push((void **)&s->requeue, &s->nrequeue, &s->requeue_cap, &r, sizeof(r));
        return false;
    }
    w->first = r.first;
    w->count = r.count;
    w->reported = 0;
    return true;
}

/* ------------------------------------------------------------------------------------------------
 * Progress and results
 * --------------------------------------------------------------------------------------------- */

static void progress_clear(struct sweep *s)
{
    if (s->drawn) {
        fputs("\r\033[K", stderr);
        s->drawn = false;
    }
}

/* Columns of the terminal on stderr (80 when it cannot tell). */
static size_t terminal_width(void)
{
    struct winsize ws;
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80u;
}

static void progress_draw(struct sweep *s, bool force)
{
    if (!s->o.progress || (s->o.progress == 2 && force)) {
        return;
    }
    const bool plain = s->o.progress == 2;
    uint64_t now = mono_ns();
    if (!force && now - s->last_draw < (plain ? PLAIN_PROGRESS_NS : PROGRESS_NS)) {
        return;
    }
    s->last_draw = now;
    double secs = (double)(now - s->t0) / 1e9;
    double rate = secs > 0 ? (double)s->done / secs : 0;
    uint64_t eta = rate > 0 ? (uint64_t)((double)(s->total - s->done) / rate) : 0;
    char line[256];
    snprintf(line, sizeof(line),
             "sweep: %" PRIu64 "/%" PRIu64 " (%.1f%%)  %.0f runs/s  ETA %" PRIu64 ":%02" PRIu64
             ":%02" PRIu64 "  failures %zu",
             s->done, s->total, s->total ? 100.0 * (double)s->done / (double)s->total : 100.0, rate,
             eta / 3600, eta / 60 % 60, eta % 60, s->nfails);
    if (plain) {
        fprintf(stderr, "%s\n", line);
    } else {
        /* one column short of the width, so the line never wraps and piles up */
        const size_t width = terminal_width();
        if (strlen(line) >= width) {
            line[width > 1 ? width - 1 : 0] = '\0';
        }
        fprintf(stderr, "\r\033[K%s", line);
        s->drawn = true;
    }
    fflush(stderr);
}

static void report_failure(struct sweep *s, uint64_t seed, const struct rvm_sim_outcome *o,
                           const char *what)
{
    const int cls = o->cls;
    struct sweep_failure f = {.seed = seed, .cls = cls, .steps = o->steps, .records = o->records};
    snprintf(f.invariant, sizeof(f.invariant), "%s", o->invariant);
    snprintf(f.text, sizeof(f.text), "FAIL seed=%" PRIu64 " %s", seed, what);
    if (!s->o.json) {
        char repro[1600];
        simcli_repro(repro, sizeof(repro), s->o.path, seed, s->o.mode);
        progress_clear(s);
        printf("%s\n  reproduce: %s\n", f.text, repro);
        fflush(stdout);
    }
    if (!push((void **)&s->fails, &s->nfails, &s->fails_cap, &f, sizeof(f))) {
        s->store_error = true;
    }
    if (cls == RVMSIM_EXIT_NONDETERMINISM) {
        s->nondeterminism = true;
    }
}

static void store(struct sweep *s, uint64_t seed, const struct rvm_sim_outcome *o,
                  const struct rvm_sim *full_from, const char *origin)
{
    if (s->o.db == NULL) {
        return;
    }
    struct rvm_run_info info = {
        .source = "sweep",
        .scenario_path = s->o.path,
        .scenario_text = s->text,
        .target = s->scn->target,
        .seed = seed,
        .faults = s->o.mode,
        .nwnm_every = 1,
        .epoch = s->o.epoch,
        .origin = origin,
    };
    uint64_t id;
    if (!rvm_run_store(&s->sink, &info, o, full_from, full_from != NULL, &id) && !s->store_error) {
        progress_clear(s);
        rvm_errorf("sweep: storing runs in '%s' failed: %s", s->o.db,
                   s->sink.ops->error(s->sink.ctx));
        s->store_error = true;
    }
}

/* The parent's engine for re-runs: state digests only when the run may be stored in full. */
static struct rvm_sim_options local_options(const struct sweep *s, uint64_t seed)
{
    return (struct rvm_sim_options){.seed = seed,
                                    .faults = s->o.mode,
                                    .nwnm_every = 1,
                                    .states = s->o.db != NULL,
                                    .epoch = s->o.epoch};
}

static bool same_run(const struct rvm_sim_outcome *x, const struct rvm_sim_outcome *y)
{
    return x->cls == y->cls && strcmp(x->invariant, y->invariant) == 0 &&
           x->records == y->records && x->steps == y->steps &&
           memcmp(x->digest, y->digest, sizeof(x->digest)) == 0 &&
           memcmp(x->state, y->state, sizeof(x->state)) == 0;
}

/* Re-run a seed in this process and compare with what the worker reported. */
static void recheck(struct sweep *s, const struct res_msg *r)
{
    struct rvm_sim_options opt = local_options(s, r->seed);
    struct rvm_sim_outcome mine;
    rvm_sim_run(s->local, s->scn, &opt, &mine);
    s->rechecked++;
    bool failed = r->o.cls != RVMSIM_EXIT_PASS;
    if (!same_run(&r->o, &mine)) {
        char a[65], b[65], what[680];
        rvm_hex(r->o.digest, 8, a);
        rvm_hex(mine.digest, 8, b);
        snprintf(what, sizeof(what),
                 "nondeterminism: the worker's run gave %s [%s] records=%" PRIu64
                 " digest=%s..., the re-run in another process gave %s [%s] records=%" PRIu64
                 " digest=%s...",
                 rvm_sim_class_name(r->o.cls), r->o.invariant, r->o.records, a,
                 rvm_sim_class_name(mine.cls), mine.invariant, mine.records, b);
        struct rvm_sim_outcome stored = mine;
        stored.cls = RVMSIM_EXIT_NONDETERMINISM;
        snprintf(stored.invariant, sizeof(stored.invariant), "determinism");
        store(s, r->seed, &stored, s->local, "sweep-recheck");
        report_failure(s, r->seed, &stored, what);
        return;
    }
    if (failed) {
        char what[620];
        simcli_describe(what, sizeof(what), &mine, s->o.path);
        store(s, r->seed, &mine, s->local, "sweep");
        report_failure(s, r->seed, &mine, what);
        return;
    }
    s->passed++;
    store(s, r->seed, &r->o, NULL, "sweep");
}

static void on_result(struct sweep *s, const struct res_msg *r)
{
    s->done++;
    if (r->o.cls != RVMSIM_EXIT_PASS) {
        s->failures_seen++;
    }
    rvm_coverage_add(&s->cov, r->o.probes);
    bool sample = rechecked_seed(&s->o, r->seed);
    if (r->o.cls != RVMSIM_EXIT_PASS || sample) {
        if (!push((void **)&s->pending, &s->npending, &s->pending_cap, r, sizeof(*r))) {
            s->store_error = true;
        }
        return;
    }
    s->passed++;
    store(s, r->seed, &r->o, NULL, "sweep");
}

static void worker_lost(struct sweep *s, struct worker *w)
{
    w->alive = false;
    close(w->cmd_fd);
    close(w->res_fd);
    int status = 0;
    waitpid(w->pid, &status, 0);
    if (w->count > w->reported) {
        /* the seed it was running took it down; the rest of its batch goes to others */
        uint64_t seed = seed_at(&s->o, w->first + w->reported);
        char what[200];
        if (WIFSIGNALED(status)) {
            snprintf(what, sizeof(what), "internal [worker.crash] the worker died of signal %d",
                     WTERMSIG(status));
        } else {
            snprintf(what, sizeof(what), "internal [worker.crash] the worker exited with %d",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        s->done++;
        struct rvm_sim_outcome crash;
        memset(&crash, 0, sizeof(crash));
        crash.cls = RVMSIM_EXIT_INTERNAL;
        crash.phase = RVM_SIM_PHASE_SETUP;
        snprintf(crash.invariant, sizeof(crash.invariant), "worker.crash");
        snprintf(crash.detail, sizeof(crash.detail), "%s",
                 what + strlen("internal [worker.crash] "));
        store(s, seed, &crash, NULL, "sweep"); /* a summary without a digest: nothing ran to end */
        report_failure(s, seed, &crash, what);
        struct range rest = {w->first + w->reported + 1, w->count - w->reported - 1};
        if (rest.count != 0) {
            (void)push((void **)&s->requeue, &s->nrequeue, &s->requeue_cap, &rest, sizeof(rest));
        }
    }
    w->count = w->reported = 0;
}

static void drain_worker(struct sweep *s, struct worker *w, uint32_t nworkers)
{
    ssize_t r = read(w->res_fd, w->buf + w->have, sizeof(w->buf) - w->have);
    if (r < 0 && errno == EINTR) {
        return;
    }
    if (r <= 0) {
        worker_lost(s, w);
        return;
    }
    w->have += (size_t)r;
    size_t used = 0;
    while (w->have - used >= sizeof(struct res_msg)) { /* bound: READ_RESULTS */
        struct res_msg msg;
        memcpy(&msg, w->buf + used, sizeof(msg));
        used += sizeof(msg);
        w->reported++;
        on_result(s, &msg);
        if (w->reported == w->count) {
            w->count = w->reported = 0;
            (void)assign(s, w, nworkers);
        }
    }
    memmove(w->buf, w->buf + used, w->have - used);
    w->have -= used;
}

/* ------------------------------------------------------------------------------------------------
 * The command
 * --------------------------------------------------------------------------------------------- */

static void sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim sweep FILE --seeds A..B [--jobs J] [--faults none|default|swarm]\n"
            "                    [--db PATH] [--shard K/N] [--recheck-every N] [--epoch K]\n"
            "                    [--max-failures N] [--json] [--progress|--no-progress]\n"
            "                    [--coverage[=brief]]\n\n"
            "Runs FILE for every seed A..B in J worker processes (default: one per CPU).\n"
            "Every failing seed, and 1 in N passing seeds (default 32; 0 = none), is re-run in\n"
            "another process to prove determinism. Each failure is printed with the command\n"
            "that reproduces it; the summary groups the failures by class and invariant, each\n"
            "group with its count, first seeds, shortest run, and the `shrink` command for it.\n"
            "--max-failures N stops handing out seeds after N failures (batches in flight\n"
            "finish). --json prints the summary as one JSON object instead (docs/json.md).\n"
            "--shard K/N (0 <= K < N) runs the seeds s with (s-A) mod N == K.\n"
            "--db stores a summary of every run and the full witness log of failing runs\n"
            "(with a state digest every --epoch K records, default 64) in a replay store;\n"
            "`rvmsim merge` joins the stores of several shards.\n"
            "The last line is `N passed, M failed`; the exit code is 0 when nothing failed, 5\n"
            "if a run was not deterministic, else the class of the lowest failing seed.\n"
            "Ctrl-C (SIGINT) or SIGTERM stops cleanly: batches in flight finish, failures found\n"
            "so far are re-run and stored, and the summary follows; with no failure the exit\n"
            "code is then 128 + the signal number (130, 143). A second Ctrl-C kills at once.\n"
            "Progress goes to stderr: a line redrawn in place on a terminal, a plain line\n"
            "every 10 s otherwise; --no-progress turns it off.\n"
            "--coverage prints, after the summary, the target's coverage probes with the number\n"
            "of seeds that hit each and the probes no seed hit (=brief: only those), and with\n"
            "--db stores the counts (table coverage).\n");
}

static int parse_sweep(int argc, char **argv, struct sweep_opts *o, bool *has_faults)
{
    static const struct option longopts[] = {
        {"seeds", required_argument, NULL, 's'},  {"jobs", required_argument, NULL, 'j'},
        {"faults", required_argument, NULL, 'f'}, {"db", required_argument, NULL, 'd'},
        {"shard", required_argument, NULL, 'k'},  {"recheck-every", required_argument, NULL, 'r'},
        {"progress", no_argument, NULL, 'p'},     {"no-progress", no_argument, NULL, 'P'},
        {"epoch", required_argument, NULL, 'e'},  {"max-failures", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'J'},         {"coverage", optional_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    bool has_seeds = false;
    uint64_t v;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (struct sweep_opts){.jobs = ncpu > 0 ? (uint32_t)ncpu : 1,
                             .shard_n = 1,
                             .recheck_every = 32,
                             .progress = -1,
                             .epoch = RVM_RUN_DEFAULT_EPOCH};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "s:j:f:d:k:r:pPe:m:Jhc::", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 's':
            if (!simcli_parse_range(optarg, &o->a, &o->b)) {
                rvm_errorf("sweep: --seeds must be A..B with A <= B, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            has_seeds = true;
            break;
        case 'j':
            if (!rvm_parse_u64(optarg, &v) || v == 0 || v > MAX_JOBS) {
                rvm_errorf("sweep: --jobs must be 1..%u, got '%s'", MAX_JOBS, optarg);
                return RVMSIM_EXIT_USAGE;
            }
            o->jobs = (uint32_t)v;
            break;
        case 'f':
            if (!cli_option_faults("sweep", optarg, &o->mode)) {
                return RVMSIM_EXIT_USAGE;
            }
            *has_faults = true;
            break;
        case 'd':
            o->db = optarg;
            break;
        case 'k':
            if (!simcli_parse_shard(optarg, &o->shard_k, &o->shard_n)) {
                rvm_errorf("sweep: --shard must be K/N with 0 <= K < N, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'r':
            if (!rvm_parse_u64(optarg, &v) || v > UINT32_MAX) {
                rvm_errorf("sweep: --recheck-every must be a count, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            o->recheck_every = (uint32_t)v;
            break;
        case 'p':
            o->progress = 1;
            break;
        case 'e':
            if (!rvm_parse_u64(optarg, &o->epoch)) {
                rvm_errorf("sweep: --epoch must be a record count, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'P':
            o->progress = 0;
            break;
        case 'm':
            if (!cli_option_u64("sweep", "max-failures", optarg, &o->max_failures) ||
                o->max_failures == 0) {
                rvm_errorf("sweep: --max-failures must be at least 1");
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'J':
            o->json = true;
            break;
        case 'c':
            if (optarg != NULL && strcmp(optarg, "brief") != 0) {
                rvm_errorf("sweep: --coverage takes no value or 'brief', got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            o->coverage = optarg != NULL ? 2 : 1;
            break;
        case 'h':
            sweep_usage(stdout);
            return -1;
        default:
            sweep_usage(stderr);
            return RVMSIM_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        rvm_errorf(optind == argc ? "sweep: missing scenario FILE"
                                  : "sweep: unexpected argument after FILE");
        sweep_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    if (!has_seeds) {
        rvm_errorf("sweep: --seeds A..B is required");
        return RVMSIM_EXIT_USAGE;
    }
    o->path = argv[optind];
    if (o->progress < 0) {
        o->progress = isatty(STDERR_FILENO) ? 1 : 2;
    }
    return RVMSIM_EXIT_PASS;
}

static int cmp_fail(const void *x, const void *y)
{
    const struct sweep_failure *a = x, *b = y;
    return a->seed < b->seed ? -1 : a->seed > b->seed;
}

/* Every worker is idle (or gone): whatever is left runs here, then the pending re-checks. */
static void run_rest_here(struct sweep *s)
{
    while (sweep_stop_signal == 0 && !s->store_error &&
           !(s->o.max_failures != 0 && s->failures_seen >= s->o.max_failures) &&
           (s->nrequeue != 0 || s->next < s->total)) {
        struct range r = {s->next, 1};
        if (s->nrequeue != 0) {
            r = s->requeue[--s->nrequeue];
        } else {
            s->next++;
        }
        for (uint64_t k = 0; k < r.count; k++) {
            struct res_msg m = {.seed = seed_at(&s->o, r.first + k)};
            struct rvm_sim_options opt = local_options(s, m.seed);
            rvm_sim_run(s->local, s->scn, &opt, &m.o);
            on_result(s, &m);
        }
    }
    while (s->npending != 0) {
        struct res_msg m = s->pending[--s->npending];
        recheck(s, &m);
    }
}

/* Feeds the workers and collects their results until every seed has run; false on an error. */
static bool supervise(struct sweep *s, struct worker *workers, uint32_t nworkers)
{
    struct pollfd *pfd = calloc(nworkers + 1, sizeof(*pfd));
    uint32_t *which = calloc(nworkers + 1, sizeof(*which));
    bool ok = pfd != NULL && which != NULL;
    while (ok) {
        uint32_t n = 0;
        bool busy = false;
        for (uint32_t i = 0; i < nworkers; i++) {
            struct worker *w = &workers[i];
            if (!w->alive) {
                continue;
            }
            if (w->count == 0) {
                (void)assign(s, w, nworkers);
            }
            if (w->count != 0) {
                busy = true;
                pfd[n] = (struct pollfd){.fd = w->res_fd, .events = POLLIN};
                which[n++] = i;
            }
        }
        if (!busy) {
            run_rest_here(s);
            break;
        }
        int timeout = s->npending != 0 ? 0 : (s->o.progress ? 200 : -1);
        int ready = poll(pfd, n, timeout);
        if (ready < 0 && errno != EINTR) {
            rvm_errorf("sweep: poll: %s", strerror(errno));
            ok = false;
            break;
        }
        for (uint32_t k = 0; k < n && ready > 0; k++) {
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                drain_worker(s, &workers[which[k]], nworkers);
            }
        }
        if (ready == 0 && s->npending != 0) {
            struct res_msg m = s->pending[--s->npending];
            recheck(s, &m);
        }
        progress_draw(s, false);
    }
    free(pfd);
    free(which);
    return ok;
}

/* `sweep --json` (docs/json.md "sweep"). */
static void sweep_summary_json(const struct sweep *s, const struct sweep_report_scope *scope,
                               uint32_t nworkers, double secs, bool capped, int rc)
{
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    rvm_json_object_begin(&j);
    rvm_json_key_string(&j, "scenario", s->o.path);
    rvm_json_key_string(&j, "faults", rvm_sim_fault_mode_name(s->o.mode));
    rvm_json_key(&j, "seeds");
    rvm_json_object_begin(&j);
    rvm_json_key_u64(&j, "first", s->o.a);
    rvm_json_key_u64(&j, "last", s->o.b);
    rvm_json_object_end(&j);
    rvm_json_key(&j, "shard");
    rvm_json_object_begin(&j);
    rvm_json_key_int(&j, "k", s->o.shard_k);
    rvm_json_key_int(&j, "n", s->o.shard_n);
    rvm_json_object_end(&j);
    rvm_json_key_u64(&j, "total", s->total);
    rvm_json_key_int(&j, "runs", (int64_t)s->done);
    rvm_json_key_int(&j, "passed", (int64_t)(s->done - s->nfails));
    rvm_json_key_int(&j, "failed", (int64_t)s->nfails);
    rvm_json_key_int(&j, "rechecked", (int64_t)s->rechecked);
    rvm_json_key_int(&j, "workers", nworkers);
    rvm_json_key_double(&j, "seconds", secs);
    rvm_json_key_string(&j, "interrupted_by",
                        sweep_stop_signal == SIGINT    ? "SIGINT"
                        : sweep_stop_signal == SIGTERM ? "SIGTERM"
                                                       : NULL);
    rvm_json_key_bool(&j, "stopped_at_max_failures", capped);
    rvm_json_key_bool(&j, "store_error", s->store_error);
    rvm_json_key_int(&j, "exit_code", rc);
    sweep_report_json(&j, scope, s->fails, s->nfails);
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
}

/* Prints the summary; returns the sweep's exit code. */
static int summarize(struct sweep *s, uint32_t nworkers)
{
    int rc;
    progress_draw(s, true);
    progress_clear(s);

    double secs = (double)(mono_ns() - s->t0) / 1e9;
    if (s->nfails > 1) { /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(s->fails, s->nfails, sizeof(*s->fails), cmp_fail);
    }
    uint64_t failed = s->nfails;
    const int stopped_by = sweep_stop_signal;
    if (stopped_by != 0) {
        fprintf(stderr,
                "sweep: interrupted by %s after %" PRIu64 " of %" PRIu64
                " seeds; the runs reported below are complete%s\n",
                stopped_by == SIGINT ? "SIGINT" : "SIGTERM", s->done, s->total,
                s->o.db != NULL ? " and stored" : "");
    }
    if (s->store_error) {
        fprintf(stderr,
                "sweep: stopped after %" PRIu64 " of %" PRIu64
                " seeds: the store failed (above); what it holds of this sweep is incomplete\n",
                s->done, s->total);
    }
    fprintf(stderr,
            "sweep: %" PRIu64 " runs in %.2f s (%.0f runs/s) on %u workers, %" PRIu64
            " re-run in another process to check determinism\n",
            s->done, secs, secs > 0 ? (double)s->done / secs : 0.0, nworkers, s->rechecked);
    const bool capped =
        s->o.max_failures != 0 && s->failures_seen >= s->o.max_failures && s->done < s->total;
    if (capped) {
        fprintf(stderr,
                "sweep: stopped after %" PRIu64 " failures (--max-failures %" PRIu64 "): %" PRIu64
                " of %" PRIu64 " seeds ran\n",
                s->failures_seen, s->o.max_failures, s->done, s->total);
    }
    const struct sweep_report_scope scope = {.path = s->o.path, .mode = s->o.mode};
    if (failed == 0) {
        rc = s->store_error    ? RVMSIM_EXIT_USAGE /* the store, not the runs: environment */
             : stopped_by != 0 ? RVMSIM_EXIT_SIGNAL_BASE + stopped_by
                               : RVMSIM_EXIT_PASS;
    } else if (s->nondeterminism) {
        rc = RVMSIM_EXIT_NONDETERMINISM;
    } else {
        rc = s->fails[0].cls;
    }
    if (s->o.json) {
        sweep_summary_json(s, &scope, nworkers, secs, capped, rc);
    } else {
        sweep_report_text(stdout, &scope, s->fails, s->nfails);
        printf("%" PRIu64 " passed, %" PRIu64 " failed\n", s->done - failed, failed);
    }
    fflush(stdout);
    return rc;
}

/* The ledger under the summary (on stderr with --json, so stdout stays one JSON document), and
 * into the store with --db. */
static void report_coverage(struct sweep *s)
{
    FILE *out = s->o.json ? stderr : stdout;
    rvm_coverage_print(out, &s->cov, s->o.coverage == 2);
    fflush(out);
    if (s->o.db == NULL || s->store_error || s->sink.ops->coverage == NULL) {
        return;
    }
    struct rvm_run_coverage rc = {
        .scenario_text = s->text, .faults = s->o.mode, .first_seed = s->o.a, .last_seed = s->o.b};
    rvm_coverage_export(&s->cov, &rc);
    if (!s->sink.ops->coverage(s->sink.ctx, &rc)) {
        rvm_errorf("sweep: storing the coverage ledger in '%s' failed: %s", s->o.db,
                   s->sink.ops->error(s->sink.ctx));
    }
}

int rvmsim_cmd_sweep(int argc, char **argv)
{
    struct sweep s;
    memset(&s, 0, sizeof(s));
    bool has_faults = false;
    int rc = parse_sweep(argc, argv, &s.o, &has_faults);
    if (rc != RVMSIM_EXIT_PASS) {
        return rc < 0 ? RVMSIM_EXIT_PASS : rc;
    }
    struct rvm_scenario scn;
    char *text = NULL;
    rc = simcli_load_text(s.o.path, &scn, &text);
    if (rc != 0) {
        return rc;
    }
    s.text = text;
    if (!has_faults) {
        s.o.mode = scn.has_faults ? scn.faults : RVM_SIM_FAULTS_DEFAULT;
    }
    s.scn = &scn;
    rvm_coverage_init(&s.cov, scn.target);
    uint64_t span = s.o.b - s.o.a;
    s.total = span < s.o.shard_k ? 0 : (span - s.o.shard_k) / s.o.shard_n + 1;
    if (s.o.a == 0 && s.o.b == UINT64_MAX && s.o.shard_n == 1) {
        s.total = UINT64_MAX; /* 2^64 seeds: close enough, nobody waits for it */
    }

    struct rvm_openssl_crypto *oc = simcli_crypto(&s.crypto);
    struct worker *workers = NULL;
    uint32_t nworkers = 0;
    char err[256] = "";
    rc = RVMSIM_EXIT_INTERNAL;
    if (oc == NULL) {
        goto out;
    }
    s.local = rvm_sim_new(&scn, &s.crypto, err, sizeof(err));
    if (s.local == NULL) {
        rvm_errorf("%s: %s", s.o.path, err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    sweep_stop_signal = 0;
    catch_stop_signals();
    nworkers = s.o.jobs;
    if (s.total < nworkers) {
        nworkers = s.total == 0 ? 1 : (uint32_t)s.total;
    }
    workers = calloc(nworkers, sizeof(*workers));
    if (workers == NULL) {
        goto out;
    }
    for (uint32_t i = 0; i < nworkers; i++) {
        if (!spawn(&s, &workers[i], workers, i)) {
            rvm_errorf("sweep: cannot start worker %u: %s", i, strerror(errno));
            nworkers = i;
            break;
        }
    }
    /* opened after the fork: a SQLite connection must not be carried into a child */
    if (!rvm_run_sink_open(&s.sink, s.o.db, err, sizeof(err))) {
        rvm_errorf("sweep: %s", err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    s.t0 = mono_ns();
    for (uint32_t i = 0; i < nworkers; i++) {
        (void)assign(&s, &workers[i], nworkers);
    }

    if (!supervise(&s, workers, nworkers)) {
        goto out;
    }
    /* The runs are only in the store once this commits: its failure is the sweep's. */
    if (s.o.db != NULL && !s.store_error && !s.sink.ops->commit(s.sink.ctx)) {
        rvm_errorf("sweep: committing the runs to '%s' failed: %s", s.o.db,
                   s.sink.ops->error(s.sink.ctx));
        s.store_error = true;
    }
    rc = summarize(&s, nworkers);
    if (s.o.coverage != 0) {
        report_coverage(&s);
    }

out:
    for (uint32_t i = 0; i < nworkers; i++) {
        struct worker *w = &workers[i];
        if (w->alive) {
            struct cmd_msg quit = {0, 0};
            (void)write_all(w->cmd_fd, &quit, sizeof(quit));
            close(w->cmd_fd);
            close(w->res_fd);
            waitpid(w->pid, NULL, 0);
        }
    }
    free(workers);
    if (s.sink.ops != NULL) {
        rvm_run_sink_close(&s.sink);
    }
    rvm_sim_free(s.local);
    rvm_openssl_crypto_free(oc);
    free(s.requeue);
    free(s.pending);
    free(s.fails);
    rvm_scenario_free(&scn);
    free(text);
    restore_stop_signals();
    return rc;
}
