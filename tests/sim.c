/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim.c - the deterministic lossy-link simulator (see sim.h).
 *
 * THEORY OF OPERATION
 *
 *   One loop, one virtual clock.  Each pass at time `now`:
 *
 *     1. tick both links and let both drivers act on their events (take
 *        them, send the next packet or reply);
 *     2. drain both links in writes of random size; each write goes
 *        through the wire's fault model and lands on the wire with a
 *        delivery time (now + latency + jitter, never before the write
 *        ahead of it: serial lines and pipes do not reorder);
 *     3. feed every write that is due into the receiving link, in reads of
 *        random size, taking events and draining after every read (so a
 *        paused feed always gets going again, and ACKs leave at once).
 *
 *   When a pass moves nothing, the clock jumps to the earliest of: the
 *   next write's delivery time, both links' kdcom_next_deadline() and the
 *   target's reply-stall deadline.  A run with no deadline left and
 *   nothing on the wires is stuck, which is reported, never looped on.
 *
 *   The checker (check_delivery) recomputes what the sender sent: payload
 *   k of a direction is a pure function of (seed, direction, k), so no
 *   copy of the traffic is kept.  An intact delivery of the expected
 *   packet advances the expectation; an intact delivery of another packet
 *   is a duplicate (seen before), a reordering (older, never seen) or a
 *   skip (newer: the ones in between are lost unless they turn up later);
 *   anything else is corrupted, and since the link acknowledged it in
 *   place of the packet expected then, that packet is marked replaced and
 *   the expectation moves past it.  At the end every packet sent but never
 *   delivered intact counts as lost, and as replaced if it was.
 *
 *   The wires draw the gap to the next faulted byte (geometric, the sum of
 *   the per-byte rates) and copy up to it, then one draw decides which
 *   fault it is.  A tracker follows the sender's own output frame by frame
 *   (it is always well formed), so every fault is known to land in a
 *   leader, the type, ByteCount, id, checksum or the body of a frame; the
 *   flips in type and id, the fields no checksum covers, are counted, can
 *   be traced, and can be left out (protect_uncovered) to show what they
 *   alone cause.

 *   Why corruption is possible at all: the KDCOM checksum is a byte sum
 *   over the payload only.  It does not cover the type or the id, and two
 *   errors that cancel in the sum (the same bit set in one byte and
 *   cleared in another, or two bytes swapped) pass.  A flipped type bit
 *   delivers a packet under another data type (a corrupted delivery, in
 *   place of the packet: one lost); a flipped bit 0 in the id of a
 *   retransmission whose ACK was lost makes it look new (a duplicate); a
 *   byte lost and one of the same value added in one frame shift the bytes
 *   between them without changing length or sum.  docs/protocol.md
 *   "Checksum" has the details; the simulator counts these, it does not
 *   hide them.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

/* ---- randomness ---- */

uint64_t sim_rand(uint64_t *x)
{
    /* xorshift64*: small, fast, good enough for fault injection, and the
     * same sequence on every platform. */
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

/* splitmix64: turns (seed, direction, seq) into a generator state, so
 * that every packet's content can be recomputed on its own. */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z != 0 ? z : 1; /* xorshift must not start at 0 */
}

/* Uniform in [lo, hi]. */
static uint32_t range(uint64_t *x, uint32_t lo, uint32_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (uint32_t)(sim_rand(x) % ((uint64_t)hi - lo + 1));
}

static int chance(uint64_t *x, uint32_t ppm)
{
    return ppm != 0 && (uint32_t)(sim_rand(x) % SIM_PPM) < ppm;
}

/* ---- payloads ---- */

enum { DIR_T2D = 0, DIR_D2T = 1 };

static const uint32_t data_types[] = {
    KDCOM_TYPE_STATE_CHANGE32, KDCOM_TYPE_STATE_MANIPULATE,
    KDCOM_TYPE_DEBUG_IO,       KDCOM_TYPE_STATE_CHANGE64,
    KDCOM_TYPE_TRACE_IO,       KDCOM_TYPE_CONTROL_REQUEST,
    KDCOM_TYPE_FILE_IO};

static void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* The hash a long payload carries: over type, length, seq and bytes 8..
 * (the type is included because the KDCOM checksum does not cover it). */
