/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vmt_scenario.c - the standard end-to-end scenario, run over either back
 * end: a simulated kernel (guest thread) and a scripted debugger (main
 * thread), talking real KDCOM through libkdcom's DEBUGGER role.
 *
 * Message layouts are this test's own, except for what the transport
 * looks at (the ApiNumber / NewState in the first 4 bytes: DbgPrint
 * 0x3230 is droppable, the exception state change 0x3030 is not):
 *
 *   state change (STATE_CHANGE64, 0xF0 header): [0] 0x3030, [4] round
 *   manipulate (56-byte header): [0] api 0x3130 read / 0x3131 write /
 *       0x313C continue, [4] round, [8] length, [12] hash of write data
 *   DbgPrint (DEBUG_IO, 16-byte header): [0] 0x3230, [8] text length
 *
 * Phases (the kernel announces them; the script acknowledges):
 *   1 debugger absent (wire cut): a DbgPrint is dropped, not delivered;
 *   2 wire up: rounds 0..5 of state change -> read (sizes 16, 1000,
 *     3944) -> write (2000 bytes) -> continue; a break-in during round 1
 *     must come back as KdpControlCPending; a RESET storm (three resyncs)
 *     hits round 3, so the kernel sees RESEND and re-sends its state
 *     change; three DbgPrints;
 *   3 the debugger breaks in; the kernel's POLL_BREAKIN sees it, round 6;
 *   4 wire cut for 300 ms while the kernel sends round 7's state change:
 *     it must not be given up; once the wire is back it gets through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "vmt.h"

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    while (n-- > 0)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static uint8_t pattern(uint32_t round, uint32_t i)
{
    return (uint8_t)(i * 31u + round * 7u + (i >> 8));
}

/* ---- the simulated kernel ---- */

static KD_CONTEXT ctx;

static void kprint(const char *text)
{
    uint8_t h[16] = {0x30, 0x32};
    STRING hs, ds;

    h[8] = (uint8_t)strlen(text);
    hs.Length = hs.MaximumLength = 16;
    hs.Buffer = (CHAR *)h;
    ds.Length = ds.MaximumLength = (USHORT)strlen(text);
    ds.Buffer = (CHAR *)(uintptr_t)text;
    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &hs, &ds, &ctx);
}

/* One debugger stop: state change, then serve manipulate requests until
 * "continue", re-sending the state change on RESEND (KdpSendWaitContinue).*/
static int kstop(struct vmt *v, struct vmt_std *s, uint32_t round)
{
    static uint8_t sc[0xF0], mh[56], md[4000];
    STRING scs, mhs, mds;
    ULONG dl;
    unsigned guard = 0;
    KDP_STATUS st;

    memset(sc, 0, sizeof sc);
    st32(sc, 0x3030);
    st32(sc + 4, round);
    scs.Length = scs.MaximumLength = sizeof sc;
    scs.Buffer = (CHAR *)sc;
send:
    KdSendPacket(KDCOM_TYPE_STATE_CHANGE64, &scs, NULL, &ctx);
    for (;;) {
        if (vmt_get(&v->stop) || ++guard > 2000) {
            vmt_failf(v, "round %u: no continue", round);
            return -1;
        }
        mhs.Length = 0;
        mhs.MaximumLength = sizeof mh;
        mhs.Buffer = (CHAR *)mh;
        mds.Length = 0;
        mds.MaximumLength = sizeof md;
        mds.Buffer = (CHAR *)md;
        dl = 12345;
        st = KdReceivePacket(KDCOM_TYPE_STATE_MANIPULATE, &mhs, &mds, &dl,
                             &ctx);
        if (st == KdPacketNeedsResend) {
            s->k_resends++;
            goto send;
        }
        if (st == KdPacketTimedOut) {
            s->k_timeouts++;
            continue;
        }
        VMT_CHECK(v, st == KdPacketReceived);
        VMT_CHECK(v, mhs.Length == 56);
        VMT_CHECK(v, dl == mds.Length);
        VMT_CHECK(v, ld32(mh + 4) == round);
        switch (ld32(mh)) {
        case 0x3130: {
            uint32_t len = ld32(mh + 8), i;
            if (len > sizeof md - 56) {
                vmt_failf(v, "read length %u", len);
                return -1;
            }
            for (i = 0; i < len; i++)
                md[i] = pattern(round, i);
            mds.Length = (USHORT)len;
            KdSendPacket(KDCOM_TYPE_STATE_MANIPULATE, &mhs, &mds, &ctx);
            break;
        }
        case 0x3131:
            VMT_CHECK(v, dl == ld32(mh + 8));
            st32(mh + 12, hash(md, dl));
            KdSendPacket(KDCOM_TYPE_STATE_MANIPULATE, &mhs, NULL, &ctx);
            break;
        case 0x313C:
            return 0;
        default:
            vmt_failf(v, "round %u: api %#x", round, ld32(mh));
            return -1;
        }
    }
}

