/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_vm.c - the VM channel host service (kdcom_vm.h) with a hostile
 * guest on one side and a hostile debugger on the other.
 *
 * The region is allocated at exactly its size, so ASan catches any access
 * past it.  The input writes whatever it likes into the region (control
 * fields, well-formed or broken requests, payload bytes, any 32-bit value
 * at any offset), polls with the right or a wrong size, feeds the host
 * debugger bytes (raw or built frames), drains it and moves the clock.
 *
 * Oracles (abort on violation):
 *   - a poll writes only the host's fields (0x080-0x0FF) and, when it
 *     answers RECEIVED, the two buffers of the request it took, no further
 *     than the lengths it reports; never the guest's fields or the
 *     reserved part of the control page;
 *   - an answer names the request posted now, carries the guest's epoch
 *     and a known status; a request this harness judges malformed (own
 *     validator, written from the ABI text) gets exactly the matching
 *     error status, a well-formed one never gets an error;
 *   - a RECEIVED answer carries the payload of a data frame the debugger
 *     really sent, split at the header capacity;
 *   - every byte drained re-parses as well-formed TARGET output (DATA or
 *     CONTROL, no noise, legal ids, ACK ids that were received), and each
 *     data frame carries the payload of a SEND the host took;
 *   - no write past the drain cap; feed stops early only while a packet
 *     waits for the guest or output must be drained; counters never
 *     decrease; after a poll no deadline is in the past.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kdcom_vm.h"
#include "wire.h"

#define SEEN_MAX 64
#define GUARD 64

static struct kdcom_vm_host host;
static uint8_t *region;
static uint32_t region_size;
static uint8_t *before;
static uint64_t now;
static uint32_t seq, epoch;

/* the request the host took last, as it was in the region then */
static struct {
    int valid;
    uint32_t seq, op, type, head_off, head_len, data_off, data_len, arg, rsv;
    uint32_t expect; /* 0: well formed, else the error status due */
} taken;
static uint8_t send_payload[KDCOM_MAX_PAYLOAD];
static uint32_t send_len;
static int have_send;
/* every SEND taken, as (len, hash) */
static struct {
    uint32_t len;
    uint64_t hash;
} sends[SEEN_MAX];
static unsigned nsends;
static int sends_overflow;

/* intact data frames fed to the host, as (type, len, hash) */
static struct {
    uint32_t type, len;
    uint64_t hash;
} seen[SEEN_MAX];
static unsigned nseen;
static int seen_overflow;
static uint32_t acked_ids[SEEN_MAX];
static unsigned nacked;

static struct kdcom_parser in_ref, out_chk;
static struct kdcom_vm_stats prev_vm;
static struct kdcom_stats prev_link;
static uint8_t out[16384 + GUARD];
static uint8_t frame[KDCOM_MAX_FRAME];
static uint8_t wire[65536];
static size_t wire_len;

