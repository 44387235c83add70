/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_int.h - what the parts of kdcom-dump's core share:
 *
 *   dump_input.c   input buffer, format detection, the four readers
 *   dump_net.c     link layers, IPv4/IPv6, TCP and its reassembly
 *   dump_stream.c  one KDCOM byte stream per direction: libkdcom's parser,
 *                  the retransmission/duplicate analysis, the counters
 *   dump_out.c     text and JSON lines, the summary
 *   dump_kd.c      the KD message inside a data packet, as named fields
 */
#ifndef KDCOM_DUMP_INT_H
#define KDCOM_DUMP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kdcom.h>

#include "dump.h"

/* ------------------------------------------------------------------ */
/* Counters of one direction (and their totals). */
struct dstats {
    uint64_t bytes;
    uint64_t items;           /* lines printed, noise lines excluded */
    uint64_t data;            /* intact data packets */
    uint64_t acks, resends, resets, unknown_control;
    uint64_t breakins;
    uint64_t retransmissions; /* data packets sent again */
    uint64_t duplicates;      /* ... of a packet already acknowledged */
    uint64_t bad_checksum, bad_trailer, bad_size;
    uint64_t noise_bytes, partial_leaders;
    uint64_t incomplete;      /* frames cut off by the end or a gap */
};

/* When and where a chunk of bytes was seen. */
struct when {
    int has_ts;
    uint64_t ts_us;   /* microseconds since 1970 */
    uint64_t frame;   /* capture packet number (1-based), 0 if none */
    uint64_t line;    /* hex trace line, 0 if none */
};

struct dlink;

/* One direction of a link. */
struct dstream {
    struct kdcom_parser p;
    struct dlink *link;
    int idx;                  /* 0 or 1 within the link */
    int dir;                  /* enum dump_dir, may be decided late (TCP) */
    uint64_t noise_seen;      /* parser counters already accounted for */
    uint64_t partial_seen;
    uint64_t item_bytes;      /* bytes inside items */
    uint64_t dropped;         /* bytes abandoned at gaps */
    struct dstats st;
    /* the last data packet, for retransmissions and duplicates */
    int have_last, last_acked, reset_since;
    uint32_t last_type, last_count, last_id, last_sum;
    /* TCP role evidence: what this side sent first */
    uint64_t evidence_target, evidence_debugger;
};

/* Two directions that answer each other (a TCP connection, the two
 * interfaces of a pcapng section, a hex trace), or one stream alone. */
struct dlink {
    struct dlink *next;
    int nstreams;
    int conn;                 /* TCP connection number (1-based), else 0 */
    int decided;              /* directions known */
    int server_idx;           /* TCP: which stream the server sends */
    int fallback;             /* TCP: directions from the fallback rule */
    char name[144];           /* for the summary: endpoints */
    struct dstream s[2];
};

/* The decoded KD message: up to DKD_MAX fields. */
enum dkd_fmt {
    DKD_DEC,    /* unsigned decimal */
    DKD_HEX32,  /* 0x%08x */
    DKD_HEX,    /* 0x%llx */
    DKD_HEX4,   /* 0x%04x */
    DKD_STR,    /* bytes shown as a quoted string */
    DKD_UTF16,  /* UTF-16LE bytes shown as a quoted string */
    DKD_PAIR    /* u/u2 as "%u/%u" (processor / count) */
};

struct dkd_field {
    const char *key;
    int fmt;
    uint64_t u, u2;
    const uint8_t *s;         /* DKD_STR / DKD_UTF16: into the payload */
    size_t slen;
};

#define DKD_MAX 20

struct dkd {
    int have_api;             /* payload long enough for an ApiNumber */
    uint32_t api;
    const char *name;         /* never NULL when have_api */
    int short_header;         /* payload shorter than the message header */
    size_t header_size;
    size_t data_len;          /* bytes after the message header */
    int nf;
    struct dkd_field f[DKD_MAX];
};

/* dump_kd.c */
void dkd_decode(uint32_t type, const uint8_t *p, size_t len, struct dkd *d);

/* One thing to print. */
enum rec_kind {
    REC_DATA,
    REC_BAD_CHECKSUM,
    REC_BAD_TRAILER,
    REC_BAD_SIZE,
    REC_CONTROL,
    REC_BREAKIN,
    REC_NOISE,
    REC_INCOMPLETE,           /* a frame cut off (end of input, gap) */
    REC_GAP                   /* TCP bytes missing from the capture */
};

