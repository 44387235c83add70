/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - test helpers (see util.h).
 *
 * THEORY OF OPERATION
 *
 *   The chunking helpers are the heart of the split-invariance tests: the
 *   same stream goes through a fresh parser (or link) in pieces of every
 *   size, and the reduced logs are compared.  A log records what is
 *   observable through the public API only (items, counters, events,
 *   output bytes), so equality of logs is exactly the promise
 *   "same result for any split".
 */
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#ifndef KDCOM_TEST_VECTORS
#define KDCOM_TEST_VECTORS "tests/vectors"
#endif

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int util_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *s != '\0'; s++) {
        int v;

        if (isspace((unsigned char)*s))
            continue;
        v = hexval((unsigned char)*s);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi < 0 ? (int)n : -1;
}

uint32_t util_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- vectors ---- */

int vec_load(const char *name, struct vec_file *vf)
{
    char path[512], line[16384];
    FILE *f;
    int rc = 0;

    memset(vf, 0, sizeof(*vf));
    snprintf(path, sizeof path, "%s/%s", KDCOM_TEST_VECTORS, name);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        struct vec_chunk *c;
        const char *p = line;
        int n;

        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (vf->n == VEC_MAX_CHUNKS || strlen(line) == sizeof line - 1) {
            rc = -1;
            break;
        }
        c = &vf->chunk[vf->n];
        if (strncmp(p, "D>T", 3) == 0)
            c->dir = VEC_D2T;
        else if (strncmp(p, "T>D", 3) == 0)
            c->dir = VEC_T2D;
        else {
            rc = -1;
            break;
        }
        n = util_hex(p + 3, vf->bytes + vf->used,
                     sizeof vf->bytes - vf->used);
        if (n <= 0) {
            rc = -1;
            break;
        }
        c->off = vf->used;
        c->len = (size_t)n;
        vf->used += (size_t)n;
        vf->n++;
    }
    fclose(f);
    return rc;
}

int vec_stream(const struct vec_file *vf, int dir, uint8_t *out, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < vf->n; i++) {
        if (vf->chunk[i].dir != dir)
            continue;
        if (cap - n < vf->chunk[i].len)
            return -1;
        memcpy(out + n, vf->bytes + vf->chunk[i].off, vf->chunk[i].len);
        n += vf->chunk[i].len;
    }
    return (int)n;
}

/* ---- parser ---- */

int parse_chunked(const uint8_t *in, size_t len, size_t chunk,
                  struct parse_log *log)
{
    static struct kdcom_parser p; /* 4 KiB: keep it off the stack */
    size_t off = 0;

    memset(log, 0, sizeof(*log));
    kdcom_parser_init(&p);
    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t piece = len - off < chunk ? len - off : chunk;
        size_t used = 0;

        while (used < piece) {
            struct kdcom_frame f;
            int n = kdcom_parse(&p, in + off + used, piece - used, &f);

            if (n < 0 || (size_t)n > piece - used)
                return -1;
            if (n == 0 && f.kind == KDCOM_FRAME_NONE)
                return -1; /* no progress */
            used += (size_t)n;
            if (f.kind == KDCOM_FRAME_NONE)
                continue;
            if (log->n == PARSE_MAX) {
                log->overflow = 1;
                continue;
            }
            {
                struct parsed *it = &log->item[log->n++];

                it->kind = f.kind;
                it->type = f.type;
                it->byte_count = f.byte_count;
                it->id = f.id;
                it->checksum = f.checksum;
                it->computed = f.computed_checksum;
                it->trailer = f.trailer;
                it->payload_len = f.payload_len;
                it->payload_hash =
                    f.payload ? util_hash(f.payload, f.payload_len) : 0;
                it->end = off + used;
            }
        }
        off += piece;
    }
    log->bytes_in = p.bytes_in;
    log->noise_bytes = p.noise_bytes;
    log->partial_leaders = p.partial_leaders;
    return 0;
}

int parse_logs_equal(const struct parse_log *a, const struct parse_log *b)
{
    size_t i;

    if (a->n != b->n || a->overflow != b->overflow ||
        a->bytes_in != b->bytes_in || a->noise_bytes != b->noise_bytes ||
        a->partial_leaders != b->partial_leaders)
        return 0;
    for (i = 0; i < a->n; i++) {
        const struct parsed *x = &a->item[i], *y = &b->item[i];

        if (x->kind != y->kind || x->type != y->type ||
            x->byte_count != y->byte_count || x->id != y->id ||
            x->checksum != y->checksum || x->computed != y->computed ||
            x->trailer != y->trailer || x->payload_len != y->payload_len ||
            x->payload_hash != y->payload_hash || x->end != y->end)
            return 0;
    }
    return 1;
}

int parse_all_chunkings(const uint8_t *in, size_t len, size_t max_chunk,
                        struct parse_log *whole)
{
    static struct parse_log other;
    size_t c;