static uint32_t ld(uint32_t off)
{
    const uint8_t *p = region + off;

    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static void st(uint32_t off, uint32_t v)
{
    if (off > region_size - 4)
        return;
    region[off] = (uint8_t)v;
    region[off + 1] = (uint8_t)(v >> 8);
    region[off + 2] = (uint8_t)(v >> 16);
    region[off + 3] = (uint8_t)(v >> 24);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    while (n--)
        h = (h ^ *p++) * 0x100000001b3ull;
    return h;
}

/* ---- the harness's own reading of the ABI ---- */

static uint32_t bound_now(void)
{
    uint32_t declared = ld(KDCOM_VM_OFF_SIZE);

    if (ld(KDCOM_VM_OFF_MAGIC) != KDCOM_VM_MAGIC ||
        (ld(KDCOM_VM_OFF_ABI) >> 16) != KDCOM_VM_ABI_MAJOR ||
        ld(KDCOM_VM_OFF_GUEST_EPOCH) == 0 || declared < KDCOM_VM_MIN_SIZE ||
        declared > region_size)
        return 0;
    return declared;
}

static int buf_in(uint32_t off, uint32_t len, uint32_t bound)
{
    return len == 0 || ((uint64_t)off >= KDCOM_VM_BUF_BASE &&
                        (uint64_t)off + len <= bound);
}

static uint32_t judge(uint32_t bound)
{
    uint64_t h0 = taken.head_off, hl = taken.head_len;
    uint64_t d0 = taken.data_off, dl = taken.data_len;

    if (taken.rsv != 0)
        return KDCOM_VM_ST_ERR_RESERVED;
    switch (taken.op) {
    case KDCOM_VM_OP_HELLO:
        return (taken.arg >> 16) == KDCOM_VM_ABI_MAJOR
                   ? 0 : KDCOM_VM_ST_ERR_VERSION;
    case KDCOM_VM_OP_POLL_BREAKIN:
        return 0;
    case KDCOM_VM_OP_SEND:
    case KDCOM_VM_OP_RECEIVE:
        if (!kdcom_is_data_type(taken.type))
            return KDCOM_VM_ST_ERR_TYPE;
        if (taken.op == KDCOM_VM_OP_SEND && hl + dl > KDCOM_MAX_PAYLOAD)
            return KDCOM_VM_ST_ERR_LENGTH;
        if (!buf_in(taken.head_off, taken.head_len, bound) ||
            !buf_in(taken.data_off, taken.data_len, bound))
            return KDCOM_VM_ST_ERR_BUFFER;
        if (taken.op == KDCOM_VM_OP_RECEIVE && hl && dl && h0 < d0 + dl &&
            d0 < h0 + hl)
            return KDCOM_VM_ST_ERR_BUFFER;
        return 0;
    default:
        return KDCOM_VM_ST_ERR_OP;
    }
}

/* ---- checks ---- */

static void check_stats(void)
{
    const struct kdcom_vm_stats *v = kdcom_vm_host_stats(&host);
    const struct kdcom_stats *l =
        kdcom_get_stats(kdcom_vm_host_link(&host));
    uint64_t a[sizeof *v / 8], b[sizeof *v / 8];
    uint64_t c[sizeof *l / 8], d[sizeof *l / 8];
    size_t i;

    /* The feed pauses while the one-packet slot is full, so a packet can
     * never find it full. */
    FZ_CHECK(v->rx_overrun == 0, "a received packet found the slot full");
    memcpy(a, v, sizeof *v);
    memcpy(b, &prev_vm, sizeof *v);
    for (i = 0; i < sizeof *v / 8; i++)
        FZ_CHECK(a[i] >= b[i], "vm stats word %zu decreased", i);
    if (v->guest_restarts != prev_vm.guest_restarts) {
        /* A rebooted guest gets a fresh link, as a freshly loaded
         * kdcom.dll would be: its counters and its output start over (a
         * frame half written is cut off, as a reboot would cut it). */
        memset(&prev_link, 0, sizeof prev_link);
        kdcom_parser_init(&out_chk);
    }
    memcpy(c, l, sizeof *l);
    memcpy(d, &prev_link, sizeof *l);
    for (i = 0; i < sizeof *l / 8; i++)
        FZ_CHECK(c[i] >= d[i], "link stats word %zu decreased", i);
    prev_vm = *v;
    prev_link = *l;
}

static int seen_payload(uint32_t type, const uint8_t *p, uint32_t len)
{
    uint64_t h = fnv(p, len);
    unsigned i;

    if (seen_overflow)
        return 1;
    for (i = 0; i < nseen; i++)
        if (seen[i].type == type && seen[i].len == len && seen[i].hash == h)
            return 1;
    return 0;
}

static void check_poll_writes(uint32_t req_seq, uint32_t rsp_before)
{
    uint32_t i, rsp = ld(KDCOM_VM_OFF_RSP_SEQ);
    uint32_t status = ld(KDCOM_VM_OFF_RSP_STATUS);
    uint32_t rh = ld(KDCOM_VM_OFF_RSP_HEAD_LEN);
    uint32_t rd = ld(KDCOM_VM_OFF_RSP_DATA_LEN);
    int answered = rsp != rsp_before ||
                   memcmp(before + 0xA0, region + 0xA0, 0x18) != 0;
    int received = answered && status == KDCOM_VM_ST_RECEIVED &&
                   taken.valid && taken.op == KDCOM_VM_OP_RECEIVE;

    for (i = 0; i < region_size; i++) {
        if (region[i] == before[i] || (i >= 0x80 && i < 0x100))
            continue;
        FZ_CHECK(i >= KDCOM_VM_BUF_BASE && received,
                 "host wrote offset %#x (answered %d status %u)",
                 (unsigned)i, answered, (unsigned)status);
        FZ_CHECK((i >= taken.head_off && i - taken.head_off < rh) ||
                     (i >= taken.data_off && i - taken.data_off < rd),
                 "host wrote %#x outside the reported buffers",
                 (unsigned)i);
    }
    if (!answered)
        return;
    FZ_CHECK(taken.valid && rsp == req_seq && rsp == taken.seq,
             "answer %u to request %u (taken %u)", (unsigned)rsp,
             (unsigned)req_seq, (unsigned)taken.seq);
    FZ_CHECK(ld(KDCOM_VM_OFF_RSP_EPOCH) == ld(KDCOM_VM_OFF_GUEST_EPOCH),
             "answer epoch");
    if (taken.expect != 0) {
        FZ_CHECK(status == taken.expect,
                 "malformed request (op %u) answered %u, expected %u",
                 (unsigned)taken.op, (unsigned)status,
                 (unsigned)taken.expect);
    } else {
        FZ_CHECK(status >= KDCOM_VM_ST_OK && status <= KDCOM_VM_ST_RESEND,
                 "well-formed request (op %u) answered %u",
                 (unsigned)taken.op, (unsigned)status);
    }
    if (received) {
        static uint8_t p[KDCOM_MAX_PAYLOAD];

        FZ_CHECK(rh == taken.head_len && rd <= taken.data_len &&
                     rh + rd <= KDCOM_MAX_PAYLOAD,
                 "RECEIVED lengths %u+%u for capacities %u+%u",
                 (unsigned)rh, (unsigned)rd, (unsigned)taken.head_len,
                 (unsigned)taken.data_len);
        memcpy(p, region + taken.head_off, rh);
        memcpy(p + rh, region + taken.data_off, rd);
        FZ_CHECK(ld(KDCOM_VM_OFF_RSP_TYPE) == taken.type &&
                     seen_payload(taken.type, p, rh + rd),
                 "RECEIVED a packet the debugger never sent");
    } else {
        FZ_CHECK(rh == 0 && rd == 0, "lengths on a non-RECEIVED answer");
    }
}

static void do_poll(uint32_t size, int misalign)
{
    const struct kdcom_vm_stats *v = kdcom_vm_host_stats(&host);
    uint64_t reqs = v->requests, torn = v->torn_requests;
    uint32_t req_seq = ld(KDCOM_VM_OFF_REQ_SEQ);
    uint32_t rsp_before = ld(KDCOM_VM_OFF_RSP_SEQ);
    uint32_t bound = bound_now();
    uint64_t d;
    int rc;

    memcpy(before, region, region_size);
    rc = kdcom_vm_host_poll(&host, region + misalign, size, now);
    if (misalign || size < KDCOM_VM_MIN_SIZE) {
        FZ_CHECK(rc == KDCOM_ERR_INVAL, "bad region accepted: %d", rc);
        FZ_CHECK(memcmp(before, region, region_size) == 0,
                 "refused poll wrote");
        return;
    }
    FZ_CHECK(rc >= KDCOM_VM_POLL_IDLE && rc <= KDCOM_VM_POLL_NO_GUEST,
             "poll returned %d", rc);
    if (size < region_size && bound > size)
        bound = 0; /* the host only sees `size` bytes */
    FZ_CHECK((rc == KDCOM_VM_POLL_NO_GUEST) == (bound == 0),
             "poll says %d, region bound %u", rc, (unsigned)bound);
    FZ_CHECK(v->torn_requests == torn, "torn request without a writer");
    if (v->requests != reqs) {
        FZ_CHECK(v->requests == reqs + 1, "two requests in one poll");
        taken.valid = 1;
        taken.seq = req_seq;
        taken.op = ld(KDCOM_VM_OFF_REQ_OP);
        taken.type = ld(KDCOM_VM_OFF_REQ_TYPE);
        taken.head_off = ld(KDCOM_VM_OFF_REQ_HEAD_OFF);
        taken.head_len = ld(KDCOM_VM_OFF_REQ_HEAD_LEN);
        taken.data_off = ld(KDCOM_VM_OFF_REQ_DATA_OFF);
        taken.data_len = ld(KDCOM_VM_OFF_REQ_DATA_LEN);
        taken.arg = ld(KDCOM_VM_OFF_REQ_ARG);
        taken.rsv = ld(KDCOM_VM_OFF_REQ_RESERVED);
        taken.expect = judge(bound);
        if (taken.op == KDCOM_VM_OP_SEND && taken.expect == 0) {
            memcpy(send_payload, before + taken.head_off, taken.head_len);
            memcpy(send_payload + taken.head_len, before + taken.data_off,
                   taken.data_len);
            send_len = taken.head_len + taken.data_len;
            have_send = 1;
            if (nsends < SEEN_MAX) {
                sends[nsends].len = send_len;
                sends[nsends].hash = fnv(send_payload, send_len);
                nsends++;
            } else {
                sends_overflow = 1;
            }
        }
    }
    check_poll_writes(req_seq, rsp_before);
    FZ_CHECK(ld(KDCOM_VM_OFF_HOST_EPOCH) != 0 &&
                 ld(KDCOM_VM_OFF_HOST_ABI) == KDCOM_VM_ABI_VERSION &&
                 (ld(KDCOM_VM_OFF_HOST_FLAGS) & KDCOM_VM_HF_READY),
             "host fields not published");
    d = kdcom_vm_host_next_deadline(&host);
    FZ_CHECK(d > now,
             "deadline %llu not after now %llu after a poll (seq %u op %u "
             "done %u queued %u slot %u resend %u can_send %d)",
             (unsigned long long)d, (unsigned long long)now,
             (unsigned)host.cur.seq, (unsigned)host.cur.op,
             (unsigned)host.cur.done, (unsigned)host.cur.queued,
             (unsigned)host.slot.full, (unsigned)host.resend_due,
             kdcom_can_send(&host.link));
    check_stats();
}

static void mirror(const uint8_t *in, size_t len)
{
    while (len > 0) {
        struct kdcom_frame f;
        int n = kdcom_parse(&in_ref, in, len, &f);

        in += n;
        len -= (size_t)n;
        if (f.kind != KDCOM_FRAME_DATA)
            continue;
        if (nseen < SEEN_MAX) {
            seen[nseen].type = f.type;
            seen[nseen].len = f.payload_len;
            seen[nseen].hash = fnv(f.payload, f.payload_len);
            nseen++;
        } else {
            seen_overflow = 1;
        }
        if (nacked < SEEN_MAX)
            acked_ids[nacked++] = f.id;
    }
}

static int send_taken(const uint8_t *p, uint32_t len)
{
    uint64_t h = fnv(p, len);
    unsigned i;

    if (sends_overflow)
        return 1;
    for (i = 0; i < nsends; i++)
        if (sends[i].len == len && sends[i].hash == h)
            return 1;
    return 0;
}

static int id_known(uint32_t id)
{
    unsigned i;

    if (nacked >= SEEN_MAX)
        return 1;
    for (i = 0; i < nacked; i++)
        if (acked_ids[i] == id)
            return 1;
    return 0;
}

static void do_feed(size_t want)
{
    int rc;

    if (want > wire_len)
        want = wire_len;
    rc = kdcom_vm_host_feed(&host, now, wire, want);
    FZ_CHECK(rc >= 0 && (size_t)rc <= want, "feed returned %d", rc);
    /* The mirror may see frames the link skipped as stale after a RESET
     * or abandoned on a stall: it is used only as a superset. */
    mirror(wire, (size_t)rc);
    if ((size_t)rc < want)
        FZ_CHECK(kdcom_vm_host_want_read(&host) == 0 ||
                     kdcom_vm_host_want_write(&host) == 1,
                 "feed stopped at %d of %zu for no reason", rc, want);
    memmove(wire, wire + rc, wire_len - (size_t)rc);
    wire_len -= (size_t)rc;
    check_stats();
}

static void do_drain(size_t cap)
{
    size_t i;
    int rc;

    if (cap > sizeof out - GUARD)
        cap = sizeof out - GUARD;
    memset(out, 0xA5, cap + GUARD);
    rc = kdcom_vm_host_drain(&host, now, out, cap);
    FZ_CHECK(rc >= 0 && (size_t)rc <= cap, "drain returned %d", rc);
    for (i = (size_t)rc; i < cap + GUARD; i++)
        FZ_CHECK(out[i] == 0xA5, "drain wrote past what it returned");
    for (i = 0; i < (size_t)rc;) {
        struct kdcom_frame f;
        int n = kdcom_parse(&out_chk, out + i, (size_t)rc - i, &f);

        i += (size_t)n;
        switch (f.kind) {
        case KDCOM_FRAME_NONE:
            break;
        case KDCOM_FRAME_DATA:
            FZ_CHECK(fz_legal_tx_id(KDCOM_ROLE_TARGET, f.id), "data id");
            /* The frame of a SEND the guest abandoned is finished on
             * the wire (the link never cuts a frame), while later SENDs
             * are taken: it may be any SEND the host took. */
            FZ_CHECK(send_taken(f.payload, f.payload_len),
                     "data frame (len %u) is not a SEND the host took "
                     "(last %u)", (unsigned)f.payload_len,
                     (unsigned)send_len);
            break;
        case KDCOM_FRAME_CONTROL:
            FZ_CHECK(f.type >= KDCOM_TYPE_ACKNOWLEDGE &&
                         f.type <= KDCOM_TYPE_RESET,
                     "control type %u", (unsigned)f.type);
            FZ_CHECK(f.type == KDCOM_TYPE_ACKNOWLEDGE ? id_known(f.id)
                                                      : f.id == 0,
                     "control id %08x", (unsigned)f.id);
            break;
        default:
            FZ_CHECK(0, "host emitted item kind %u", (unsigned)f.kind);
        }
    }
    FZ_CHECK(out_chk.noise_bytes == 0, "host emitted noise");
    check_stats();
}

/* A new debugger connection: the wire starts over, the next byte drained
 * begins a frame, the guest notices nothing, counters are kept. */
static void wire_reset(void)
{
    int rc = kdcom_vm_host_wire_reset(&host, now);

    FZ_CHECK(rc == KDCOM_OK, "wire_reset: %d", rc);
    kdcom_parser_init(&out_chk);
    kdcom_parser_init(&in_ref);
    nacked = 0;
    wire_len = 0;
    FZ_CHECK(kdcom_vm_host_take_kick(&host) >= 0 &&
                 kdcom_vm_host_guest_flags(&host) >= 0,
             "kick and guest flags");
    check_stats();
}

/* ---- guest ops ---- */

static void guest_header(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);

    st(KDCOM_VM_OFF_MAGIC, (sel & 1) ? fz_u32(in) : KDCOM_VM_MAGIC);
    st(KDCOM_VM_OFF_ABI, (sel & 2) ? fz_u32(in) : KDCOM_VM_ABI_VERSION);
    st(KDCOM_VM_OFF_SIZE, (sel & 4) ? fz_u32(in) : region_size);
    if (sel & 8)
        epoch = fz_u32(in);
    else if (sel & 16 || epoch == 0)
        epoch++;
    st(KDCOM_VM_OFF_GUEST_EPOCH, epoch);
}