static uint32_t payload_hash(uint32_t type, uint32_t len, uint32_t seq,
                             const uint8_t *rest, size_t rest_len)
{
    uint8_t meta[12];

    st32(meta, type);
    st32(meta + 4, len);
    st32(meta + 8, seq);
    return fnv(fnv(2166136261u, meta, sizeof meta), rest, rest_len);
}

/* Packet `seq` of direction `dir`: its type, length and bytes. */
static void gen_packet(const struct sim_config *cfg, int dir, uint32_t seq,
                       uint32_t *type, uint8_t *buf, uint32_t *len)
{
    uint64_t x = mix(cfg->seed ^ ((uint64_t)dir << 40) ^ seq);
    uint32_t n, i;

    *type = data_types[sim_rand(&x) % (sizeof data_types /
                                       sizeof data_types[0])];
    n = range(&x, cfg->min_payload, cfg->max_payload);
    for (i = 0; i < n; i++)
        buf[i] = (uint8_t)(sim_rand(&x) >> 56);
    if (n >= 8) {
        st32(buf, seq);
        st32(buf + 4, payload_hash(*type, n, seq, buf + 8, n - 8));
    }
    *len = n;
}

static int packet_is(struct sim *s, int dir, uint32_t seq, uint32_t type,
                     const uint8_t *p, uint32_t len)
{
    uint8_t *want = s->pkt_ref;
    uint32_t wtype, wlen;

    gen_packet(&s->cfg, dir, seq, &wtype, want, &wlen);
    return wtype == type && wlen == len && memcmp(want, p, len) == 0;
}

/* ---- the checker ---- */

/* check_delivery() verdicts */
enum { V_NEW = 0, V_DUPLICATE, V_CORRUPTED };

static void trace_packet(const struct sim *s, const struct sim_dir *d,
                         const char *what, uint32_t seq, uint32_t id)
{
    if (s->cfg.trace)
        fprintf(s->cfg.trace, "%llu %s: packet %u %s (id 0x%08x)\n",
                (unsigned long long)s->now,
                d == &s->dir_t2d ? "t2d" : "d2t", seq, what, id);
}

static int mark(struct sim *s, struct sim_dir *d, uint32_t seq,
                const struct kdcom_event *ev)
{
    uint32_t len = ev->len;
    int v = V_NEW;

    if (d->seen[seq] != 0) {
        d->r.duplicated++;
        v = V_DUPLICATE;
        trace_packet(s, d, "delivered again", seq, ev->id);
    } else if (seq < d->expect) {
        d->r.reordered++;
        trace_packet(s, d, "delivered out of order", seq, ev->id);
    } else {
        d->r.delivered++;
        d->r.payload_bytes += len;
    }
    if (d->seen[seq] < 255)
        d->seen[seq]++;
    if (seq >= d->expect)
        d->expect = seq + 1;
    return v;
}

static int check_delivery(struct sim *s, int dir, const struct kdcom_event *ev)
{
    struct sim_dir *d = dir == DIR_T2D ? &s->dir_t2d : &s->dir_d2t;
    uint32_t seq, k;

    if (d->expect < d->sent &&
        packet_is(s, dir, d->expect, ev->type, ev->payload, ev->len)) {
        return mark(s, d, d->expect, ev);
    }
    if (ev->len >= 8) {
        seq = ld32(ev->payload);
        if (seq < d->sent &&
            payload_hash(ev->type, ev->len, seq, ev->payload + 8,
                         ev->len - 8) == ld32(ev->payload + 4) &&
            packet_is(s, dir, seq, ev->type, ev->payload, ev->len)) {
            return mark(s, d, seq, ev);
        }
    } else {
        /* Short payloads carry no sequence number: look around the
         * expectation for the packet it is. */
        for (k = d->expect > 4 ? d->expect - 4 : 0;
             k < d->sent && k < d->expect + 4; k++) {
            if (packet_is(s, dir, k, ev->type, ev->payload, ev->len)) {
                return mark(s, d, k, ev);
            }
        }
    }
    d->r.corrupted++;
    trace_packet(s, d, "corrupted: delivered in place of", d->expect, ev->id);
    if (d->expect < d->sent) {
        /* The link accepted it under the id of the packet expected now and
         * acknowledged that packet with it: that one is lost, replaced.
         * The next intact delivery should be the one after it (should the
         * replaced packet still turn up, it counts as reordered). */
        d->replaced[d->expect] = 1;
        d->expect++;
    }
    return V_CORRUPTED;
}

