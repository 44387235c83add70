/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_input.c - kdcom-dump's inputs: a buffered reader over a file
 * descriptor or a memory buffer, format detection, and the readers of
 * pcapng, pcap, the hex trace and raw bytes.
 *
 * Every length read from the input is checked before it is used: against
 * the bytes actually there (a short file is "truncated", never an
 * overread) and against a record size limit (a corrupt length is an
 * error, never a huge allocation).  Readers stop at the first fault with
 * a message naming the offset or line.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_int.h"

#define DEFAULT_MAX_RECORD (64u << 20) /* a pcapng block, a pcap record */
#define READ_CHUNK 65536u
#define DETECT_BYTES 65536u
#define MAX_IFACES 1024

/* ---------------------------------------------------------------- input */

struct inbuf {
    int fd;                 /* -1: the input is in src (a buffer) */
    const uint8_t *src;     /* buffer read in pieces of `chunk` bytes */
    size_t src_len, src_off, chunk;
    const uint8_t *data;    /* mem, or buf */
    uint8_t *buf;
    size_t cap;
    size_t start, end;      /* unread bytes: data[start..end) */
    int eof;
    int err;                /* errno of a failed read */
    uint64_t off;           /* input offset of data[start] */
    size_t max;             /* largest amount a reader may ask for */
};

static void in_init(struct inbuf *in, const struct dump_source *src,
                    size_t max)
{
    memset(in, 0, sizeof *in);
    in->fd = src->fd;
    in->max = max;
    if (src->fd < 0 && src->chunk == 0) {
        in->data = src->mem;
        in->end = src->mem != NULL ? src->len : 0;
        in->eof = 1;
    } else if (src->fd < 0) {
        in->src = src->mem;
        in->src_len = src->mem != NULL ? src->len : 0;
        in->chunk = src->chunk;
    }
}

static size_t in_avail(const struct inbuf *in)
{
    return in->end - in->start;
}

/* The unread bytes; NULL before anything was read. */
static const uint8_t *in_ptr(const struct inbuf *in)
{
    return in->data != NULL ? in->data + in->start : NULL;
}

static void in_consume(struct inbuf *in, size_t n)
{
    in->start += n;
    in->off += n;
}

/* One read(2) into the buffer (room for at least `room` bytes is made). */
static int in_read_once(struct inbuf *in, size_t room)
{
    ssize_t r;

    if (in->eof)
        return 0;
    if (in->cap - in->end < room) {
        size_t have = in->end - in->start;
        if (in->start > 0 && have > 0)
            memmove(in->buf, in->buf + in->start, have);
        in->start = 0;
        in->end = have;
        if (in->cap - in->end < room) {
            size_t ncap = in->cap ? in->cap : READ_CHUNK;
            uint8_t *nb;
            while (ncap - in->end < room)
                ncap *= 2;
            nb = realloc(in->buf, ncap);
            if (nb == NULL) {
                in->err = ENOMEM;
                in->eof = 1;
                return -1;
            }
            in->buf = nb;
            in->cap = ncap;
        }
        in->data = in->buf;
    }
    if (in->fd < 0) {
        size_t n = in->src_len - in->src_off;
        if (n > in->chunk)
            n = in->chunk;
        if (n > in->cap - in->end)
            n = in->cap - in->end;
        if (n > 0)
            memcpy(in->buf + in->end, in->src + in->src_off, n);
        in->src_off += n;
        r = (ssize_t)n;
    } else {
        do
            r = read(in->fd, in->buf + in->end, in->cap - in->end);
        while (r < 0 && errno == EINTR);
    }
    if (r < 0) {
        in->err = errno;
        in->eof = 1;
        return -1;
    }
    if (r == 0) {
        in->eof = 1;
        return 0;
    }
    in->end += (size_t)r;
    return 1;
}

/* Makes `want` bytes available if the input has them; returns how many
 * are (less only at the end of the input).  want <= in->max. */
static size_t in_fill(struct inbuf *in, size_t want)
{
    while (in_avail(in) < want && !in->eof) {
        size_t need = want - in_avail(in);
        if (in_read_once(in, need > READ_CHUNK ? need : READ_CHUNK) < 0)
            break;
    }
    return in_avail(in) < want ? in_avail(in) : want;
}

static int in_check_err(struct dump_ctx *c, const struct inbuf *in)
{
    if (in->err != 0)
        return dump_fail(c, "read error at offset %" PRIu64 ": %s", in->off,
                         strerror(in->err));
    return 0;
}

