/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_api.c - the kdcom.dll export surface (include/kdcom_kdapi.h) on top
 * of the VM channel mailbox, for every back end.
 *
 * THEORY OF OPERATION
 *
 *   Each export is one mailbox request; the host service (or, for the
 *   stream and uart back ends, its in-guest instance) carries out the
 *   KDCOM part.  What stays here is what the kernel sees
 *   (PROTOCOL-FACTS §3):
 *
 *   KdSendPacket    copies the two buffers into the region and posts SEND
 *                   with KdpDefaultRetries.  OK: the debugger has it.
 *                   DROPPED: a droppable packet was given up; the debugger
 *                   is marked absent (§3.7).  While the host beats, the
 *                   wait goes on (a state change waits for a debugger as
 *                   long as it takes).  If the host falls silent, each
 *                   KdGuestHostTimeoutMs counts as one retry; after
 *                   KdpDefaultRetries of them a droppable packet is dropped
 *                   and any other packet is abandoned, and the next
 *                   KdReceivePacket answers KdPacketNeedsResend so the
 *                   kernel sends it again: every call returns in bounded
 *                   time, yet nothing but droppable packets is given up.
 *   KdReceivePacket POLL_BREAKIN: the host publishes "break-in pending" in
 *                   HOST_FLAGS, so the clock-tick poll costs one memory
 *                   read unless there is one; then POLL_BREAKIN takes it.
 *                   While the host is known dead (kdg_chan_host_dead)
 *                   the poll and droppable packets return at once.
 *                   Other types: RECEIVE with the two capacities; the
 *                   answer is validated (type, lengths within what was
 *                   asked) before a byte is copied into the kernel's
 *                   buffers.  A dead or misbehaving host reads as
 *                   KdPacketTimedOut; the kernel asks again.  The header
 *                   capacity is also the shortest packet the host's
 *                   TARGET link accepts: a shorter one gets RESEND on
 *                   the wire, not an ACK (§3.5 step 1).
 *                   A RESEND answer also comes after a RESET that
 *                   arrived while the reply before it waited for its
 *                   ACK, so the kernel sends its state change to the
 *                   new debugger (§7).
 *   KdpControlCPending is set when an answer says a break-in arrived
 *                   during the exchange (§3.2); the kernel's KdPollBreakIn
 *                   consumes it (§3.9).
 *
 *   The power and hibernation exports have nothing to save: the channel
 *   state lives in the region and the host.  KdRestore re-opens the
 *   channel (the region may have been reset across a sleep).
 */
#include "kd_backend.h"
#include "kdcom_kd.h"

static struct {
    uint8_t opened;
    uint8_t present;    /* debugger known to be there */
    uint8_t resend_due; /* a SEND was abandoned: the next receive says so */
} kdg;

static int is_data_type(ULONG t)
{
    return t == KDCOM_TYPE_STATE_CHANGE32 ||
           t == KDCOM_TYPE_STATE_MANIPULATE || t == KDCOM_TYPE_DEBUG_IO ||
           t == KDCOM_TYPE_STATE_CHANGE64 || t == KDCOM_TYPE_TRACE_IO ||
           t == KDCOM_TYPE_CONTROL_REQUEST || t == KDCOM_TYPE_FILE_IO;
}

static void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        dst[i] = src[i];
}

static int channel(void)
{
    ULONG size = 0;
    void *base;

    if (kdg.opened)
        return kdg_chan_ready();
    kdg.opened = 1;
    if (KdgBackendInit() != 0)
        return 0;
    base = KdgBackendChannel(&size);
    return kdg_chan_open(base, size) == 0;
}

static void note_flags(const struct kdg_answer *a, PKD_CONTEXT ctx)
{
    kdg.present = (a->flags & KDCOM_VM_RF_DEBUGGER_PRESENT) != 0;
    if (a->flags & KDCOM_VM_RF_CONTROL_C_PENDING) {
        KdGuestStats.breakins++;
        if (ctx != 0)
            ctx->KdpControlCPending = 1;
    }
}

BOOLEAN KdGuestDebuggerPresent(void)
{
    return kdg.present;
}

