/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm_host.c - the mailbox side of the VM channel host service: taking a
 * guest request out of shared memory, validating it, and publishing the
 * answer (docs/vm-channel.md).
 *
 * THEORY OF OPERATION
 *
 *   The region is written by a guest we do not trust, concurrently with
 *   us.  So kdcom_vm_host_poll() never works on the region itself: it
 *
 *     1. checks the control fields (magic, ABI major, declared size, epoch)
 *        and derives `bound`, the smaller of the declared and the mapped
 *        size, which every later offset is checked against;
 *     2. reads REQ_SEQ with acquire; a value that is 0, already answered
 *        or already being served means "nothing new";
 *     3. copies the request fields once, validates the copy, copies a
 *        SEND's payload into h->stage (lengths already bounded), and
 *        re-reads REQ_SEQ after an acquire fence: if it moved, the guest
 *        rewrote the mailbox under us and the copy is dropped (seqlock
 *        reader; torn_requests counts it);
 *     4. advances the request (link timers, RECEIVE delivery or timeout);
 *     5. writes an answer if there is one: payload and response fields
 *        first, RSP_SEQ last with release, and only if REQ_SEQ still names
 *        the request (a guest that moved on would find its new buffers
 *        overwritten otherwise);
 *     6. rewrites the host-written fields (epoch, flags, beat, ABI).
 *
 *   A guest is new when GUEST_EPOCH changes or when the region read
 *   invalid (no magic, wrong ABI or size) at some poll since the last
 *   valid one: both a re-initialisation and a fresh zeroed region pass
 *   through "invalid" or a new epoch, whichever the host happens to see.
 *
 *   Request states: none (cur.seq 0) -> in progress -> done (cur.done,
 *   answer pending) -> answered (`answered` = seq, cur.seq 0).  A new
 *   REQ_SEQ while a request is in progress abandons it (a SEND is
 *   cancelled on the link).  A new GUEST_EPOCH means the guest rebooted or
 *   re-initialised the region: the request is abandoned, and the link is
 *   re-initialised as a freshly loaded kdcom.dll would be (ids back to
 *   INITIAL|SYNC, so the debugger re-bases on the new kernel's packets).
 *
 *   A restarted host finds RSP_SEQ as its predecessor left it, takes it as
 *   "answered", and serves a request still posted; it publishes a new
 *   HOST_EPOCH so the guest can tell.
 */
#include "vm_internal.h"

KDCOM_API int kdcom_vm_config_init(struct kdcom_vm_config *cfg)
{
    if (cfg == NULL)
        return KDCOM_ERR_INVAL;
    memset(cfg, 0, sizeof(*cfg));
    cfg->ack_timeout_ms = KDCOM_DEFAULT_TIMEOUT_MS;
    cfg->byte_timeout_ms = KDCOM_DEFAULT_TIMEOUT_MS;
    /* kdcom.dll answers TIMEOUT when no byte came for about a second
     * (PROTOCOL-FACTS §3.1); the kernel's wait loop just asks again. */
    cfg->receive_timeout_ms = KDCOM_DEFAULT_TIMEOUT_MS;
    return KDCOM_OK;
}

static int link_init(struct kdcom_vm_host *h)
{
    struct kdcom_config lc;

    kdcom_config_init(&lc, KDCOM_ROLE_TARGET);
    lc.ack_timeout_ms = h->cfg.ack_timeout_ms;
    lc.byte_timeout_ms = h->cfg.byte_timeout_ms;
    /* Report every ACK timeout: the retry budget is the guest's
     * (KdpDefaultRetries, per SEND), counted in vm_host_link.c. */
    lc.retry_limit = 1;
    /* A received packet stays in the link until a RECEIVE takes it. */
    lc.flags = KDCOM_CFG_HOLD_PACKETS;
    return kdcom_link_init(&h->link, &lc);
}

/* Nobody can take a held packet or a pending RESEND any more: drop them,
 * so the wire is never blocked by a guest that has gone. */
static void drop_held(struct kdcom_vm_host *h)
{
    kdcom_vm_slot_release(h, &h->stats.rx_dropped);
    h->resend_due = 0;
    h->reply_reset = 0;
}

KDCOM_API int kdcom_vm_host_init(struct kdcom_vm_host *h,
                                 const struct kdcom_vm_config *cfg)
{
    struct kdcom_vm_config def;
    int rc;

    if (h == NULL)
        return KDCOM_ERR_INVAL;
    if (cfg == NULL) {
        kdcom_vm_config_init(&def);
        cfg = &def;
    }
    if ((cfg->flags & ~(uint32_t)KDCOM_VM_CFG_KICKS_GUEST) != 0 ||
        cfg->receive_timeout_ms == 0 ||
        cfg->receive_timeout_ms > KDCOM_MAX_TIMEOUT_MS)
        return KDCOM_ERR_CONFIG;
    memset(h, 0, sizeof(*h));
    h->cfg = *cfg;
    rc = link_init(h);
    if (rc != KDCOM_OK) {
        memset(h, 0, sizeof(*h));
        return rc;
    }
    h->magic = KDCOM_VM_HOST_MAGIC;
    return KDCOM_OK;
}

KDCOM_API int kdcom_vm_host_wire_reset(struct kdcom_vm_host *h, uint64_t now)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    if (now > h->now)
        h->now = now;
    h->stats.wire_resets++;
    /* A fresh link forgets the parser state, the output cursor, queued
     * control packets and the frame in flight.  The old peer's packet and
     * RESEND go too (the new one never sent them), and so does a break-in
     * the old peer sent and the guest has not taken yet: that was that
     * debugger's request, and a new session starts without one, or the
     * new debugger's first continue would stop the kernel again
     * (docs/vm-channel.md 7). */
    kdcom_vm_pump(h);
    drop_held(h);
    kdcom_vm_take_breakin(h, &h->stats.breakins_dropped);
    kdcom_link_restart(&h->link); /* counters kept */
    /* The guest still receives into the same header buffer. */
    kdcom_expect_header(&h->link, h->head_min);
    h->dbg_present = 0;
    if (h->cur.seq != 0 && !h->cur.done && h->cur.op == KDCOM_VM_OP_SEND) {
        h->cur.queued = 0;
        kdcom_vm_try_queue(h);
    }
    return KDCOM_OK;
}

