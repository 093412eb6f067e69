/* SPDX-License-Identifier: MIT */
/*
 * rvmbench: runs the registered workloads.
 *
 *   rvmbench [--filter SUBSTR | --only NAME] [--json FILE] [--repeats N] [--min-sample-ms N]
 *            [--max-spread F] [--list] [--fixed ITERS]
 *
 * Timing uses CLOCK_MONOTONIC; each sample runs a calibrated number of iterations lasting at
 * least --min-sample-ms (default 20); one warm-up sample is discarded; --repeats samples
 * (default 11) give min / median / max ns per op. Calibration doubles the iteration count until
 * a sample lasts the minimum and a second sample of that count confirms it (one stalled sample,
 * an I/O hiccup, would otherwise end calibration at a handful of iterations). A result whose
 * median exceeds its minimum by more than --max-spread (default 0.5, i.e. 50 %) is measured
 * again, up to MEASURE_ATTEMPTS times, then refused: printed as REFUSED, left out of the JSON,
 * and the exit status is 1. --json appends one line per workload (the file is never truncated).
 * --fixed runs ITERS iterations of each workload untimed, for callgrind (bench/check.py).
 * --list prints one tab-separated line per workload: name, unit, ops per iteration, description.
 */
#include "harness.h"
#include "json.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_version.h"
#ifndef RVM_BENCH_CFLAGS
#define RVM_BENCH_CFLAGS "unknown"
#endif

static struct bench_group (*const groups[])(void) = {
    // clang-format off
    bench_witness_group,
    bench_platform_group,
    bench_coherence_group,
    bench_cap_group,
    bench_sim_group,
    bench_mem_group,
    bench_sched_group,
    bench_replay_group,
    bench_kernel_group,
    // clang-format on
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon != NULL) {
                colon += 2;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

/* The 1-minute load average, or -1 when /proc/loadavg cannot be read. */
static double load_average(void)
{
    double load = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1) {
            load = -1.0;
        }
        fclose(f);
    }
    return load;
}

struct options {
    const char *filter;
    const char *only;
    const char *json_path;
    int repeats;
    uint64_t min_sample_ns;
    double max_spread;
    uint64_t fixed_iters;
    int list;
};

#define MEASURE_ATTEMPTS      3
#define MAX_CALIBRATION_ITERS ((uint64_t)1 << 40)

static uint64_t timed_run(const struct bench_workload *w, void *ctx, uint64_t iters)
{
    uint64_t t0 = now_ns();
    w->run(ctx, iters);
    return now_ns() - t0;
}

/* The smallest doubling of the iteration count whose sample lasts min_sample_ns, twice in a row:
 * a count accepted on one sample alone is too small whenever that sample stalled. */
static uint64_t calibrate(const struct bench_workload *w, void *ctx, uint64_t min_sample_ns)
{
    uint64_t iters = 1;
    for (;;) { /* bound: doubling up to MAX_CALIBRATION_ITERS */
        if (iters >= MAX_CALIBRATION_ITERS) {
            return iters;
        }
        if (timed_run(w, ctx, iters) >= min_sample_ns &&
            timed_run(w, ctx, iters) >= min_sample_ns) {
            return iters;
        }
        iters *= 2;
    }
}

struct figures {
    double min, median, max;
};

static struct figures sample(const struct bench_workload *w, void *ctx, uint64_t iters, int repeats,
                             double *samples)
{
    w->run(ctx, iters); /* warm-up */
    for (int r = 0; r < repeats; r++) {
        samples[r] = (double)timed_run(w, ctx, iters) / (double)(iters * w->ops_per_iter);
    }
    qsort(samples, (size_t)repeats, sizeof(double), cmp_double);
    struct figures f = {samples[0], samples[repeats / 2], samples[repeats - 1]};
    return f;
}

static void json_line(FILE *json, const struct bench_workload *w, const struct options *o,
                      const struct figures *f, uint64_t iters, const char *cpu)
{
    struct rvm_json j;
    rvm_json_init(&j, json);
    rvm_json_object_begin(&j);
    rvm_json_key_string(&j, "name", w->name);
    rvm_json_key_string(&j, "unit", w->unit);
    rvm_json_key_double(&j, "ns_per_op_min", f->min);
    rvm_json_key_double(&j, "ns_per_op_median", f->median);
    rvm_json_key_double(&j, "ns_per_op_max", f->max);
    rvm_json_key_int(&j, "repeats", o->repeats);
    rvm_json_key_int(&j, "iters_per_sample", (int64_t)iters); /* at most 2^40 */
    rvm_json_key_int(&j, "ops_per_iter", (int64_t)w->ops_per_iter);
    rvm_json_key_string(&j, "build", RVMSIM_VERSION);
    rvm_json_key_string(&j, "compiler", __VERSION__);
    rvm_json_key_string(&j, "flags", RVM_BENCH_CFLAGS);
    rvm_json_key_string(&j, "cpu", cpu);
    rvm_json_key_double(&j, "load_average_1m", load_average());
    rvm_json_key_string(&j, "description", w->description);
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
    fflush(json);
}