static uint32_t pick_off(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);

    switch (sel % 6) {
    case 0: return KDCOM_VM_DEF_HEAD_OFF;
    case 1: return KDCOM_VM_DEF_DATA_OFF;
    case 2: return region_size - (fz_u16(in) % 0x1000u);
    case 3: return fz_u32(in);
    case 4: return fz_u16(in);
    default: return KDCOM_VM_BUF_BASE + fz_u16(in) % 0x2000u;
    }
}

static uint32_t pick_len(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);

    switch (sel % 4) {
    case 0: return sel >> 2;
    case 1: return fz_u16(in) % (KDCOM_MAX_PAYLOAD + 2u);
    case 2: return fz_u32(in);
    default: return 0x1000u - (sel >> 2);
    }
}

static void guest_request(struct fz_in *in)
{
    uint8_t sel = fz_u8(in);
    uint32_t op = sel < 0xf0 ? 1u + sel % 4u : fz_u32(in);

    st(KDCOM_VM_OFF_REQ_SEQ, 0);
    st(KDCOM_VM_OFF_REQ_OP, op);
    st(KDCOM_VM_OFF_REQ_TYPE, fz_u8(in) % 13u);
    st(KDCOM_VM_OFF_REQ_HEAD_OFF, pick_off(in));
    st(KDCOM_VM_OFF_REQ_HEAD_LEN, pick_len(in));
    st(KDCOM_VM_OFF_REQ_DATA_OFF, pick_off(in));
    st(KDCOM_VM_OFF_REQ_DATA_LEN, pick_len(in));
    st(KDCOM_VM_OFF_REQ_ARG, op == KDCOM_VM_OP_HELLO && !(sel & 0x10)
                                 ? KDCOM_VM_ABI_VERSION : fz_u8(in));
    st(KDCOM_VM_OFF_REQ_RESERVED, (sel & 0x20) ? fz_u32(in) : 0);
    if (sel & 0x40)
        seq = fz_u32(in); /* any number, even 0 or one already used */
    else if (++seq == 0)
        seq = 1;
    st(KDCOM_VM_OFF_REQ_SEQ, seq);
}