    if (parse_chunked(in, len, 0, whole) != 0)
        return -1;
    for (c = 1; c <= max_chunk; c++) {
        if (parse_chunked(in, len, c, &other) != 0)
            return -1;
        if (!parse_logs_equal(whole, &other))
            return (int)c;
    }
    return 0;
}

/* ---- links ---- */

void ev_log_init(struct ev_log *log)
{
    memset(log, 0, sizeof(*log));
}

int take_events(struct kdcom_link *l, struct ev_log *log)
{
    struct kdcom_event ev;
    int rc, n = 0;

    while ((rc = kdcom_next_event(l, &ev)) > 0) {
        n++;
        if (log->n == EVLOG_MAX) {
            log->overflow = 1;
            continue;
        }
        log->ev[log->n].kind = ev.kind;
        log->ev[log->n].type = ev.type;
        log->ev[log->n].id = ev.id;
        log->ev[log->n].retries = ev.retries;
        log->ev[log->n].len = ev.len;
        log->ev[log->n].payload_hash =
            ev.payload != NULL ? util_hash(ev.payload, ev.len) : 0;
        log->n++;
    }
    return rc < 0 ? rc : n;
}

int drain_all(struct kdcom_link *l, uint64_t now, size_t cap,
              struct ev_log *log)
{
    uint8_t buf[4096];
    int total = 0;

    if (cap == 0 || cap > sizeof buf)
        cap = sizeof buf;
    for (;;) {
        int n = kdcom_drain(l, now, buf, cap);

        if (n < 0)
            return n;
        if (n == 0)
            return total;
        if ((size_t)n > cap)
            return -200; /* wrote past cap: never acceptable */
        if (EVLOG_OUT - log->out_len < (size_t)n) {
            log->overflow = 1;
        } else {
            memcpy(log->out + log->out_len, buf, (size_t)n);
            log->out_len += (size_t)n;
        }
        total += n;
    }
}

long feed_chunked(struct kdcom_link *l, uint64_t now, const uint8_t *in,
                  size_t len, size_t chunk, int drain, struct ev_log *log)
{
    size_t off = 0;
    long total = 0;

    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t piece = len - off < chunk ? len - off : chunk;
        size_t used = 0;
        int idle = 0;

        while (used < piece) {
            int n = kdcom_feed(l, now, in + off + used, piece - used);
            int rc;

            if (n < 0)
                return n;
            used += (size_t)n;
            total += n;
            if ((rc = take_events(l, log)) < 0)
                return rc;
            if (drain && (rc = drain_all(l, now, 0, log)) < 0)
                return rc;
            if (n == 0) {
                /* Paused: events were just taken.  If it still takes
                 * nothing the control queue must be emptied; drain even
                 * when the caller did not ask (and log it). */
                if (!drain && (rc = drain_all(l, now, 0, log)) < 0)
                    return rc;
                if (++idle > 3)
                    return -100;
            } else {
                idle = 0;
            }
        }
        off += piece;
    }
    return total;
}

size_t ev_count(const struct ev_log *log, uint32_t kind)
{
    size_t i, n = 0;

    for (i = 0; i < log->n; i++)
        if (log->ev[i].kind == kind)
            n++;
    return n;
}

long ev_find(const struct ev_log *log, uint32_t kind, size_t nth)
{
    size_t i;

    for (i = 0; i < log->n; i++)
        if (log->ev[i].kind == kind && nth-- == 0)
            return (long)i;
    return -1;
}

long shuttle(struct kdcom_link *a, struct ev_log *la, struct kdcom_link *b,
             struct ev_log *lb, uint64_t now, size_t cap, size_t chunk,
             int rounds)
{
    static uint8_t buf[EVLOG_OUT];
    long moved = 0;
    int r;

    for (r = 0; r < rounds; r++) {
        long step = 0;
        int side;

        for (side = 0; side < 2; side++) {
            struct kdcom_link *from = side ? b : a, *to = side ? a : b;
            struct ev_log *lf = side ? lb : la, *lt = side ? la : lb;
            long rc;
            size_t n;

            if ((rc = take_events(from, lf)) < 0)
                return rc;
            if ((rc = drain_all(from, now, cap, lf)) < 0)
                return rc;
            if (lf->overflow)
                return -300;
            /* Everything in the sender's log goes across, then the log
             * is emptied (the receiver appends its answers to its own). */
            n = lf->out_len;
            memcpy(buf, lf->out, n);
            lf->out_len = 0;
            if (n > 0) {
                rc = feed_chunked(to, now, buf, n, chunk, 1, lt);
                if (rc < 0)
                    return rc;
                step += (long)n;
            }
        }
        moved += step;
        if (step == 0)
            break;
    }
    return moved;
}

int mk_data(uint8_t *out, size_t cap, uint32_t type, uint32_t id,
            const uint8_t *payload, size_t len)
{
    return kdcom_encode_data(out, cap, type, id, payload, len, NULL, 0);
}

int mk_control(uint8_t *out, size_t cap, uint32_t type, uint32_t id)
{
    return kdcom_encode_control(out, cap, type, id);
}