/* ---- wires ---- */

/* Where a byte of the sender's output sits in its frame. */
enum field {
    F_BETWEEN = 0, /* a break-in byte, or output the tracker cannot place */
    F_LEADER,
    F_TYPE, /* not covered by the checksum */
    F_COUNT,
    F_ID,   /* not covered by the checksum */
    F_SUM,
    F_BODY, /* payload and trailer */
};

static int track(struct sim_wire *w, uint8_t b)
{
    struct sim_track *t = &w->track;
    uint32_t pos = t->pos;

    if (pos == 0) {
        if (b == KDCOM_BREAKIN_BYTE)
            return F_BETWEEN;
        if (b != KDCOM_LEADER_BYTE_DATA && b != KDCOM_LEADER_BYTE_CONTROL) {
            w->st.track_lost++;
            return F_BETWEEN;
        }
        t->data = b == KDCOM_LEADER_BYTE_DATA;
        t->type = t->count = 0;
    }
    t->pos = pos + 1;
    if (pos < 4)
        return F_LEADER;
    if (pos < 6) {
        t->type |= (uint32_t)b << (8 * (pos - 4));
        return F_TYPE;
    }
    if (pos < 8) {
        t->count |= (uint32_t)b << (8 * (pos - 6));
        return F_COUNT;
    }
    if (pos < 12)
        return F_ID;
    if (pos < 16) {
        if (pos == 15 && !t->data)
            t->pos = 0; /* control packets end with the header */
        return F_SUM;
    }
    if (pos >= 16 + t->count)
        t->pos = 0; /* the trailer */
    return F_BODY;
}

static uint32_t wire_free(const struct sim_wire *w)
{
    return SIM_WIRE_CAP - w->count;
}

static void wire_put(struct sim *s, struct sim_wire *w, const uint8_t *p,
                     uint32_t n, uint64_t at)
{
    uint32_t i, tail;

    if (n == 0)
        return;
    if (n > wire_free(w) || w->seg_count == SIM_SEG_CAP) {
        w->st.overflow_writes++;
        return;
    }
    if (at < w->last_at)
        at = w->last_at; /* in order, always */
    w->last_at = at;
    tail = (w->head + w->count) % SIM_WIRE_CAP;
    i = SIM_WIRE_CAP - tail; /* room before the ring wraps */
    if (i > n)
        i = n;
    memcpy(w->buf + tail, p, i);
    memcpy(w->buf, p + i, n - i);
    w->count += n;
    i = (w->seg_head + w->seg_count) % SIM_SEG_CAP;
    w->seg_at[i] = at;
    w->seg_len[i] = n;
    w->seg_count++;
    w->st.bytes_out += n;
    (void)s;
}

static void uncovered_flip(struct sim *s, struct sim_wire *w, int where,
                           uint8_t flip, int protect)
{
    const struct sim_track *t = &w->track;

    if (protect)
        w->st.uncovered_protected++;
    else
        w->st.uncovered_flips++;
    if (s->cfg.trace)
        fprintf(s->cfg.trace,
                "%llu %s: flip 0x%02x in the %s of a %s frame of type %u"
                " (byte %u)%s\n",
                (unsigned long long)s->now, w == &s->t2d ? "t2d" : "d2t",
                flip, where == F_TYPE ? "type" : "id",
                t->data ? "data" : "control", t->type, t->pos - 1,
                protect ? ", not applied" : "");
}

/* track() over n bytes, jumping over payloads. */
static void track_span(struct sim_wire *w, const uint8_t *p, uint32_t n)
{
    struct sim_track *t = &w->track;
    uint32_t i = 0;

    while (i < n) {
        if (t->pos >= 16 && t->data) {
            /* Inside a payload: the frame ends with its trailer at
             * 16 + count; the byte there goes through track(). */
            uint32_t left = 16 + t->count - t->pos;
            uint32_t step = left < n - i ? left : n - i;

            t->pos += step;
            i += step;
            if (i == n)
                break;
        }
        (void)track(w, p[i++]);
    }
}

