/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_link.c - one link, in the role FZ_ROLE (built twice: TARGET and
 * DEBUGGER), driven call by call by the input against a peer the input
 * makes up.
 *
 * The input is an op stream (one op byte, then its arguments) followed by
 * 8 configuration bytes (fz_config).  Ops queue peer bytes (raw, or built
 * frames: data with any type, id and flaw, control of any type, 'b') on a
 * wire, feed part of the wire, drain with any cap, take events (and,
 * with KDCOM_CFG_HOLD_PACKETS, release a held packet), send,
 * move the clock (by a little, a lot, or to the next deadline; sometimes
 * backwards, which the API must treat as no time passing), tick, cancel,
 * break in, resync, take the break-in, close and re-initialise.  Every
 * call goes through the oracles of end.c.
 */
#include <string.h>

#include "fuzz.h"
#include "wire.h"

#ifndef FZ_ROLE
#error "build with -DFZ_ROLE=KDCOM_ROLE_TARGET or KDCOM_ROLE_DEBUGGER"
#endif

#define WIRE_MAX 65536

static struct fz_end end;
static struct kdcom_config cfg;
static uint8_t wire[WIRE_MAX];
static size_t wire_len;
static uint8_t out[FZ_DRAIN_MAX];
static uint8_t frame[KDCOM_MAX_FRAME];
static uint8_t payload[KDCOM_MAX_PAYLOAD];
static uint64_t now;

static void wire_put(const uint8_t *b, size_t n)
{
    if (n > WIRE_MAX - wire_len)
        n = WIRE_MAX - wire_len;
    memcpy(wire + wire_len, b, n);
    wire_len += n;
}

/* Payload bytes from the input, padded with a pattern when it runs out. */
static size_t take_payload(struct fz_in *in, size_t len)
{
    size_t got, i;
    const uint8_t *b = fz_bytes(in, len, &got);

    memcpy(payload, b, got);
    for (i = got; i < len; i++)
        payload[i] = (uint8_t)(i * 7u + 3u);
    return len;
}

static void op_peer_data(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint32_t type = sel % 13u;
    uint8_t id_sel = fz_u8(in);
    uint32_t any = fz_u32(in);
    uint32_t id = fzw_pick_id(id_sel, kdcom_tx_id(&end.link), any);
    size_t len = take_payload(in, fz_u16(in) % (KDCOM_MAX_PAYLOAD + 1u));
    unsigned flaws = (sel & 0x80) ? (fz_u8(in) & 7u) : 0;

    if (sel & 0x40)
        type = KDCOM_TYPE_STATE_MANIPULATE; /* the usual case, made easy */
    wire_put(frame, fzw_data(frame, type, id, payload, len, flaws));
}

static void op_peer_control(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint32_t type = sel < 200 ? 4u + sel % 3u : fz_u16(in);
    uint8_t id_sel = fz_u8(in);
    uint32_t any = fz_u32(in);
    uint32_t id = fzw_pick_id(id_sel, kdcom_tx_id(&end.link), any);

    wire_put(frame, fzw_control(frame, type, id));
}

static void op_feed(struct fz_in *in)
{
    size_t want = fz_u16(in), n;

    if (want > wire_len)
        want = wire_len;
    n = fz_end_feed(&end, now, wire, want);
    memmove(wire, wire + n, wire_len - n);
    wire_len -= n;
}

static void op_send(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint32_t type = (sel & 0x80) ? KDCOM_TYPE_DEBUG_IO : sel % 14u;
    size_t head_len = fz_u16(in) % 4100u, data_len = fz_u16(in) % 4100u;
    static uint8_t head[4100], data[4100];
    size_t i;

    for (i = 0; i < head_len; i++)
        head[i] = (uint8_t)(i + sel);
    for (i = 0; i < data_len; i++)
        data[i] = (uint8_t)(i * 13u + sel);
    if (sel & 0x40) {
        /* small payloads keep the op stream short */
        head_len %= 64;
        data_len %= 64;
    }
    fz_end_send(&end, now, type, head, head_len, data, data_len);
}

static void op_time(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint64_t d;

    if (sel < 64) {
        now += sel;
    } else if (sel < 128) {
        d = kdcom_next_deadline(&end.link);
        if (d != UINT64_MAX && d > now)
            now = d;
    } else if (sel < 192) {
        now += fz_u16(in);
    } else {
        now += fz_u32(in);
    }
    if (sel & 1)
        fz_end_tick(&end, now);
}

static void op_misc(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);

    switch (sel % 10) {
    case 0:
        fz_end_cancel(&end);
        break;
    case 1:
        fz_end_breakin(&end);
        break;
    case 2:
        fz_end_resync(&end, now);
        break;
    case 3:
        fz_end_take_breakin(&end);
        break;
    case 4:
        /* Time going backwards counts as no time passing. */
        fz_end_tick(&end, now - (now < 5 ? now : 5));
        break;
    case 5:
        fz_end_feed(&end, now > 3 ? now - 3 : 0, wire, 0);
        break;
    case 6:
        if (sel == 6) /* rare: closing ends most of the exploration */
            fz_end_close(&end);
        break;
    case 7:
        if (end.closed || sel == 7) {
            fz_end_init(&end, &cfg);
            wire_len = 0;
        }
        break;
    case 8:
        fz_end_drain(&end, now, NULL, (sel & 0x10) ? (size_t)-1 : 0);
        break;
    default: {
        int s;
        if (sel & 0x10) { /* with HOLD_PACKETS: done with the packet */
            fz_end_packet_done(&end);
            break;
        }
        s = kdcom_is_synced(&end.link);
        FZ_CHECK(end.closed ? s == KDCOM_ERR_CLOSED : (s == 0 || s == 1),
                 "is_synced %d", s);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size, 0};
    static int once;
    int ops = 0;

    if (!once) {
        fz_check_bad_args();
        once = 1;
    }
    fz_config(&in, FZ_ROLE, &cfg);
    fz_end_init(&end, &cfg);
    wire_len = 0;
    now = 0;

    while (fz_more(&in) && ops++ < 4096) {
        uint8_t op = fz_u8(&in);

        switch (op % 12) {
        case 0: {
            size_t n;
            const uint8_t *b = fz_bytes(&in, fz_u8(&in), &n);
            wire_put(b, n);
            break;
        }
        case 1:
            op_peer_data(&in);
            break;
        case 2:
            op_peer_control(&in);
            break;
        case 3: {
            const uint8_t b = KDCOM_BREAKIN_BYTE;
            wire_put(&b, 1);
            break;
        }
        case 4:
        case 5:
            op_feed(&in);
            break;
        case 6:
            fz_end_drain(&end, now, out, fz_u16(&in) % 5000u);
            break;
        case 7:
            fz_end_drain_all(&end, now, out);
            break;
        case 8:
            fz_end_event(&end);
            break;
        case 9:
            fz_end_events(&end);
            break;
        case 10:
            op_send(&in);
            break;
        default:
            if (op & 0x80)
                op_misc(&in);
            else
                op_time(&in);
            break;
        }
    }
    /* Wind down: whatever is left must come out in bounded steps. */
    fz_end_events(&end);
    fz_end_drain_all(&end, now, out);
    fz_end_events(&end);
    return 0;
}
