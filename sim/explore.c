/* SPDX-License-Identifier: MIT */
#include "explore.h"

#include "exit_codes.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS    64u
#define DIGEST_KEEP 16u /* bytes of a state digest kept to tell states apart */
#define NO_PARENT   UINT32_MAX
#define MSG_BATCH   128u /* messages a worker buffers before writing (128 * 28 < PIPE_BUF) */

/* What a worker reports, one fixed-size message each. */
enum msg_kind {
    MSG_STATE,  /* node's successor by `choice` is a state with `digest` */
    MSG_FAILED, /* node's successor by `choice` failed an oracle */
    MSG_NODE,   /* node expanded */
    MSG_ERROR,  /* re-running node's sequence did not reach it again (a determinism defect) */
};

struct msg {
    uint32_t node;
    uint32_t choice;
    uint32_t kind;
    uint8_t digest[DIGEST_KEEP];
};

/* The explored states: a tree of choices (each state once, by the sequence that first reached
 * it) and the set of digests seen. */
struct search {
    struct rvm_sim *sim;
    const struct rvm_scenario *scn;
    const struct rvm_explore_config *cfg;
    struct rvm_explore_result *res;
    struct rvm_sim_outcome scratch;
    uint32_t *parent, *choice;
    uint64_t nnodes, node_cap;
    uint8_t (*keys)[DIGEST_KEEP];
    bool *used;
    uint64_t set_cap, set_count;
    struct timespec t0;
    double next_progress;
    bool stop;
    /* the failure, when one was found */
    bool failed;
    uint32_t fail_node, fail_choice;
};

const char *rvm_explore_stop_name(enum rvm_explore_stop stop)
{
    static const char *const names[] = {"exhausted", "depth",  "max-states",
                                        "time",      "failed", "error"};
    return (unsigned)stop < sizeof(names) / sizeof(names[0]) ? names[stop] : "?";
}

static double elapsed(const struct search *s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) + (double)(t.tv_nsec - s->t0.tv_nsec) / 1e9;
}

static void search_error(struct search *s, const char *what)
{
    if (s->res->stop != RVM_EXPLORE_ERROR) {
        s->res->stop = RVM_EXPLORE_ERROR;
        snprintf(s->res->error, sizeof(s->res->error), "%s", what);
    }
    s->stop = true;
}

/* ------------------------------------------------------------------------------------------------
 * States: the tree and the digest set
 * --------------------------------------------------------------------------------------------- */

static uint64_t key_hash(const uint8_t *k)
{
    uint64_t h;
    memcpy(&h, k, sizeof(h)); /* a SHA-256 prefix: already uniform */
    return h;
}

static bool set_grow(struct search *s)
{
    uint64_t cap = s->set_cap != 0 ? s->set_cap * 2 : 1u << 16;
    uint8_t(*keys)[DIGEST_KEEP] = calloc(cap, DIGEST_KEEP);
    bool *used = calloc(cap, sizeof(bool));
    if (keys == NULL || used == NULL) {
        free(keys);
        free(used);
        return false;
    }
    for (uint64_t i = 0; i < s->set_cap; i++) { /* bound: the old capacity */
        if (!s->used[i]) {
            continue;
        }
        uint64_t j = key_hash(s->keys[i]) & (cap - 1u);
        while (used[j]) { /* bound: cap (half empty) */
            j = (j + 1u) & (cap - 1u);
        }
        used[j] = true;
        memcpy(keys[j], s->keys[i], DIGEST_KEEP);
    }
    free(s->keys);
    free(s->used);
    s->keys = keys;
    s->used = used;
    s->set_cap = cap;
    return true;
}

/* true when `k` was not in the set (it is now) */
static bool set_insert(struct search *s, const uint8_t *k)
{
    if ((s->set_count + 1u) * 2u > s->set_cap && !set_grow(s)) {
        search_error(s, "out of memory for state digests");
        return false;
    }
    uint64_t j = key_hash(k) & (s->set_cap - 1u);
    while (s->used[j]) { /* bound: set_cap (half empty) */
        if (memcmp(s->keys[j], k, DIGEST_KEEP) == 0) {
            return false;
        }
        j = (j + 1u) & (s->set_cap - 1u);
    }
    s->used[j] = true;
    memcpy(s->keys[j], k, DIGEST_KEEP);
    s->set_count++;
    return true;
}

