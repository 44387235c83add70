/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom_vm.h - the guest <-> VMM channel: a shared-memory mailbox that
 *              carries raw KD packets, and the host service that turns it
 *              into a KDCOM TARGET link (the VMKD design).
 *
 * SUMMARY
 *
 *   Inside the guest, a KD transport (guest/ in this tree, or any other
 *   implementation of this ABI) replaces kdcom.dll: KdSendPacket and
 *   KdReceivePacket post one request at a time into a shared-memory
 *   region.  On the host, kdcom_vm_host_poll() services those requests
 *   against a TARGET-role struct kdcom_link, so WinDbg/KD sees an ordinary
 *   kdcom.dll on the other end of a pipe or socket, while the guest runs no
 *   KDCOM code at all: acknowledgements, retransmissions, RESET handshakes
 *   and packet ids all live on the host.
 *
 *   docs/vm-channel.md describes the same ABI byte by byte, with sequence
 *   diagrams; it is enough to implement either side in another language.
 *
 * PART 1: THE ABI (shared memory layout)
 *
 *   One region, any size from KDCOM_VM_MIN_SIZE up (QEMU ivshmem-plain
 *   over a 1 MiB memory-backend-file is typical), mapped by both sides at
 *   any address.  Only offsets appear in it, never pointers.  Every field
 *   is a 32-bit little-endian integer at a 4-byte aligned offset, read and
 *   written as one 32-bit access.  The region starts with a 4 KiB control
 *   page; payload buffers live above it.
 *
 *     0x000-0x07F  written by the guest only (the host never writes here)
 *     0x080-0x0FF  written by the host only (the guest never writes here)
 *     0x100-0xFFF  reserved, zero
 *     0x1000-...   payload buffers; the request says where (offsets)
 *
 *   Ordering: the guest posts a request like a seqlock writer:
 *     1. store REQ_SEQ = 0                      ("being written")
 *     2. release fence; write the request fields and the payload bytes
 *     3. store-release REQ_SEQ = n              (n != 0, never the last n)
 *   The host reads REQ_SEQ with acquire, copies the request fields (and a
 *   SEND's payload) into its own memory once, then checks with an acquire
 *   fence that REQ_SEQ still reads n; if not, the copy may be torn and is
 *   thrown away.  Only the copy is validated and used.  The host answers by
 *   writing the response fields (and a RECEIVE's payload), then
 *   store-release RSP_SEQ = n.  The guest waits for RSP_SEQ == n with
 *   acquire and only then reads the response.
 *
 *   One request is outstanding at a time (the kernel's debugger core is
 *   single-threaded with interrupts off).  Posting a new sequence number
 *   abandons the previous request if the host had not answered it.
 *
 * PART 2: THE HOST SERVICE
 *
 *   struct kdcom_vm_host embeds a TARGET-role struct kdcom_link and the
 *   state of the request being served.  Like the core it is pure C,
 *   allocation-free, and takes time as an argument.  It is driven by four
 *   calls, from a polling loop or from a hypervisor's VM-exit handler:
 *
 *     kdcom_vm_host_poll(h, shm, size, now)   look at the mailbox: take a
 *         new request, advance the current one, publish the answer;
 *     kdcom_vm_host_feed(h, now, in, len)     bytes from the debugger;
 *     kdcom_vm_host_drain(h, now, out, cap)   bytes for the debugger;
 *     kdcom_vm_host_next_deadline(h)          when to call poll again at
 *         the latest (UINT64_MAX: only when the guest posts or bytes come).
 *
 *   plus kdcom_vm_host_wire_reset(h, now) when the debugger connection
 *   changes, and kdcom_vm_host_take_kick(h) after a poll, for a host that
 *   wakes a sleeping guest when an answer goes out (the doorbells:
 *   KDCOM_VM_GF_DOORBELL, KDCOM_VM_HF_DOORBELL, docs/vm-channel.md 8.4).
 *
 *   A polling loop calls poll, feed, drain (and poll again after feed, so
 *   a received packet reaches the guest at once) until idle, then sleeps
 *   until the deadline, input, or a guest notification.  An exit handler
 *   calls poll when the guest notifies it, and keeps calling poll, feed
 *   and drain from its I/O loop while poll reports KDCOM_VM_POLL_BUSY.
 *
 *   The guest is untrusted.  Every length, offset, type and sequence number
 *   is checked against the region before use; payload copies are bounded
 *   by the checked lengths; a malformed request is answered with an error
 *   status (KDCOM_VM_ST_ERR_*) and the host keeps serving.  No pointer into
 *   the region is kept between calls.
 *
 * This header compiles as C99 and as C++, needs only <stddef.h> and
 * <stdint.h> (so freestanding guest code can include it for the ABI
 * constants) and is parsed by SWIG as is.
 */
#ifndef KDCOM_VM_H
#define KDCOM_VM_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * ABI: identification
 * ------------------------------------------------------------------------ */

/* The bytes "KDVM" at offset 0, i.e. 0x4D56444B read little-endian. */
#define KDCOM_VM_MAGIC 0x4D56444Bu
/* A host serves guests of the same major version; minor versions only add
 * things an older peer may ignore. */
#define KDCOM_VM_ABI_MAJOR 1
#define KDCOM_VM_ABI_MINOR 1
/* The ABI field: major in the high 16 bits, minor in the low 16.  1.1 adds
 * GUEST_FLAGS and HOST_FLAGS bit 3 (the doorbells); a 1.0 peer leaves them
 * zero and ignores them. */
#define KDCOM_VM_ABI_VERSION 0x00010001u

/* ------------------------------------------------------------------------
 * ABI: sizes
 * ------------------------------------------------------------------------ */

#define KDCOM_VM_CTL_SIZE 0x1000u  /* the control page */
#define KDCOM_VM_BUF_BASE 0x1000u  /* buffers may not start below this */
/* Where guest/ puts its two payload buffers, each KDCOM_VM_BUF_SIZE long;
 * other guests may choose any offsets at or above KDCOM_VM_BUF_BASE. */
#define KDCOM_VM_DEF_HEAD_OFF 0x1000u
#define KDCOM_VM_DEF_DATA_OFF 0x2000u
#define KDCOM_VM_BUF_SIZE 0x1000u  /* >= KDCOM_MAX_PAYLOAD */
/* Smallest region a host accepts: control page + two default buffers. */
#define KDCOM_VM_MIN_SIZE 0x3000u

/* ------------------------------------------------------------------------
 * ABI: field offsets (bytes from the start of the region)
 * ------------------------------------------------------------------------ */

/* Guest-written half.  Written once by the guest when it initialises the
 * region (MAGIC last, with release), then only REQ_SEQ and REQ_* change. */
#define KDCOM_VM_OFF_MAGIC 0x00       /* KDCOM_VM_MAGIC when valid */
#define KDCOM_VM_OFF_ABI 0x04         /* KDCOM_VM_ABI_VERSION of the guest */
#define KDCOM_VM_OFF_SIZE 0x08        /* region size the guest believes */
#define KDCOM_VM_OFF_GUEST_EPOCH 0x0C /* != 0; a new value on every guest
                                         (re)initialisation, different
                                         from the one found and derived
                                         from per-boot entropy, so a guest
                                         on a fresh zeroed region does not
                                         repeat its predecessor's */
#define KDCOM_VM_OFF_REQ_SEQ 0x10     /* 0: being written; else posted.
                                         Also the guest->host doorbell
                                         word (a futex, docs/vm-channel.md
                                         section 8.4) */
#define KDCOM_VM_OFF_GUEST_FLAGS 0x14 /* enum kdcom_vm_guest_flag (1.1) */
/* 0x18-0x1F reserved, zero */
#define KDCOM_VM_OFF_REQ_OP 0x20       /* enum kdcom_vm_op */
#define KDCOM_VM_OFF_REQ_TYPE 0x24     /* packet type (SEND, RECEIVE) */
#define KDCOM_VM_OFF_REQ_HEAD_OFF 0x28 /* message header buffer offset */
#define KDCOM_VM_OFF_REQ_HEAD_LEN 0x2C /* SEND: bytes; RECEIVE: capacity */
#define KDCOM_VM_OFF_REQ_DATA_OFF 0x30 /* message data buffer offset */
#define KDCOM_VM_OFF_REQ_DATA_LEN 0x34 /* SEND: bytes; RECEIVE: capacity */
#define KDCOM_VM_OFF_REQ_ARG 0x38      /* SEND: KdpDefaultRetries;
                                          HELLO: guest ABI version */
#define KDCOM_VM_OFF_REQ_RESERVED 0x3C /* must be 0 */
/* 0x40-0x7F reserved, zero */

/* Host-written half.  The host rewrites HOST_* on every poll, so a guest
 * that scribbles over them cannot confuse the host (it never reads them
 * back, except RSP_SEQ once when it starts). */
#define KDCOM_VM_OFF_RSP_SEQ 0x80    /* the request answered last; also
                                        the host->guest doorbell word */
#define KDCOM_VM_OFF_HOST_EPOCH 0x84 /* != 0; changes when the host
                                        service restarts */
#define KDCOM_VM_OFF_HOST_FLAGS 0x88 /* enum kdcom_vm_host_flag */
#define KDCOM_VM_OFF_HOST_BEAT 0x8C  /* incremented on every poll: lets
                                        the guest tell a slow answer
                                        (debugger absent) from a dead host */
#define KDCOM_VM_OFF_HOST_ABI 0x90   /* KDCOM_VM_ABI_VERSION of the host */
/* 0x94-0x9F reserved, zero */
#define KDCOM_VM_OFF_RSP_STATUS 0xA0   /* enum kdcom_vm_status */
#define KDCOM_VM_OFF_RSP_TYPE 0xA4     /* RECEIVED: packet type */
#define KDCOM_VM_OFF_RSP_HEAD_LEN 0xA8 /* RECEIVED: bytes in header buffer */
#define KDCOM_VM_OFF_RSP_DATA_LEN 0xAC /* RECEIVED: bytes in data buffer */
#define KDCOM_VM_OFF_RSP_FLAGS 0xB0    /* enum kdcom_vm_rsp_flag */
#define KDCOM_VM_OFF_RSP_EPOCH 0xB4    /* guest epoch the request came
                                          from */
/* 0xB8-0xFF reserved, zero */

/* ------------------------------------------------------------------------
 * ABI: values
 * ------------------------------------------------------------------------ */

/* REQ_OP: what the guest asks for. */
enum kdcom_vm_op {
    /* ARG = guest ABI version.  Answer: OK (HOST_ABI tells the host's), or
     * ERR_VERSION when the majors differ.  Optional: every other request
     * works without it. */
    KDCOM_VM_OP_HELLO = 1,
    /* KdSendPacket: TYPE, HEAD_OFF/HEAD_LEN = message header bytes,
     * DATA_OFF/DATA_LEN = message data bytes (HEAD_LEN + DATA_LEN <=
     * KDCOM_MAX_PAYLOAD), ARG = KdpDefaultRetries.  Answer: OK when the
     * debugger acknowledged the packet; DROPPED when a droppable packet
     * (DbgPrint, LoadSymbols, CreateFile: PROTOCOL-FACTS §3.7) was given
     * up after ARG acknowledgement timeouts.  Other packets wait for the
     * debugger as long as it takes. */
    KDCOM_VM_OP_SEND = 2,
    /* KdReceivePacket: TYPE = the data packet type wanted, HEAD_LEN and
     * DATA_LEN = the capacities of the two buffers.  Answer: RECEIVED with
     * the payload split at HEAD_LEN (the header buffer gets the first
     * HEAD_LEN bytes, the data buffer the rest: PROTOCOL-FACTS §3.6),
     * TIMEOUT, or RESEND (the debugger sent RESEND or RESET, or a RESET
     * came while the reply before this RECEIVE waited for its ACK: the
     * kernel resends its state change).  HEAD_LEN is also the shortest
     * packet the host accepts from the debugger from now on (until the
     * next RECEIVE): a shorter one is answered RESEND on the wire, as
     * kdcom.dll refuses it (§3.5 step 1).  A packet of another type, or
     * one that arrived under an older expectation and is shorter than
     * HEAD_LEN, or one longer than HEAD_LEN + DATA_LEN, is acknowledged
     * on the wire and dropped (counted), as kdcom.dll drops it (§3.5). */
    KDCOM_VM_OP_RECEIVE = 3,
    /* KdReceivePacket(POLL_BREAKIN): answered at once, RECEIVED if the
     * debugger asked to break in since the last poll, else TIMEOUT. */
    KDCOM_VM_OP_POLL_BREAKIN = 4
};

/* RSP_STATUS.  Values >= KDCOM_VM_ST_ERR are errors: the request was not
 * carried out and nothing was sent or written. */
enum kdcom_vm_status {
    KDCOM_VM_ST_NONE = 0,
    KDCOM_VM_ST_OK = 1,       /* HELLO, SEND acknowledged */
    KDCOM_VM_ST_DROPPED = 2,  /* SEND given up (debugger absent) */
    KDCOM_VM_ST_RECEIVED = 3, /* KdPacketReceived */
    KDCOM_VM_ST_TIMEOUT = 4,  /* KdPacketTimedOut */
    KDCOM_VM_ST_RESEND = 5,   /* KdPacketNeedsResend */
    KDCOM_VM_ST_ERR = 0x80,
    KDCOM_VM_ST_ERR_OP = 0x81,      /* unknown REQ_OP */
    KDCOM_VM_ST_ERR_TYPE = 0x82,    /* TYPE not a data packet type */
    KDCOM_VM_ST_ERR_LENGTH = 0x83,  /* SEND payload > KDCOM_MAX_PAYLOAD */
    KDCOM_VM_ST_ERR_BUFFER = 0x84,  /* a buffer below KDCOM_VM_BUF_BASE,
                                       past the region, or (RECEIVE) the
                                       two buffers overlap */
    KDCOM_VM_ST_ERR_VERSION = 0x85, /* HELLO with another ABI major */
    KDCOM_VM_ST_ERR_RESERVED = 0x86, /* REQ_RESERVED not zero */
    KDCOM_VM_ST_ERR_HOST = 0x87 /* the host's link cannot take the SEND
                                   (its memory was overwritten): nothing
                                   the guest did */
};

/* HOST_FLAGS: the host's view, refreshed on every poll. */
enum kdcom_vm_host_flag {
    KDCOM_VM_HF_READY = 0x1,            /* a host service is attached */
    KDCOM_VM_HF_DEBUGGER_PRESENT = 0x2, /* the debugger answered and the
                                           host has not given up on it */
    KDCOM_VM_HF_BREAKIN_PENDING = 0x4,  /* a break-in waits: a POLL_BREAKIN
                                           would return RECEIVED.  Lets the
                                           guest skip the round trip on
                                           every clock tick. */
    KDCOM_VM_HF_DOORBELL = 0x8          /* (1.1) the host kicks the guest
                                           after every answer (a futex wake
                                           on RSP_SEQ, a parked vCPU
                                           resumed): a waiting guest may
                                           sleep instead of spinning */
};

/* GUEST_FLAGS (1.1): what the guest's platform does. */
enum kdcom_vm_guest_flag {
    /* Every posted request is followed by a notification the host
     * receives (KdVmPlatformNotify: a futex wake on REQ_SEQ, an I/O port
     * write or hypercall that exits to the VMM, an ivshmem-doorbell
     * interrupt).  A host may then stop polling the mailbox while no
     * request is in progress.  Without it the host must poll. */
    KDCOM_VM_GF_DOORBELL = 0x1
};

/* RSP_FLAGS: attached to an answer. */
enum kdcom_vm_rsp_flag {
    /* A break-in arrived while the request ran: set KdpControlCPending
     * (PROTOCOL-FACTS §3.2, §3.9).  The host took the break-in. */
    KDCOM_VM_RF_CONTROL_C_PENDING = 0x1,
    KDCOM_VM_RF_DEBUGGER_PRESENT = 0x2 /* as KDCOM_VM_HF_DEBUGGER_PRESENT */
};

/* ------------------------------------------------------------------------
 * Host service
 * ------------------------------------------------------------------------ */

/* Host service configuration; fill with kdcom_vm_config_init().  Times in
 * milliseconds. */
struct kdcom_vm_config {
    uint32_t ack_timeout_ms;     /* link: resend after this (default 1000) */
    uint32_t byte_timeout_ms;    /* link: abandon a stalled packet (1000) */
    uint32_t receive_timeout_ms; /* RECEIVE answers TIMEOUT after this
                                    (default 1000; 1..3600000) */
    uint32_t flags;              /* enum kdcom_vm_config_flag */
};

enum kdcom_vm_config_flag {
    /* The caller kicks the guest whenever kdcom_vm_host_take_kick() says
     * so: published as KDCOM_VM_HF_DOORBELL. */
    KDCOM_VM_CFG_KICKS_GUEST = 0x1
};

KDCOM_API int kdcom_vm_config_init(struct kdcom_vm_config *cfg);

/* kdcom_vm_host_poll() results (>= 0). */
enum kdcom_vm_poll_result {
    KDCOM_VM_POLL_IDLE = 0,    /* no request in progress */
    KDCOM_VM_POLL_BUSY = 1,    /* a request is in progress: keep feeding,
                                  draining and polling */
    KDCOM_VM_POLL_NO_GUEST = 2 /* the region holds no valid guest (magic,
                                  ABI major or size wrong): nothing done */
};

/* Counters; all only ever grow. */
struct kdcom_vm_stats {
    uint64_t polls;
    uint64_t requests;        /* requests taken (all ops, errors too) */
    uint64_t hellos;
    uint64_t sends;
    uint64_t sends_acked;
    uint64_t sends_dropped;   /* droppable packets given up */
    uint64_t receives;
    uint64_t received;        /* RECEIVE answered RECEIVED */
    uint64_t timeouts;        /* RECEIVE answered TIMEOUT */
    uint64_t resends;         /* RECEIVE answered RESEND */
    uint64_t breakin_polls;
    uint64_t breakins;        /* break-ins handed to the guest (POLL or
                                 CONTROL_C_PENDING) */
    uint64_t errors;          /* requests answered with an error status */
    uint64_t no_guest;        /* polls that found no valid guest */
    uint64_t torn_requests;   /* REQ_SEQ changed while the host copied */
    uint64_t abandoned;       /* requests replaced before their answer */
    uint64_t late_answers;    /* answers not written: the guest had
                                 moved on */
    uint64_t guest_restarts;  /* GUEST_EPOCH changes seen */
    uint64_t rx_wrong_type;   /* packets of a type nobody asked for (ACKed
                                 by the link, dropped) */
    uint64_t rx_too_short;    /* packets shorter than the header capacity
                                 that the link had accepted under an
                                 earlier RECEIVE's (ACKed, dropped); the
                                 link refuses shorter ones itself
                                 (kdcom_stats.bad_short) */
    uint64_t rx_too_long;     /* packets longer than both capacities */
    uint64_t rx_while_idle;   /* packets dropped by a POLL_BREAKIN: they
                                 came while the kernel was running */
    uint64_t rx_overrun;      /* packets that found the host's one-packet
                                 slot full (never expected) */
    uint64_t rx_dropped;      /* held or arriving packets dropped because
                                 no guest could take them (region invalid,
                                 guest restarted), or because the debugger
                                 reset or was replaced before the guest
                                 asked */
    uint64_t wire_resets;     /* kdcom_vm_host_wire_reset() calls */
    uint64_t kicks;           /* answers published (take_kick events) */
    uint64_t reply_resets;    /* RESETs while a reply (STATE_MANIPULATE
                                 SEND) waited for its ACK: the next
                                 RECEIVE answers RESEND */
    uint64_t breakins_dropped; /* break-ins left by a debugger that went
                                  away (a new connection, or a RESET while
                                  a reply waited for its ACK), never
                                  handed to the guest */
};

/* Every counter of struct kdcom_vm_stats, in order, as X(name) (see
 * KDCOM_STATS_FIELDS in kdcom.h); kdcom_vm_stats_name() and
 * kdcom_vm_stats_value() give the same by index. */
#define KDCOM_VM_STATS_FIELDS(X) \
    X(polls) X(requests) X(hellos) X(sends) X(sends_acked) X(sends_dropped) \
    X(receives) X(received) X(timeouts) X(resends) X(breakin_polls) \
    X(breakins) X(errors) X(no_guest) X(torn_requests) X(abandoned) \
    X(late_answers) X(guest_restarts) X(rx_wrong_type) X(rx_too_short) \
    X(rx_too_long) X(rx_while_idle) X(rx_overrun) X(rx_dropped) \
    X(wire_resets) X(kicks) X(reply_resets) X(breakins_dropped)

/* Name of counter `index` of struct kdcom_vm_stats ("polls", ...), or
 * NULL past the last. */
KDCOM_API const char *kdcom_vm_stats_name(uint32_t index);

/* Value of counter `index` of *s, or 0 past the last or for NULL. */
KDCOM_API uint64_t kdcom_vm_stats_value(const struct kdcom_vm_stats *s,
                                        uint32_t index);


/* PRIVATE parts of struct kdcom_vm_host. */

/* The guest request being served, copied out of the region once. */
struct kdcom_vm_request {
    uint32_t seq;       /* 0: none */
    uint32_t op;
    uint32_t type;
    uint32_t head_off;
    uint32_t head_len;
    uint32_t data_off;
    uint32_t data_len;
    uint32_t arg;
    uint32_t timeouts;  /* SEND: ACK timeouts so far */
    uint32_t status;    /* the answer, once done */
    uint64_t deadline;  /* RECEIVE: TIMEOUT at this time */
    uint8_t queued;     /* SEND: handed to the link */
    uint8_t droppable;  /* SEND: may be given up (PROTOCOL-FACTS §3.7) */
    uint8_t done;       /* status is set: answer at the next poll */
};

/* A received packet held for the next RECEIVE. */
struct kdcom_vm_slot {
    const uint8_t *data; /* in the link, which holds it
                            (KDCOM_CFG_HOLD_PACKETS) */
    uint64_t at;         /* when it arrived */
    uint32_t type;
    uint32_t len;
    uint8_t full;
};

/* The host service.  About 13 KiB; caller-allocated; initialise with
 * kdcom_vm_host_init().  One host serves one region and one debugger
 * connection. */
struct kdcom_vm_host {
    /* PRIVATE: use the functions. */
    uint32_t magic;
    struct kdcom_vm_config cfg;
    struct kdcom_link link;
    uint64_t now;
    uint32_t attached;     /* host epoch published at least once */
    uint32_t host_epoch;
    uint32_t beat;
    uint32_t guest_epoch;  /* last seen; 0 = none yet */
    uint32_t answered;     /* last sequence number answered */
    uint8_t dbg_present;
    uint8_t breakin;       /* break-in taken from the link, not yet told */
    uint8_t resend_due;    /* RESEND/RESET while no request listened */
    uint8_t reply_reset;   /* a RESET came while a reply waited for its
                              ACK: the next RECEIVE answers RESEND */
    uint8_t guest_gone;    /* a poll found no valid guest after one was
                              seen: the next valid guest is a new one */
    struct kdcom_vm_request cur;
    struct kdcom_vm_slot slot;
    uint32_t guest_flags;  /* GUEST_FLAGS of the valid guest, else 0 */
    uint32_t guest_absent; /* the last poll found no valid guest */
    uint32_t kick_due;     /* an answer was published since take_kick */
    uint32_t head_min;     /* header capacity of the last RECEIVE: the
                              link's kdcom_expect_header() */
    uint8_t stage[KDCOM_MAX_PAYLOAD]; /* SEND payload, host copy */
    struct kdcom_vm_stats stats;
};

/* Initialises *h (NULL cfg: defaults).  The link starts as a freshly
 * booted kdcom.dll would.  Returns KDCOM_OK, KDCOM_ERR_INVAL or
 * KDCOM_ERR_CONFIG. */
KDCOM_API int kdcom_vm_host_init(struct kdcom_vm_host *h,
                                 const struct kdcom_vm_config *cfg);

/* Services the mailbox in the region shm[0..shm_size): validates the
 * guest's control fields, takes a newly posted request, advances the one
 * in progress (link timers included), writes an answer when there is one,
 * and refreshes the host-written fields.  Never blocks.  shm must be
 * 4-byte aligned and shm_size >= KDCOM_VM_MIN_SIZE; the region may be
 * mapped at another address on every call.  The guest may write anything
 * at any time: that never makes this call fail.
 * Returns enum kdcom_vm_poll_result, or KDCOM_ERR_INVAL (NULL, misaligned
 * or too small region), or a fatal error (host not initialised). */
KDCOM_API int kdcom_vm_host_poll(struct kdcom_vm_host *h, void *shm,
                                 size_t shm_size, uint64_t now);

/* Bytes from the debugger, for the TARGET link: as kdcom_feed(), plus the
 * host takes the link's events.  While a received packet waits for the
 * guest to ask for it, control traffic (RESET, RESEND, ACK, break-in,
 * noise) is still consumed and answered, but feeding stops (possibly at 0)
 * before the next data packet: call kdcom_vm_host_poll() and feed the
 * rest later.  A held packet never blocks the wire for good: it is dropped
 * (stats.rx_dropped) when a poll finds no valid guest, when the guest
 * restarts, when the debugger sends RESET, and by
 * kdcom_vm_host_wire_reset(), and when it has been held for twice
 * receive_timeout_ms (at least 2 s) while a data packet waits behind it
 * (a stopped kernel asks again at least every receive_timeout_ms: the
 * guest is gone or hung).  While the region holds no guest, packets
 * are dropped as they arrive (acknowledged: a kernel that is not there
 * cannot answer them anyway).  Returns bytes consumed or a fatal error. */
KDCOM_API int kdcom_vm_host_feed(struct kdcom_vm_host *h, uint64_t now,
                                 const uint8_t *in, size_t len);

/* Bytes for the debugger: as kdcom_drain() (timers run first). */
KDCOM_API int kdcom_vm_host_drain(struct kdcom_vm_host *h, uint64_t now,
                                  uint8_t *out, size_t cap);

/* The debugger connection changed (a new TCP client, a tty reopened): the
 * wire side starts over for the new peer.  Half-parsed input and
 * half-drained output of the old connection are abandoned, control
 * packets owed to it are forgotten, a packet held for the guest, a
 * RESEND it asked for and a break-in it sent that the guest has not
 * taken yet are dropped (the new debugger inherits none of them:
 * docs/vm-channel.md 7), and the link starts afresh (ids back to
 * INITIAL|SYNC, as after a RESET; the header minimum of the last RECEIVE
 * is kept), so the next byte drained begins a well-formed frame.  A SEND
 * in progress is queued again from its start; a RECEIVE keeps waiting;
 * the guest notices nothing.  Link counters are kept.  Returns KDCOM_OK
 * or a fatal error. */
KDCOM_API int kdcom_vm_host_wire_reset(struct kdcom_vm_host *h, uint64_t now);

/* 1 once after each poll that published an answer (RSP_SEQ written), else
 * 0: the guest may be sleeping on RSP_SEQ, so a caller that kicks the
 * guest (futex wake on RSP_SEQ, resuming a vCPU parked in a wait exit)
 * does it now.  Negative for a bad h. */
KDCOM_API int kdcom_vm_host_take_kick(struct kdcom_vm_host *h);

/* GUEST_FLAGS of the guest found by the last poll (0 with no valid guest
 * or a 1.0 guest): KDCOM_VM_GF_DOORBELL tells whether the host may stop
 * polling while idle.  Negative for a bad h. */
KDCOM_API int kdcom_vm_host_guest_flags(const struct kdcom_vm_host *h);

/* As kdcom_want_write() on the embedded link. */
KDCOM_API int kdcom_vm_host_want_write(const struct kdcom_vm_host *h);

/* 1 if kdcom_vm_host_feed() would consume any input now; 0 while a
 * packet is held for the guest (only control traffic is consumed then). */
KDCOM_API int kdcom_vm_host_want_read(const struct kdcom_vm_host *h);

/* The earliest time poll/drain has timed work (link timers, a RECEIVE
 * timeout); UINT64_MAX when none; 0 if h is not usable. */
KDCOM_API uint64_t kdcom_vm_host_next_deadline(const struct kdcom_vm_host *h);

/* 1 when the debugger answered and has not been given up on. */
KDCOM_API int kdcom_vm_host_debugger_present(const struct kdcom_vm_host *h);

/* Counters of the service (NULL for NULL or a host not initialised). */
KDCOM_API const struct kdcom_vm_stats *kdcom_vm_host_stats(
    const struct kdcom_vm_host *h);

/* The embedded TARGET link, read-only: for kdcom_get_stats() and the like
 * (NULL for NULL or a host not initialised).
 * Do not feed, drain or send on it directly. */
KDCOM_API const struct kdcom_link *kdcom_vm_host_link(
    const struct kdcom_vm_host *h);

/* Name of a status ("RECEIVED", "ERR_BUFFER", ...; "UNKNOWN" otherwise).*/
KDCOM_API const char *kdcom_vm_status_name(uint32_t status);

#ifdef __cplusplus
}
#endif

#endif /* KDCOM_VM_H */