/* The offset bound for this poll, or 0 when the region holds no guest. */
static uint32_t region_bound(const void *shm, size_t shm_size)
{
    uint32_t declared, mapped;

    if (vm_ld_acq(shm, KDCOM_VM_OFF_MAGIC) != KDCOM_VM_MAGIC)
        return 0;
    if ((vm_ld(shm, KDCOM_VM_OFF_ABI) >> 16) != KDCOM_VM_ABI_MAJOR)
        return 0;
    if (vm_ld(shm, KDCOM_VM_OFF_GUEST_EPOCH) == 0)
        return 0;
    declared = vm_ld(shm, KDCOM_VM_OFF_SIZE);
    mapped = shm_size > UINT32_MAX ? UINT32_MAX : (uint32_t)shm_size;
    if (declared < KDCOM_VM_MIN_SIZE || declared > mapped)
        return 0;
    return declared;
}

static int buf_ok(uint32_t off, uint32_t len, uint32_t bound)
{
    if (len == 0)
        return 1;
    return off >= KDCOM_VM_BUF_BASE && off <= bound && len <= bound - off;
}

static int overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    if (alen == 0 || blen == 0)
        return 0;
    /* Both ranges are inside the region, so the sums cannot wrap. */
    return a < b + blen && b < a + alen;
}

/* Validates the copied request; returns 0 if it can run, else an error
 * status. */
static uint32_t validate(const struct kdcom_vm_host *h, uint32_t reserved,
                         uint32_t bound)
{
    if (reserved != 0)
        return KDCOM_VM_ST_ERR_RESERVED;
    switch (h->cur.op) {
    case KDCOM_VM_OP_HELLO:
        return (h->cur.arg >> 16) == KDCOM_VM_ABI_MAJOR
                   ? 0
                   : KDCOM_VM_ST_ERR_VERSION;
    case KDCOM_VM_OP_POLL_BREAKIN:
        return 0;
    case KDCOM_VM_OP_SEND:
        if (!kdcom_is_data_type(h->cur.type))
            return KDCOM_VM_ST_ERR_TYPE;
        if (h->cur.head_len > KDCOM_MAX_PAYLOAD ||
            h->cur.data_len > KDCOM_MAX_PAYLOAD ||
            h->cur.head_len + h->cur.data_len > KDCOM_MAX_PAYLOAD)
            return KDCOM_VM_ST_ERR_LENGTH;
        if (!buf_ok(h->cur.head_off, h->cur.head_len, bound) ||
            !buf_ok(h->cur.data_off, h->cur.data_len, bound))
            return KDCOM_VM_ST_ERR_BUFFER;
        return 0;
    case KDCOM_VM_OP_RECEIVE:
        if (!kdcom_is_data_type(h->cur.type))
            return KDCOM_VM_ST_ERR_TYPE;
        if (!buf_ok(h->cur.head_off, h->cur.head_len, bound) ||
            !buf_ok(h->cur.data_off, h->cur.data_len, bound) ||
            overlap(h->cur.head_off, h->cur.head_len, h->cur.data_off,
                    h->cur.data_len))
            return KDCOM_VM_ST_ERR_BUFFER;
        return 0;
    default:
        return KDCOM_VM_ST_ERR_OP;
    }
}