void vmt_std_kernel(struct vmt *v)
{
    struct vmt_std *s = v->user;
    uint64_t end;
    uint32_t r;

    memset(&ctx, 0, sizeof ctx);
    ctx.KdpDefaultRetries = 5;
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    VMT_CHECK(v, KdDebuggerInitialize1(NULL) == KDAPI_STATUS_SUCCESS);

    if (vmt_phase(v, 1))
        return;
    kprint("early, nobody listens\n");
    VMT_CHECK(v, !KdGuestDebuggerPresent());
    VMT_CHECK(v, KdGuestStats.sends_dropped == 1);

    if (vmt_phase(v, 2))
        return;
    for (r = 0; r < 6; r++) {
        if (kstop(v, s, r))
            return;
        if (r == 1) {
            /* The debugger broke in during the exchange. */
            s->k_ccp = ctx.KdpControlCPending;
            ctx.KdpControlCPending = 0;
        }
    }
    VMT_CHECK(v, KdGuestDebuggerPresent());
    kprint("hello 1\n");
    kprint("hello 2\n");
    kprint("hello 3\n");

    if (vmt_phase(v, 3))
        return;
    end = vmt_ms() + 5000;
    for (;;) {
        s->k_polls++;
        if (KdReceivePacket(KDCOM_TYPE_POLL_BREAKIN, NULL, NULL, NULL, &ctx) ==
            KdPacketReceived)
            break;
        if (vmt_ms() > end || vmt_get(&v->stop)) {
            vmt_failf(v, "no break-in");
            return;
        }
    }
    if (kstop(v, s, 6))
        return;

    if (vmt_phase(v, 4))
        return;
    if (kstop(v, s, 7))
        return;
    vmt_set(&v->phase, 5);
    VMT_CHECK(v, KdD3Transition() == KDAPI_STATUS_SUCCESS);
    VMT_CHECK(v, KdD0Transition() == KDAPI_STATUS_SUCCESS);
}

/* ---- the scripted debugger ---- */

static void dsend(struct vmt *v, struct vmt_std *s, uint32_t api,
                  uint32_t round, uint32_t len, const uint8_t *data,
                  uint32_t dlen)
{
    memset(s->pend_head, 0, sizeof s->pend_head);
    st32(s->pend_head, api);
    st32(s->pend_head + 4, round);
    st32(s->pend_head + 8, len);
    if (dlen != 0)
        memcpy(s->pend_data, data, dlen);
    s->pend_type = KDCOM_TYPE_STATE_MANIPULATE;
    s->pend_hlen = 56;
    s->pend_dlen = dlen;
    s->pend = 1;
    (void)v;
}

