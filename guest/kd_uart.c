/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_uart.c - the uart back end: classic KDCOM on a 16550, through
 * libkdcom's TARGET role.
 *
 * THEORY OF OPERATION
 *
 *   The kernel-facing code (kd_api.c) speaks the VM channel mailbox in
 *   both back ends.  Here the mailbox is a private region in guest memory
 *   and its "host" is a libkdcom host service living in the guest too,
 *   whose TARGET link is wired to the UART.  The mailbox client calls
 *   KdgBackendIdle() while it waits for an answer; each call
 *
 *     1. polls the host service (takes the request, answers it),
 *     2. moves bytes the UART has received (LSR.DR) into the link,
 *        keeping those the link cannot take yet,
 *     3. moves bytes the link wants to send into the transmitter while
 *        LSR.THRE says it takes them (up to 16 at a time: the 16550
 *        FIFO depth),
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
 *   The UART is polled, interrupts off (IER = 0), 8N1, FIFOs on.  Line
 *   errors (overrun, parity, framing) are not special-cased: a damaged
 *   packet fails its checksum and the link asks for a resend.
 */
#include "kd_backend.h"

ULONG KdUartDivisor = 1;
ULONG KdUartAckTimeoutMs = 1000;
ULONG KdUartReceiveTimeoutMs = 1000;

#define UART_FIFO 16

static uint32_t region_words[KDCOM_VM_MIN_SIZE / 4];
static struct kdcom_vm_host host;
static uint8_t rx_buf[256];
static uint32_t rx_len;
static uint8_t tx_buf[256];
static uint32_t tx_len, tx_off;

int KdgBackendInit(void)
{
    struct kdcom_vm_config cfg;
    uint32_t i;

    KdUartPlatformWrite(KDUART_IER, 0);    /* polled: no interrupts */
    KdUartPlatformWrite(KDUART_LCR, 0x80); /* DLAB on */
    KdUartPlatformWrite(KDUART_DLL, (uint8_t)(KdUartDivisor & 0xFF));
    KdUartPlatformWrite(KDUART_DLM, (uint8_t)((KdUartDivisor >> 8) & 0xFF));
    KdUartPlatformWrite(KDUART_LCR, 0x03); /* 8N1, DLAB off */
    KdUartPlatformWrite(KDUART_FCR, 0x07); /* FIFOs on and cleared */
    KdUartPlatformWrite(KDUART_MCR, 0x03); /* DTR, RTS */

    kdcom_vm_config_init(&cfg);
    cfg.ack_timeout_ms = KdUartAckTimeoutMs;
    cfg.receive_timeout_ms = KdUartReceiveTimeoutMs;
    if (kdcom_vm_host_init(&host, &cfg) != KDCOM_OK)
        return -1;
    for (i = 0; i < KDCOM_VM_MIN_SIZE / 4; i++)
        region_words[i] = 0;
    rx_len = 0;
    tx_len = tx_off = 0;
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

static void uart_rx(uint64_t now)
{
    int n;

    while (rx_len < sizeof(rx_buf) &&
           (KdUartPlatformRead(KDUART_LSR) & KDUART_LSR_DR))
        rx_buf[rx_len++] = KdUartPlatformRead(KDUART_RBR);
    if (rx_len == 0)
        return;
    n = kdcom_vm_host_feed(&host, now, rx_buf, rx_len);
    if (n > 0) {
        uint32_t i;
        for (i = (uint32_t)n; i < rx_len; i++)
            rx_buf[i - (uint32_t)n] = rx_buf[i];
        rx_len -= (uint32_t)n;
    }
}

static void uart_tx(uint64_t now)
{
    uint32_t burst;

    if (tx_off == tx_len) {
        int n = kdcom_vm_host_drain(&host, now, tx_buf, sizeof(tx_buf));
        tx_off = 0;
        tx_len = n > 0 ? (uint32_t)n : 0;
    }
    if (tx_off < tx_len && (KdUartPlatformRead(KDUART_LSR) & KDUART_LSR_THRE)) {
        /* THRE: the transmit FIFO is empty, room for 16 bytes. */
        for (burst = 0; burst < UART_FIFO && tx_off < tx_len; burst++)
            KdUartPlatformWrite(KDUART_THR, tx_buf[tx_off++]);
    }
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
    uint64_t now = KdPlatformMilliseconds();

    kdcom_vm_host_poll(&host, region_words, sizeof(region_words), now);
    uart_rx(now);
    uart_tx(now);
    kdcom_vm_host_poll(&host, region_words, sizeof(region_words), now);
}