/* The guest replaced or forgot the request in progress. */
static void abandon(struct kdcom_vm_host *h)
{
    if (h->cur.seq == 0)
        return;
    if (h->cur.op == KDCOM_VM_OP_SEND && h->cur.queued && !h->cur.done)
        kdcom_cancel_send(&h->link);
    h->stats.abandoned++;
    h->cur.seq = 0;
    h->cur.done = 0;
}

static void start(struct kdcom_vm_host *h)
{
    switch (h->cur.op) {
    case KDCOM_VM_OP_HELLO:
        h->stats.hellos++;
        kdcom_vm_finish(h, KDCOM_VM_ST_OK);
        break;
    case KDCOM_VM_OP_POLL_BREAKIN:
        h->stats.breakin_polls++;
        /* The kernel runs: whatever the debugger sent meanwhile would have
         * been read and lost by kdcom.dll's poll (§3.9). */
        kdcom_vm_slot_release(h, &h->stats.rx_while_idle);
        /* The kernel runs: no state change to send again. */
        h->resend_due = 0;
        h->reply_reset = 0;
        kdcom_vm_finish(h, kdcom_vm_take_breakin(h, &h->stats.breakins)
                               ? KDCOM_VM_ST_RECEIVED
                               : KDCOM_VM_ST_TIMEOUT);
        break;
    case KDCOM_VM_OP_SEND:
        h->stats.sends++;
        h->resend_due = 0; /* the kernel is sending anew anyway */
        if (h->cur.type == KDCOM_TYPE_STATE_CHANGE64 ||
            h->cur.type == KDCOM_TYPE_STATE_CHANGE32)
            h->reply_reset = 0; /* what the RESET asked for */
        h->cur.queued = 0;
        kdcom_vm_try_queue(h);
        break;
    default: /* RECEIVE */
        h->stats.receives++;
        h->cur.deadline = h->now + h->cfg.receive_timeout_ms;
        /* The header capacity is the shortest packet the kernel takes:
         * kdcom.dll refuses shorter ones with RESEND before it ACKs
         * (PROTOCOL-FACTS §3.5 step 1, §3.6, §7).  It stays the link's
         * minimum until the next RECEIVE: a packet arriving between two
         * (while a reply waits for its ACK) is most likely the next
         * request of the same kind. */
        h->head_min = h->cur.head_len;
        kdcom_expect_header(&h->link, h->head_min);
        break;
    }
}

