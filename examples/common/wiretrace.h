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

struct wiretrace {
    int mode;
    FILE *out;
    struct kdcom_parser p[2]; /* [0] debugger->target, [1] target->debugger */
};

/* Parses "hex" / "decode" / "off".  Returns the mode or -1. */
int wt_parse_mode(const char *s);

void wt_init(struct wiretrace *wt, int mode, FILE *out);
/* Forgets half-parsed frames (a new connection). */
void wt_reset(struct wiretrace *wt);
/* to_target: 1 for bytes going to the target (D>T), 0 for T>D. */
void wt_bytes(struct wiretrace *wt, int to_target, const uint8_t *b,
              size_t n);

/* One-line description of a KD payload of packet type `type`, into buf. */
void kd_describe(uint32_t type, const uint8_t *p, size_t len, char *buf,
                 size_t cap);

#endif /* WIRETRACE_H */
