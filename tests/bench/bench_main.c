/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_main.c - `make bench`: runs every row and prints one table.
 *
 *   bench [-r ROUNDS] [-t MS] [-c CALLGRIND_RESULTS] [-p PIPELINE_RESULTS]
 *         [-o ROW]
 *
 * -o runs only the timed rows whose id starts with ROW ("3b", "1"), for a
 * profiler: perf record -e cpu-clock build/bench/bench -o 3b -t 500.
 *
 * Timed rows (codec, trickle, link) are calibrated to about MS
 * milliseconds each, then run round-robin ROUNDS times; the table shows the
 * median of the rounds.  Ratios are computed here, from medians measured
 * in this very run, against the row named in the "against" column.
 * Figures that come from other programs (callgrind instruction counts, the
 * end-to-end pipeline) are read from the result files the Makefile
 * produced just before, so everything lands in one table.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kdcom.h>

#include "bench.h"

#define MAX_ROWS 96

volatile uint32_t bench_sink;

struct line {
    struct bench_meas *meas; /* timed row, or NULL for a static one */
    char id[8], name[48], value[24], mbps[16], ratio[12], against[64],
        note[48];
};

static struct bench_meas meas[MAX_ROWS];
static int nmeas;
static struct line lines[MAX_ROWS];
static int nlines;

double bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

struct bench_meas *bench_add(const char *id, const char *ref, double bytes,
                             bench_fn run, void *ctx, const char *fmt, ...)
{
    struct bench_meas *m;
    va_list ap;

    if (nmeas == MAX_ROWS || nlines == MAX_ROWS) {
        fprintf(stderr, "bench: too many rows\n");
        exit(2);
    }
    m = &meas[nmeas++];
    memset(m, 0, sizeof *m);
    m->id = id;
    copy_str(m->ref, sizeof m->ref, ref);
    m->bytes_per_op = bytes;
    m->run = run;
    m->ctx = ctx;
    va_start(ap, fmt);
    vsnprintf(m->name, sizeof m->name, fmt, ap);
    va_end(ap);
    memset(&lines[nlines], 0, sizeof lines[nlines]);
    lines[nlines++].meas = m;
    return m;
}

void bench_static(const char *id, const char *name, const char *value,
                  const char *mbps, const char *ratio, const char *against,
                  const char *note)
{
    struct line *l;

    if (nlines == MAX_ROWS)
        return;
    l = &lines[nlines++];
    memset(l, 0, sizeof *l);
    copy_str(l->id, sizeof l->id, id);
    copy_str(l->name, sizeof l->name, name);
    copy_str(l->value, sizeof l->value, value);
    copy_str(l->mbps, sizeof l->mbps, mbps);
    copy_str(l->ratio, sizeof l->ratio, ratio);
    copy_str(l->against, sizeof l->against, against);
    copy_str(l->note, sizeof l->note, note);
}

static struct bench_meas *find(const char *id)
{
    int i;

    for (i = 0; i < nmeas; i++)
        if (strcmp(meas[i].id, id) == 0)
            return &meas[i];
    return NULL;
}

double bench_median_of(const char *id)
{
    struct bench_meas *m = find(id);

    return m ? m->median : 0;
}

/* Iterations that take about target_ns, found by doubling. */
static void calibrate(struct bench_meas *m, double target_ns)
{
    long n = 1;

    for (;;) {
        double t0 = bench_now_ns(), dt;

        m->run(m, n);
        dt = bench_now_ns() - t0;
        if (dt >= target_ns / 8 || n >= (1L << 40)) {
            double k = dt > 0 ? target_ns / dt : 8;
            m->iters = (long)((double)n * k);
            if (m->iters < 1)
                m->iters = 1;
            return;
        }
        n *= 2;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static const char *only; /* -o: row id prefix, or NULL for all rows */

static int selected(const char *id)
{
    return only == NULL || strncmp(id, only, strlen(only)) == 0;
}

static void measure_all(int rounds, double ms)
{
    int r, i;

    for (i = 0; i < nmeas; i++)
        if (selected(meas[i].id))
            calibrate(&meas[i], ms * 1e6);
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < nmeas; i++) {
            struct bench_meas *m = &meas[i];
            double t0;

            if (!selected(m->id))
                continue;
            t0 = bench_now_ns();

            m->run(m, m->iters);
            m->ns_per_op[m->nsamples++] =
                (bench_now_ns() - t0) / (double)m->iters;
        }
    }
    for (i = 0; i < nmeas; i++) {
        struct bench_meas *m = &meas[i];
        double s[BENCH_MAX_ROUNDS];

        if (m->nsamples == 0)
            continue;
        memcpy(s, m->ns_per_op, sizeof s);
        qsort(s, (size_t)m->nsamples, sizeof s[0], cmp_double);
        m->median = m->nsamples % 2
                        ? s[m->nsamples / 2]
                        : (s[m->nsamples / 2 - 1] + s[m->nsamples / 2]) / 2;
    }
}

/* Throughput ratio of m to its reference: payload bytes per second when
 * both rows move payload, operations per second otherwise. */
