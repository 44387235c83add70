/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom_kdapi.h - the kdcom.dll export surface, as the Windows kernel's
 * debugger core calls it, on portable fixed-width types.
 *
 * A kernel debug transport exports exactly these nine functions; the
 * kernel's KD core (KdpSendWaitContinue and friends) drives them with
 * interrupts off, one call at a time.  This header is the one
 * declaration of that surface in the tree, shared by both sides of it:
 * the transports that implement it (guest/, over the VM channel, a 16550
 * UART or another byte stream: guest/README.md) and the code that calls
 * it as a kernel would (the simulated kernel in examples/simkernel/).
 * It is installed with libkdcom's headers for transports built on
 * libkdcom, though the library itself neither implements nor calls it.
 *
 * Types follow the NT ABI: ULONG is 32 bits on every platform (LLP64),
 * STRING is { USHORT Length; USHORT MaximumLength; CHAR *Buffer; }.
 * Define KDAPI_HAVE_NT_TYPES before including this header when the NT
 * types already exist in the build (a real driver build).  Needs only
 * <stdint.h>, so freestanding code can include it; compiles as C99 and
 * as C++.
 */
#ifndef KDCOM_KDAPI_H
#define KDCOM_KDAPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KDAPI_HAVE_NT_TYPES
typedef uint32_t ULONG;
typedef uint16_t USHORT;
typedef uint8_t BOOLEAN;
typedef char CHAR;
typedef int32_t NTSTATUS;
typedef ULONG *PULONG;

typedef struct _STRING {
    USHORT Length;        /* bytes valid in Buffer */
    USHORT MaximumLength; /* capacity of Buffer */
    CHAR *Buffer;
} STRING, *PSTRING;
#endif

/* Passed by the kernel to every send and receive. */
typedef struct _KD_CONTEXT {
    ULONG KdpDefaultRetries;    /* ACK timeouts before a droppable packet
                                   is given up (20 by default) */
    BOOLEAN KdpControlCPending; /* set by the transport when it saw a
                                   break-in during a packet exchange; the
                                   kernel's KdPollBreakIn consumes it */
} KD_CONTEXT, *PKD_CONTEXT;

/* KdReceivePacket results. */
typedef enum _KDP_STATUS {
    KdPacketReceived = 0,
    KdPacketTimedOut = 1,
    KdPacketNeedsResend = 2
} KDP_STATUS;

#define KDAPI_STATUS_SUCCESS ((NTSTATUS)0x00000000)
#define KDAPI_STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001)
#define KDAPI_STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002)

/* Loader block: opaque here; the transport never dereferences it. */
struct _LOADER_PARAMETER_BLOCK;

NTSTATUS KdDebuggerInitialize0(struct _LOADER_PARAMETER_BLOCK *LoaderBlock);
NTSTATUS KdDebuggerInitialize1(struct _LOADER_PARAMETER_BLOCK *LoaderBlock);

/* Sends one KD packet (header + data as the two buffers) and returns when
 * the debugger has it, or when a droppable packet was given up. */
void KdSendPacket(ULONG PacketType, PSTRING MessageHeader,
                  PSTRING MessageData, PKD_CONTEXT KdContext);

/* Receives one KD packet of PacketType: the first MessageHeader->
 * MaximumLength payload bytes into MessageHeader, the rest into
 * MessageData, *DataLength = their count.  PacketType
 * KDCOM_TYPE_POLL_BREAKIN (8) only asks "did a break-in arrive?". */
KDP_STATUS KdReceivePacket(ULONG PacketType, PSTRING MessageHeader,
                           PSTRING MessageData, PULONG DataLength,
                           PKD_CONTEXT KdContext);

NTSTATUS KdD0Transition(void);
NTSTATUS KdD3Transition(void);
NTSTATUS KdSave(BOOLEAN SleepTransition);
NTSTATUS KdRestore(BOOLEAN SleepTransition);
void KdSetHiberRange(void);

#ifdef __cplusplus
}
#endif

#endif /* KDCOM_KDAPI_H */