/* Fault-free bytes before the next faulted one, for a total per-byte rate
 * of `ppm`: geometric, drawn by inversion.  Drawing the gap instead of
 * deciding byte by byte keeps the wires at memcpy speed. */
static uint64_t fault_gap(uint64_t *x, uint32_t ppm)
{
    double u = ((double)(sim_rand(x) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double g = floor(log(u) / log1p(-(double)ppm / SIM_PPM));

    return g < 1e18 ? (uint64_t)g : (uint64_t)1e18;
}

/* Puts one write on a wire through the fault model. */
static void wire_write(struct sim *s, struct sim_wire *w,
                       const struct sim_faults *f, const uint8_t *p,
                       uint32_t n)
{
    uint8_t *out = s->wire_tmp; /* room for 2 * SIM_MAX_IO */
    uint32_t i, m = 0;
    uint64_t at;
    uint32_t per_byte = f->drop_ppm + f->dup_ppm + f->flip_ppm +
                        f->noise_ppm + f->breakin_ppm + f->leader_ppm;

    w->st.writes++;
    w->st.bytes_in += n;
    if (chance(&s->rng, f->chunk_drop_ppm)) {
        track_span(w, p, n); /* the tracker follows the sender */
        w->st.writes_dropped++;
        return;
    }
    if (!per_byte) {
        track_span(w, p, n);
        memcpy(out, p, n);
        m = n;
    } else {
        for (i = 0; i < n;) {
            uint64_t r;
            uint32_t v, lim = f->drop_ppm, run;
            uint8_t b;
            int where;

            /* Copy up to the next faulted byte (w->gap persists across
             * writes: the wire does not know where writes begin). */
            if (!w->gap_set) {
                w->gap = fault_gap(&s->rng, per_byte);
                w->gap_set = 1;
            }
            run = w->gap < n - i ? (uint32_t)w->gap : n - i;
            memcpy(out + m, p + i, run);
            track_span(w, p + i, run);
            m += run;
            i += run;
            w->gap -= run;
            if (i == n)
                break;
            /* Byte i is faulted.  One draw decides how: the low half picks
             * the kind in proportion to its rate (multiply-shift), the high
             * bits, independent of it, the details. */
            w->gap_set = 0;
            r = sim_rand(&s->rng);
            v = (uint32_t)(((r & 0xffffffffu) * per_byte) >> 32);
            b = p[i++];
            where = track(w, b);
            if (v < lim) {
                w->st.dropped++;
                continue;
            }
            if (v < (lim += f->noise_ppm)) {
                out[m++] = (uint8_t)(r >> 56);
                w->st.noise++;
            } else if (v < (lim += f->breakin_ppm)) {
                out[m++] = KDCOM_BREAKIN_BYTE;
                w->st.breakins++;
            } else if (v < (lim += f->leader_ppm)) {
                out[m++] = (r >> 40) & 1 ? KDCOM_LEADER_BYTE_CONTROL
                                         : KDCOM_LEADER_BYTE_DATA;
                w->st.leaders++;
            } else if (v < (lim += f->flip_ppm)) {
                uint8_t flip = (uint8_t)(1u << ((r >> 48) & 7));

                if (where == F_TYPE || where == F_ID) {
                    uncovered_flip(s, w, where, flip, f->protect_uncovered);
                    if (f->protect_uncovered)
                        flip = 0;
                }
                b ^= flip;
                w->st.flipped += flip != 0;
            } else {
                out[m++] = b; /* duplicated */
                w->st.duplicated++;
            }
            out[m++] = b;
        }
    }
    at = s->now + s->cfg.latency_ms + range(&s->rng, 0, s->cfg.jitter_ms);
    if (m > 1 && chance(&s->rng, f->chunk_split_ppm)) {
        uint32_t cut = range(&s->rng, 1, m - 1);

        w->st.writes_split++;
        wire_put(s, w, out, cut, at);
        wire_put(s, w, out + cut, m - cut,
                 at + range(&s->rng, 1, s->cfg.split_gap_ms));
    } else {
        wire_put(s, w, out, m, at);
    }
    if (chance(&s->rng, f->chunk_dup_ppm)) {
        w->st.writes_duplicated++;
        wire_put(s, w, out, m, at);
    }
}

/* ---- drivers ---- */

static int fail(struct sim *s, int rc)
{
    if (s->res.error == 0)
        s->res.error = rc;
    return rc;
}

static int send_packet(struct sim *s, struct kdcom_link *l, int dir,
                       uint32_t *sent_type)
{
    struct sim_dir *d = dir == DIR_T2D ? &s->dir_t2d : &s->dir_d2t;
    uint8_t *buf = s->pkt_out;
    uint32_t type, len, head;
    int rc;

    if (d->sent >= SIM_MAX_PACKETS)
        return 0;
    gen_packet(&s->cfg, dir, d->sent, &type, buf, &len);
    /* Split into message header and data as KdSendPacket would get them,
     * at a random point: the link must not care. */
    head = range(&s->rng, 0, len);
    rc = kdcom_send(l, s->now, type, buf, head, buf + head, len - head);
    if (rc != KDCOM_OK)
        return fail(s, rc);
    d->sent_at[d->sent] = s->now;
    d->sent++;
    *sent_type = type;
    return 1;
}

/* Takes a link's events and lets its driver act.  Returns 1 if anything
 * happened, 0 if not, or a negative error. */
static int drive(struct sim *s, int target)
{
    struct kdcom_link *l = target ? &s->target : &s->debugger;
    struct kdcom_event ev;
    int rc, moved = 0;

    while ((rc = kdcom_next_event(l, &ev)) > 0) {
        moved = 1;
        switch (ev.kind) {
        case KDCOM_EV_PACKET:
            /* A duplicate (the link let one through) is counted and
             * otherwise ignored: taking it for the awaited answer, or
             * answering it, would break the request/response pattern the
             * target's implicit ACK relies on, and every later number
             * would measure the driver, not the link. */
            if (check_delivery(s, target ? DIR_D2T : DIR_T2D, &ev) ==
                V_DUPLICATE)
                break;
            if (target)
                s->t_wait_reply = 0;
            else if (!(s->cfg.kd_prints && ev.type == KDCOM_TYPE_DEBUG_IO))
                s->d_replies_due++; /* prints get no answer */
            break;
        case KDCOM_EV_ACKED:
            if (target)
                s->t_wait_ack = 0;
            break;
        case KDCOM_EV_RESEND:
            s->res.resends++;
            break;
        case KDCOM_EV_RESET:
            if (target)
                s->res.resets_target++;
            else
                s->res.resets_debugger++;
            break;
        case KDCOM_EV_SYNCED:
            s->res.syncs++;
            break;
        case KDCOM_EV_BREAKIN:
            s->res.breakins++;
            (void)kdcom_take_breakin(l);
            break;
        case KDCOM_EV_RETRIES_EXHAUSTED:
            /* KD retries everything but a few droppable packets for ever;
             * so does this driver, and with give_up_prints it drops prints
             * as kdcom.dll does (which re-arms SYNC on the target). */
            s->res.retries_exhausted++;
            if (target && s->cfg.give_up_prints && s->t_wait_ack &&
                s->t_type == KDCOM_TYPE_DEBUG_IO &&
                kdcom_cancel_send(l) == KDCOM_OK) {
                s->dir_t2d.given_up[s->dir_t2d.sent - 1] = 1;
                s->dir_t2d.r.given_up++;
                s->t_wait_ack = 0;
                s->t_wait_reply = 0;
            }
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        return fail(s, rc);

    if (target) {
        if (s->t_wait_reply && !s->t_wait_ack &&
            s->now >= s->t_reply_since + s->cfg.reply_stall_ms) {
            s->t_wait_reply = 0;
            s->res.reply_stalls++;
            moved = 1;
        }
        if (!s->t_wait_ack && !s->t_wait_reply && s->dir_t2d.sent < s->goal &&
            kdcom_can_send(l) == 1) {
            rc = send_packet(s, l, DIR_T2D, &s->t_type);
            if (rc < 0)
                return rc;
            s->t_wait_ack = 1;
            s->t_wait_reply =
                !(s->cfg.kd_prints && s->t_type == KDCOM_TYPE_DEBUG_IO);
            s->t_reply_since = s->now;
            moved = 1;
        }
    } else if (s->d_replies_due > 0 && kdcom_can_send(l) == 1) {
        uint32_t type;

        rc = send_packet(s, l, DIR_D2T, &type);
        if (rc < 0)
            return rc;
        s->d_replies_due--;
        moved = 1;
    }
    return moved;
}

/* Drains a link onto its wire.  Returns 1 if bytes left, 0 if not, or a
 * negative error. */
static int transmit(struct sim *s, int target)
{
    struct kdcom_link *l = target ? &s->target : &s->debugger;
    struct sim_wire *w = target ? &s->t2d : &s->d2t;
    const struct sim_faults *f = target ? &s->cfg.t2d : &s->cfg.d2t;
    uint8_t *buf = s->io_buf;
    int moved = 0, i;

    /* Bounded: a link never has more than a data frame and a few control
     * packets to say. */
    for (i = 0; i < 64; i++) {
        int n = kdcom_drain(l, s->now, buf,
                            range(&s->rng, 1, s->cfg.max_write));
        if (n < 0)
            return fail(s, n);
        if (n == 0)
            break;
        wire_write(s, w, f, buf, (uint32_t)n);
        moved = 1;
    }
    return moved;
}

/* Feeds what is due on a wire into the receiving link. */
static int receive(struct sim *s, int target)
{
    struct kdcom_link *l = target ? &s->target : &s->debugger;
    struct sim_wire *w = target ? &s->d2t : &s->t2d;
    int moved = 0, stuck = 0;

    while (w->seg_count != 0 && w->seg_at[w->seg_head] <= s->now) {
        uint32_t left = w->seg_len[w->seg_head];
        uint32_t run = SIM_WIRE_CAP - w->head; /* contiguous bytes */
        uint32_t n = range(&s->rng, 1, s->cfg.max_read);
        int rc;

        if (n > left)
            n = left;
        if (n > run)
            n = run;
        rc = kdcom_feed(l, s->now, w->buf + w->head, n);
        if (rc < 0)
            return fail(s, rc);
        w->head = (w->head + (uint32_t)rc) % SIM_WIRE_CAP;
        w->count -= (uint32_t)rc;
        w->seg_len[w->seg_head] -= (uint32_t)rc;
        if (w->seg_len[w->seg_head] == 0) {
            w->seg_head = (w->seg_head + 1) % SIM_SEG_CAP;
            w->seg_count--;
        }
        if (rc > 0) {
            moved = 1;
            stuck = 0;
        } else if (++stuck > 4) {
            /* Took the events and drained, and the link still takes
             * nothing: a bug in the link (or here), not a hang. */
            return fail(s, SIM_ERR_STUCK);
        }
        if ((rc = drive(s, target)) < 0 || (rc = transmit(s, target)) < 0)
            return rc;
    }
    return moved;
}

/* ---- set-up and the main loop ---- */

void sim_config_init(struct sim_config *cfg, uint64_t seed)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = seed;
    cfg->max_write = 4096;
    cfg->max_read = 4096;
    cfg->split_gap_ms = 20;
    cfg->min_payload = 0;
    cfg->max_payload = KDCOM_MAX_PAYLOAD;
    cfg->reply_stall_ms = 120000;
    kdcom_config_init(&cfg->target, KDCOM_ROLE_TARGET);
    kdcom_config_init(&cfg->debugger, KDCOM_ROLE_DEBUGGER);
    cfg->target.retry_limit = 0;
    cfg->debugger.retry_limit = 0;
}

int sim_init(struct sim *s, const struct sim_config *cfg)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.max_write == 0 || s->cfg.max_write > SIM_MAX_IO)
        s->cfg.max_write = SIM_MAX_IO;
    if (s->cfg.max_read == 0 || s->cfg.max_read > SIM_MAX_IO)
        s->cfg.max_read = SIM_MAX_IO;
    if (s->cfg.max_payload > KDCOM_MAX_PAYLOAD)
        s->cfg.max_payload = KDCOM_MAX_PAYLOAD;
    if (s->cfg.min_payload > s->cfg.max_payload)
        s->cfg.min_payload = s->cfg.max_payload;
    if (s->cfg.split_gap_ms == 0)
        s->cfg.split_gap_ms = 1;
    s->rng = mix(cfg->seed ^ 0x51u);
    s->cfg.target.role = KDCOM_ROLE_TARGET;
    s->cfg.debugger.role = KDCOM_ROLE_DEBUGGER;
    rc = kdcom_link_init(&s->target, &s->cfg.target);
    if (rc == KDCOM_OK)
        rc = kdcom_link_init(&s->debugger, &s->cfg.debugger);
    return rc;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int done(const struct sim *s)
{
    return s->dir_t2d.sent >= s->goal && !s->t_wait_ack && !s->t_wait_reply &&
           s->d_replies_due == 0 && kdcom_can_send(&s->debugger) == 1;
}

static void finish(struct sim *s)
{
    struct sim_dir *dirs[2] = {&s->dir_t2d, &s->dir_d2t};
    int i;
    uint32_t k;

    for (i = 0; i < 2; i++) {
        dirs[i]->r.sent = dirs[i]->sent;
        dirs[i]->r.lost = 0;
        for (k = 0; k < dirs[i]->sent; k++)
            if (dirs[i]->seen[k] == 0 && !dirs[i]->given_up[k]) {
                dirs[i]->r.lost++;
                dirs[i]->r.replaced += dirs[i]->replaced[k];
                if (s->cfg.trace)
                    fprintf(s->cfg.trace,
                            "%llu %s: packet %u never delivered\n",
                            (unsigned long long)dirs[i]->sent_at[k],
                            i == 0 ? "t2d" : "d2t", k);
            }
    }
    s->res.t2d = s->dir_t2d.r;
    s->res.d2t = s->dir_d2t.r;
    s->res.wire_t2d = s->t2d.st;
    s->res.wire_d2t = s->d2t.st;
    s->res.wire_bytes = s->t2d.st.bytes_out + s->d2t.st.bytes_out;
    s->res.target = *kdcom_get_stats(&s->target);
    s->res.debugger = *kdcom_get_stats(&s->debugger);
    s->res.retransmissions =
        s->res.target.retransmits + s->res.debugger.retransmits;
    s->res.virtual_ms = s->now;
}

int sim_run(struct sim *s, uint32_t packets_each_way, uint64_t max_virtual_ms)
{
    uint32_t same_ms = 0;

    s->goal = packets_each_way < SIM_MAX_PACKETS ? packets_each_way
                                                 : SIM_MAX_PACKETS;
    for (;;) {
        int moved = 0, rc, side;

        if (done(s)) {
            s->res.completed = 1;
            break;
        }
        if (s->now > max_virtual_ms)
            break;
        for (side = 0; side < 2; side++) {
            struct kdcom_link *l = side ? &s->target : &s->debugger;

            if ((rc = kdcom_tick(l, s->now)) < 0) {
                fail(s, rc);
                goto out;
            }
            if ((rc = drive(s, side)) < 0)
                goto out;
            moved |= rc;
            if ((rc = transmit(s, side)) < 0)
                goto out;
            moved |= rc;
        }
        for (side = 0; side < 2; side++) {
            if ((rc = receive(s, side)) < 0)
                goto out;
            moved |= rc;
        }
        if (moved && ++same_ms < 100000)
            continue;
        {
            /* Nothing moved: jump to the next thing that can happen. */
            uint64_t next = UINT64_MAX;
            const struct sim_wire *ws[2] = {&s->t2d, &s->d2t};

            for (side = 0; side < 2; side++)
                if (ws[side]->seg_count != 0)
                    next = min_u64(next, ws[side]->seg_at[ws[side]->seg_head]);
            next = min_u64(next, kdcom_next_deadline(&s->target));
            next = min_u64(next, kdcom_next_deadline(&s->debugger));
            if (s->t_wait_reply && !s->t_wait_ack)
                next = min_u64(next, s->t_reply_since + s->cfg.reply_stall_ms);
            if (next == UINT64_MAX) {
                fail(s, SIM_ERR_STUCK);
                goto out;
            }
            s->now = next > s->now ? next : s->now + 1;
            same_ms = 0;
        }
    }
out:
    finish(s);
    if (s->res.error != 0)
        return s->res.error;
    return s->res.completed ? 0 : 1;
}

const struct sim_results *sim_results(const struct sim *s)
{
    return &s->res;
}

static void print_dir(FILE *out, const char *name,
                      const struct sim_dir_results *d)
{
    fprintf(out,
            "%s sent %llu delivered %llu lost %llu replaced %llu "
            "duplicated %llu reordered %llu corrupted %llu given_up %llu\n",
            name, (unsigned long long)d->sent,
            (unsigned long long)d->delivered, (unsigned long long)d->lost,
            (unsigned long long)d->replaced,
            (unsigned long long)d->duplicated,
            (unsigned long long)d->reordered,
            (unsigned long long)d->corrupted,
            (unsigned long long)d->given_up);
}

static void print_wire(FILE *out, const char *name,
                       const struct sim_wire_stats *w)
{
    fprintf(out,
            "%s writes %llu bytes_in %llu bytes_out %llu dropped %llu "
            "duplicated %llu flipped %llu noise %llu breakins %llu "
            "leaders %llu writes_dropped %llu writes_duplicated %llu "
            "writes_split %llu overflow %llu\n",
            name, (unsigned long long)w->writes,
            (unsigned long long)w->bytes_in, (unsigned long long)w->bytes_out,
            (unsigned long long)w->dropped, (unsigned long long)w->duplicated,
            (unsigned long long)w->flipped, (unsigned long long)w->noise,
            (unsigned long long)w->breakins, (unsigned long long)w->leaders,
            (unsigned long long)w->writes_dropped,
            (unsigned long long)w->writes_duplicated,
            (unsigned long long)w->writes_split,
            (unsigned long long)w->overflow_writes);
}

void sim_print_results(const struct sim_results *r, FILE *out)
{
    print_dir(out, "t2d", &r->t2d);
    print_dir(out, "d2t", &r->d2t);
    print_wire(out, "wire_t2d", &r->wire_t2d);
    print_wire(out, "wire_d2t", &r->wire_d2t);
    fprintf(out,
            "retransmissions %llu resets_target %llu resets_debugger %llu "
            "syncs %llu resends %llu breakins %llu retries_exhausted %llu "
            "reply_stalls %llu wire_bytes %llu virtual_ms %llu "
            "completed %d error %d\n",
            (unsigned long long)r->retransmissions,
            (unsigned long long)r->resets_target,
            (unsigned long long)r->resets_debugger,
            (unsigned long long)r->syncs, (unsigned long long)r->resends,
            (unsigned long long)r->breakins,
            (unsigned long long)r->retries_exhausted,
            (unsigned long long)r->reply_stalls,
            (unsigned long long)r->wire_bytes,
            (unsigned long long)r->virtual_ms, r->completed, r->error);
    fprintf(out,
            "target bad_checksum %llu bad_trailer %llu bad_size %llu "
            "bad_type %llu duplicates %llu implicit_acks %llu "
            "rx_stalls %llu stale_bytes %llu noise %llu\n",
            (unsigned long long)r->target.bad_checksum,
            (unsigned long long)r->target.bad_trailer,
            (unsigned long long)r->target.bad_size,
            (unsigned long long)r->target.bad_type,
            (unsigned long long)r->target.duplicates,
            (unsigned long long)r->target.implicit_acks,
            (unsigned long long)r->target.rx_stalls,
            (unsigned long long)r->target.stale_bytes,
            (unsigned long long)r->target.noise_bytes);
    fprintf(out,
            "debugger bad_checksum %llu bad_trailer %llu bad_size %llu "
            "bad_type %llu duplicates %llu dropped_unsynced %llu "
            "rx_stalls %llu noise %llu\n",
            (unsigned long long)r->debugger.bad_checksum,
            (unsigned long long)r->debugger.bad_trailer,
            (unsigned long long)r->debugger.bad_size,
            (unsigned long long)r->debugger.bad_type,
            (unsigned long long)r->debugger.duplicates,
            (unsigned long long)r->debugger.dropped_unsynced,
            (unsigned long long)r->debugger.rx_stalls,
            (unsigned long long)r->debugger.noise_bytes);
}
