/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.h - builds KDCOM frames for the harnesses with code of their own
 * (not the library's encoders), so a frame can also be built wrong on
 * purpose: bad checksum, bad trailer, ByteCount over 4000, any type.
 */
#ifndef KDCOM_FUZZ_WIRE_H
#define KDCOM_FUZZ_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
    FZW_BAD_SUM = 1,     /* checksum off by one */
    FZW_BAD_TRAILER = 2, /* trailer not 0xAA */
    FZW_BIG_COUNT = 4    /* ByteCount field above 4000, payload not sent */
};

/* Writes a data frame into out (room for 16 + len + 1) and returns its
 * length. */
size_t fzw_data(uint8_t *out, uint32_t type, uint32_t id,
                const uint8_t *payload, size_t len, unsigned flaws);

/* Writes a 16-byte control frame and returns 16. */
size_t fzw_control(uint8_t *out, uint32_t type, uint32_t id);

/* One of the ids that matter (initial, with SYNC, either parity, the
 * link's own) or an arbitrary one, chosen by sel. */
uint32_t fzw_pick_id(uint8_t sel, uint32_t own, uint32_t any);

#endif /* KDCOM_FUZZ_WIRE_H */