/* ---------------------------------------------------------------- util */

int dump_fail(struct dump_ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (!c->failed) {
        c->failed = 1;
        if (c->err != NULL && c->errcap > 0) {
            va_start(ap, fmt);
            vsnprintf(c->err, c->errcap, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

void dump_opts_init(struct dump_opts *o)
{
    memset(o, 0, sizeof *o);
    o->raw_dir = DUMP_UNKNOWN;
}

static uint16_t rd16(const uint8_t *p, int be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[1] << 8 | p[0];
}

static void note_time(struct dump_ctx *c, const struct when *w)
{
    if (w->has_ts && !c->have_t0) {
        c->t0 = w->ts_us;
        c->have_t0 = 1;
    }
}

/* -------------------------------------------------------------- pcapng */

struct iface {
    uint32_t linktype;
    uint32_t snaplen;
    int role;               /* DUMP_D2T / DUMP_T2D from if_name, else -1 */
    int tsres_pow2;         /* resolution 2^-tsres (else 10^-tsres) */
    unsigned tsres;
    uint64_t tsoffset;      /* seconds (signed on disk; wraps) */
    struct dlink *alone[4]; /* streams of unknown direction, by the
                               flags' direction bits */
};

struct ng {
    int be;
    int in_section;
    struct iface *ifs;
    size_t nif, capif;
    struct dlink *kd;       /* this section's two directions */
};

/* Units of 10^-res or 2^-res seconds to microseconds. */
static uint64_t to_us(uint64_t t, int pow2, unsigned res)
{
    if (pow2) {
        uint64_t frac;
        if (res >= 64)
            return 0;
        frac = res ? t & ((UINT64_C(1) << res) - 1) : 0;
        if (res > 40) { /* keep frac * 10^6 within 64 bits */
            frac >>= res - 40;
            return (t >> res) * 1000000u + ((frac * 1000000u) >> 40);
        }
        return (t >> res) * 1000000u + ((frac * 1000000u) >> res);
    }
    if (res <= 6) {
        unsigned i;
        for (i = res; i < 6; i++)
            t *= 10;
        return t;
    } else {
        unsigned i;
        if (res > 25)
            return 0;
        for (i = 6; i < res; i++)
            t /= 10;
        return t;
    }
}

static void ng_section_end(struct dump_ctx *c, struct ng *g,
                           const struct when *w)
{
    size_t i;
    int k;

    /* A section's streams end with it (a new section is another capture,
     * concatenated): their counters go to the summary, their memory is
     * freed. */
    if (g->kd != NULL) {
        dstream_end(c, &g->kd->s[0], w);
        dstream_end(c, &g->kd->s[1], w);
        dlink_retire(c, g->kd);
        g->kd = NULL;
    }
    for (i = 0; i < g->nif; i++)
        for (k = 0; k < 4; k++)
            if (g->ifs[i].alone[k] != NULL) {
                dstream_end(c, &g->ifs[i].alone[k]->s[0], w);
                dlink_retire(c, g->ifs[i].alone[k]);
                g->ifs[i].alone[k] = NULL;
            }
    g->nif = 0;
}

/* Calls fn(code, value, len) for each option in p[0..n). */
static void ng_options(const uint8_t *p, size_t n, int be,
                       void (*fn)(void *, uint16_t, const uint8_t *, size_t),
                       void *arg)
{
    size_t off = 0;

    while (off + 4 <= n) {
        uint16_t code = rd16(p + off, be);
        uint16_t len = rd16(p + off + 2, be);
        size_t padded = ((size_t)len + 3u) & ~(size_t)3u;
        if (code == 0)
            return;
        if (padded > n - off - 4)
            return; /* malformed option list: ignore the rest */
        fn(arg, code, p + off + 4, len);
        off += 4 + padded;
    }
}

struct opt_ctx {
    struct iface *f;
    int be;
    uint32_t flags;         /* epb_flags */
};

static void idb_opt(void *arg, uint16_t code, const uint8_t *v, size_t len)
{
    struct opt_ctx *io = arg;

    if (code == 2) { /* if_name */
        if (len == 8 && memcmp(v, "debugger", 8) == 0)
            io->f->role = DUMP_D2T;
        else if (len == 6 && memcmp(v, "target", 6) == 0)
            io->f->role = DUMP_T2D;
    } else if (code == 9 && len >= 1) { /* if_tsresol */
        io->f->tsres_pow2 = (v[0] & 0x80) != 0;
        io->f->tsres = v[0] & 0x7f;
    } else if (code == 14 && len >= 8) { /* if_tsoffset */
        uint64_t a = rd32(v, io->be), b = rd32(v + 4, io->be);
        io->f->tsoffset = io->be ? (a << 32 | b) : (b << 32 | a);
    }
}

static void epb_opt(void *arg, uint16_t code, const uint8_t *v, size_t len)
{
    struct opt_ctx *io = arg;

    if (code == 2 && len == 4) /* epb_flags */
        io->flags = rd32(v, io->be);
}

static struct dlink *kd_link(struct dump_ctx *c, struct ng *g)
{
    if (g->kd == NULL) {
        g->kd = dlink_new(c, 2);
        if (g->kd != NULL) {
            dstream_set_dir(&g->kd->s[0], DUMP_D2T);
            dstream_set_dir(&g->kd->s[1], DUMP_T2D);
        }
    }
    return g->kd;
}

/* A packet on a KDCOM (user) link type: which stream it belongs to. */
static struct dstream *ng_stream(struct dump_ctx *c, struct ng *g,
                                 struct iface *f, uint32_t flagdir)
{
    int dir = f->role;

    if (dir < 0 && (flagdir == 1 || flagdir == 2)) {
        int outbound = flagdir == 2;
        if (c->o->capture_end == DUMP_END_DEBUGGER)
            dir = outbound ? DUMP_D2T : DUMP_T2D;
        else if (c->o->capture_end == DUMP_END_TARGET)
            dir = outbound ? DUMP_T2D : DUMP_D2T;
    }
    if (dir == DUMP_D2T || dir == DUMP_T2D) {
        struct dlink *l = kd_link(c, g);
        return l != NULL ? &l->s[dir] : NULL;
    }
    flagdir &= 3;
    if (f->alone[flagdir] == NULL) {
        struct dlink *l = dlink_new(c, 1);
        if (l == NULL)
            return NULL;
        f->alone[flagdir] = l;
    }
    return &f->alone[flagdir]->s[0];
}

static void packet(struct dump_ctx *c, struct ng *g, struct iface *f,
                   uint32_t flagdir, const uint8_t *p, size_t caplen,
                   size_t origlen, const struct when *w)
{
    c->net.packets++;
    note_time(c, w);
    if (f->linktype >= 147 && f->linktype <= 162) {
        struct dstream *s;
        c->net.kdcom_packets++;
        s = g != NULL ? ng_stream(c, g, f, flagdir) : NULL;
        if (s == NULL && g == NULL) {
            /* classic pcap: one stream of unknown direction */
            if (f->alone[0] == NULL)
                f->alone[0] = dlink_new(c, 1);
            s = f->alone[0] != NULL ? &f->alone[0]->s[0] : NULL;
        }
        if (s != NULL)
            dstream_feed(c, s, p, caplen, w);
        return;
    }
    net_packet(c, f->linktype, p, caplen, origlen, w);
}

static int ng_iface_add(struct dump_ctx *c, struct ng *g)
{
    if (g->nif == g->capif) {
        size_t ncap = g->capif ? g->capif * 2 : 4;
        struct iface *n;
        if (g->nif >= MAX_IFACES)
            return dump_fail(c, "more than %d interfaces in one section",
                             MAX_IFACES);
        n = realloc(g->ifs, ncap * sizeof *n);
        if (n == NULL)
            return dump_fail(c, "out of memory");
        g->ifs = n;
        g->capif = ncap;
    }
    memset(&g->ifs[g->nif], 0, sizeof g->ifs[0]);
    g->ifs[g->nif].role = -1;
    g->ifs[g->nif].tsres = 6;
    g->nif++;
    return 0;
}

static int ng_block(struct dump_ctx *c, struct ng *g, uint32_t type,
                    const uint8_t *b, size_t len, uint64_t off,
                    struct when *w)
{
    const uint8_t *body = b + 8;
    size_t blen = len - 12;
    int be = g->be;

    switch (type) {
    case 0x0A0D0D0Au: { /* Section Header Block */
        uint16_t major;
        if (blen < 16)
            return dump_fail(c, "pcapng: section header at offset %" PRIu64
                             " is too short", off);
        major = rd16(body + 4, be);
        if (major != 1)
            return dump_fail(c, "pcapng: section at offset %" PRIu64
                             " has version %u.%u; only 1.x is understood",
                             off, major, rd16(body + 6, be));
        ng_section_end(c, g, w);
        g->in_section = 1;
        return 0;
    }
    case 1: { /* Interface Description Block */
        struct opt_ctx io;
        if (blen < 8)
            return dump_fail(c, "pcapng: interface description at offset %"
                             PRIu64 " is too short", off);
        if (ng_iface_add(c, g) != 0)
            return -1;
        g->ifs[g->nif - 1].linktype = rd16(body, be);
        g->ifs[g->nif - 1].snaplen = rd32(body + 4, be);
        io.f = &g->ifs[g->nif - 1];
        io.be = be;
        io.flags = 0;
        ng_options(body + 8, blen - 8, be, idb_opt, &io);
        return 0;
    }
    case 6:   /* Enhanced Packet Block */
    case 2: { /* Packet Block (obsolete) */
        uint32_t ifid, caplen, origlen;
        uint64_t ts;
        size_t padded;
        struct iface *f;
        struct opt_ctx eo;
        if (blen < 20)
            return dump_fail(c, "pcapng: packet block at offset %" PRIu64
                             " is too short", off);
        ifid = type == 6 ? rd32(body, be) : rd16(body, be);
        ts = (uint64_t)rd32(body + 4, be) << 32 | rd32(body + 8, be);
        caplen = rd32(body + 12, be);
        origlen = rd32(body + 16, be);
        if (ifid >= g->nif)
            return dump_fail(c, "pcapng: packet at offset %" PRIu64
                             " names interface %u, but the section has %zu",
                             off, (unsigned)ifid, g->nif);
        if (caplen > blen - 20)
            return dump_fail(c, "pcapng: packet at offset %" PRIu64
                             " claims %u captured bytes in a block of %zu",
                             off, (unsigned)caplen, len);
        f = &g->ifs[ifid];
        padded = ((size_t)caplen + 3u) & ~(size_t)3u;
        eo.f = f;
        eo.be = be;
        eo.flags = 0;
        if (padded <= blen - 20)
            ng_options(body + 20 + padded, blen - 20 - padded, be, epb_opt,
                       &eo);
        w->has_ts = 1;
        w->ts_us = to_us(ts, f->tsres_pow2, f->tsres) +
                   f->tsoffset * 1000000u; /* wraps, never traps */
        packet(c, g, f, eo.flags & 3u, body + 20, caplen,
               origlen, w);
        return 0;
    }
    case 3: { /* Simple Packet Block */
        uint32_t origlen;
        size_t caplen;
        struct iface *f;
        if (blen < 4)
            return dump_fail(c, "pcapng: simple packet block at offset %"
                             PRIu64 " is too short", off);
        if (g->nif == 0)
            return dump_fail(c, "pcapng: simple packet block at offset %"
                             PRIu64 " before any interface", off);
        f = &g->ifs[0];
        origlen = rd32(body, be);
        caplen = origlen;
        if (f->snaplen != 0 && caplen > f->snaplen)
            caplen = f->snaplen;
        if (caplen > blen - 4)
            return dump_fail(c, "pcapng: simple packet block at offset %"
                             PRIu64 " is shorter than its packet", off);
        w->has_ts = 0;
        packet(c, g, f, 0, body + 4, caplen, origlen, w);
        return 0;
    }
    default: /* name resolution, statistics, secrets, custom: not needed */
        return 0;
    }
}

static int read_pcapng(struct dump_ctx *c, struct inbuf *in)
{
    struct ng g;
    struct when w;
    int rc = 0;

    memset(&g, 0, sizeof g);
    memset(&w, 0, sizeof w);
    while (!c->failed) {
        size_t got = in_fill(in, 12);
        const uint8_t *p = in_ptr(in);
        uint32_t type, len, tail;

        if (got == 0)
            break;
        if (got < 12) {
            rc = dump_fail(c, "pcapng: truncated: the file ends inside a "
                           "block header at offset %" PRIu64, in->off);
            break;
        }
        type = rd32(p, g.be);
        if (type == 0x0A0D0D0Au) {
            uint32_t bom = rd32(p + 8, 0);
            if (bom == 0x1A2B3C4Du)
                g.be = 0;
            else if (bom == 0x4D3C2B1Au)
                g.be = 1;
            else {
                rc = dump_fail(c, "pcapng: section header at offset %" PRIu64
                               " has a bad byte-order magic 0x%08x", in->off,
                               (unsigned)bom);
                break;
            }
        } else if (!g.in_section) {
            rc = dump_fail(c, "pcapng: the file does not start with a "
                           "section header");
            break;
        }
        len = rd32(p + 4, g.be);
        if (len < 12 || (len & 3) != 0 || len > in->max) {
            rc = dump_fail(c, "pcapng: block at offset %" PRIu64 " has a "
                           "bad length %u (corrupt file?)", in->off,
                           (unsigned)len);
            break;
        }
        if (in_fill(in, len) < len) {
            if (in_check_err(c, in) == 0)
                rc = dump_fail(c, "pcapng: truncated: the file ends inside "
                               "a block of %u bytes at offset %" PRIu64
                               " (%zu bytes there)", (unsigned)len, in->off,
                               in_avail(in));
            break;
        }
        p = in_ptr(in);
        tail = rd32(p + len - 4, g.be);
        if (tail != len) {
            rc = dump_fail(c, "pcapng: block at offset %" PRIu64 ": trailing"
                           " length %u differs from %u (corrupt file)",
                           in->off, (unsigned)tail, (unsigned)len);
            break;
        }
        w.frame = c->net.packets + 1;
        if (ng_block(c, &g, type, p, len, in->off, &w) != 0) {
            rc = -1;
            break;
        }
        in_consume(in, len);
    }
    if (rc == 0)
        rc = in_check_err(c, in);
    w.has_ts = 0;
    ng_section_end(c, &g, &w);
    free(g.ifs);
    return rc;
}

/* ---------------------------------------------------------------- pcap */

static int read_pcap(struct dump_ctx *c, struct inbuf *in)
{
    const uint8_t *p;
    uint32_t magic;
    int be, ns;
    struct iface f;
    struct when w;
    uint64_t rec = 0;

    if (in_fill(in, 24) < 24)
        return dump_fail(c, "pcap: truncated: the file ends inside its "
                         "24-byte header");
    p = in_ptr(in);
    magic = rd32(p, 0);
    be = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    ns = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
    if (rd16(p + 4, be) != 2)
        return dump_fail(c, "pcap: version %u.%u; only 2.x is understood",
                         rd16(p + 4, be), rd16(p + 6, be));
    memset(&f, 0, sizeof f);
    f.snaplen = rd32(p + 16, be);
    f.linktype = rd32(p + 20, be) & 0xFFFFu;
    f.role = -1;
    in_consume(in, 24);
    memset(&w, 0, sizeof w);
    while (!c->failed) {
        size_t got = in_fill(in, 16);
        uint32_t incl, orig;
        if (got == 0)
            break;
        rec++;
        if (got < 16) {
            dump_fail(c, "pcap: truncated: the file ends inside the header "
                      "of record %" PRIu64 " at offset %" PRIu64, rec,
                      in->off);
            break;
        }
        p = in_ptr(in);
        incl = rd32(p + 8, be);
        orig = rd32(p + 12, be);
        if (incl > in->max - 16) {
            dump_fail(c, "pcap: record %" PRIu64 " at offset %" PRIu64
                      " claims %u bytes (corrupt file?)", rec, in->off,
                      (unsigned)incl);
            break;
        }
        if (in_fill(in, 16 + (size_t)incl) < 16 + (size_t)incl) {
            if (in_check_err(c, in) == 0)
                dump_fail(c, "pcap: truncated: the file ends inside record %"
                          PRIu64 " at offset %" PRIu64 " (%u bytes claimed)",
                          rec, in->off, (unsigned)incl);
            break;
        }
        p = in_ptr(in);
        w.has_ts = 1;
        w.ts_us = (uint64_t)rd32(p, be) * 1000000u +
                  (ns ? rd32(p + 4, be) / 1000u : rd32(p + 4, be));
        w.frame = rec;
        packet(c, NULL, &f, 0, p + 16, incl, orig, &w);
        in_consume(in, 16 + (size_t)incl);
    }
    in_check_err(c, in);
    w.has_ts = 0;
    if (f.alone[0] != NULL)
        dstream_end(c, &f.alone[0]->s[0], &w);
    return c->failed ? -1 : 0;
}

/* ------------------------------------------------------------ hex trace */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 1 if the line is a trace line ("D>T" or "T>D", then bytes). */
static int trace_dir(const uint8_t *l, size_t n)
{
    if (n < 3 || (n > 3 && l[3] != ' ' && l[3] != '\t'))
        return -1;
    if (memcmp(l, "D>T", 3) == 0)
        return DUMP_D2T;
    if (memcmp(l, "T>D", 3) == 0)
        return DUMP_T2D;
    return -1;
}

static int hex_line(struct dump_ctx *c, struct dlink *lk, const uint8_t *l,
                    size_t n, uint64_t lineno, uint8_t *bytes,
                    uint64_t *trace_lines)
{
    int dir;
    size_t i, nb = 0;
    struct when w;

    while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
        n--;
    if (n == 0 || l[0] == '#')
        return 0;
    dir = trace_dir(l, n);
    if (dir < 0) {
        c->net.hex_other_lines++;
        return 0;
    }
    (*trace_lines)++;
    for (i = 3; i < n;) {
        size_t t;
        int hi, lo;
        while (i < n && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i >= n)
            break;
        t = i;
        while (t < n && l[t] != ' ' && l[t] != '\t')
            t++;
        hi = t - i == 2 ? hexval(l[i]) : -1;
        lo = t - i == 2 ? hexval(l[i + 1]) : -1;
        if (hi < 0 || lo < 0) {
            char tok[24];
            size_t k, m = t - i < sizeof tok - 4 ? t - i : sizeof tok - 4;
            for (k = 0; k < m; k++)
                tok[k] = l[i + k] >= 0x20 && l[i + k] < 0x7f ? (char)l[i + k]
                                                             : '?';
            tok[m] = '\0';
            if (t - i > m)
                strcat(tok, "...");
            return dump_fail(c, "hex trace: line %" PRIu64 ": '%s' is not "
                             "a hex byte (kdcom-dump reads --trace hex "
                             "output; --trace decode lines are not bytes)",
                             lineno, tok);
        }
        bytes[nb++] = (uint8_t)(hi << 4 | lo);
        i = t;
    }
    memset(&w, 0, sizeof w);
    w.line = lineno;
    if (nb > 0)
        dstream_feed(c, &lk->s[dir], bytes, nb, &w);
    return 0;
}

static int read_hex(struct dump_ctx *c, struct inbuf *in)
{
    struct dlink *lk = dlink_new(c, 2);
    uint8_t *bytes = NULL;
    size_t bcap = 0, scanned = 0;
    uint64_t lineno = 0, trace_lines = 0;
    struct when w;

    if (lk == NULL)
        return -1;
    dstream_set_dir(&lk->s[0], DUMP_D2T);
    dstream_set_dir(&lk->s[1], DUMP_T2D);
    while (!c->failed) {
        const uint8_t *p, *nl;
        size_t avail = in_avail(in), len;

        p = in_ptr(in);
        nl = avail > scanned ? memchr(p + scanned, '\n', avail - scanned)
                             : NULL;
        if (nl == NULL && !in->eof) {
            scanned = avail;
            if (avail >= in->max) {
                dump_fail(c, "hex trace: line %" PRIu64 " is longer than "
                          "%zu bytes", lineno + 1, in->max);
                break;
            }
            in_fill(in, avail + 1);
            continue;
        }
        if (nl == NULL && avail == 0)
            break;
        len = nl != NULL ? (size_t)(nl - p) : avail;
        lineno++;
        if (len / 2 + 1 > bcap) {
            uint8_t *nb = realloc(bytes, len / 2 + 1);
            if (nb == NULL) {
                dump_fail(c, "out of memory");
                break;
            }
            bytes = nb;
            bcap = len / 2 + 1;
        }
        if (hex_line(c, lk, p, len, lineno, bytes, &trace_lines) != 0)
            break;
        in_consume(in, nl != NULL ? len + 1 : len);
        scanned = 0;
    }
    free(bytes);
    in_check_err(c, in);
    if (!c->failed && trace_lines == 0)
        dump_fail(c, "hex trace: no trace lines (\"D>T ...\" or "
                  "\"T>D ...\") in %" PRIu64 " line(s)", lineno);
    memset(&w, 0, sizeof w);
    dstream_end(c, &lk->s[0], &w);
    dstream_end(c, &lk->s[1], &w);
    return c->failed ? -1 : 0;
}

/* ----------------------------------------------------------------- raw */

static int read_raw(struct dump_ctx *c, struct inbuf *in)
{
    struct dlink *lk = dlink_new(c, 1);
    struct when w;

    if (lk == NULL)
        return -1;
    dstream_set_dir(&lk->s[0], c->o->raw_dir);
    memset(&w, 0, sizeof w);
    while (!c->failed) {
        size_t n = in_avail(in);
        if (n == 0) {
            if (in->eof || in_read_once(in, READ_CHUNK) <= 0)
                break;
            continue;
        }
        dstream_feed(c, &lk->s[0], in_ptr(in), n, &w);
        in_consume(in, n);
    }
    in_check_err(c, in);
    dstream_end(c, &lk->s[0], &w);
    return c->failed ? -1 : 0;
}

/* ------------------------------------------------------------ detection */

static int looks_like_hex(const uint8_t *p, size_t n)
{
    size_t i;

    if (memchr(p, 0, n) != NULL)
        return 0;
    for (i = 0; i < n; i++) {
        if ((i == 0 || p[i - 1] == '\n') && trace_dir(p + i, n - i) >= 0)
            return 1;
    }
    return 0;
}

static int detect(struct dump_ctx *c, struct inbuf *in)
{
    size_t n = in_fill(in, 4);
    const uint8_t *p = in_ptr(in);
    uint32_t m;

    if (n == 0) {
        if (in_check_err(c, in) != 0)
            return -1;
        return dump_fail(c, "empty input");
    }
    if (n >= 4) {
        m = rd32(p, 0);
        if (m == 0x0A0D0D0Au)
            return DUMP_FMT_PCAPNG;
        if (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du ||
            m == 0x4d3cb2a1u)
            return DUMP_FMT_PCAP;
        if (m == 0xa1b2cd34u || m == 0x34cdb2a1u)
            return dump_fail(c, "a modified (Kuznetzov) pcap file: convert "
                             "it with editcap -F pcap first");
    }
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return dump_fail(c, "a gzip-compressed file: decompress it first");
    n = in_fill(in, DETECT_BYTES);
    if (looks_like_hex(in_ptr(in), n))
        return DUMP_FMT_HEX;
    return DUMP_FMT_RAW;
}

/* ------------------------------------------------------------------ run */

int dump_run(const struct dump_opts *o, const struct dump_source *src,
             FILE *out, char *err, size_t errcap)
{
    struct dump_ctx c;
    struct inbuf in;
    struct when w;
    int fmt;

    memset(&c, 0, sizeof c);
    c.o = o;
    c.out = out;
    c.err = err;
    c.errcap = errcap;
    if (err != NULL && errcap > 0)
        err[0] = '\0';
    in_init(&in, src, o->max_record ? o->max_record : DEFAULT_MAX_RECORD);
    fmt = o->format;
    if (fmt == DUMP_FMT_AUTO)
        fmt = detect(&c, &in);
    else if (fmt == DUMP_FMT_PCAPNG || fmt == DUMP_FMT_PCAP) {
        /* A named format must be that format. */
        size_t n = in_fill(&in, 4);
        uint32_t m = n >= 4 ? rd32(in_ptr(&in), 0) : 0;
        int ok = fmt == DUMP_FMT_PCAPNG
                     ? m == 0x0A0D0D0Au
                     : (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u ||
                        m == 0xa1b23c4du || m == 0x4d3cb2a1u);
        if (!ok)
            fmt = dump_fail(&c, "not a %s file (its first bytes are no %s "
                            "magic number)",
                            fmt == DUMP_FMT_PCAPNG ? "pcapng" : "pcap",
                            fmt == DUMP_FMT_PCAPNG ? "pcapng" : "pcap");
    }
    switch (fmt) {
    case DUMP_FMT_PCAPNG:
        c.format_name = "pcapng";
        read_pcapng(&c, &in);
        break;
    case DUMP_FMT_PCAP:
        c.format_name = "pcap";
        read_pcap(&c, &in);
        break;
    case DUMP_FMT_HEX:
        c.format_name = "hex trace";
        read_hex(&c, &in);
        break;
    case DUMP_FMT_RAW:
        c.format_name = "raw bytes";
        read_raw(&c, &in);
        break;
    default:
        break;
    }
    memset(&w, 0, sizeof w);
    net_end(&c, &w);
    dlinks_end(&c, &w);
    if (!o->no_summary)
        out_summary(&c);
    net_free(&c);
    dlinks_free(&c);
    free(in.buf);
    fflush(out);
    return c.failed ? -1 : 0;
}