NTSTATUS KdDebuggerInitialize0(struct _LOADER_PARAMETER_BLOCK *LoaderBlock)
{
    struct kdg_answer a;
    uint32_t seq;

    (void)LoaderBlock;
    kdg.opened = 0;
    kdg.present = 0;
    kdg.resend_due = 0;
    if (!channel())
        return KDAPI_STATUS_UNSUCCESSFUL;
    /* HELLO only checks the host's ABI; no host yet is not an error (it
     * may come later: every request works without a HELLO). */
    seq = kdg_chan_post(KDCOM_VM_OP_HELLO, 0, 0, 0, KDCOM_VM_ABI_VERSION);
    if (kdg_chan_wait(seq, KDG_WAIT_BOUNDED, &a) == KDG_ANSWERED &&
        a.status == KDCOM_VM_ST_ERR_VERSION) {
        KdGuestStats.errors++;
        return KDAPI_STATUS_UNSUCCESSFUL;
    }
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdDebuggerInitialize1(struct _LOADER_PARAMETER_BLOCK *LoaderBlock)
{
    (void)LoaderBlock;
    return KDAPI_STATUS_SUCCESS;
}

void KdSendPacket(ULONG PacketType, PSTRING MessageHeader,
                  PSTRING MessageData, PKD_CONTEXT KdContext)
{
    uint32_t hlen = MessageHeader != 0 ? MessageHeader->Length : 0;
    uint32_t dlen = MessageData != 0 ? MessageData->Length : 0;
    uint32_t retries = KdContext != 0 ? KdContext->KdpDefaultRetries : 20;
    uint32_t seq, silent = 0;
    struct kdg_answer a;
    int droppable, rc;

    if (!channel() || !is_data_type(PacketType) ||
        (hlen != 0 && MessageHeader->Buffer == 0) ||
        (dlen != 0 && MessageData->Buffer == 0) ||
        hlen + dlen > KDCOM_MAX_PAYLOAD) {
        KdGuestStats.refused++;
        return;
    }
    KdGuestStats.sends++;
    kdg.resend_due = 0;
    droppable = hlen != 0 &&
                kdcom_kd_droppable(PacketType,
                                   (const uint8_t *)MessageHeader->Buffer, hlen);
    if (droppable && kdg_chan_host_dead()) {
        /* The host was found dead and has not beaten since: do not spend
         * KdpDefaultRetries host timeouts on every DbgPrint. */
        KdGuestStats.sends_dropped++;
        kdg.present = 0;
        return;
    }
    if (hlen != 0)
        copy_bytes(kdg_chan_head_buf(), (const uint8_t *)MessageHeader->Buffer,
                   hlen);
    if (dlen != 0)
        copy_bytes(kdg_chan_data_buf(), (const uint8_t *)MessageData->Buffer,
                   dlen);
    seq = kdg_chan_post(KDCOM_VM_OP_SEND, PacketType, hlen, dlen, retries);
    for (;;) {
        rc = kdg_chan_wait(seq, KDG_WAIT_BEATING, &a);
        if (rc == KDG_ANSWERED) {
            if (a.status == KDCOM_VM_ST_OK) {
                KdGuestStats.sends_acked++;
                note_flags(&a, KdContext);
                return;
            }
            if (a.status == KDCOM_VM_ST_DROPPED) {
                KdGuestStats.sends_dropped++;
                note_flags(&a, KdContext);
                kdg.present = 0;
                return;
            }
            if (a.status >= KDCOM_VM_ST_ERR) {
                KdGuestStats.errors++;
                return; /* the same request would fail again */
            }
            KdGuestStats.bad_answers++;
            rc = KDG_HOST_TIMEOUT; /* nonsense: treat as no answer */
        }
        if (++silent < (retries != 0 ? retries : 1))
            continue; /* keep waiting: a restarted host serves it */
        kdg.present = 0;
        if (droppable) {
            KdGuestStats.sends_dropped++;
        } else {
            KdGuestStats.sends_abandoned++;
            kdg.resend_due = 1;
        }
        return;
    }
}

static KDP_STATUS poll_breakin(PKD_CONTEXT KdContext)
{
    struct kdg_answer a;
    uint32_t seq;

    (void)KdContext;
    KdGuestStats.polls++;
    KdgBackendService(); /* stream: read what the port has */
    /* A dead host's last flags mean nothing: never stall the clock tick
     * on it. */
    if (!(kdg_chan_host_flags() & KDCOM_VM_HF_BREAKIN_PENDING) ||
        kdg_chan_host_dead()) {
        KdGuestStats.polls_fast++;
        return KdPacketTimedOut;
    }
    seq = kdg_chan_post(KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0);
    if (kdg_chan_wait(seq, KDG_WAIT_BOUNDED, &a) != KDG_ANSWERED)
        return KdPacketTimedOut;
    if (a.status == KDCOM_VM_ST_RECEIVED) {
        KdGuestStats.breakins++;
        kdg.present = 1;
        return KdPacketReceived;
    }
    if (a.status != KDCOM_VM_ST_TIMEOUT)
        KdGuestStats.bad_answers++;
    return KdPacketTimedOut;
}

KDP_STATUS KdReceivePacket(ULONG PacketType, PSTRING MessageHeader,
                           PSTRING MessageData, PULONG DataLength,
                           PKD_CONTEXT KdContext)
{
    uint32_t hcap, dcap, seq;
    struct kdg_answer a;

    if (!channel()) {
        KdGuestStats.refused++;
        return KdPacketTimedOut;
    }
    if (PacketType == KDCOM_TYPE_POLL_BREAKIN)
        return poll_breakin(KdContext);
    if (kdg.resend_due) {
        kdg.resend_due = 0;
        KdGuestStats.resends++;
        return KdPacketNeedsResend;
    }
    if (!is_data_type(PacketType) || MessageHeader == 0 ||
        MessageHeader->Buffer == 0 ||
        (MessageData != 0 && MessageData->Buffer == 0 &&
         MessageData->MaximumLength != 0)) {
        KdGuestStats.refused++;
        return KdPacketTimedOut;
    }
    hcap = MessageHeader->MaximumLength;
    dcap = MessageData != 0 ? MessageData->MaximumLength : 0;
    /* The region's buffers hold KDCOM_VM_BUF_SIZE bytes, more than any
     * packet; a larger capacity cannot be used anyway. */
    if (hcap > KDCOM_VM_BUF_SIZE)
        hcap = KDCOM_VM_BUF_SIZE;
    if (dcap > KDCOM_VM_BUF_SIZE)
        dcap = KDCOM_VM_BUF_SIZE;
    KdGuestStats.receives++;
    seq = kdg_chan_post(KDCOM_VM_OP_RECEIVE, PacketType, hcap, dcap, 0);
    if (kdg_chan_wait(seq, KDG_WAIT_BOUNDED, &a) != KDG_ANSWERED) {
        KdGuestStats.timeouts++;
        return KdPacketTimedOut;
    }
    switch (a.status) {
    case KDCOM_VM_ST_RECEIVED:
        /* Trust nothing: the lengths must fit what we asked for. */
        if (a.type != PacketType || a.head_len > hcap || a.data_len > dcap ||
            a.head_len + a.data_len > KDCOM_MAX_PAYLOAD) {
            KdGuestStats.bad_answers++;
            return KdPacketTimedOut;
        }
        note_flags(&a, KdContext);
        kdg.present = 1;
        copy_bytes((uint8_t *)MessageHeader->Buffer, kdg_chan_head_buf(),
                   a.head_len);
        MessageHeader->Length = (USHORT)a.head_len;
        if (MessageData != 0) {
            copy_bytes((uint8_t *)MessageData->Buffer, kdg_chan_data_buf(),
                       a.data_len);
            MessageData->Length = (USHORT)a.data_len;
        }
        if (DataLength != 0)
            *DataLength = a.data_len;
        KdGuestStats.received++;
        return KdPacketReceived;
    case KDCOM_VM_ST_RESEND:
        note_flags(&a, KdContext);
        KdGuestStats.resends++;
        return KdPacketNeedsResend;
    case KDCOM_VM_ST_TIMEOUT:
        note_flags(&a, KdContext);
        KdGuestStats.timeouts++;
        return KdPacketTimedOut;
    default:
        if (a.status >= KDCOM_VM_ST_ERR)
            KdGuestStats.errors++;
        else
            KdGuestStats.bad_answers++;
        return KdPacketTimedOut;
    }
}

NTSTATUS KdD0Transition(void)
{
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdD3Transition(void)
{
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdSave(BOOLEAN SleepTransition)
{
    (void)SleepTransition;
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdRestore(BOOLEAN SleepTransition)
{
    (void)SleepTransition;
    /* The device (UART registers, or the region) may have lost its state
     * across the transition: open it again, with a new epoch. */
    kdg.opened = 0;
    return channel() ? KDAPI_STATUS_SUCCESS : KDAPI_STATUS_UNSUCCESSFUL;
}

void KdSetHiberRange(void)
{
    /* Nothing to exclude: the transport keeps no state that must survive
     * or be skipped by a hibernation image beyond its static data. */
}
