/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wiretrace.h - printing KDCOM traffic: raw hex chunks in the format of
 * tests/vectors ("D>T 30 30 ..."), or one decoded line per frame with the
 * KD message inside it named.
 */
#ifndef WIRETRACE_H
#define WIRETRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kdcom.h>

enum wt_mode { WT_OFF = 0, WT_HEX = 1, WT_DECODE = 2 };

struct pcapng_writer;

struct wiretrace {
    int mode;
    FILE *out;
    struct kdcom_parser p[2]; /* [0] debugger->target, [1] target->debugger */
    struct pcapng_writer *pcap; /* --pcap: every byte also goes there, or
                                   NULL */
};

/* Parses "hex" / "decode" / "off".  Returns the mode or -1. */
int wt_parse_mode(const char *s);

void wt_init(struct wiretrace *wt, int mode, FILE *out);
/* Forgets half-parsed frames (a new connection). */
void wt_reset(struct wiretrace *wt);
/* to_target: 1 for bytes going to the target (D>T), 0 for T>D. */
void wt_bytes(struct wiretrace *wt, int to_target, const uint8_t *b,
              size_t n);

/* One-line description of a KD payload of packet type `type`, into buf
 * (always terminated, cut at cap).  to_target: 1 for a packet from the
 * debugger, 0 for one from the target, -1 if unknown; it tells a request
 * from a reply (a manipulate request goes to the target, a FILE_IO request
 * comes from it), and only the fields the sender fills are shown. */
void kd_describe(uint32_t type, const uint8_t *p, size_t len, int to_target,
                 char *buf, size_t cap);

#endif /* WIRETRACE_H */
