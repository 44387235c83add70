/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_net.c - KDCOM over TCP in a capture: Ethernet (with VLAN tags),
 * Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP link
 * layers, IPv4 and IPv6, and TCP reassembly.
 *
 * Each direction of a connection is put back in sequence order: bytes
 * already delivered (retransmitted segments) are delivered once,
 * segments that arrive early wait until the bytes before them come, and
 * bytes the capture never had (a gap) are reported as such, after which
 * the direction's frame parser starts afresh.  A connection starts at its
 * SYN, or mid-stream at the first segment with data, and ends at RST, at
 * the second FIN or at the end of the capture.  Connections are followed
 * on the ports asked for (default DUMP_DEFAULT_PORT) or on every port.
 *
 * Every header length is checked against the captured bytes; IP
 * fragments are counted and skipped (KDCOM segments are small and never
 * fragmented on the links this tool is for).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dump_int.h"

#define DEFAULT_MAX_CONNS 4096
/* Closed connections kept to recognise their late segments. */
#define MAX_CLOSED 64
#define DEFAULT_MAX_OOO (8u << 20)
#define MAX_OOO_SEGS 65536
#define MAX_OOO_TOTAL_FACTOR 8 /* all connections together: 8 x max_ooo */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

struct seg {
    struct seg *next;
    uint32_t seq;
    size_t len;
    uint8_t data[];
};

struct half {
    int have_next;
    uint32_t next;
    int fin;
    struct seg *ooo;    /* sorted by sequence, relative to next */
    size_t ooo_bytes, ooo_count;
};