struct rec {
    int kind;
    const struct kdcom_frame *f;  /* frame kinds */
    uint64_t count;               /* NOISE, INCOMPLETE, GAP: bytes */
    int retransmission, duplicate;
};

/* ------------------------------------------------------------------ */
/* TCP reassembly (dump_net.c) */
struct tcp_conn;

struct netstats {
    uint64_t packets;         /* capture records read */
    uint64_t kdcom_packets;   /* ... on a KDCOM link type */
    uint64_t tcp_segments;    /* TCP segments of tracked connections */
    uint64_t tcp_retransmitted; /* segments (or parts) already seen */
    uint64_t tcp_out_of_order;
    uint64_t tcp_missing;     /* bytes never captured (gaps) */
    uint64_t tcp_truncated;   /* segments cut short by the snap length */
    uint64_t connections;
    uint64_t other_ports;     /* TCP segments with data on other ports */
    uint64_t conn_limit;      /* connections not tracked: too many */
    uint64_t not_tcp;         /* IP packets that are not TCP */
    uint64_t not_ip;          /* link-layer packets that are not IP */
    uint64_t fragments;       /* IP fragments (not reassembled) */
    uint64_t malformed;       /* bad IP/TCP headers, skipped */
    uint64_t unsupported;     /* packets on link types not understood */
    uint32_t unsupported_type;
    uint64_t hex_other_lines; /* hex trace: lines that are not trace */
};

/* Notes about links already freed (a closed TCP connection). */
#define DUMP_MAX_NOTES 8
#define DUMP_NOTE_LEN 200

/* The whole run. */
struct dump_ctx {
    const struct dump_opts *o;
    FILE *out;
    char *err;
    size_t errcap;
    int failed;
    uint64_t nrec;            /* records printed */
    int have_t0;
    uint64_t t0;
    struct dlink *links;      /* every link, newest first */
    int nconn;                /* TCP connections seen */
    struct tcp_conn *conns;
    size_t nconns_live;       /* tracked, closed ones included */
    size_t nclosed;           /* ... of which closed */
    size_t ooo_total;         /* out-of-order bytes held, all connections */
    /* links that ended and were freed: their counters and notes */
    struct dstats retired[3];
    int retired_present[3];
    int nlnotes;
    uint64_t lnotes_more;
    char lnotes[DUMP_MAX_NOTES][DUMP_NOTE_LEN];
    struct netstats net;
    const char *format_name;
};

/* Records the first fatal error (printf-style); returns -1. */
int dump_fail(struct dump_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* dump_stream.c */
struct dlink *dlink_new(struct dump_ctx *c, int nstreams);
void dstream_set_dir(struct dstream *s, int dir);
void dstream_feed(struct dump_ctx *c, struct dstream *s, const uint8_t *b,
                  size_t n, const struct when *w);
/* End of the stream (end of input, connection closed): reports a frame
 * still in progress. */
void dstream_end(struct dump_ctx *c, struct dstream *s,
                 const struct when *w);
/* Bytes missing before what comes next (TCP gap). */
void dstream_gap(struct dump_ctx *c, struct dstream *s, uint64_t missing,
                 const struct when *w);
void dlinks_end(struct dump_ctx *c, const struct when *w);
/* A link that will get no more bytes: its counters and note go into the
 * summary's totals and it is freed (a capture with a million connections
 * needs no more memory than one with one). */
void dlink_retire(struct dump_ctx *c, struct dlink *l);
void dlinks_free(struct dump_ctx *c);

/* dump_out.c */
void out_record(struct dump_ctx *c, struct dstream *s, const struct rec *r,
                const struct when *w);
void out_summary(struct dump_ctx *c);
/* The note a link deserves (directions guessed or doubtful), into buf;
 * returns 1 if there is one. */
int out_link_note(const struct dump_ctx *c, const struct dlink *l,
                  char *buf, size_t cap);
void out_add_stats(struct dstats *a, const struct dstats *b);
const char *dir_label(int dir);

/* dump_net.c: one capture record of the given link type. */
void net_packet(struct dump_ctx *c, uint32_t linktype, const uint8_t *p,
                size_t caplen, size_t origlen, const struct when *w);
void net_end(struct dump_ctx *c, const struct when *w);
void net_free(struct dump_ctx *c);
int net_linktype_known(uint32_t linktype);

#endif /* KDCOM_DUMP_INT_H */
