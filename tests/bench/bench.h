/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.h - shared plumbing of the libkdcom benchmark (`make bench`): the
 * measurement record, the result table and the reference kernels.
 *
 * Every timed row is a `struct bench_meas`: a function that performs n
 * operations.  The driver runs all rows round-robin, several rounds, and
 * keeps the median per row, so a burst of noise from other processes on
 * a shared machine hits every row alike instead of one row entirely.
 */
#ifndef KDCOM_BENCH_H
#define KDCOM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_ROUNDS 15

struct bench_meas;
typedef void (*bench_fn)(struct bench_meas *m, long n);

struct bench_meas {
    const char *id;       /* "1a", ... */
    char name[48];        /* shown in the table */
    char ref[8];          /* id of the reference row, "" for none */
    double bytes_per_op;  /* payload bytes one operation moves (0: none) */
    bench_fn run;
    void *ctx;
    long iters;           /* per round, set by calibration */
    int nsamples;
    double ns_per_op[BENCH_MAX_ROUNDS];
    double median;        /* ns per operation */
    char note[48];        /* target or remark, shown last */
    int per_second;       /* show pkt/s (1) or reads/s (2), not ns/op */
};

/* Sink for results, so that no measured work can be optimised away. */
extern volatile uint32_t bench_sink;

/* Reference kernels (ref.c, built with BENCH_REF_OPT, -O3 by default):
 * the minimal work a codec direction has to do, and its floor. */
uint32_t ref_sum(const uint8_t *in, size_t len);
uint32_t ref_copy_sum(uint8_t *dst, const uint8_t *src, size_t len);
uint32_t ref_copy(uint8_t *dst, const uint8_t *src, size_t len);
uint32_t ref_take_byte(const uint8_t *in, size_t len);

/* Allocation counters (alloc_count.c). */
struct bench_allocs {
    unsigned long malloc_calls, calloc_calls, realloc_calls, free_calls,
        other_calls;
};
void bench_allocs_get(struct bench_allocs *a);

/* Timing and the table (bench_main.c). */
double bench_now_ns(void);
/* A row computed outside the timing loop (sizes, counts, callgrind). */
void bench_static(const char *id, const char *name, const char *value,
                  const char *mbps, const char *ratio, const char *against,
                  const char *note);
/* Median ns/op of a timed row already measured, or 0. */
double bench_median_of(const char *id);

/* Row sets. Each appends its rows with bench_add(). */
struct bench_meas *bench_add(const char *id, const char *ref, double bytes,
                             bench_fn run, void *ctx, const char *fmt, ...);
void bench_codec_rows(void);
void bench_trickle_rows(void);
void bench_link_rows(void);
void bench_pipeline_rows(const char *path);
void bench_cost_rows(const char *cg_path);

/* Reads "key value" from a result file into out; 1 if found. */
int bench_read_key(const char *path, const char *key, char *out, size_t cap);

/* Link loopback helpers shared by the steady-state allocation check. */
void bench_link_setup_pair(void);
void bench_link_exchange(size_t payload_len, long n);
void bench_link_reads(size_t payload_len, long n);
double bench_link_read_wire_bytes(void);

#endif /* KDCOM_BENCH_H */
