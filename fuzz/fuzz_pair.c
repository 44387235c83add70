/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_pair.c - a DEBUGGER link and a TARGET link joined by two wires the
 * input damages, then a recovery check.
 *
 * Phase 1, driven by the input: drain either side onto its wire with any
 * cap, deliver any part of a wire, take events, send packets, move the
 * clock and tick, break in, resync, cancel, and damage the bytes in
 * flight: drop, duplicate, insert noise or 'b' or leader bytes, flip
 * bits, or lose the whole wire.  Both links run under the oracles of
 * end.c all along.
 *
 * Exactly-once delivery cannot be asserted in phase 1: a wire that may
 * flip bits and insert bytes can forge a frame the byte-sum checksum
 * accepts (docs/SECURITY.md), and the TARGET takes a new packet from the
 * debugger as the ACK of its own (KD is request/response).
 *
 * Phase 2, fixed: the damage stops, the wires are emptied, the debugger
 * resynchronises, and the two links must settle (debugger synced, both
 * free to send, nothing in flight) within a bounded number of steps, the
 * clock only ever jumping to the next deadline (the debugger's next RESET
 * while it synchronises).  Then each side in turn
 * sends a probe packet, and the other side must deliver it exactly once,
 * intact.  This is the liveness half: whatever the damage, the protocol
 * must recover once the line is clean.
 */
#include <string.h>

#include "fuzz.h"

#define WIRE_MAX 32768

struct lane {
    uint8_t b[WIRE_MAX];
    size_t len;
};

static struct fz_end dbg, tgt;
static struct lane d2t, t2d;
static uint8_t out[FZ_DRAIN_MAX];
static uint64_t now;
static uint32_t seq_d, seq_t;

static void lane_put(struct lane *w, const uint8_t *b, size_t n)
{
    if (n > WIRE_MAX - w->len)
        n = WIRE_MAX - w->len; /* a full wire drops, like a full FIFO */
    memcpy(w->b + w->len, b, n);
    w->len += n;
}

static void lane_cut(struct lane *w, size_t pos, size_t n)
{
    if (pos > w->len)
        pos = w->len;
    if (n > w->len - pos)
        n = w->len - pos;
    memmove(w->b + pos, w->b + pos + n, w->len - pos - n);
    w->len -= n;
}

static void lane_insert(struct lane *w, size_t pos, const uint8_t *b,
                        size_t n)
{
    static uint8_t tmp[WIRE_MAX];

    if (pos > w->len)
        pos = w->len;
    if (n > WIRE_MAX - w->len)
        n = WIRE_MAX - w->len;
    memcpy(tmp, b, n); /* b may point into w->b */
    memmove(w->b + pos + n, w->b + pos, w->len - pos);
    memcpy(w->b + pos, tmp, n);
    w->len += n;
}

static void drain_to(struct fz_end *e, struct lane *w, size_t cap)
{
    size_t n = fz_end_drain(e, now, out, cap);

    lane_put(w, out, n);
}

static size_t deliver(struct fz_end *e, struct lane *w, size_t want)
{
    size_t n;

    if (want > w->len)
        want = w->len;
    n = fz_end_feed(e, now, w->b, want);
    lane_cut(w, 0, n);
    return n;
}

static void damage(struct fz_in *in, struct lane *w)
{
    uint8_t kind = fz_u8(in);
    size_t pos = w->len ? fz_u16(in) % (w->len + 1) : 0;
    size_t n = fz_u8(in) % 64u, got;
    const uint8_t *b;
    uint8_t x;

    switch (kind % 7) {
    case 0: /* bytes lost */
        lane_cut(w, pos, n + 1);
        break;
    case 1: /* a span delivered twice */
        if (pos < w->len) {
            if (n + 1 > w->len - pos)
                n = w->len - pos - 1;
            lane_insert(w, pos + n + 1, w->b + pos, n + 1);
        }
        break;
    case 2: /* line noise */
        b = fz_bytes(in, n + 1, &got);
        lane_insert(w, pos, b, got);
        break;
    case 3: /* a bit flipped */
        if (pos < w->len)
            w->b[pos] ^= (uint8_t)(1u << (n % 8));
        break;
    case 4: /* a stray break-in or leader byte */
        x = (n & 1) ? KDCOM_BREAKIN_BYTE
                    : (n & 2) ? KDCOM_LEADER_BYTE_DATA
                              : KDCOM_LEADER_BYTE_CONTROL;
        lane_insert(w, pos, &x, 1);
        break;
    case 5: /* everything in flight lost (cable pulled) */
        w->len = 0;
        break;
    default: /* the tail lost */
        w->len = pos;
        break;
    }
}

