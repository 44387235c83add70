/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_stream.c - the stream back end: classic KDCOM on a byte port,
 * through libkdcom's TARGET role.  The uart back end is this file with
 * the 16550 as the port (kd_uart.c); a program may give it another one
 * (a socket, a pty: KdStreamPlatformRead/Write, guest/kdguest.h).
 *
 * THEORY OF OPERATION
 *
 *   The kernel-facing code (kd_api.c) speaks the VM channel mailbox in
 *   every back end.  Here the mailbox is a private region in guest memory
 *   and its "host" is a libkdcom host service living in the guest too,
 *   whose TARGET link is wired to the byte port.  The mailbox client
 *   calls KdgBackendIdle() while it waits for an answer; each call
 *
 *     1. polls the host service (takes the request, answers it),
 *     2. moves bytes the port has received into the link, keeping those
 *        the link cannot take yet (a data packet behind the one held for
 *        the kernel) for a later step,
 *     3. moves bytes the link wants to send into the port, as many as it
 *        takes; the rest waits in tx_buf for the next step,
 *     4. polls the host service again, so an answer made possible by the
 *        bytes just read is published at once.
 *
 *   So KdSendPacket waits for the debugger's ACK and retransmits after
 *   ACK timeouts, drops only DbgPrint/LoadSymbols/CreateFile after
 *   KdpDefaultRetries (PROTOCOL-FACTS §3.7), and KdReceivePacket answers
 *   TIMEOUT after KdUartReceiveTimeoutMs of nothing, RESEND after a
 *   RESET/RESEND: the same code as the hypervisor's host service, hence
 *   the same semantics.  Time comes from KdPlatformMilliseconds().
 *
 *   The ACK of a packet for the kernel waits while the packet is on its
 *   way in: the step that receives it and the one that hands it to the
 *   kernel leave the output alone (TX_DEFER_MAX steps at most, so nothing
 *   else can wait longer), and the kernel's next call, normally its
 *   reply, writes ACK and reply together: one wake-up of the debugger
 *   per request instead of two.  After a Continue the ACK goes with the
 *   kernel's next break-in poll; the debugger's ACK timer (a second) is
 *   far away either way.
 *
 *   A port whose peer can change (a listening socket that accepts one
 *   debugger after the other) says so from KdStreamPlatformRead; the
 *   bytes buffered for and from the old peer are thrown away and the
 *   host service's wire side starts over (kdcom_vm_host_wire_reset():
 *   the old debugger's break-in, held packet and RESEND go with it), so
 *   the new debugger begins with a whole frame.  A UART cannot tell.
 */
#include "kd_backend.h"

ULONG KdUartAckTimeoutMs = 1000;
ULONG KdUartReceiveTimeoutMs = 1000;

static uint32_t region_words[KDCOM_VM_MIN_SIZE / 4];
static struct kdcom_vm_host host;
static uint8_t rx_buf[KDCOM_MAX_FRAME];
static uint32_t rx_len;
static uint8_t tx_buf[KDCOM_MAX_FRAME + 2 * KDCOM_CONTROL_FRAME_SIZE];
static uint32_t tx_len, tx_off;
/* Steps in a row that left the output alone (see above). */
static unsigned tx_deferred;
#define TX_DEFER_MAX 2

int KdgBackendInit(void)
{
    struct kdcom_vm_config cfg;
    uint32_t i;

    if (KdStreamPlatformOpen() != 0)
        return -1;
    kdcom_vm_config_init(&cfg);
    cfg.ack_timeout_ms = KdUartAckTimeoutMs;
    cfg.receive_timeout_ms = KdUartReceiveTimeoutMs;
    if (kdcom_vm_host_init(&host, &cfg) != KDCOM_OK)
        return -1;
    for (i = 0; i < KDCOM_VM_MIN_SIZE / 4; i++)
        region_words[i] = 0;
    rx_len = 0;
    tx_len = tx_off = 0;
    tx_deferred = 0;
    return 0;
}

void *KdgBackendChannel(ULONG *Size)
{
    *Size = sizeof(region_words);
    return region_words;
}

void KdgBackendNotify(void)
{
}

/* Each returns 1 if it moved something (bytes read, fed or written, a
 * new peer), else 0. */
static int stream_rx(uint64_t now)
{
    int n, moved = 0;

    if (rx_len < sizeof(rx_buf)) {
        n = KdStreamPlatformRead(rx_buf + rx_len,
                                 (ULONG)(sizeof(rx_buf) - rx_len));
        if (n == KD_STREAM_NEW_PEER) {
            rx_len = 0;
            tx_len = tx_off = 0;
            kdcom_vm_host_wire_reset(&host, now);
            return 1;
        }
        if (n > 0 && (uint32_t)n <= sizeof(rx_buf) - rx_len) {
            rx_len += (uint32_t)n;
            moved = 1;
        }
    }
    if (rx_len == 0)
        return moved;
    n = kdcom_vm_host_feed(&host, now, rx_buf, rx_len);
    if (n > 0) {
        uint32_t i;
        for (i = (uint32_t)n; i < rx_len; i++)
            rx_buf[i - (uint32_t)n] = rx_buf[i];
        rx_len -= (uint32_t)n;
        moved = 1;
    }
    return moved;
}

static int stream_tx(uint64_t now)
{
    ULONG n;

    if (tx_off == tx_len) {
        int k = kdcom_vm_host_drain(&host, now, tx_buf, sizeof(tx_buf));
        tx_off = 0;
        tx_len = k > 0 ? (uint32_t)k : 0;
    }
    if (tx_off == tx_len)
        return 0;
    n = KdStreamPlatformWrite(tx_buf + tx_off, tx_len - tx_off);
    if (n > tx_len - tx_off)
        n = tx_len - tx_off; /* a port that claims more than it was given */
    tx_off += n;
    return n > 0;
}

/* A step that moved nothing and published no answer: let the port wait
 * for the line, until the host service's next timer at the latest. */
static void stream_wait(uint64_t now)
{
    uint64_t due = kdcom_vm_host_next_deadline(&host);
    ULONG ms = KD_STREAM_WAIT_MS;

    if (due <= now)
        return;
    if (due - now < ms)
        ms = (ULONG)(due - now);
    KdStreamPlatformWait(ms, tx_off < tx_len);
}

void KdgBackendIdle(volatile uint32_t *word, uint32_t seen, ULONG round)
{
    (void)word;
    (void)seen;
    (void)round;
    KdgBackendService();
}

void KdgBackendService(void)
{
    const struct kdcom_vm_stats *st = kdcom_vm_host_stats(&host);
    uint64_t now = KdPlatformMilliseconds();
    uint64_t delivered = st != NULL ? st->received : 0;
    int moved;

    kdcom_vm_host_poll(&host, region_words, sizeof(region_words), now);
    moved = stream_rx(now);
    kdcom_vm_host_poll(&host, region_words, sizeof(region_words), now);
    if (st != NULL && tx_deferred < TX_DEFER_MAX &&
        (st->received != delivered || kdcom_vm_host_want_read(&host) == 0)) {
        tx_deferred++; /* a packet is with the kernel or on its way */
    } else {
        tx_deferred = 0;
        moved |= stream_tx(now);
    }
    if (!moved && kdcom_vm_host_take_kick(&host) == 0)
        stream_wait(now);
}
