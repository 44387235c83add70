/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdguest.h - what a program must provide to link the guest transport
 * (the platform interface), the knobs it may turn, and the counters it may
 * read.  The kernel-facing API itself is include/kdcom_kdapi.h.
 *
 * PLATFORM INTERFACE
 *
 *   Both back ends:
 *
 *     uint64_t KdPlatformMilliseconds(void);
 *         A monotonic millisecond clock (any origin; it must not go
 *         backwards, and may be coarse).  The transport only uses it to
 *         bound waits; it is called from inside KdSendPacket /
 *         KdReceivePacket with interrupts off, so it must not sleep or
 *         take locks (a TSC read scaled by a calibrated factor is the
 *         usual kernel implementation; clock_gettime(CLOCK_MONOTONIC) in
 *         user space).
 *
 *   vm back end (GUEST_VM_OBJS):
 *
 *     void *KdVmPlatformChannel(ULONG *Size);
 *         Returns the base of the shared region, mapped read/write and
 *         uncached-or-coherent (for QEMU ivshmem-plain: PCI BAR 2 of
 *         device 1af4:1110), 4-byte aligned, and stores its size in
 *         *Size; or NULL if there is no channel (the transport then
 *         reports itself unusable and drops everything).  Called by
 *         KdDebuggerInitialize0 and KdRestore.
 *     void KdVmPlatformNotify(void);
 *         Called right after a request is posted: the guest->host
 *         doorbell.  May do nothing (stock QEMU ivshmem-plain: the host
 *         polls), or cause a VM exit (an I/O port write, a hypercall) so a
 *         hypervisor can serve the request from its exit handler, or wake
 *         a host process (FUTEX_WAKE on the REQ_SEQ word of the region,
 *         shared, not FUTEX_PRIVATE).  If it always reaches the host, set
 *         KDCOM_VM_GF_DOORBELL in KdGuestChannelFlags: the host may then
 *         stop polling while idle.
 *     void (*KdVmPlatformRelax)(volatile uint32_t *Word, uint32_t Seen,
 *                               ULONG Round);
 *         Optional: a variable, NULL by default (the transport then
 *         executes one CPU pause between two reads of the answer).  Set,
 *         it is called instead of the pause while a request waits for its
 *         answer: Word is RSP_SEQ in the region (the host->guest doorbell
 *         word), Seen the value just read there (not yet the answer),
 *         Round the number of calls so far in this wait (0 first).  It may
 *         pause, yield, or sleep until *Word != Seen (FUTEX_WAIT, shared;
 *         a hypercall that parks the vCPU until the host answers), but
 *         must return within about 10 ms: the transport's timeouts (in
 *         seconds) are checked between calls.  Spinning first and sleeping later keeps the
 *         latency of quick answers low; sleeping is only efficient when
 *         the host kicks the guest after each answer (HOST_FLAGS bit
 *         KDCOM_VM_HF_DOORBELL).
 *
 **   uart back end (GUEST_UART_OBJS):
 *
 *     uint8_t KdUartPlatformRead(ULONG Register);
 *     void KdUartPlatformWrite(ULONG Register, uint8_t Value);
 *         Access 16550 register number Register (0..7: RBR/THR/DLL,
 *         IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR) of the debug port;
 *         the platform adds the base (0x3F8 for COM1 with port I/O, or
 *         an MMIO address times a register stride).
 *
 *   stream back end (GUEST_STREAM_OBJS): the uart back end without the
 *   16550, for any other byte port (a socket, a pty, another UART); the
 *   uart back end is this one plus the 16550 as the port:
 *
 *     int KdStreamPlatformOpen(void);
 *         Prepares the port: 0, or -1 if there is none (the transport
 *         then reports itself unusable).  Called by KdDebuggerInitialize0
 *         and KdRestore.
 *     int KdStreamPlatformRead(uint8_t *Buffer, ULONG Size);
 *         Stores up to Size (> 0) bytes received from the debugger in
 *         Buffer and returns their count, 0 if none has come.  Or returns
 *         KD_STREAM_NEW_PEER, storing nothing, once when the peer at the
 *         other end changed (a new connection): what the transport
 *         still had from or for the old one is dropped, with a break-in
 *         it sent that the kernel has not taken (a new session starts
 *         without one), and the KDCOM link starts afresh.
 *     ULONG KdStreamPlatformWrite(const uint8_t *Buffer, ULONG Size);
 *         Takes up to Size bytes for the debugger and returns how many
 *         (0: the line is busy; the rest is offered again later).  With
 *         nobody connected, a port takes and discards them, as a UART
 *         sends into an unplugged cable.
 *
 *     void KdStreamPlatformWait(ULONG Ms, int Output);
 *         Nothing moved in the last step (no byte read or written, no
 *         answer for the kernel): the port may wait up to Ms ms (at most
 *         KD_STREAM_WAIT_MS, and never past the transport's next timer)
 *         for bytes to come, a new peer or, with Output, room to write
 *         bytes it refused, returning as soon as one happens, so a wait
 *         does not keep a CPU busy.  A port that cannot wait (a 16550
 *         polled by a kernel) returns at once.
 *
 *     They are called in a loop while the kernel waits for an answer,
 *     and the transport's timers are checked between calls: Read and
 *     Write never block.
 *
 *   Everything else the objects need is memcpy, memset, memmove and
 *   memcmp (what GCC requires of a freestanding environment): libc in
 *   user space, or GUEST_MEM_OBJ (guest/kd_mem.c) on bare metal.
 *   `make check-guest-nm` verifies that nothing else is referenced.
 *
 * Nothing here is thread-safe, as in kdcom.dll: the kernel calls the
 * transport from one processor at a time with interrupts off.
 */
#ifndef KDGUEST_H
#define KDGUEST_H

#include <stdint.h>

#include "kdcom_kdapi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- platform interface (provided by the program) ---- */

uint64_t KdPlatformMilliseconds(void);
void *KdVmPlatformChannel(ULONG *Size);
void KdVmPlatformNotify(void);
extern void (*KdVmPlatformRelax)(volatile uint32_t *Word, uint32_t Seen,
                                 ULONG Round);
uint8_t KdUartPlatformRead(ULONG Register);
void KdUartPlatformWrite(ULONG Register, uint8_t Value);
int KdStreamPlatformOpen(void);
int KdStreamPlatformRead(uint8_t *Buffer, ULONG Size);
ULONG KdStreamPlatformWrite(const uint8_t *Buffer, ULONG Size);
void KdStreamPlatformWait(ULONG Ms, int Output);

/* The longest KdStreamPlatformWait() the stream back end asks for: a
 * running kernel's break-in poll goes through it too. */
#define KD_STREAM_WAIT_MS 10

/* KdStreamPlatformRead: the peer changed (negative: never a count). */
#define KD_STREAM_NEW_PEER (-1)

/* 16550 register numbers and bits the uart back end uses. */
#define KDUART_RBR 0 /* read: receive buffer (DLAB=0) */
#define KDUART_THR 0 /* write: transmit holding (DLAB=0) */
#define KDUART_DLL 0 /* divisor latch low (DLAB=1) */
#define KDUART_IER 1
#define KDUART_DLM 1 /* divisor latch high (DLAB=1) */
#define KDUART_FCR 2 /* write: FIFO control */
#define KDUART_LCR 3
#define KDUART_MCR 4
#define KDUART_LSR 5
#define KDUART_LSR_DR 0x01   /* a byte is waiting in RBR */
#define KDUART_LSR_THRE 0x20 /* the transmitter takes bytes */

/* ---- knobs (set before KdDebuggerInitialize0; defaults in brackets) ---- */

/* The host is declared dead when HOST_BEAT has not moved for this long
 * [2000].  A SEND counts one "host timeout" each time; a RECEIVE,
 * POLL_BREAKIN or HELLO returns at once.  Until the beat moves again,
 * break-in polls and droppable packets do not wait at all. */
extern ULONG KdGuestHostTimeoutMs;
/* Longest wait for the answer to a RECEIVE, POLL_BREAKIN or HELLO, even
 * from a host that keeps beating [5000]; must exceed the host's
 * receive_timeout_ms. */
extern ULONG KdGuestAnswerTimeoutMs;
/* vm: mixed into GUEST_EPOCH when the channel is opened [0].  Set it to
 * something that differs on every boot (a random number, the RTC, a VM
 * generation ID): together with the clock, the previous epoch and the
 * number of opens it makes a guest on a fresh zeroed region pick another
 * epoch than its predecessor, so the host notices the restart. */
extern ULONG KdGuestEpochSeed;
/* vm: written to GUEST_FLAGS when the channel is opened [0]:
 * KDCOM_VM_GF_DOORBELL if KdVmPlatformNotify always reaches the host. */
extern ULONG KdGuestChannelFlags;
/* uart: divisor latch value, 115200 / baud [1 = 115200 baud]. */
extern ULONG KdUartDivisor;
/* uart and stream: the in-guest link's ACK timeout and KdReceivePacket's
 * timeout [1000, 1000]. */
extern ULONG KdUartAckTimeoutMs;
extern ULONG KdUartReceiveTimeoutMs;

/* ---- state and counters (read-only for the program) ---- */

struct kd_guest_stats {
    ULONG sends, sends_acked, sends_dropped, sends_abandoned;
    ULONG receives, received, timeouts, resends;
    ULONG polls, polls_fast, breakins;
    ULONG host_timeouts;   /* waits ended by a silent host */
    ULONG bad_answers;     /* answers that failed validation */
    ULONG host_restarts;   /* HOST_EPOCH changes seen */
    ULONG refused;         /* calls refused locally (bad arguments, no
                              channel) */
    ULONG errors;          /* error statuses from the host */
};

extern struct kd_guest_stats KdGuestStats;

/* 1 while the debugger is known to be there (answers arrive and the host
 * has not given up on it), as KD_DEBUGGER_NOT_PRESENT's complement. */
BOOLEAN KdGuestDebuggerPresent(void);

#ifdef __cplusplus
}
#endif

#endif /* KDGUEST_H */