static void guest_scribble(struct fz_in *in)
{
    uint32_t off = fz_u16(in) % region_size;
    size_t n, i;
    const uint8_t *b = fz_bytes(in, fz_u8(in) % 64u, &n);

    for (i = 0; i < n && off + i < region_size; i++)
        region[off + i] = b[i];
}

/* ---- debugger ops ---- */

static void wire_put(const uint8_t *b, size_t n)
{
    if (n > sizeof wire - wire_len)
        n = sizeof wire - wire_len;
    memcpy(wire + wire_len, b, n);
    wire_len += n;
}

static void debugger_frame(struct fz_in *in)
{
    static uint8_t p[KDCOM_MAX_PAYLOAD];
    uint8_t sel = fz_u8(in);
    uint8_t id_sel = fz_u8(in);
    uint32_t any = fz_u32(in);
    uint32_t id = fzw_pick_id(id_sel, kdcom_tx_id(kdcom_vm_host_link(&host)),
                              any);
    size_t len, got, i;
    const uint8_t *b;

    if (sel & 1) {
        wire_put(frame, fzw_control(frame, 4u + (sel >> 1) % 3u, id));
        return;
    }
    if (sel & 2) {
        const uint8_t x = KDCOM_BREAKIN_BYTE;
        wire_put(&x, 1);
        return;
    }
    len = fz_u16(in) % (KDCOM_MAX_PAYLOAD + 1u);
    b = fz_bytes(in, len, &got);
    memcpy(p, b, got);
    for (i = got; i < len; i++)
        p[i] = (uint8_t)i;
    wire_put(frame, fzw_data(frame, (sel & 4) ? fz_u8(in) % 13u
                                              : KDCOM_TYPE_STATE_MANIPULATE,
                             id, p, len, (sel & 8) ? (sel >> 4) & 7u : 0));
}