static double ratio_of(const struct bench_meas *m, const struct bench_meas *r)
{
    if (m->bytes_per_op > 0 && r->bytes_per_op > 0)
        return (m->bytes_per_op / m->median) / (r->bytes_per_op / r->median);
    return r->median / m->median;
}

static void fill_timed(struct line *l)
{
    struct bench_meas *m = l->meas, *r = find(m->ref);

    copy_str(l->id, sizeof l->id, m->id);
    copy_str(l->name, sizeof l->name, m->name);
    copy_str(l->note, sizeof l->note, m->note);
    if (m->per_second)
        snprintf(l->value, sizeof l->value, "%.0f %s", 1e9 / m->median,
                 m->per_second == 2 ? "reads/s" : "pkt/s");
    else if (m->median >= 1e5)
        snprintf(l->value, sizeof l->value, "%.1f us/op", m->median / 1e3);
    else
        snprintf(l->value, sizeof l->value, "%.1f ns/op", m->median);
    if (m->bytes_per_op > 0)
        snprintf(l->mbps, sizeof l->mbps, "%.1f",
                 m->bytes_per_op / m->median * 1e3);
    else
        snprintf(l->mbps, sizeof l->mbps, "-");
    if (r != NULL && r != m && r->nsamples == 0) {
        snprintf(l->ratio, sizeof l->ratio, "-");
        snprintf(l->against, sizeof l->against, "%s (not run)", r->id);
    } else if (r != NULL && r != m) {
        snprintf(l->ratio, sizeof l->ratio, "%.3f", ratio_of(m, r));
        snprintf(l->against, sizeof l->against, "%s %s", r->id, r->name);
    } else {
        snprintf(l->ratio, sizeof l->ratio, "1");
        snprintf(l->against, sizeof l->against, "(reference)");
    }
}

static void print_table(void)
{
    int i;
    const char *rule = "----------------------------------------------------"
                       "----------------------------------------------------"
                       "--------------------------";

    printf("%-4s %-36s %16s %10s %8s  %-34s %s\n", "row", "measurement",
           "median", "MB/s", "ratio", "against", "note");
    printf("%.130s\n", rule);
    for (i = 0; i < nlines; i++) {
        struct line *l = &lines[i];

        if (l->meas != NULL && l->meas->nsamples == 0)
            continue;
        if (l->meas != NULL)
            fill_timed(l);
        if (i > 0 && l->id[0] != lines[i - 1].id[0])
            printf("\n");
        printf("%-4s %-36s %16s %10s %8s  %-34s %s\n", l->id, l->name,
               l->value, l->mbps, l->ratio, l->against, l->note);
    }
}

/* Result files: "key value..." lines written by the Makefile helpers. */
int bench_read_key(const char *path, const char *key, char *out, size_t cap)
{
    FILE *f;
    char buf[256];
    size_t klen = strlen(key);
    int found = 0;

    if (path == NULL || (f = fopen(path, "r")) == NULL)
        return 0;
    while (!found && fgets(buf, sizeof buf, f) != NULL) {
        if (strncmp(buf, key, klen) == 0 && buf[klen] == ' ') {
            buf[strcspn(buf, "\n")] = 0;
            copy_str(out, cap, buf + klen + 1);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench [-r ROUNDS] [-t MS] [-c CALLGRIND_RESULTS] "
            "[-p PIPELINE_RESULTS] [-o ROW]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int rounds = 9, i;
    double ms = 15;
    const char *cg_path = NULL, *pipe_path = NULL;
    char buf[128];

    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "-r") == 0)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0)
            ms = atof(argv[++i]);
        else if (strcmp(argv[i], "-c") == 0)
            cg_path = argv[++i];
        else if (strcmp(argv[i], "-p") == 0)
            pipe_path = argv[++i];
        else if (strcmp(argv[i], "-o") == 0)
            only = argv[++i];
        else
            usage();
    }
    if (rounds < 1 || rounds > BENCH_MAX_ROUNDS || ms <= 0)
        usage();

    printf("libkdcom %s bench: %d rounds, ~%.0f ms per row and round, "
           "median shown\n",
           kdcom_version_string(), rounds, ms);
#ifdef BENCH_CC
    printf("compiler: %s\n", BENCH_CC);
#endif
#ifdef BENCH_LIB_FLAGS
    printf("library and bench flags: %s\n", BENCH_LIB_FLAGS);
#endif
#ifdef BENCH_REF_FLAGS
    printf("reference kernels (ref.c) flags: %s\n", BENCH_REF_FLAGS);
#endif
    if (bench_read_key(cg_path, "valgrind", buf, sizeof buf))
        printf("callgrind: %s\n", buf);
    printf("\n");
    fflush(stdout);

    bench_codec_rows();
    bench_trickle_rows();
    bench_link_rows();
    measure_all(rounds, ms);
    if (only == NULL) {
        bench_pipeline_rows(pipe_path);
        bench_cost_rows(cg_path);
    }
    print_table();
    printf("\nMB/s are of payload (10^6 bytes/s).  ratio: throughput of the "
           "row / throughput of the row\nit names; for callgrind rows, "
           "instructions of the row / instructions of the row it names.\n");
    return (int)(bench_sink & 0); /* the sink is read, so kept */
}
