/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - helpers shared by the C tests: wire-vector files, hex, "feed
 * this stream in every chunk size and collect what comes out" for the
 * parser and for links, and a link-to-link byte shuttle.
 *
 * The helpers never assert: they return what they saw, so that each test
 * states its own expectations (and so a helper cannot quietly test less
 * than its name says).  Everything is fixed-size; a helper that runs out
 * of room sets an `overflow` flag the test checks.
 */
#ifndef KDCOM_TEST_UTIL_H
#define KDCOM_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

/* ---- hex ---- */

/* Parses hex byte pairs separated by any amount of whitespace ("30 30 aa",
 * "3030aa").  Returns the byte count, or -1 on a bad digit, an odd digit
 * count or more than cap bytes. */
int util_hex(const char *text, uint8_t *out, size_t cap);

/* FNV-1a over bytes: compares payloads without keeping them. */
uint32_t util_hash(const uint8_t *p, size_t n);

/* ---- wire vectors (tests/vectors/README.md) ---- */

enum { VEC_D2T = 0, VEC_T2D = 1 };

#define VEC_MAX_CHUNKS 128
#define VEC_MAX_BYTES 65536

struct vec_chunk {
    int dir;       /* VEC_D2T or VEC_T2D */
    size_t off;    /* into vec_file.bytes */
    size_t len;
};

struct vec_file {
    struct vec_chunk chunk[VEC_MAX_CHUNKS];
    size_t n;
    uint8_t bytes[VEC_MAX_BYTES];
    size_t used;
};

/* Loads KDCOM_TEST_VECTORS "/" name.  Returns 0, or -1 if the file cannot
 * be read or a line is malformed (the test then fails: vectors are part
 * of the source tree). */
int vec_load(const char *name, struct vec_file *vf);

/* Concatenates every chunk of one direction into out.  Returns the length
 * or -1 if cap is too small. */
int vec_stream(const struct vec_file *vf, int dir, uint8_t *out, size_t cap);

/* ---- the parser, in any chunking ---- */

/* One parser item, reduced to what tests compare. */
struct parsed {
    uint32_t kind, type, byte_count, id, checksum, computed, trailer;
    uint32_t payload_len, payload_hash;
    size_t end; /* stream offset just past the item's last byte */
};

#define PARSE_MAX 512

struct parse_log {
    struct parsed item[PARSE_MAX];
    size_t n;
    int overflow;
    uint64_t bytes_in, noise_bytes, partial_leaders; /* parser counters */
};

/* Runs a fresh parser over in[0..len) in pieces of `chunk` bytes (0: all
 * at once) and logs every item.  Returns 0, or -1 if kdcom_parse()
 * misbehaved (error return, consumed more than given, or no progress). */
int parse_chunked(const uint8_t *in, size_t len, size_t chunk,
                  struct parse_log *log);

/* 1 if two logs hold the same items and counters (offsets included). */
int parse_logs_equal(const struct parse_log *a, const struct parse_log *b);

/* Parses in every chunk size 1..max_chunk and compares with the whole-
 * input parse in *whole (which it fills).  Returns 0 when every chunking
 * gives the same log, else the first chunk size that differs (or -1 on a
 * parser error). */
int parse_all_chunkings(const uint8_t *in, size_t len, size_t max_chunk,
                        struct parse_log *whole);

/* ---- links ---- */

/* One event, reduced.  payload_hash/len for PACKET. */
struct logged_event {
    uint32_t kind, type, id, retries, len, payload_hash;
};

#define EVLOG_MAX 256
#define EVLOG_OUT 65536

/* What a link did: events taken, bytes drained. */
struct ev_log {
    struct logged_event ev[EVLOG_MAX];
    size_t n;
    uint8_t out[EVLOG_OUT];
    size_t out_len;
    int overflow;
};

void ev_log_init(struct ev_log *log);

/* Takes every pending event into the log.  Returns the count or a
 * negative error. */
int take_events(struct kdcom_link *l, struct ev_log *log);

/* Drains everything the link wants to send at `now` into log->out, in
 * pieces of at most `cap` bytes (0: 4096).  Returns the byte count or a
 * negative error. */
int drain_all(struct kdcom_link *l, uint64_t now, size_t cap,
              struct ev_log *log);

/* Feeds in[0..len) at time `now` in pieces of `chunk` bytes (0: all at
 * once).  After every kdcom_feed() call it takes the events and, if
 * `drain` is set, drains the output into the log.  A feed that consumes
 * less than it was given is continued after that, as the API asks.
 * Returns the bytes consumed in total (a TARGET's RESET consumes the rest
 * of a piece), or a negative error, or -100 if the link stopped taking
 * bytes altogether. */
long feed_chunked(struct kdcom_link *l, uint64_t now, const uint8_t *in,
                  size_t len, size_t chunk, int drain, struct ev_log *log);

/* Count of events of one kind in a log. */
size_t ev_count(const struct ev_log *log, uint32_t kind);

/* Index of the n-th (0-based) event of a kind, or -1. */
long ev_find(const struct ev_log *log, uint32_t kind, size_t nth);

/* Moves bytes between two links until neither has anything to say (or
 * `rounds` passes went by), draining each in pieces of `cap` bytes and
 * feeding the other in pieces of `chunk` bytes; events go to each side's
 * log.  Bytes already in a log's `out` count as written by that side and
 * not yet delivered: they go across first.  Logs' `out` buffers are empty
 * afterwards.  Returns the number of bytes moved, or a negative error. */
long shuttle(struct kdcom_link *a, struct ev_log *la, struct kdcom_link *b,
             struct ev_log *lb, uint64_t now, size_t cap, size_t chunk,
             int rounds);

/* Builds a data frame / control frame into out (asserting nothing).
 * Returns the frame length or a negative kdcom_err. */
int mk_data(uint8_t *out, size_t cap, uint32_t type, uint32_t id,
            const uint8_t *payload, size_t len);
int mk_control(uint8_t *out, size_t cap, uint32_t type, uint32_t id);

/* Checks a counter structure against its X-macro list and its by-index
 * accessors: every field named, in order, read back, nothing past the
 * last.  FIELDS is the list (KDCOM_STATS_FIELDS), name_fn and value_fn the
 * accessors. */
#define CHECK_COUNTER_TABLE(type, FIELDS, name_fn, value_fn)                  \
    do {                                                                      \
        type st_;                                                             \
        uint32_t i_ = 0;                                                      \
        const char *(*cct_name_)(uint32_t) = name_fn;                         \
        uint64_t (*cct_value_)(const type *, uint32_t) = value_fn;            \
        memset(&st_, 0, sizeof st_);                                          \
        FIELDS(CCT_SET_)                                                      \
        i_ = 0;                                                               \
        FIELDS(CCT_CHECK_)                                                    \
        assert_int_equal(i_ * sizeof(uint64_t), sizeof st_);                  \
        assert_null(cct_name_(i_));                                           \
        assert_int_equal(cct_value_(&st_, i_), 0);                            \
        assert_int_equal(cct_value_(NULL, 0), 0);                             \
    } while (0)
#define CCT_SET_(n) st_.n = 1000 + i_++;
#define CCT_CHECK_(n)                                                         \
    assert_string_equal(cct_name_(i_), #n);                                   \
    assert_int_equal(cct_value_(&st_, i_), st_.n);                            \
    i_++;

#endif /* KDCOM_TEST_UTIL_H */