/* Payload: a side tag, a sequence number and a pattern derived from both,
 * so a delivered packet can be recognised. */
static size_t make_payload(uint8_t *p, uint8_t tag, uint32_t seq, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(seq * 31u + i * 7u + tag);
    if (len >= 5) {
        p[0] = tag;
        memcpy(p + 1, &seq, 4);
    }
    return len;
}

static void op_send(struct fz_in *in, struct fz_end *e)
{
    static uint8_t p[KDCOM_MAX_PAYLOAD];
    uint8_t sel = fz_u8(in);
    size_t len = (sel & 0x80) ? fz_u16(in) % (KDCOM_MAX_PAYLOAD + 1u)
                              : sel % 64u;
    int is_dbg = e == &dbg;
    uint32_t *seq = is_dbg ? &seq_d : &seq_t;
    uint32_t type = is_dbg ? KDCOM_TYPE_STATE_MANIPULATE
                           : (sel & 1) ? KDCOM_TYPE_DEBUG_IO
                                       : KDCOM_TYPE_STATE_CHANGE64;

    make_payload(p, is_dbg ? 'D' : 'T', *seq, len);
    if (fz_end_send(e, now, type, p, len, NULL, 0) == KDCOM_OK)
        (*seq)++;
}

static uint64_t min_deadline(void)
{
    uint64_t a = kdcom_next_deadline(&dbg.link);
    uint64_t b = kdcom_next_deadline(&tgt.link);

    return a < b ? a : b;
}

static void op_time(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint64_t d;

    if (sel < 100) {
        now += sel;
    } else if (sel < 200) {
        d = min_deadline();
        if (d != UINT64_MAX && d > now)
            now = d;
    } else {
        now += fz_u16(in);
    }
    if (sel & 1)
        fz_end_tick(&dbg, now);
    if (sel & 2)
        fz_end_tick(&tgt, now);
}

static void op_misc(struct fz_in *in)
{
    switch (fz_u8(in) % 6) {
    case 0:
        fz_end_breakin(&dbg);
        break;
    case 1:
        fz_end_resync(&dbg, now);
        break;
    case 2:
        fz_end_take_breakin(&tgt);
        break;
    case 3:
        fz_end_cancel(&dbg);
        break;
    case 4:
        fz_end_cancel(&tgt);
        break;
    default:
        fz_end_events(&dbg);
        fz_end_events(&tgt);
        break;
    }
}

/* ---- phase 2 ---- */

static unsigned probe_seen_d, probe_seen_t; /* probes delivered */
static uint8_t probe[64];

static void watch_events(struct fz_end *e, unsigned *seen)
{
    int k, n = 0;

    while ((k = fz_end_event(e)) != KDCOM_EV_NONE) {
        FZ_CHECK(++n <= KDCOM_EVQ_LEN, "event flood");
        if (k == KDCOM_EV_PACKET && e->pkt_len == sizeof probe &&
            memcmp(e->pkt_payload, probe, sizeof probe) == 0)
            (*seen)++;
    }
    if (e->held) /* HOLD_PACKETS: seen, so done with it */
        fz_end_packet_done(e);
}

/* Moves every byte both ways at the current instant; returns the number
 * of bytes that moved. */
static size_t pump(void)
{
    size_t moved = 0, n;
    int r;

    for (r = 0; r < 64; r++) {
        n = fz_end_drain_all(&dbg, now, out);
        lane_put(&d2t, out, n);
        moved += n;
        n = fz_end_drain_all(&tgt, now, out);
        lane_put(&t2d, out, n);
        moved += n;
        n = deliver(&tgt, &d2t, d2t.len);
        n += deliver(&dbg, &t2d, t2d.len);
        watch_events(&tgt, &probe_seen_t);
        watch_events(&dbg, &probe_seen_d);
        if (n == 0 && d2t.len == 0 && t2d.len == 0 &&
            kdcom_want_write(&dbg.link) == 0 &&
            kdcom_want_write(&tgt.link) == 0)
            return moved;
        moved += n;
    }
    FZ_CHECK(0, "links still talking after 64 exchanges at one instant");
    return moved;
}

