/* SPDX-License-Identifier: MIT */
/*
 * rvmbench: runs the registered workloads.
 *
 *   rvmbench [--filter SUBSTR | --only NAME] [--json FILE] [--repeats N] [--min-sample-ms N]
 *            [--list] [--fixed ITERS]
 *
 * Timing uses CLOCK_MONOTONIC; each sample runs a calibrated number of iterations lasting at
 * least --min-sample-ms (default 20); one warm-up sample is discarded; --repeats samples
 * (default 11) give min / median / max ns per op. --fixed runs ITERS iterations of each workload
 * untimed, for callgrind (bench/check.py). --list prints one tab-separated line per workload:
 * name, unit, ops per iteration, description.
 */
#include "harness.h"
#include "json.h"

#include <getopt.h>
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

struct options {
    const char *filter;
    const char *only;
    const char *json_path;
    int repeats;
    uint64_t min_sample_ns;
    uint64_t fixed_iters;
    int list;
};

static void run_workload(const struct bench_workload *w, const struct options *o, FILE *json,
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
        return;
    }

    uint64_t iters = 1;
    for (;;) { /* calibrate: double until a sample is long enough */
        uint64_t t0 = now_ns();
        w->run(ctx, iters);
        uint64_t dt = now_ns() - t0;
        if (dt >= o->min_sample_ns || iters >= ((uint64_t)1 << 40)) {
            break;
        }
        iters *= 2;
    }
    double *samples = calloc((size_t)o->repeats, sizeof(double));
    w->run(ctx, iters); /* warm-up */
    for (int r = 0; r < o->repeats; r++) {
        uint64_t t0 = now_ns();
        w->run(ctx, iters);
        uint64_t dt = now_ns() - t0;
        samples[r] = (double)dt / (double)(iters * w->ops_per_iter);
    }
    if (w->teardown != NULL) {
        w->teardown(ctx);
    }
    qsort(samples, (size_t)o->repeats, sizeof(double), cmp_double);
    double min = samples[0], median = samples[o->repeats / 2], max = samples[o->repeats - 1];
    printf("%-40s %12.2f %12.2f %12.2f  ns/%s\n", w->name, min, median, max, w->unit);
    fflush(stdout);
    if (json != NULL) {
        struct rvm_json j;
        rvm_json_init(&j, json);
        rvm_json_object_begin(&j);
        rvm_json_key_string(&j, "name", w->name);
        rvm_json_key_string(&j, "unit", w->unit);
        rvm_json_key_double(&j, "ns_per_op_min", min);
        rvm_json_key_double(&j, "ns_per_op_median", median);
        rvm_json_key_double(&j, "ns_per_op_max", max);
        rvm_json_key_int(&j, "repeats", o->repeats);
        rvm_json_key_int(&j, "iters_per_sample", (int64_t)iters); /* at most 2^40 */
        rvm_json_key_int(&j, "ops_per_iter", (int64_t)w->ops_per_iter);
        rvm_json_key_string(&j, "build", RVMSIM_VERSION);
        rvm_json_key_string(&j, "compiler", __VERSION__);
        rvm_json_key_string(&j, "flags", RVM_BENCH_CFLAGS);
        rvm_json_key_string(&j, "cpu", cpu);
        rvm_json_key_string(&j, "description", w->description);
        rvm_json_object_end(&j);
        rvm_json_newline(&j);
        fflush(json);
    }
    free(samples);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: rvmbench [--filter SUBSTR | --only NAME] [--json FILE] [--repeats N] "
                 "[--min-sample-ms N] [--list] [--fixed ITERS]\n");
}

int main(int argc, char **argv)
{
    struct options o = {.repeats = 11, .min_sample_ns = 20000000u};
    static const struct option longopts[] = {
        {"filter", required_argument, NULL, 'f'},
        {"json", required_argument, NULL, 'j'},
        {"only", required_argument, NULL, 'o'},
        {"repeats", required_argument, NULL, 'r'},
        {"min-sample-ms", required_argument, NULL, 'm'},
        {"list", no_argument, NULL, 'l'},
        {"fixed", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    for (;;) {
        int c = getopt_long(argc, argv, "f:o:j:r:m:lx:h", longopts, NULL);
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
        json = fopen(o.json_path, "w");
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
            run_workload(w, &o, json, cpu);
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
    return 0;
}