static bool add_node(struct search *s, uint32_t parent, uint32_t choice)
{
    if (s->nnodes == s->node_cap) {
        uint64_t cap = s->node_cap != 0 ? s->node_cap * 2 : 1u << 16;
        if (cap > UINT32_MAX) {
            search_error(s, "more than 2^32 states");
            return false;
        }
        uint32_t *p = realloc(s->parent, cap * sizeof(*p));
        if (p != NULL) {
            s->parent = p;
        }
        uint32_t *c = realloc(s->choice, cap * sizeof(*c));
        if (c != NULL) {
            s->choice = c;
        }
        if (p == NULL || c == NULL) {
            search_error(s, "out of memory for states");
            return false;
        }
        s->node_cap = cap;
    }
    s->parent[s->nnodes] = parent;
    s->choice[s->nnodes] = choice;
    s->nnodes++;
    return true;
}

/* The choices from the root to `node`, into path[RVM_EXPLORE_MAX_DEPTH]; returns the length. */
static uint32_t node_path(const struct search *s, uint32_t node, uint32_t *path)
{
    uint32_t n = 0;
    for (uint32_t at = node; s->parent[at] != NO_PARENT; at = s->parent[at]) { /* bound: depth */
        path[n++] = s->choice[at];
    }
    for (uint32_t i = 0; i < n / 2u; i++) {
        uint32_t t = path[i];
        path[i] = path[n - 1u - i];
        path[n - 1u - i] = t;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------------
 * Running sequences
 * --------------------------------------------------------------------------------------------- */

static struct rvm_sim_options explore_options(uint64_t seed)
{
    return (struct rvm_sim_options){.seed = seed, .faults = RVM_SIM_FAULTS_NONE, .nwnm_every = 1};
}

/* Re-creates the state `path` leads to; false when the run failed on the way. */
static bool reach(struct search *s, const uint32_t *path, uint32_t len)
{
    const struct rvm_sim_options opt = explore_options(s->cfg->seed);
    if (!rvm_sim_explore_begin(s->sim, s->scn, &opt, &s->scratch)) {
        return false;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (path[i] >= rvm_sim_explore_choices(s->sim) || !rvm_sim_explore_step(s->sim, path[i])) {
            return false;
        }
    }
    return true;
}

int rvm_explore_replay(struct rvm_sim *sim, const struct rvm_scenario *scn, uint64_t seed,
                       const uint32_t *path, uint32_t len, struct rvm_sim_outcome *out)
{
    struct rvm_sim_options opt = explore_options(seed);
    opt.linearize = true;
    if (rvm_sim_explore_begin(sim, scn, &opt, out)) {
        for (uint32_t i = 0; i < len; i++) {
            if (path[i] >= rvm_sim_explore_choices(sim) || !rvm_sim_explore_step(sim, path[i])) {
                break;
            }
        }
    }
    return rvm_sim_explore_end(sim);
}

/* A worker's outgoing messages: written in batches under PIPE_BUF, so each write is atomic. */
struct emitter {
    struct search *s; /* in-process (one job): messages are handled at once */
    int fd;           /* a worker: the pipe to the parent */
    struct msg buf[MSG_BATCH];
    uint32_t n;
};

static void handle(struct search *s, const struct msg *m);

static bool emit_flush(struct emitter *e)
{
    const uint8_t *p = (const uint8_t *)e->buf;
    size_t left = e->n * sizeof(struct msg);
    while (left != 0) { /* bound: the batch, a write at a time */
        ssize_t w = write(e->fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        left -= (size_t)w;
    }
    e->n = 0;
    return true;
}

static bool emit(struct emitter *e, uint32_t kind, uint32_t node, uint32_t choice,
                 const uint8_t *digest)
{
    struct msg m = {.node = node, .choice = choice, .kind = kind};
    if (digest != NULL) {
        memcpy(m.digest, digest, DIGEST_KEEP);
    }
    if (e->s != NULL) {
        handle(e->s, &m);
        return !e->s->stop;
    }
    e->buf[e->n++] = m;
    return e->n < MSG_BATCH || emit_flush(e);
}

/* Every successor of `node`: each run from the root, judged, its digest reported. */
static bool expand(struct search *s, uint32_t node, struct emitter *e)
{
    uint32_t path[RVM_EXPLORE_MAX_DEPTH + 1];
    uint32_t len = node_path(s, node, path);
    if (!reach(s, path, len)) {
        return emit(e, MSG_ERROR, node, 0, NULL);
    }
    const uint64_t n = rvm_sim_explore_choices(s->sim);
    for (uint64_t c = 0; c < n; c++) {
        if (c != 0 && !reach(s, path, len)) {
            return emit(e, MSG_ERROR, node, 0, NULL);
        }
        if (!rvm_sim_explore_step(s->sim, c)) {
            if (!emit(e, MSG_FAILED, node, (uint32_t)c, NULL)) {
                return false;
            }
            continue;
        }
        uint8_t digest[32];
        rvm_sim_explore_digest(s->sim, digest);
        if (!emit(e, MSG_STATE, node, (uint32_t)c, digest)) {
            return false;
        }
    }
    return emit(e, MSG_NODE, node, 0, NULL);
}

/* ------------------------------------------------------------------------------------------------
 * The parent: results, limits, progress
 * --------------------------------------------------------------------------------------------- */

static void check_limits(struct search *s)
{
    const struct rvm_explore_config *cfg = s->cfg;
    double t = elapsed(s);
    s->res->stats.seconds = t;
    if (cfg->time_limit > 0 && t >= cfg->time_limit && !s->stop) {
        s->res->stop = RVM_EXPLORE_TIME;
        s->stop = true;
    }
    if (cfg->progress != NULL && t >= s->next_progress) {
        s->next_progress = t + cfg->progress_every;
        cfg->progress(cfg->progress_ctx, &s->res->stats);
    }
}

static void handle(struct search *s, const struct msg *m)
{
    struct rvm_explore_stats *st = &s->res->stats;
    switch (m->kind) {
    case MSG_STATE:
        st->runs++;
        st->level_runs++;
        if (set_insert(s, m->digest)) {
            if (!add_node(s, m->node, m->choice)) {
                return;
            }
            st->distinct++;
            if (s->cfg->max_states != 0 && st->distinct >= s->cfg->max_states && !s->stop) {
                s->res->stop = RVM_EXPLORE_MAX_STATES;
                s->stop = true;
            }
        }
        break;
    case MSG_FAILED:
        st->runs++;
        st->level_runs++;
        if (!s->failed) {
            s->failed = true;
            s->fail_node = m->node;
            s->fail_choice = m->choice;
            s->res->stop = RVM_EXPLORE_FAILED;
            s->stop = true;
        }
        break;
    case MSG_NODE:
        st->expanded++;
        break;
    default:
        search_error(s, "re-running a sequence did not reach the same state (non-determinism)");
        break;
    }
    if ((st->runs & 63u) == 0) {
        check_limits(s);
    }
}

struct worker {
    pid_t pid;
    int fd;
    uint8_t buf[8192];
    size_t have;
    bool open;
};

static void worker_main(struct search *s, uint64_t from, uint64_t to, uint32_t w, uint32_t jobs,
                        int fd)
{
    struct emitter e = {.fd = fd};
    bool ok = true;
    for (uint64_t node = from + w; node < to && ok; node += jobs) {
        ok = expand(s, (uint32_t)node, &e);
    }
    if (ok) {
        (void)emit_flush(&e);
    }
    close(fd);
    _exit(ok ? 0 : 1);
}

static void stop_workers(struct worker *wk, uint32_t jobs)
{
    for (uint32_t w = 0; w < jobs; w++) {
        if (wk[w].pid > 0) {
            kill(wk[w].pid, SIGKILL);
        }
    }
}

static void drain_worker(struct search *s, struct worker *w)
{
    ssize_t got = read(w->fd, w->buf + w->have, sizeof(w->buf) - w->have);
    if (got < 0 && errno == EINTR) {
        return;
    }
    if (got <= 0) {
        close(w->fd);
        w->open = false;
        return;
    }
    w->have += (size_t)got;
    size_t at = 0;
    while (w->have - at >= sizeof(struct msg) && !s->stop) {
        struct msg m;
        memcpy(&m, w->buf + at, sizeof(m));
        handle(s, &m);
        at += sizeof(m);
    }
    if (s->stop) {
        w->have = 0;
        return;
    }
    memmove(w->buf, w->buf + at, w->have - at);
    w->have -= at;
}

/* Expands the states [from, to) in `jobs` worker processes. */
static void expand_level_workers(struct search *s, uint64_t from, uint64_t to, uint32_t jobs)
{
    struct worker wk[MAX_JOBS];
    memset(wk, 0, sizeof(wk));
    fflush(NULL);
    for (uint32_t w = 0; w < jobs; w++) {
        int fds[2];
        if (pipe(fds) != 0) {
            search_error(s, "cannot create a pipe for a worker");
            stop_workers(wk, w);
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(fds[0]);
            close(fds[1]);
            search_error(s, "cannot start a worker process");
            stop_workers(wk, w);
            break;
        }
        if (pid == 0) {
            close(fds[0]);
            for (uint32_t o = 0; o < w; o++) {
                close(wk[o].fd);
            }
            worker_main(s, from, to, w, jobs, fds[1]);
        }
        close(fds[1]);
        wk[w] = (struct worker){.pid = pid, .fd = fds[0], .open = true};
    }
    for (;;) { /* bound: until every worker's pipe closes or the search stops */
        struct pollfd pf[MAX_JOBS];
        uint32_t idx[MAX_JOBS], n = 0;
        for (uint32_t w = 0; w < jobs; w++) {
            if (wk[w].open) {
                pf[n] = (struct pollfd){.fd = wk[w].fd, .events = POLLIN};
                idx[n++] = w;
            }
        }
        if (n == 0 || s->stop) {
            break;
        }
        int r = poll(pf, n, 200);
        check_limits(s);
        for (uint32_t i = 0; i < n && r > 0 && !s->stop; i++) {
            if (pf[i].revents != 0) {
                drain_worker(s, &wk[idx[i]]);
            }
        }
    }
    if (s->stop) {
        stop_workers(wk, jobs);
    }
    for (uint32_t w = 0; w < jobs; w++) {
        if (wk[w].open) {
            close(wk[w].fd);
        }
        int status = 0;
        if (wk[w].pid > 0 && waitpid(wk[w].pid, &status, 0) == wk[w].pid && !s->stop &&
            !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            search_error(s, "a worker process died");
        }
    }
}

static void expand_level(struct search *s, uint64_t from, uint64_t to)
{
    uint32_t jobs = s->cfg->jobs;
    if (jobs > MAX_JOBS) {
        jobs = MAX_JOBS;
    }
    if (jobs > to - from) {
        jobs = (uint32_t)(to - from);
    }
    if (jobs <= 1u) {
        struct emitter e = {.s = s};
        for (uint64_t node = from; node < to && !s->stop; node++) {
            (void)expand(s, (uint32_t)node, &e);
        }
        return;
    }
    expand_level_workers(s, from, to, jobs);
}

static void search_free(struct search *s)
{
    free(s->parent);
    free(s->choice);
    free(s->keys);
    free(s->used);
}

/* The failing sequence, re-run to get its outcome. */
static void record_failure(struct search *s, const uint32_t *path, uint32_t len)
{
    struct rvm_explore_result *res = s->res;
    res->path = malloc(sizeof(uint32_t) * (len + 1u));
    if (res->path == NULL) {
        search_error(s, "out of memory");
        return;
    }
    if (len != 0) {
        memcpy(res->path, path, sizeof(uint32_t) * len);
    }
    res->path_len = len;
    (void)rvm_explore_replay(s->sim, s->scn, s->cfg->seed, path, len, &res->outcome);
}

void rvm_explore(struct rvm_sim *sim, const struct rvm_scenario *scn,
                 const struct rvm_explore_config *cfg, struct rvm_explore_result *res)
{
    memset(res, 0, sizeof(*res));
    struct search s = {.sim = sim, .scn = scn, .cfg = cfg, .res = res};
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    s.next_progress = cfg->progress_every;
    const uint32_t depth = cfg->depth < RVM_EXPLORE_MAX_DEPTH ? cfg->depth : RVM_EXPLORE_MAX_DEPTH;

    /* the root: the scenario's own steps */
    if (!reach(&s, NULL, 0)) {
        record_failure(&s, NULL, 0);
        res->stop = RVM_EXPLORE_FAILED;
        return;
    }
    res->stats.root_choices = rvm_sim_explore_choices(sim);
    uint8_t digest[32];
    rvm_sim_explore_digest(sim, digest);
    (void)set_insert(&s, digest);
    (void)add_node(&s, NO_PARENT, 0);
    res->stats.distinct = 1;
    res->stop = RVM_EXPLORE_DEPTH;

    uint64_t level_from = 0, level_to = s.nnodes;
    for (uint32_t d = 1; d <= depth && !s.stop; d++) {
        res->stats.depth = d;
        res->stats.frontier = level_to - level_from;
        res->stats.expanded = 0;
        res->stats.level_runs = 0;
        expand_level(&s, level_from, level_to);
        if (s.stop) {
            break;
        }
        res->stats.depth_done = d;
        res->stats.seconds = elapsed(&s);
        if (cfg->level_done != NULL) {
            cfg->level_done(cfg->progress_ctx, &res->stats);
        }
        level_from = level_to;
        level_to = s.nnodes;
        if (level_from == level_to) {
            res->stop = RVM_EXPLORE_EXHAUSTED;
            break;
        }
    }
    res->stats.seconds = elapsed(&s);
    if (s.failed) {
        uint32_t path[RVM_EXPLORE_MAX_DEPTH + 1];
        uint32_t len = node_path(&s, s.fail_node, path);
        path[len++] = s.fail_choice;
        record_failure(&s, path, len);
    }
    search_free(&s);
}

void rvm_explore_result_free(struct rvm_explore_result *res)
{
    free(res->path);
    res->path = NULL;
}