/* False when the figures were refused (the repeats disagreed on every attempt). */
static bool run_workload(const struct bench_workload *w, const struct options *o, FILE *json,
                         const char *cpu)
{
    void *ctx = w->setup != NULL ? w->setup() : NULL;
    if (w->setup != NULL && ctx == NULL) {
        fprintf(stderr, "rvmbench: %s: set-up failed\n", w->name);
        exit(6);
    }
    if (o->fixed_iters != 0) {
        w->run(ctx, o->fixed_iters);
        if (w->teardown != NULL) {
            w->teardown(ctx);
        }
        printf("%-40s ran %llu iterations\n", w->name, (unsigned long long)o->fixed_iters);
        return true;
    }

    double *samples = calloc((size_t)o->repeats, sizeof(double));
    uint64_t iters = 0;
    struct figures f = {0, 0, 0};
    const char *refusal = NULL;
    for (int attempt = 0; attempt < MEASURE_ATTEMPTS; attempt++) {
        iters = calibrate(w, ctx, o->min_sample_ns);
        f = sample(w, ctx, iters, o->repeats, samples);
        /* A count calibrated on stalled samples gives samples far shorter than asked for, whose
         * fixed per-sample cost then inflates every figure alike (so they may still agree). */
        const double shortest_ns = f.min * (double)iters * (double)w->ops_per_iter;
        if (iters < MAX_CALIBRATION_ITERS && shortest_ns < (double)o->min_sample_ns / 4.0) {
            refusal = "samples shorter than a quarter of --min-sample-ms (calibration stalled)";
        } else if (f.median > f.min * (1.0 + o->max_spread)) {
            refusal = "median/min above 1 + --max-spread";
        } else {
            refusal = NULL;
            break;
        }
    }
    const bool agreed = refusal == NULL;
    if (w->teardown != NULL) {
        w->teardown(ctx);
    }
    free(samples);
    printf("%-40s %12.2f %12.2f %12.2f  ns/%s%s%s\n", w->name, f.min, f.median, f.max, w->unit,
           agreed ? "" : "  REFUSED: ", agreed ? "" : refusal);
    fflush(stdout);
    if (json != NULL && agreed) {
        json_line(json, w, o, &f, iters, cpu);
    }
    return agreed;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: rvmbench [--filter SUBSTR | --only NAME] [--json FILE] [--repeats N] "
                 "[--min-sample-ms N] [--max-spread F] [--list] [--fixed ITERS]\n");
}

int main(int argc, char **argv)
{
    struct options o = {.repeats = 11, .min_sample_ns = 20000000u, .max_spread = 0.5};
    static const struct option longopts[] = {
        {"filter", required_argument, NULL, 'f'},
        {"json", required_argument, NULL, 'j'},
        {"only", required_argument, NULL, 'o'},
        {"repeats", required_argument, NULL, 'r'},
        {"min-sample-ms", required_argument, NULL, 'm'},
        {"max-spread", required_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"fixed", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    for (;;) {
        int c = getopt_long(argc, argv, "f:o:j:r:m:s:lx:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        char *end = NULL;
        switch (c) {
        case 'f':
            o.filter = optarg;
            break;
        case 'o':
            o.only = optarg;
            break;
        case 'j':
            o.json_path = optarg;
            break;
        case 'r':
            o.repeats = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || o.repeats < 1 || o.repeats > 1000) {
                fprintf(stderr, "rvmbench: --repeats must be 1..1000\n");
                return 2;
            }
            break;
        case 'm':
            o.min_sample_ns = strtoull(optarg, &end, 10) * 1000000u;
            if (*end != '\0' || o.min_sample_ns == 0) {
                fprintf(stderr, "rvmbench: --min-sample-ms must be a positive integer\n");
                return 2;
            }
            break;
        case 's':
            o.max_spread = strtod(optarg, &end);
            if (*end != '\0' || !(o.max_spread >= 0.0)) {
                fprintf(stderr, "rvmbench: --max-spread must be a number >= 0\n");
                return 2;
            }
            break;
        case 'l':
            o.list = 1;
            break;
        case 'x':
            o.fixed_iters = strtoull(optarg, &end, 10);
            if (*end != '\0' || o.fixed_iters == 0) {
                fprintf(stderr, "rvmbench: --fixed must be a positive integer\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    FILE *json = NULL;
    if (o.json_path != NULL && !o.list) {
        json = fopen(o.json_path, "a");
        if (json == NULL) {
            fprintf(stderr, "rvmbench: cannot write %s\n", o.json_path);
            return 2;
        }
    }
    char cpu[256];
    cpu_model(cpu, sizeof(cpu));
    if (!o.list && o.fixed_iters == 0) {
        printf("%-40s %12s %12s %12s\n", "workload", "min", "median", "max");
    }
    int matched = 0;
    int refused = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        struct bench_group grp = groups[g]();
        for (size_t i = 0; i < grp.count; i++) {
            const struct bench_workload *w = &grp.workloads[i];
            if ((o.filter != NULL && strstr(w->name, o.filter) == NULL) ||
                (o.only != NULL && strcmp(w->name, o.only) != 0)) {
                continue;
            }
            matched++;
            if (o.list) {
                printf("%s\t%s\t%llu\t%s\n", w->name, w->unit, (unsigned long long)w->ops_per_iter,
                       w->description);
                continue;
            }
            refused += run_workload(w, &o, json, cpu) ? 0 : 1;
        }
    }
    if (json != NULL) {
        fclose(json);
    }
    if (matched == 0) {
        fprintf(stderr, "rvmbench: no workload matches '%s'\n",
                o.only ? o.only : (o.filter ? o.filter : ""));
        return 2;
    }
    if (refused != 0) {
        fprintf(stderr,
                "rvmbench: %d result(s) refused: repeats disagreed beyond --max-spread %.2f or "
                "samples stayed far below --min-sample-ms\n",
                refused, o.max_spread);
        return 1;
    }
    return 0;
}