/* Pumps and lets time run to the next deadline until done() holds. */
static void settle(int (*done)(void), const char *what)
{
    int round;

    for (round = 0; round < 2000; round++) {
        uint64_t d;

        pump();
        if (done())
            return;
        /* While the debugger synchronises, step from one RESET to the
         * next: a target whose parser is inside a damaged packet takes
         * the RESETs as payload until ByteCount bytes have come (up to
         * about 250 RESETs) or its byte timer expires, whichever is
         * first, and the target's own timers may be far shorter. */
        d = kdcom_is_synced(&dbg.link) == 1
                ? min_deadline()
                : kdcom_next_deadline(&dbg.link);
        FZ_CHECK(d != UINT64_MAX, "%s: stuck with no timer running", what);
        if (d > now)
            now = d;
        fz_end_tick(&dbg, now);
        fz_end_tick(&tgt, now);
    }
    FZ_CHECK(0,
             "%s: not done after 2000 rounds (debugger synced %d can_send %d "
             "tx %08x tx_state %u expect %08x/%u; target can_send %d tx %08x "
             "tx_state %u expect %08x)",
             what, kdcom_is_synced(&dbg.link), kdcom_can_send(&dbg.link),
             (unsigned)dbg.link.tx_id, (unsigned)dbg.link.tx_state,
             (unsigned)dbg.link.rx_expect, (unsigned)dbg.link.rx_expect_known,
             kdcom_can_send(&tgt.link), (unsigned)tgt.link.tx_id,
             (unsigned)tgt.link.tx_state, (unsigned)tgt.link.rx_expect);
}

static int quiet(void)
{
    return kdcom_is_synced(&dbg.link) == 1 &&
           kdcom_can_send(&dbg.link) == 1 &&
           kdcom_can_send(&tgt.link) == 1 && d2t.len == 0 && t2d.len == 0;
}

static int probe_done(void)
{
    return quiet() && (probe_seen_t > 0 || probe_seen_d > 0);
}

static void recover(void)
{
    const struct kdcom_stats *ds = kdcom_get_stats(&dbg.link);

    d2t.len = t2d.len = 0;
    fz_end_events(&dbg);
    fz_end_events(&tgt);
    fz_end_resync(&dbg, now);
    settle(quiet, "settling after the damage");

    /* debugger -> target */
    memset(probe, 'P', sizeof probe);
    probe_seen_t = probe_seen_d = 0;
    FZ_CHECK(fz_end_send(&dbg, now, KDCOM_TYPE_STATE_MANIPULATE, probe,
                         sizeof probe, NULL, 0) == KDCOM_OK,
             "debugger cannot send");
    settle(probe_done, "debugger probe");
    pump();
    FZ_CHECK(probe_seen_t == 1 && probe_seen_d == 0,
             "debugger probe delivered %u times", probe_seen_t);

    /* target -> debugger */
    memset(probe, 'Q', sizeof probe);
    probe_seen_t = probe_seen_d = 0;
    FZ_CHECK(fz_end_send(&tgt, now, KDCOM_TYPE_STATE_CHANGE64, probe,
                         sizeof probe, NULL, 0) == KDCOM_OK,
             "target cannot send");
    settle(probe_done, "target probe");
    pump();
    FZ_CHECK(probe_seen_d == 1 && probe_seen_t == 0,
             "target probe delivered %u times", probe_seen_d);
    FZ_CHECK(ds->syncs > 0, "debugger never synced");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size, 0};
    struct kdcom_config dc, tc;
    int ops = 0;

    fz_config(&in, KDCOM_ROLE_DEBUGGER, &dc);
    tc = dc;
    tc.role = KDCOM_ROLE_TARGET;
    fz_end_init(&dbg, &dc);
    fz_end_init(&tgt, &tc);
    d2t.len = t2d.len = 0;
    now = 0;
    seq_d = seq_t = 0;

    while (fz_more(&in) && ops++ < 4096) {
        uint8_t op = fz_u8(&in);

        switch (op % 10) {
        case 0:
            drain_to(&dbg, &d2t, (op & 0x80) ? 100000 : fz_u16(&in) % 5000u);
            break;
        case 1:
            drain_to(&tgt, &t2d, (op & 0x80) ? 100000 : fz_u16(&in) % 5000u);
            break;
        case 2:
            deliver(&tgt, &d2t, (op & 0x80) ? d2t.len : fz_u16(&in));
            break;
        case 3:
            deliver(&dbg, &t2d, (op & 0x80) ? t2d.len : fz_u16(&in));
            break;
        case 4:
            damage(&in, (op & 0x80) ? &t2d : &d2t);
            break;
        case 5:
            op_time(&in);
            break;
        case 6:
            if (op & 0x80)
                fz_end_events(&dbg);
            else
                fz_end_events(&tgt);
            break;
        case 7:
            op_send(&in, (op & 0x80) ? &dbg : &tgt);
            break;
        case 8:
            op_misc(&in);
            break;
        default:
            pump();
            break;
        }
    }
    recover();
    return 0;
}