struct tcp_conn {
    struct tcp_conn *next;
    int v6;
    uint8_t addr[2][16];
    uint16_t port[2];   /* endpoint 0 the client, 1 the server (if known) */
    int have_isn[2];
    uint32_t isn[2];
    struct half h[2];   /* h[i]: what endpoint i sends */
    struct dlink *link; /* s[i]: what endpoint i sends */
    int closed;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static size_t max_ooo(const struct dump_ctx *c)
{
    return c->o->max_ooo ? c->o->max_ooo : DEFAULT_MAX_OOO;
}

static size_t max_conns(const struct dump_ctx *c)
{
    return c->o->max_conns ? c->o->max_conns : DEFAULT_MAX_CONNS;
}

static int port_wanted(const struct dump_ctx *c, uint16_t port)
{
    int i;

    if (c->o->any_port)
        return 1;
    if (c->o->nports == 0)
        return port == DUMP_DEFAULT_PORT;
    for (i = 0; i < c->o->nports && i < DUMP_MAX_PORTS; i++)
        if (c->o->ports[i] == port)
            return 1;
    return 0;
}

/* ----------------------------------------------------------- streams */

/* What a queued segment costs: its bytes and its bookkeeping. */
static size_t seg_cost(const struct seg *s)
{
    return sizeof *s + s->len;
}

static void free_ooo(struct dump_ctx *c, struct half *h)
{
    while (h->ooo != NULL) {
        struct seg *s = h->ooo;
        h->ooo = s->next;
        c->ooo_total -= seg_cost(s);
        free(s);
    }
    h->ooo_bytes = h->ooo_count = 0;
}

static void deliver(struct dump_ctx *c, struct tcp_conn *t, int i,
                    const uint8_t *b, size_t n, const struct when *w)
{
    struct half *h = &t->h[i];

    dstream_feed(c, &t->link->s[i], b, n, w);
    h->next += (uint32_t)n;
}

/* Delivers queued segments that now follow on. */
static void drain_ooo(struct dump_ctx *c, struct tcp_conn *t, int i,
                      const struct when *w)
{
    struct half *h = &t->h[i];

    while (h->ooo != NULL && !c->failed) {
        struct seg *s = h->ooo;
        int32_t rel = (int32_t)(s->seq - h->next);
        if (rel > 0)
            break;
        h->ooo = s->next;
        h->ooo_bytes -= seg_cost(s);
        c->ooo_total -= seg_cost(s);
        h->ooo_count--;
        if ((uint32_t)-rel < s->len)
            deliver(c, t, i, s->data + (uint32_t)-rel,
                    s->len - (uint32_t)-rel, w);
        else
            c->net.tcp_retransmitted++;
        free(s);
    }
}

/* The capture lacks the bytes up to the first queued segment. */
static void skip_gap(struct dump_ctx *c, struct tcp_conn *t, int i,
                     const struct when *w)
{
    struct half *h = &t->h[i];
    uint32_t missing;

    if (h->ooo == NULL)
        return;
    missing = h->ooo->seq - h->next;
    c->net.tcp_missing += missing;
    dstream_gap(c, &t->link->s[i], missing, w);
    h->next = h->ooo->seq;
    drain_ooo(c, t, i, w);
}

static void queue_ooo(struct dump_ctx *c, struct tcp_conn *t, int i,
                      uint32_t seq, const uint8_t *b, size_t n,
                      const struct when *w)
{
    struct half *h = &t->h[i];
    struct seg *s, **pp;
    int32_t rel = (int32_t)(seq - h->next);

    c->net.tcp_out_of_order++;
    s = malloc(sizeof *s + n);
    if (s == NULL) {
        dump_fail(c, "out of memory");
        return;
    }
    s->seq = seq;
    s->len = n;
    memcpy(s->data, b, n);
    for (pp = &h->ooo; *pp != NULL; pp = &(*pp)->next)
        if ((int32_t)((*pp)->seq - h->next) > rel)
            break;
    s->next = *pp;
    *pp = s;
    h->ooo_bytes += seg_cost(s);
    c->ooo_total += seg_cost(s);
    h->ooo_count++;
    /* Bounded per direction and in all: past either bound, the capture is
     * taken to lack the bytes before what waits (reported as a gap). */
    while ((h->ooo_bytes > max_ooo(c) || h->ooo_count > MAX_OOO_SEGS ||
            c->ooo_total > MAX_OOO_TOTAL_FACTOR * max_ooo(c)) &&
           h->ooo != NULL && !c->failed)
        skip_gap(c, t, i, w);
}

/* n payload bytes of endpoint i at sequence number seq.  truncated: the
 * capture lacks them (cut by the snap length); b is NULL then and only
 * the count is used. */
static void half_data(struct dump_ctx *c, struct tcp_conn *t, int i,
                      uint32_t seq, const uint8_t *b, size_t n, int truncated,
                      const struct when *w)
{
    struct half *h = &t->h[i];
    int32_t rel;

    if (!h->have_next) {
        h->next = seq;
        h->have_next = 1;
    }
    rel = (int32_t)(seq - h->next);
    if (rel < 0) {
        uint32_t old = (uint32_t)-(int64_t)rel;
        c->net.tcp_retransmitted++;
        if (old >= n)
            return;
        seq += old;
        n -= old;
        if (b != NULL)
            b += old;
        rel = 0;
    }
    if (truncated) {
        c->net.tcp_truncated++;
        if (rel == 0) {
            c->net.tcp_missing += n;
            dstream_gap(c, &t->link->s[i], n, w);
            h->next += (uint32_t)n;
            drain_ooo(c, t, i, w);
        }
        return;
    }
    if (rel == 0) {
        deliver(c, t, i, b, n, w);
        drain_ooo(c, t, i, w);
    } else {
        queue_ooo(c, t, i, seq, b, n, w);
    }
}

/* Frees the oldest closed connection; 0 if there was none. */
static int evict_closed(struct dump_ctx *c)
{
    struct tcp_conn **pp, **last = NULL;

    for (pp = &c->conns; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->closed)
            last = pp;
    if (last == NULL)
        return 0;
    {
        struct tcp_conn *t = *last;
        *last = t->next;
        free(t);
        c->nconns_live--;
        c->nclosed--;
    }
    return 1;
}

static void conn_close(struct dump_ctx *c, struct tcp_conn *t,
                       const struct when *w)
{
    int i;

    if (t->closed)
        return;
    for (i = 0; i < 2; i++) {
        while (t->h[i].ooo != NULL && !c->failed)
            skip_gap(c, t, i, w);
        free_ooo(c, &t->h[i]);
        dstream_end(c, &t->link->s[i], w);
    }
    dlink_retire(c, t->link);
    t->link = NULL;
    t->closed = 1;
    if (++c->nclosed > MAX_CLOSED)
        evict_closed(c);
}

/* ------------------------------------------------------- connections */

static void endpoint_name(const struct tcp_conn *t, int i, char *buf,
                          size_t cap)
{
    char a[48]; /* INET6_ADDRSTRLEN */

    if (inet_ntop(t->v6 ? AF_INET6 : AF_INET, t->addr[i], a, sizeof a) ==
        NULL)
        snprintf(a, sizeof a, "?");
    snprintf(buf, cap, t->v6 ? "[%s]:%u" : "%s:%u", a, (unsigned)t->port[i]);
}

static struct tcp_conn *conn_new(struct dump_ctx *c, int v6,
                                 const uint8_t *src, uint16_t sport,
                                 const uint8_t *dst, uint16_t dport,
                                 int src_is_client)
{
    struct tcp_conn *t;
    size_t alen = v6 ? 16 : 4;
    int ci = src_is_client ? 0 : 1;
    char a[64], b[64];

    if (c->nconns_live >= max_conns(c) && !evict_closed(c)) {
        c->net.conn_limit++;
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        dump_fail(c, "out of memory");
        return NULL;
    }
    t->link = dlink_new(c, 2);
    if (t->link == NULL) {
        free(t);
        return NULL;
    }
    t->v6 = v6;
    memcpy(t->addr[ci], src, alen);
    t->port[ci] = sport;
    memcpy(t->addr[ci ^ 1], dst, alen);
    t->port[ci ^ 1] = dport;
    t->link->conn = ++c->nconn;
    t->link->decided = 0;
    t->link->server_idx = 1;
    endpoint_name(t, 0, a, sizeof a);
    endpoint_name(t, 1, b, sizeof b);
    snprintf(t->link->name, sizeof t->link->name, "%s -> %s", a, b);
    t->next = c->conns;
    c->conns = t;
    c->nconns_live++;
    c->net.connections++;
    return t;
}

/* The connection of this segment and the sending endpoint's index. */
static struct tcp_conn *conn_find(struct dump_ctx *c, int v6,
                                  const uint8_t *src, uint16_t sport,
                                  const uint8_t *dst, uint16_t dport,
                                  int *idx)
{
    struct tcp_conn *t;
    size_t alen = v6 ? 16 : 4;

    for (t = c->conns; t != NULL; t = t->next) {
        int i;
        if (t->v6 != v6)
            continue;
        for (i = 0; i < 2; i++)
            if (t->port[i] == sport && t->port[i ^ 1] == dport &&
                memcmp(t->addr[i], src, alen) == 0 &&
                memcmp(t->addr[i ^ 1], dst, alen) == 0) {
                *idx = i;
                return t;
            }
    }
    return NULL;
}

static void tcp_segment(struct dump_ctx *c, int v6, const uint8_t *src,
                        const uint8_t *dst, const uint8_t *p, size_t len,
                        size_t claimed, const struct when *w)
{
    uint16_t sport, dport;
    uint32_t seq;
    size_t doff, plen;
    uint8_t flags;
    struct tcp_conn *t;
    int i = 0, truncated = claimed > len;

    if (len < 20 || (doff = (size_t)(p[12] >> 4) * 4) < 20 || doff > len) {
        c->net.malformed++;
        return;
    }
    sport = be16(p);
    dport = be16(p + 2);
    seq = be32(p + 4);
    flags = p[13];
    plen = (truncated ? claimed : len) - doff;
    if (!port_wanted(c, sport) && !port_wanted(c, dport)) {
        if (plen > 0)
            c->net.other_ports++;
        return;
    }
    t = conn_find(c, v6, src, sport, dst, dport, &i);
    if ((flags & TH_SYN) && t != NULL &&
        (t->closed || (t->have_isn[i] && t->isn[i] != seq))) {
        /* the same ports again: a new connection */
        if (!t->closed)
            conn_close(c, t, w);
        t = NULL;
    }
    if (t == NULL) {
        int src_client;
        if (!(flags & TH_SYN) && plen == 0)
            return; /* nothing to follow yet */
        if (flags & TH_SYN)
            src_client = !(flags & TH_ACK);
        else if (port_wanted(c, dport) != port_wanted(c, sport))
            src_client = port_wanted(c, dport);
        else
            src_client = sport > dport; /* the ephemeral port connects */
        t = conn_new(c, v6, src, sport, dst, dport, src_client);
        if (t == NULL)
            return;
        i = src_client ? 0 : 1;
    }
    if (t->closed) {
        c->net.tcp_retransmitted += plen > 0;
        return;
    }
    c->net.tcp_segments++;
    if (flags & TH_SYN) {
        if (!t->have_isn[i]) {
            t->have_isn[i] = 1;
            t->isn[i] = seq;
            if (!t->h[i].have_next) {
                t->h[i].have_next = 1;
                t->h[i].next = seq + 1;
            }
        }
        seq += 1; /* data on a SYN follows the SYN's sequence number */
    }
    if (plen > 0)
        half_data(c, t, i, seq, truncated ? NULL : p + doff, plen, truncated,
                  w);
    if (flags & TH_FIN)
        t->h[i].fin = 1;
    if ((flags & TH_RST) || (t->h[0].fin && t->h[1].fin))
        conn_close(c, t, w);
}

/* ------------------------------------------------------------------ IP */

static void ipv4(struct dump_ctx *c, const uint8_t *p, size_t len,
                 const struct when *w)
{
    size_t ihl, tot;

    if (len < 20 || (p[0] >> 4) != 4 || (ihl = (size_t)(p[0] & 15) * 4) < 20 ||
        ihl > len) {
        c->net.malformed++;
        return;
    }
    tot = be16(p + 2);
    if (tot < ihl) {
        c->net.malformed++;
        return;
    }
    if ((be16(p + 6) & 0x3FFF) != 0) {
        c->net.fragments++;
        return;
    }
    if (p[9] != 6) {
        c->net.not_tcp++;
        return;
    }
    /* Past tot: Ethernet padding.  Short of tot: cut by the snap length. */
    tcp_segment(c, 0, p + 12, p + 16, p + ihl,
                (tot < len ? tot : len) - ihl, tot - ihl, w);
}

static void ipv6(struct dump_ctx *c, const uint8_t *p, size_t len,
                 const struct when *w)
{
    size_t off = 40, end;
    uint8_t nh;
    int hops;

    if (len < 40 || (p[0] >> 4) != 6) {
        c->net.malformed++;
        return;
    }
    end = 40 + (size_t)be16(p + 4);
    nh = p[6];
    for (hops = 0; hops < 8; hops++) {
        size_t hl;
        switch (nh) {
        case 6: {
            size_t have = (end < len ? end : len);
            if (off > have) {
                c->net.malformed++;
                return;
            }
            tcp_segment(c, 1, p + 8, p + 24, p + off, have - off, end - off,
                        w);
            return;
        }
        case 0:  /* hop-by-hop */
        case 43: /* routing */
        case 60: /* destination options */
        case 51: /* authentication header */
            if (off + 8 > end || off + 8 > len) {
                c->net.malformed++;
                return;
            }
            hl = nh == 51 ? ((size_t)p[off + 1] + 2) * 4
                          : ((size_t)p[off + 1] + 1) * 8;
            nh = p[off];
            off += hl;
            break;
        case 44:
            c->net.fragments++;
            return;
        default:
            c->net.not_tcp++;
            return;
        }
    }
    c->net.malformed++;
}

static void ethertype(struct dump_ctx *c, uint16_t et, const uint8_t *p,
                      size_t len, const struct when *w)
{
    if (et == 0x0800)
        ipv4(c, p, len, w);
    else if (et == 0x86DD)
        ipv6(c, p, len, w);
    else
        c->net.not_ip++;
}

static void by_version(struct dump_ctx *c, const uint8_t *p, size_t len,
                       const struct when *w)
{
    if (len >= 1 && (p[0] >> 4) == 4)
        ipv4(c, p, len, w);
    else if (len >= 1 && (p[0] >> 4) == 6)
        ipv6(c, p, len, w);
    else
        c->net.not_ip++;
}

int net_linktype_known(uint32_t lt)
{
    return lt == 0 || lt == 1 || lt == 12 || lt == 101 || lt == 108 ||
           lt == 113 || lt == 228 || lt == 229 || lt == 276;
}

void net_packet(struct dump_ctx *c, uint32_t lt, const uint8_t *p,
                size_t caplen, size_t origlen, const struct when *w)
{
    (void)origlen; /* IP's own lengths tell what is missing */
    switch (lt) {
    case 1: { /* Ethernet, up to two VLAN tags */
        size_t off = 12;
        uint16_t et;
        int tags = 0;
        if (caplen < 14) {
            c->net.malformed++;
            return;
        }
        et = be16(p + off);
        while ((et == 0x8100 || et == 0x88A8) && tags++ < 2) {
            off += 4;
            if (caplen < off + 2) {
                c->net.malformed++;
                return;
            }
            et = be16(p + off);
        }
        ethertype(c, et, p + off + 2, caplen - off - 2, w);
        return;
    }
    case 0:   /* NULL: address family in the writer's byte order */
    case 108: { /* LOOP: in network byte order */
        uint32_t af;
        if (caplen < 4) {
            c->net.malformed++;
            return;
        }
        af = lt == 108 ? be32(p)
                       : (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (lt == 0 && af > 0xFFFF)
            af = be32(p);
        if (af == 2)
            ipv4(c, p + 4, caplen - 4, w);
        else if (af == 10 || af == 24 || af == 28 || af == 30)
            ipv6(c, p + 4, caplen - 4, w);
        else
            c->net.not_ip++;
        return;
    }
    case 12:  /* raw IP (some BSDs) */
    case 101: /* raw IP */
        by_version(c, p, caplen, w);
        return;
    case 228:
        ipv4(c, p, caplen, w);
        return;
    case 229:
        ipv6(c, p, caplen, w);
        return;
    case 113: /* Linux cooked capture */
        if (caplen < 16) {
            c->net.malformed++;
            return;
        }
        ethertype(c, be16(p + 14), p + 16, caplen - 16, w);
        return;
    case 276: /* Linux cooked capture v2 */
        if (caplen < 20) {
            c->net.malformed++;
            return;
        }
        ethertype(c, be16(p), p + 20, caplen - 20, w);
        return;
    default:
        c->net.unsupported++;
        c->net.unsupported_type = lt;
        return;
    }
}

void net_end(struct dump_ctx *c, const struct when *w)
{
    struct tcp_conn *t;

    for (t = c->conns; t != NULL; t = t->next)
        conn_close(c, t, w);
}

void net_free(struct dump_ctx *c)
{
    while (c->conns != NULL) {
        struct tcp_conn *t = c->conns;
        c->conns = t->next;
        free_ooo(c, &t->h[0]);
        free_ooo(c, &t->h[1]);
        free(t);
    }
    c->nconns_live = 0;
}