/* Every entry point with bad arguments, and the status names. */
static void bad_args(void)
{
    static struct kdcom_vm_host h;
    struct kdcom_vm_config c;
    uint8_t b[16];
    uint32_t v;

    FZ_CHECK(kdcom_vm_config_init(NULL) == KDCOM_ERR_INVAL, "config NULL");
    FZ_CHECK(kdcom_vm_host_init(NULL, NULL) == KDCOM_ERR_INVAL, "init NULL");
    kdcom_vm_config_init(&c);
    c.receive_timeout_ms = 0;
    FZ_CHECK(kdcom_vm_host_init(&h, &c) == KDCOM_ERR_CONFIG, "init 0 ms");
    kdcom_vm_config_init(&c);
    c.ack_timeout_ms = 0; /* refused by the link */
    FZ_CHECK(kdcom_vm_host_init(&h, &c) < 0, "init bad link config");
    memset(&h, 0x5a, sizeof h);
    FZ_CHECK(kdcom_vm_host_poll(&h, b, sizeof b, 0) == KDCOM_ERR_NOT_INIT,
             "poll uninit");
    FZ_CHECK(kdcom_vm_host_feed(&h, 0, b, 1) == KDCOM_ERR_NOT_INIT &&
                 kdcom_vm_host_drain(&h, 0, b, 1) == KDCOM_ERR_NOT_INIT &&
                 kdcom_vm_host_want_write(&h) == KDCOM_ERR_NOT_INIT &&
                 kdcom_vm_host_want_read(&h) == KDCOM_ERR_NOT_INIT &&
                 kdcom_vm_host_debugger_present(&h) == KDCOM_ERR_NOT_INIT &&
                 kdcom_vm_host_next_deadline(&h) == 0,
             "calls on an uninitialised host");
    FZ_CHECK(kdcom_vm_host_poll(NULL, b, sizeof b, 0) == KDCOM_ERR_INVAL,
             "poll NULL");
    FZ_CHECK(kdcom_vm_host_init(&h, NULL) == KDCOM_OK, "init default");
    FZ_CHECK(kdcom_vm_host_poll(&h, NULL, 0x3000, 0) == KDCOM_ERR_INVAL &&
                 kdcom_vm_host_poll(&h, b, sizeof b, 0) == KDCOM_ERR_INVAL,
             "poll bad region");
    FZ_CHECK(kdcom_vm_host_feed(&h, 0, NULL, 1) == KDCOM_ERR_INVAL &&
                 kdcom_vm_host_feed(&h, 0, NULL, 0) == 0,
             "feed NULL");
    FZ_CHECK(kdcom_vm_host_drain(&h, 0, NULL, 1) == KDCOM_ERR_INVAL,
             "drain NULL");
    FZ_CHECK(kdcom_vm_host_want_write(&h) == 0 &&
                 kdcom_vm_host_want_read(&h) == 1 &&
                 kdcom_vm_host_debugger_present(&h) == 0,
             "fresh host state");
    FZ_CHECK(kdcom_vm_host_stats(NULL) == NULL &&
                 kdcom_vm_host_link(NULL) == NULL,
             "accessors NULL");
    for (v = 0; v < 0x100; v++)
        FZ_CHECK(kdcom_vm_status_name(v) != NULL, "status name");
    FZ_CHECK(strcmp(kdcom_vm_status_name(KDCOM_VM_ST_RECEIVED),
                    "RECEIVED") == 0,
             "status name text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size, 0};
    struct kdcom_vm_config cfg;
    static int once;
    int ops = 0;

    if (!once) {
        bad_args();
        once = 1;
    }
    kdcom_vm_config_init(&cfg);
    cfg.ack_timeout_ms = 1u + fz_u8(&in);
    cfg.byte_timeout_ms = 1u + fz_u8(&in);
    cfg.receive_timeout_ms = 1u + fz_u8(&in);
    FZ_CHECK(kdcom_vm_host_init(&host, &cfg) == KDCOM_OK, "host init");
    region_size = KDCOM_VM_MIN_SIZE + 4u * (fz_u16(&in) % 0x800u);
    region = malloc(region_size);
    before = malloc(region_size);
    FZ_CHECK(region != NULL && before != NULL, "out of memory");
    memset(region, 0, region_size);
    memset(&taken, 0, sizeof taken);
    kdcom_parser_init(&in_ref);
    kdcom_parser_init(&out_chk);
    memset(&prev_vm, 0, sizeof prev_vm);
    memset(&prev_link, 0, sizeof prev_link);
    now = 0;
    seq = epoch = 0;
    nseen = nacked = 0;
    seen_overflow = 0;
    have_send = 0;
    nsends = 0;
    sends_overflow = 0;
    wire_len = 0;

    while (fz_more(&in) && ops++ < 4096) {
        uint8_t op = fz_u8(&in);

        switch (op % 10) {
        case 0:
            guest_header(&in);
            break;
        case 1:
        case 2:
            guest_request(&in);
            break;
        case 3:
            guest_scribble(&in);
            break;
        case 4:
            do_poll(region_size, 0);
            break;
        case 5:
            if (op & 0x80)
                do_poll((op & 0x40) ? KDCOM_VM_MIN_SIZE - 4 : region_size,
                        (op & 0x40) ? 0 : 2);
            else
                do_poll(region_size - 4u * (fz_u8(&in) % 16u), 0);
            break;
        case 6:
            debugger_frame(&in);
            break;
        case 7:
            do_feed(fz_u16(&in));
            break;
        case 8:
            do_drain(fz_u16(&in) % 5000u);
            FZ_CHECK(kdcom_vm_host_want_write(&host) >= 0 &&
                         kdcom_vm_host_debugger_present(&host) >= 0,
                     "state queries");
            break;
        default: {
            uint8_t sel;
            uint64_t d;

            if ((op & 0xC0) == 0xC0) {
                wire_reset();
                break;
            }
            sel = fz_u8(&in);
            d = kdcom_vm_host_next_deadline(&host);
            if (sel < 128 && d != UINT64_MAX && d > now)
                now = d;
            else
                now += sel;
            break;
        }
        }
    }
    free(region);
    free(before);
    region = before = NULL;
    return 0;
}