static void on_packet(struct vmt *v, struct vmt_std *s,
                      const struct kdcom_event *ev, uint64_t now)
{
    static const uint32_t lens[3] = {16, 1000, 3944};
    uint32_t round;

    if (ev->type == KDCOM_TYPE_DEBUG_IO) {
        if (ev->len >= 16 && ld32(ev->payload) == 0x3230) {
            if (ev->len >= 21 && memcmp(ev->payload + 16, "hello", 5) == 0)
                s->prints++;
            else
                s->bad++; /* the early DbgPrint must have been dropped */
        }
        return;
    }
    if (ev->len < 8) {
        s->bad++;
        return;
    }
    round = ld32(ev->payload + 4);
    if (round > VMT_ROUNDS) {
        s->bad++;
        return;
    }
    if (ev->type == KDCOM_TYPE_STATE_CHANGE64) {
        s->state_changes[round]++;
        if (round == 3 && !s->storm_started) {
            s->storm_started = 1;
            s->storm_left = 3;
            s->storm_next = now;
            return;
        }
        if (s->storm_left > 0)
            return;
        if (round == 1 && !s->ccp_breakin_sent) {
            kdcom_send_breakin(&v->dbg);
            s->ccp_breakin_sent = 1;
        }
        s->expect_len = lens[round % 3];
        dsend(v, s, 0x3130, round, s->expect_len, NULL, 0);
        return;
    }
    if (ev->type != KDCOM_TYPE_STATE_MANIPULATE || ev->len < 56) {
        s->bad++;
        return;
    }
    switch (ld32(ev->payload)) {
    case 0x3130: {
        uint32_t i, ok = ev->len - 56 == s->expect_len;
        uint8_t data[2000];
        for (i = 0; ok && i < s->expect_len; i++)
            ok = ev->payload[56 + i] == pattern(round, i);
        if (!ok) {
            s->bad++;
            return;
        }
        s->reads_ok++;
        for (i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)(i ^ round ^ 0x5a);
        s->expect_hash = hash(data, sizeof data);
        dsend(v, s, 0x3131, round, sizeof data, data, sizeof data);
        break;
    }
    case 0x3131:
        if (ld32(ev->payload + 12) != s->expect_hash) {
            s->bad++;
            return;
        }
        s->writes_ok++;
        s->rounds_done++;
        dsend(v, s, 0x313C, round, 0, NULL, 0);
        break;
    default:
        s->bad++;
    }
}

void vmt_std_debugger(struct vmt *v, const struct kdcom_event *ev)
{
    struct vmt_std *s = v->user;
    uint64_t now = vmt_ms();
    int ph = vmt_get(&v->phase);

    if (ev != NULL) {
        if (ev->kind == KDCOM_EV_PACKET)
            on_packet(v, s, ev, now);
        return;
    }
    if (s->pend && kdcom_can_send(&v->dbg) == 1) {
        if (kdcom_send(&v->dbg, now, s->pend_type, s->pend_head, s->pend_hlen,
                       s->pend_data, s->pend_dlen) == KDCOM_OK)
            s->pend = 0;
        else
            s->bad++;
    }
    if (s->storm_left > 0 && now >= s->storm_next &&
        kdcom_is_synced(&v->dbg) == 1) {
        kdcom_resync(&v->dbg, now);
        s->storm_left--;
        s->storm_resets++;
        s->storm_next = now + 30;
    }
    if (ph == vmt_get(&v->phase_ack))
        goto phase4;
    switch (ph) {
    case 1:
        v->silent = 1;
        break;
    case 2:
        v->silent = 0;
        break;
    case 3:
        kdcom_send_breakin(&v->dbg);
        s->breakins_sent++;
        break;
    case 4:
        v->silent = 1;
        s->silence_until = now + 300;
        break;
    default:
        break;
    }
    vmt_set(&v->phase_ack, ph);
phase4:
    if (ph == 4 && v->silent && now >= s->silence_until) {
        /* 300 ms without a debugger: the state change must still be
         * outstanding, neither delivered nor given up. */
        s->silence_checked = s->state_changes[7] == 0;
        v->silent = 0;
    }
}

/* ---- the outcome ---- */

void vmt_std_run(struct vmt *v, struct vmt_std *s)
{
    v->user = s;
    v->silent = 1;
    vmt_run_ok(v, vmt_std_kernel, vmt_std_debugger, 60000);
    assert_int_equal(s->bad, 0);
    assert_int_equal(s->rounds_done, 8);
    assert_int_equal(s->reads_ok, 8);
    assert_int_equal(s->writes_ok, 8);
    assert_int_equal(s->prints, 3);
    assert_int_equal(s->storm_resets, 3);
    assert_true(s->state_changes[3] >= 2); /* re-sent after the storm */
    assert_true(s->k_resends >= 1);
    assert_int_equal(s->k_ccp, 1);
    assert_int_equal(s->silence_checked, 1);
    assert_int_equal(s->state_changes[7], 1);
    assert_int_equal(KdGuestStats.bad_answers, 0);
    assert_int_equal(KdGuestStats.host_timeouts, 0);
}