static void take_request(struct kdcom_vm_host *h, const void *shm,
                         uint32_t bound)
{
    const uint8_t *base = (const uint8_t *)shm;
    uint32_t seq = vm_ld_acq(shm, KDCOM_VM_OFF_REQ_SEQ);
    uint32_t reserved, err;

    if (seq == 0 || seq == h->answered || seq == h->cur.seq)
        return;
    abandon(h);
    h->cur.op = vm_ld(shm, KDCOM_VM_OFF_REQ_OP);
    h->cur.type = vm_ld(shm, KDCOM_VM_OFF_REQ_TYPE);
    h->cur.head_off = vm_ld(shm, KDCOM_VM_OFF_REQ_HEAD_OFF);
    h->cur.head_len = vm_ld(shm, KDCOM_VM_OFF_REQ_HEAD_LEN);
    h->cur.data_off = vm_ld(shm, KDCOM_VM_OFF_REQ_DATA_OFF);
    h->cur.data_len = vm_ld(shm, KDCOM_VM_OFF_REQ_DATA_LEN);
    h->cur.arg = vm_ld(shm, KDCOM_VM_OFF_REQ_ARG);
    reserved = vm_ld(shm, KDCOM_VM_OFF_REQ_RESERVED);
    err = validate(h, reserved, bound);
    if (err == 0 && h->cur.op == KDCOM_VM_OP_SEND) {
        /* Lengths are bounded by KDCOM_MAX_PAYLOAD and the region.  The
         * offset of an empty buffer is unchecked: never form a pointer
         * from it. */
        if (h->cur.head_len != 0)
            memcpy(h->stage, base + h->cur.head_off, h->cur.head_len);
        if (h->cur.data_len != 0)
            memcpy(h->stage + h->cur.head_len, base + h->cur.data_off,
                   h->cur.data_len);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (vm_ld(shm, KDCOM_VM_OFF_REQ_SEQ) != seq) {
        h->stats.torn_requests++;
        return; /* the next poll sees the new sequence number */
    }
    h->stats.requests++;
    h->cur.seq = seq;
    h->cur.done = 0;
    h->cur.queued = 0;
    h->cur.droppable = 0;
    h->cur.timeouts = 0;
    h->cur.status = KDCOM_VM_ST_NONE;
    if (err != 0) {
        kdcom_vm_finish(h, err);
        return;
    }
    start(h);
}

static void advance_receive(struct kdcom_vm_host *h)
{
    if (h->resend_due || h->reply_reset) {
        h->resend_due = 0;
        h->reply_reset = 0;
        kdcom_vm_finish(h, KDCOM_VM_ST_RESEND);
        return;
    }
    if (h->slot.full) {
        /* §3.5/§3.6: the type must match and the payload must fill the
         * header buffer and fit the data buffer; the link ACKed it
         * already, so a misfit is dropped, as kdcom.dll drops it. */
        if (h->slot.type != h->cur.type) {
            kdcom_vm_slot_release(h, &h->stats.rx_wrong_type);
        } else if (h->slot.len < h->cur.head_len) {
            kdcom_vm_slot_release(h, &h->stats.rx_too_short);
        } else if (h->slot.len - h->cur.head_len > h->cur.data_len) {
            kdcom_vm_slot_release(h, &h->stats.rx_too_long);
        } else {
            kdcom_vm_finish(h, KDCOM_VM_ST_RECEIVED);
            return;
        }
    }
    if (h->now >= h->cur.deadline) {
        kdcom_vm_finish(h, KDCOM_VM_ST_TIMEOUT);
    }
}

static void answer(struct kdcom_vm_host *h, void *shm)
{
    uint8_t *base = (uint8_t *)shm;
    uint32_t head = 0, data = 0, type = 0, flags = 0;

    if (vm_ld_acq(shm, KDCOM_VM_OFF_REQ_SEQ) != h->cur.seq) {
        /* The guest gave up on this request and may be writing the next
         * one into the same buffers.  A received packet stays in the slot
         * for the next RECEIVE. */
        h->stats.late_answers++;
        h->answered = h->cur.seq;
        h->cur.seq = 0;
        h->cur.done = 0;
        return;
    }
    if (h->cur.op == KDCOM_VM_OP_SEND || h->cur.op == KDCOM_VM_OP_RECEIVE) {
        /* §3.2: a break-in seen during a packet exchange becomes
         * KdpControlCPending; the kernel polls it later. */
        if (h->cur.status < KDCOM_VM_ST_ERR &&
            kdcom_vm_take_breakin(h, &h->stats.breakins))
            flags |= KDCOM_VM_RF_CONTROL_C_PENDING;
    }
    if (h->cur.status == KDCOM_VM_ST_RECEIVED &&
        h->cur.op == KDCOM_VM_OP_RECEIVE) {
        head = h->cur.head_len;
        data = h->slot.len - head;
        type = h->slot.type;
        /* Offsets and capacities were checked against the region (those
         * of empty buffers were not, so they are not used). */
        if (head != 0)
            memcpy(base + h->cur.head_off, h->slot.data, head);
        if (data != 0)
            memcpy(base + h->cur.data_off, h->slot.data + head, data);
        kdcom_vm_slot_release(h, &h->stats.received);
    }
    if (h->dbg_present)
        flags |= KDCOM_VM_RF_DEBUGGER_PRESENT;
    vm_st(shm, KDCOM_VM_OFF_RSP_STATUS, h->cur.status);
    vm_st(shm, KDCOM_VM_OFF_RSP_TYPE, type);
    vm_st(shm, KDCOM_VM_OFF_RSP_HEAD_LEN, head);
    vm_st(shm, KDCOM_VM_OFF_RSP_DATA_LEN, data);
    vm_st(shm, KDCOM_VM_OFF_RSP_FLAGS, flags);
    vm_st(shm, KDCOM_VM_OFF_RSP_EPOCH, h->guest_epoch);
    vm_st_rel(shm, KDCOM_VM_OFF_RSP_SEQ, h->cur.seq);
    h->answered = h->cur.seq;
    h->cur.seq = 0;
    h->cur.done = 0;
    h->kick_due = 1;
    h->stats.kicks++;
}

static void publish(struct kdcom_vm_host *h, void *shm)
{
    uint32_t flags = KDCOM_VM_HF_READY;

    if (h->dbg_present)
        flags |= KDCOM_VM_HF_DEBUGGER_PRESENT;
    if (h->breakin)
        flags |= KDCOM_VM_HF_BREAKIN_PENDING;
    if (h->cfg.flags & KDCOM_VM_CFG_KICKS_GUEST)
        flags |= KDCOM_VM_HF_DOORBELL;
    vm_st(shm, KDCOM_VM_OFF_HOST_EPOCH, h->host_epoch);
    vm_st(shm, KDCOM_VM_OFF_HOST_ABI, KDCOM_VM_ABI_VERSION);
    vm_st(shm, KDCOM_VM_OFF_HOST_FLAGS, flags);
    vm_st_rel(shm, KDCOM_VM_OFF_HOST_BEAT, h->beat);
}

static void guest_restarted(struct kdcom_vm_host *h, const void *shm)
{
    abandon(h);
    h->stats.guest_restarts++;
    drop_held(h);
    kdcom_vm_take_breakin(h, NULL);
    /* The new guest numbers its requests on from the RSP_SEQ it found
     * (a fresh region: 0); what the old one was answered means nothing. */
    h->answered = vm_ld(shm, KDCOM_VM_OFF_RSP_SEQ);
    h->head_min = 0;
    link_init(h); /* cannot fail: the configuration was accepted before */
}

KDCOM_API int kdcom_vm_host_poll(struct kdcom_vm_host *h, void *shm,
                                 size_t shm_size, uint64_t now)
{
    uint32_t bound, epoch;
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    if (shm == NULL || ((uintptr_t)shm & 3u) != 0 ||
        shm_size < KDCOM_VM_MIN_SIZE)
        return KDCOM_ERR_INVAL;
    if (now > h->now)
        h->now = now;
    h->stats.polls++;
    h->beat++;
    if (!h->attached) {
        /* Whatever a previous host left: a new epoch, and its last answer
         * counts as answered. */
        h->host_epoch = vm_ld(shm, KDCOM_VM_OFF_HOST_EPOCH) + 1;
        if (h->host_epoch == 0)
            h->host_epoch = 1;
        h->answered = vm_ld(shm, KDCOM_VM_OFF_RSP_SEQ);
        h->attached = 1;
    }
    rc = kdcom_tick(&h->link, h->now);
    if (rc < 0)
        return rc;
    kdcom_vm_pump(h);

    bound = region_bound(shm, shm_size);
    if (bound == 0) {
        h->stats.no_guest++;
        h->guest_absent = 1;
        h->guest_flags = 0;
        if (h->guest_epoch != 0)
            h->guest_gone = 1;
        drop_held(h);
        publish(h, shm);
        return KDCOM_VM_POLL_NO_GUEST;
    }
    h->guest_absent = 0;
    h->guest_flags = vm_ld(shm, KDCOM_VM_OFF_GUEST_FLAGS);
    epoch = vm_ld(shm, KDCOM_VM_OFF_GUEST_EPOCH);
    if (epoch != h->guest_epoch || h->guest_gone) {
        /* A new epoch, or the region was invalid in between (a guest
         * re-initialising it, a fresh zeroed file): a new guest, even if
         * it happened to pick its predecessor's epoch. */
        if (h->guest_epoch != 0)
            guest_restarted(h, shm);
        h->guest_epoch = epoch;
        h->guest_gone = 0;
    }
    take_request(h, shm, bound);
    if (h->cur.seq != 0 && !h->cur.done) {
        if (h->cur.op == KDCOM_VM_OP_SEND)
            kdcom_vm_try_queue(h);
        else if (h->cur.op == KDCOM_VM_OP_RECEIVE)
            advance_receive(h);
    }
    if (h->cur.seq != 0 && h->cur.done)
        answer(h, shm);
    publish(h, shm);
    return h->cur.seq != 0 ? KDCOM_VM_POLL_BUSY : KDCOM_VM_POLL_IDLE;
}
