/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump.h - the decoding core of kdcom-dump: input readers (pcapng, pcap,
 * the shim's hex trace, raw bytes), link/IP/TCP decoding with stream
 * reassembly, libkdcom's frame parser on each direction, the KD message
 * decoder and the text / JSON-lines output with its summary.
 *
 * No exit(), no global state: dump_run() can be called again and again
 * (the fuzz harness does), and frees everything it allocated.
 */
#ifndef KDCOM_DUMP_H
#define KDCOM_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum dump_format {
    DUMP_FMT_AUTO = 0,
    DUMP_FMT_PCAPNG = 1,
    DUMP_FMT_PCAP = 2,
    DUMP_FMT_HEX = 3, /* kdcom-shim / kdcom-client --trace hex */
    DUMP_FMT_RAW = 4  /* the bytes of one direction */
};

/* Directions, as labels print them. */
enum dump_dir {
    DUMP_D2T = 0,    /* debugger -> target */
    DUMP_T2D = 1,    /* target -> debugger */
    DUMP_UNKNOWN = 2 /* one stream whose sender is not known */
};

/* An end of the link. */
enum dump_end {
    DUMP_END_UNKNOWN = 0,
    DUMP_END_DEBUGGER = 1,
    DUMP_END_TARGET = 2
};

/* Which TCP endpoint is the target. */
enum dump_side {
    DUMP_SIDE_AUTO = 0,   /* from what each side sends first */
    DUMP_SIDE_SERVER = 1, /* the listening side (kdcom-shim tcp-listen, QEMU
                             -serial tcp:...,server) */
    DUMP_SIDE_CLIENT = 2  /* the connecting side */
};

#define DUMP_MAX_PORTS 16
#define DUMP_DEFAULT_PORT 5800 /* docs/integrating.md: com:ipport=5800 */

struct dump_opts {
    int format;              /* enum dump_format */
    int json;                /* JSON lines instead of text */
    int no_summary;
    int raw_dir;             /* raw input: DUMP_D2T, DUMP_T2D, DUMP_UNKNOWN */
    int capture_end;         /* captures whose interfaces are not named
                                "debugger"/"target": which end wrote the
                                file, so that the inbound/outbound flags
                                give the direction (enum dump_end) */
    int target_side;         /* TCP: enum dump_side */
    int any_port;            /* TCP: every connection */
    int nports;
    uint16_t ports[DUMP_MAX_PORTS]; /* TCP ports (none: DUMP_DEFAULT_PORT) */
    /* Limits (0: the defaults); the fuzz harness makes them small. */
    size_t max_record;       /* largest pcap record / pcapng block / line */
    size_t max_conns;        /* TCP connections tracked at once */
    size_t max_ooo;          /* out-of-order bytes held per direction */
};

/* Where the bytes come from: a file descriptor (read as it goes, so a
 * pipe or a growing serial log works) or a buffer. */
struct dump_source {
    int fd;                  /* -1 for a buffer */
    const uint8_t *mem;
    size_t len;
    size_t chunk;            /* buffer: 0 to read it in place, else hand it
                                over in pieces of this size, as read(2)
                                would (the fuzz harness tests the reading
                                path this way) */
    const char *name;        /* for messages */
};

void dump_opts_init(struct dump_opts *o);

/* Decodes the whole source onto out, then the summary.  Returns 0, or -1
 * when the input is bad (unknown format, truncated, malformed, an I/O
 * error): err then holds one line saying what and where, and everything
 * decoded before the fault has been printed. */
int dump_run(const struct dump_opts *o, const struct dump_source *src,
             FILE *out, char *err, size_t errcap);

#endif /* KDCOM_DUMP_H */
