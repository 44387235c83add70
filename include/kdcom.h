/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom.h - libkdcom: the KDCOM framing layer of Windows kernel debugging,
 *           as a byte-in / byte-out engine for both ends of the wire.
 *
 * SUMMARY
 *
 *   KDCOM is the framing WinDbg/KD and the target kernel's kdcom.dll speak
 *   on a serial line, a named pipe or a TCP-wrapped serial port: 16-byte
 *   headers, a byte-sum checksum, alternating packet ids, ACK / RESEND /
 *   RESET control packets, a 0xAA trailer and a one-byte break-in.  This
 *   library implements it twice over:
 *
 *     - a codec: checksum, frame encoders, and a streaming frame parser
 *       that dissectors and decoders can use on their own;
 *     - a link engine (struct kdcom_link) that plays either the TARGET
 *       role (what kdcom.dll does) or the DEBUGGER role (what DbgEng
 *       does): ids, acknowledgements, retransmission, the RESET
 *       handshake, duplicate filtering and break-in.
 *
 * CONFORMS TO
 *
 *   The behaviour of real peers (Windows kdcom/WinDbg, ReactOS kddll,
 *   VirtualKD, radare2/rizin, pykdclient), as written down in
 *   docs/protocol.md.  Where they disagree, docs/protocol.md names the
 *   choice made here and why.
 *
 * CONVENTIONS
 *
 *   - No dynamic allocation, ever.  The caller owns every structure and
 *     buffer.  Structures are public so they can be static, on the stack or
 *     embedded in a larger object, but fields marked PRIVATE are not part
 *     of the API: read them through the accessor functions.
 *   - No I/O, no clock, no globals, no callbacks.  Bytes enter through
 *     kdcom_feed() and leave through kdcom_drain(); time enters as a
 *     `now` argument in milliseconds from any monotonic clock the caller
 *     likes (uint64_t, never wraps in practice).  A `now` smaller than one
 *     seen before is treated as "no time has passed".
 *   - Re-entrancy: every function works only on the objects passed to it.
 *     Different links may be used from different threads at once; one link
 *     must not be used by two threads at the same time (no locking here).
 *   - Pointers handed out by the library (event payloads, frame payloads)
 *     point into the structure that produced them and stay valid until the
 *     next call that takes that structure, unless stated otherwise.
 *   - Errors are negative values of enum kdcom_err; 0 or a positive count
 *     means success.  Garbage on the wire is never an error return: it is
 *     counted in struct kdcom_stats and answered by the protocol (RESEND,
 *     resynchronisation).  kdcom_strerror() names every code.
 *   - Integers on the wire are little-endian; the library never casts
 *     structures onto the wire, so host byte order does not matter.
 *
 * ARCHITECTURE
 *
 *   struct kdcom_link
 *     +-- struct kdcom_parser  rx: leader hunt -> header -> payload -> trailer
 *     +-- tx frame buffer      the one outstanding data packet (stop-and-wait)
 *     +-- control queue        ACK / RESEND / RESET / break-in bytes to send
 *     +-- event queue          what the upper layer must learn about
 *
 *   Memory is fixed: a link is about 9 KiB whatever the traffic.  Every
 *   call runs in time linear in the bytes it is given or asked for, and
 *   payload bytes are copied in bulk, never one call per byte.
 *
 * This header compiles as C99 and as C++, and is parsed by SWIG as is.
 */
#ifndef KDCOM_H
#define KDCOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Versions and symbol visibility
 * ------------------------------------------------------------------------ */

/* Library version.  The shared library's SONAME is libkdcom.so.MAJOR; the
 * build reads these lines, so they are the one place the version lives. */
#define KDCOM_VERSION_MAJOR 0
#define KDCOM_VERSION_MINOR 1
#define KDCOM_VERSION_PATCH 0
/* 0xMMmmpp, for compile-time comparisons. */
#define KDCOM_VERSION_NUM 0x000100
#define KDCOM_VERSION_STRING "0.1.0"

/* Revision of the KDCOM behaviour described in docs/protocol.md.  Bumped
 * when an observable protocol decision changes, independently of the API. */
#define KDCOM_PROTOCOL_REVISION 3

#ifndef KDCOM_API
#if defined(_WIN32) && defined(KDCOM_BUILDING_DLL)
#define KDCOM_API __declspec(dllexport)
#elif defined(__GNUC__) && defined(KDCOM_BUILDING)
#define KDCOM_API __attribute__((visibility("default")))
#else
#define KDCOM_API
#endif
#endif

/* ------------------------------------------------------------------------
 * Wire constants (docs/protocol.md "Wire format")
 * ------------------------------------------------------------------------ */

/* Four identical leader bytes start every packet. */
#define KDCOM_LEADER_BYTE_DATA 0x30    /* '0': "0000" starts a data packet */
#define KDCOM_LEADER_BYTE_CONTROL 0x69 /* 'i': "iiii" starts a control packet */
#define KDCOM_LEADER_DATA 0x30303030
#define KDCOM_LEADER_CONTROL 0x69696969
#define KDCOM_LEADER_LEN 4 /* leader bytes, the first field of a header */

/* Sent alone, outside any packet, by the debugger to stop the target. */
#define KDCOM_BREAKIN_BYTE 0x62 /* 'b' */

/* Follows the payload of every data packet; control packets have none. */
#define KDCOM_TRAILER_BYTE 0xAA

#define KDCOM_HEADER_SIZE 16
/* Largest ByteCount any real peer accepts; larger packets are refused
 * before a single payload byte is stored. */
#define KDCOM_MAX_PAYLOAD 4000
/* header + payload + trailer */
#define KDCOM_MAX_FRAME (KDCOM_HEADER_SIZE + KDCOM_MAX_PAYLOAD + 1)
#define KDCOM_CONTROL_FRAME_SIZE KDCOM_HEADER_SIZE

/* Packet ids: only bit 0 alternates.  The target ORs SYNC into the ids it
 * sends while it does not know the debugger to be in step. */
#define KDCOM_INITIAL_ID 0x80800000u
#define KDCOM_SYNC_BIT 0x00000800u

/* Header field offsets (all little-endian). */
#define KDCOM_OFF_LEADER 0
#define KDCOM_OFF_TYPE 4
#define KDCOM_OFF_BYTE_COUNT 6
#define KDCOM_OFF_ID 8
#define KDCOM_OFF_CHECKSUM 12

/* PacketType values. */
enum kdcom_packet_type {
    KDCOM_TYPE_UNUSED = 0,
    KDCOM_TYPE_STATE_CHANGE32 = 1,
    KDCOM_TYPE_STATE_MANIPULATE = 2,
    KDCOM_TYPE_DEBUG_IO = 3,
    KDCOM_TYPE_ACKNOWLEDGE = 4, /* control */
    KDCOM_TYPE_RESEND = 5,      /* control */
    KDCOM_TYPE_RESET = 6,       /* control */
    KDCOM_TYPE_STATE_CHANGE64 = 7,
    KDCOM_TYPE_POLL_BREAKIN = 8, /* never on the wire: KdReceivePacket's
                                    "poll for a break-in" pseudo type */
    KDCOM_TYPE_TRACE_IO = 9,
    KDCOM_TYPE_CONTROL_REQUEST = 10,
    KDCOM_TYPE_FILE_IO = 11,
    KDCOM_TYPE_MAX = 12
};

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/* Every negative return of the library.  Codes above KDCOM_ERR_FATAL are
 * about one call (fix the arguments or retry later); codes at or below it
 * mean the object can no longer be used until it is initialised again. */
enum kdcom_err {
    KDCOM_OK = 0,
    /* the call, not the link, is wrong */
    KDCOM_ERR_INVAL = -1,    /* NULL pointer, or a length without a buffer */
    KDCOM_ERR_ROLE = -2,     /* role is neither TARGET nor DEBUGGER */
    KDCOM_ERR_TOO_BIG = -3,  /* payload larger than KDCOM_MAX_PAYLOAD */
    KDCOM_ERR_BAD_TYPE = -4, /* packet type not valid for this call */
    KDCOM_ERR_NOBUFS = -5,   /* output buffer too small for the frame */
    KDCOM_ERR_CONFIG = -6,   /* a configuration value is out of range */
    KDCOM_ERR_WRONG_ROLE = -7, /* the call does not exist in this role */
    /* the link's state forbids it now; retry after taking events/draining */
    KDCOM_ERR_BUSY = -10,    /* a data packet is still outstanding */
    KDCOM_ERR_NO_PACKET = -11, /* nothing outstanding to cancel */
    /* fatal: the object must be initialised again */
    KDCOM_ERR_FATAL = -20,
    KDCOM_ERR_NOT_INIT = -20, /* the link was never initialised, or its
                                 memory was overwritten */
    KDCOM_ERR_CLOSED = -21    /* kdcom_link_close() was called */
};

/* Text for a kdcom_err code (never NULL; unknown codes get a generic text).
 * The string is static. */
KDCOM_API const char *kdcom_strerror(int err);

/* 1 if err is fatal for the object that returned it, else 0. */
KDCOM_API int kdcom_is_fatal(int err);

/* KDCOM_VERSION_NUM of the library actually linked. */
KDCOM_API uint32_t kdcom_version(void);
/* KDCOM_VERSION_STRING of the library actually linked. */
KDCOM_API const char *kdcom_version_string(void);

/* Name of a packet type ("STATE_MANIPULATE", ...), "UNKNOWN" otherwise. */
KDCOM_API const char *kdcom_packet_type_name(uint32_t type);

/* 1 if `type` travels in a data packet ("0000" leader): STATE_CHANGE32,
 * STATE_MANIPULATE, DEBUG_IO, STATE_CHANGE64, TRACE_IO, CONTROL_REQUEST,
 * FILE_IO.  0 for control types, UNUSED, POLL_BREAKIN and unknown values. */
KDCOM_API int kdcom_is_data_type(uint32_t type);

/* ------------------------------------------------------------------------
 * Codec: checksum and encoders
 * ------------------------------------------------------------------------ */

/* The KDCOM checksum: the sum of all bytes, modulo 2^32.  It covers the
 * payload only (message header + message data), never the packet header
 * or the trailer.  in may be NULL when len is 0. */
KDCOM_API uint32_t kdcom_checksum(const uint8_t *in, size_t len);

/* Continues a checksum: kdcom_checksum_update(kdcom_checksum(a), b) equals
 * the checksum of a followed by b. */
KDCOM_API uint32_t kdcom_checksum_update(uint32_t sum, const uint8_t *in,
                                         size_t len);

/* Writes a complete data packet into out: header, then the head_len bytes
 * of head, then the data_len bytes of data, then the trailer.  The two
 * buffers are the message header and message data exactly as
 * KdSendPacket receives them; they may be NULL when their length is 0.
 *
 * Returns the frame length (KDCOM_HEADER_SIZE + head_len + data_len + 1),
 * or KDCOM_ERR_INVAL, KDCOM_ERR_BAD_TYPE (not kdcom_is_data_type()),
 * KDCOM_ERR_TOO_BIG (head_len + data_len > KDCOM_MAX_PAYLOAD) or
 * KDCOM_ERR_NOBUFS (cap too small; nothing written). */
KDCOM_API int kdcom_encode_data(uint8_t *out, size_t cap, uint32_t type,
                                uint32_t id, const uint8_t *head,
                                size_t head_len, const uint8_t *data,
                                size_t data_len);

/* Writes a 16-byte control packet (ACKNOWLEDGE, RESEND or RESET; ByteCount
 * and Checksum 0).  Returns 16, or KDCOM_ERR_INVAL, KDCOM_ERR_BAD_TYPE,
 * KDCOM_ERR_NOBUFS. */
KDCOM_API int kdcom_encode_control(uint8_t *out, size_t cap, uint32_t type,
                                   uint32_t id);

/* ------------------------------------------------------------------------
 * Codec: streaming frame parser
 * ------------------------------------------------------------------------ */

/* What kdcom_parse() found. */
enum kdcom_frame_kind {
    KDCOM_FRAME_NONE = 0,     /* input used up, no complete item yet */
    KDCOM_FRAME_DATA = 1,     /* a data packet, trailer and checksum good */
    KDCOM_FRAME_CONTROL = 2,  /* a control packet header ("iiii" leader) */
    KDCOM_FRAME_BREAKIN = 3,  /* a 'b' byte outside any packet */
    KDCOM_FRAME_BAD_SIZE = 4, /* data header with ByteCount > 4000: the
                                 payload is not read, its bytes will be
                                 skipped as noise */
    KDCOM_FRAME_BAD_TRAILER = 5,  /* payload read, trailer byte not 0xAA */
    KDCOM_FRAME_BAD_CHECKSUM = 6  /* trailer good, checksum mismatch */
};

/* One parsed item.  For every kind but NONE and BREAKIN the header fields
 * are filled from the wire.  payload/payload_len are set for DATA,
 * BAD_TRAILER and BAD_CHECKSUM and point into the parser: valid until the
 * next call that takes the parser. */
struct kdcom_frame {
    uint32_t kind; /* enum kdcom_frame_kind */
    uint32_t leader;
    uint32_t type;
    uint32_t byte_count;
    uint32_t id;
    uint32_t checksum;          /* as on the wire */
    uint32_t computed_checksum; /* over the payload received */
    uint32_t trailer;           /* the byte found after the payload */
    const uint8_t *payload;
    uint32_t payload_len;
};

/* A streaming parser.  Feed it any split of a byte stream; it returns the
 * same items for every split.  About 4.1 KiB. */
struct kdcom_parser {
    /* PRIVATE */
    uint8_t state;
    uint8_t run_byte; /* leader byte being counted in the hunt */
    uint8_t run_len;  /* identical leader bytes seen so far */
    uint8_t hdr_have; /* header bytes stored (leader included) */
    uint8_t hdr[KDCOM_HEADER_SIZE];
    uint32_t byte_count;
    uint32_t pay_have;
    uint32_t pay_sum;
    uint8_t payload[KDCOM_MAX_PAYLOAD];
    /* READ-ONLY: running counters since kdcom_parser_init() */
    uint64_t bytes_in;        /* every byte consumed */
    uint64_t noise_bytes;     /* bytes that belonged to no packet */
    uint64_t partial_leaders; /* leader runs broken before 4 bytes */
};

KDCOM_API void kdcom_parser_init(struct kdcom_parser *p);

/* Abandons any half-parsed packet (its bytes count as noise) and hunts for
 * a leader again.  Counters are kept. */
KDCOM_API void kdcom_parser_reset(struct kdcom_parser *p);

/* 1 while the parser is inside a packet (past a complete leader), 0 while
 * it hunts (also in the middle of a leader run).  Links use it for the
 * byte timeout. */
KDCOM_API int kdcom_parser_busy(const struct kdcom_parser *p);

/* Consumes bytes from in until one item is complete or the input is used
 * up, and describes the item in *frame (kind NONE if none).  Returns the
 * number of bytes consumed (0 <= n <= len; len when kind is NONE), or
 * KDCOM_ERR_INVAL.  Call again with the rest of the input. */
KDCOM_API int kdcom_parse(struct kdcom_parser *p, const uint8_t *in,
                          size_t len, struct kdcom_frame *frame);

/* ------------------------------------------------------------------------
 * Link engine
 * ------------------------------------------------------------------------ */

enum kdcom_role {
    KDCOM_ROLE_TARGET = 1,  /* the kernel side: kdcom.dll, the VMM shim */
    KDCOM_ROLE_DEBUGGER = 2 /* the host side: WinDbg/KD, debugger tools */
};

/* kdcom_config.flags */
enum kdcom_config_flag {
    /* DEBUGGER: send a break-in byte before the first RESET of every
     * synchronisation (like `windbg -b`, radare2). */
    KDCOM_CFG_BREAKIN_ON_SYNC = 0x1,
    /* DEBUGGER: start synchronised, without a RESET handshake (attach to a
     * stream already in progress: proxies, replays, scripted tests). */
    KDCOM_CFG_PASSIVE = 0x2,
    /* TARGET: do not treat a new data packet that arrives while our packet
     * waits for its ACK as that ACK.  Only for peers that send data packets
     * on their own initiative (never the case in KD). */
    KDCOM_CFG_NO_IMPLICIT_ACK = 0x4,
    /* Explicit hand-off of received packets: a PACKET's payload stays
     * valid until kdcom_packet_done(), whatever is called meanwhile, and
     * until then kdcom_feed() goes on consuming control packets, break-ins
     * and noise but stops in front of the next data packet (at its
     * leader), whose bytes wait with the caller as they would wait in a
     * UART's FIFO.  Without it, feeding pauses from the PACKET event until
     * it is taken, and the payload is valid until the next kdcom_feed(). */
    KDCOM_CFG_HOLD_PACKETS = 0x8,
    /* DEBUGGER: report KDCOM_EV_PEER_RESTARTED. */
    KDCOM_CFG_REPORT_RESTARTS = 0x10
};

/* Link configuration.  Fill it with kdcom_config_init(), then change what
 * you need.  Times are in milliseconds. */
struct kdcom_config {
    uint32_t role;              /* enum kdcom_role */
    uint32_t flags;             /* enum kdcom_config_flag bits */
    uint32_t ack_timeout_ms;    /* wait this long for an ACK, then resend
                                   (default 1000; 1..3600000) */
    uint32_t retry_limit;       /* ACK timeouts before a RETRIES_EXHAUSTED
                                   event (default 20 as in Windows; 0 means
                                   never report) */
    uint32_t reset_interval_ms; /* DEBUGGER: repeat RESET this often until
                                   it is echoed (default 1000) */
    uint32_t byte_timeout_ms;   /* abandon a packet whose bytes stop coming
                                   for this long and ask for a resend
                                   (default 1000) */
};

/* Fills *cfg with the defaults for role.  Returns KDCOM_OK,
 * KDCOM_ERR_INVAL or KDCOM_ERR_ROLE. */
KDCOM_API int kdcom_config_init(struct kdcom_config *cfg, uint32_t role);

/* Events, taken one at a time with kdcom_next_event(). */
enum kdcom_event_kind {
    KDCOM_EV_NONE = 0,
    /* A new data packet was accepted and acknowledged.  type, id, payload
     * and len describe it.  Duplicates are never reported. */
    KDCOM_EV_PACKET = 1,
    /* Our outstanding data packet was acknowledged (explicitly, or for the
     * TARGET implicitly by the peer's next packet).  type and id are ours;
     * kdcom_send() may be called again. */
    KDCOM_EV_ACKED = 2,
    /* The peer sent RESEND.  An outstanding packet is being retransmitted
     * already.  A TARGET with nothing outstanding reports it so the upper
     * layer resends its state change (what KdReceivePacket's RESEND is for).*/
    KDCOM_EV_RESEND = 3,
    /* The peer reset the link.  Ids are back to their initial values and an
     * outstanding packet is being retransmitted under the new id.  TARGET:
     * the RESET was echoed; the upper layer should resend its state
     * change.  DEBUGGER: a RESET arrived after the handshake had completed
     * (a late or doubled echo, or one forged by a damaged ACK): the target
     * restarted its numbering; a repeat of the packet delivered last is
     * not delivered again (docs/protocol.md 6.3). */
    KDCOM_EV_RESET = 4,
    /* DEBUGGER: the RESET handshake completed; data may flow. */
    KDCOM_EV_SYNCED = 5,
    /* TARGET: the debugger asked to break in.  Reported once when the
     * request arrives; the request stays pending until
     * kdcom_take_breakin(). */
    KDCOM_EV_BREAKIN = 6,
    /* The outstanding packet timed out retry_limit times in a row.  It is
     * still outstanding and still being retried; the upper layer decides
     * whether to kdcom_cancel_send() it.  retries holds the count. */
    KDCOM_EV_RETRIES_EXHAUSTED = 7,
    /* DEBUGGER, with KDCOM_CFG_REPORT_RESTARTS: the target numbers its
     * packets afresh (a new packet under INITIAL|SYNC: it gave up on us,
     * or it was restarted); the PACKET that follows is its first.  type
     * and id are that packet's.  With nothing outstanding our next packet
     * goes out under INITIAL, as the target expects; a packet still
     * outstanding (kdcom_can_send() == 0) keeps its id, which the target
     * takes for a duplicate: the upper layer resynchronises
     * (kdcom_resync()) or cancels it. */
    KDCOM_EV_PEER_RESTARTED = 8
};

struct kdcom_event {
    uint32_t kind; /* enum kdcom_event_kind */
    uint32_t type; /* PACKET: its type; ACKED, RETRIES_EXHAUSTED: ours */
    uint32_t id;   /* PACKET: its id; ACKED, RETRIES_EXHAUSTED: ours */
    uint32_t retries;
    const uint8_t *payload; /* PACKET only; points into the link, valid
                               until the next kdcom_feed(), kdcom_next_event()
                               or kdcom_link_init() on this link (with
                               KDCOM_CFG_HOLD_PACKETS: until
                               kdcom_packet_done() or kdcom_link_init()) */
    uint32_t len;
};

/* Counters for every decision the link takes.  All only ever grow. */
struct kdcom_stats {
    uint64_t bytes_in;          /* bytes consumed by kdcom_feed() */
    uint64_t bytes_out;         /* bytes produced by kdcom_drain() */
    uint64_t packets_sent;      /* data packets sent (first transmissions) */
    uint64_t packets_acked;     /* ... of which acknowledged */
    uint64_t packets_received;  /* new data packets accepted */
    uint64_t retransmits;       /* data packets sent again */
    uint64_t ack_timeouts;      /* ACK waits that expired */
    uint64_t retries_exhausted; /* RETRIES_EXHAUSTED events */
    uint64_t packets_cancelled; /* kdcom_cancel_send() */
    uint64_t implicit_acks;     /* TARGET: ACKs inferred from a data packet */
    uint64_t duplicates;        /* data packets with an old id, ACKed+dropped*/
    uint64_t acks_sent;
    uint64_t acks_received;     /* every ACK packet seen */
    uint64_t acks_ignored;      /* ... that matched nothing outstanding */
    uint64_t resends_sent;
    uint64_t resends_received;
    uint64_t resets_sent;       /* RESET packets sent (requests or echoes) */
    uint64_t resets_received;
    uint64_t resets_ignored;    /* DEBUGGER, synced: RESETs carrying a
                                   packet id, taken for a damaged ACK */
    uint64_t syncs;             /* DEBUGGER: handshakes completed */
    uint64_t breakins_sent;     /* DEBUGGER */
    uint64_t breakins_received; /* TARGET: 'b' bytes seen between packets */
    uint64_t bad_checksum;      /* data packets refused: checksum */
    uint64_t bad_trailer;       /* ... trailer byte not 0xAA */
    uint64_t bad_size;          /* ... ByteCount > 4000 */
    uint64_t bad_type;          /* ... type not a data type (RESEND) */
    uint64_t bad_id;            /* ... id not one of the four valid ids
                                   (RESEND) */
    uint64_t unknown_control;   /* control packets of unknown type, ignored */
    uint64_t noise_bytes;       /* bytes outside any packet */
    uint64_t partial_leaders;   /* leader runs broken before 4 bytes */
    uint64_t rx_stalls;         /* packets abandoned after byte_timeout */
    uint64_t dropped_unsynced;  /* DEBUGGER: data packets before the
                                   handshake completed (not ACKed) */
    uint64_t stale_bytes;       /* TARGET: input discarded after a RESET */
    uint64_t bad_short;         /* TARGET: new data packets refused for a
                                   ByteCount below the message header the
                                   receiver expects (RESEND), see
                                   kdcom_expect_header() */
};

/* Every counter of struct kdcom_stats, in order, as X(name): for code
 * that prints or copies them all, e.g.
 *     #define SHOW(n) printf(" " #n "=%llu", (unsigned long long)s->n);
 *     KDCOM_STATS_FIELDS(SHOW)
 * kdcom_stats_name() and kdcom_stats_value() give the same by index (for
 * bindings).  A counter added to the structure is added here too; the
 * tests check that the two agree. */
#define KDCOM_STATS_FIELDS(X) \
    X(bytes_in) X(bytes_out) X(packets_sent) X(packets_acked) \
    X(packets_received) X(retransmits) X(ack_timeouts) X(retries_exhausted) \
    X(packets_cancelled) X(implicit_acks) X(duplicates) X(acks_sent) \
    X(acks_received) X(acks_ignored) X(resends_sent) X(resends_received) \
    X(resets_sent) X(resets_received) X(resets_ignored) X(syncs) \
    X(breakins_sent) X(breakins_received) X(bad_checksum) X(bad_trailer) \
    X(bad_size) X(bad_type) X(bad_id) X(unknown_control) X(noise_bytes) \
    X(partial_leaders) X(rx_stalls) X(dropped_unsynced) X(stale_bytes) \
    X(bad_short)

/* Name of counter `index` of struct kdcom_stats ("bytes_in", ...), in
 * the order of KDCOM_STATS_FIELDS, or NULL past the last. */
KDCOM_API const char *kdcom_stats_name(uint32_t index);

/* Value of counter `index` of *s, or 0 past the last or for NULL. */
KDCOM_API uint64_t kdcom_stats_value(const struct kdcom_stats *s,
                                     uint32_t index);


/* Sizes of the private queues (part of the ABI, never configurable). */
#define KDCOM_CTLQ_LEN 8
#define KDCOM_EVQ_LEN 16

/* One end of a KDCOM link.  About 9 KiB; caller-allocated.  Initialise
 * with kdcom_link_init(); no other preparation (such as zeroing) needed. */
struct kdcom_link {
    /* PRIVATE: everything below; use the functions. */
    uint32_t magic;
    uint32_t role;
    struct kdcom_config cfg;
    uint64_t now;              /* latest time seen */
    /* receive side */
    struct kdcom_parser rx;
    uint64_t rx_last;          /* time of the last byte received */
    uint32_t rx_expect;        /* id of the next new data packet */
    uint8_t rx_expect_known;   /* DEBUGGER: 0 until the first packet after
                                  a (re)sync fixes the expectation; 2: the
                                  same, but a repeat of the last accepted
                                  packet is a duplicate */
    uint8_t rx_hold;           /* rx.payload is a delivered packet's: its
                                  PACKET event is queued (1) or was taken
                                  and awaits kdcom_packet_done() (2) */
    uint8_t synced;            /* DEBUGGER: handshake complete */
    uint8_t breakin_pending;   /* TARGET: sticky break-in request */
    uint8_t rx_blocked;        /* the last feed stopped in front of a data
                                  packet while one was held */
    uint32_t rx_last_id;       /* DEBUGGER: last accepted id, length and */
    uint32_t rx_last_len;      /* checksum, to tell a SYNC-id duplicate */
    uint32_t rx_last_sum;      /* from a new SYNC-id packet */
    uint32_t rx_min_len;       /* TARGET: kdcom_expect_header() */
    /* transmit side: the one outstanding data packet */
    uint8_t tx_state;          /* where it is (libkdcom/link_tx.dot) */
    uint8_t breakin_on_sync_due;
    uint32_t tx_id;            /* id our next/outstanding packet carries */
    uint32_t tx_type;
    uint32_t tx_len;           /* frame length in tx_frame */
    uint32_t tx_retries;
    uint64_t tx_deadline;      /* ACK timeout */
    uint64_t reset_deadline;   /* DEBUGGER: next RESET while syncing */
    uint8_t tx_frame[KDCOM_MAX_FRAME];
    /* output cursor: the frame being written out by kdcom_drain(),
     * tx_frame while tx_state has it on the wire, else out_ctl */
    uint8_t out_ctl[KDCOM_CONTROL_FRAME_SIZE];
    uint32_t out_len;          /* 0: none */
    uint32_t out_off;
    /* control packets waiting to go out */
    uint32_t ctlq_type[KDCOM_CTLQ_LEN];
    uint32_t ctlq_id[KDCOM_CTLQ_LEN];
    uint32_t ctlq_head;
    uint32_t ctlq_count;
    /* events waiting to be taken */
    struct kdcom_event evq[KDCOM_EVQ_LEN];
    uint32_t evq_head;
    uint32_t evq_count;
    struct kdcom_stats stats;
};

/* Initialises *link from *cfg (NULL cfg: defaults for a TARGET).  Any
 * previous state is forgotten.  A DEBUGGER starts its RESET handshake on
 * the first kdcom_drain()/kdcom_tick() unless KDCOM_CFG_PASSIVE is set.
 * Returns KDCOM_OK, KDCOM_ERR_INVAL, KDCOM_ERR_ROLE or KDCOM_ERR_CONFIG. */
KDCOM_API int kdcom_link_init(struct kdcom_link *link,
                              const struct kdcom_config *cfg);

/* Initialises the link again from its own configuration, as
 * kdcom_link_init() would, but keeps its counters (struct kdcom_stats): for
 * a new peer on the same line (a debugger reconnecting).  Works on a
 * closed link too.  Returns KDCOM_OK or KDCOM_ERR_INVAL / KDCOM_ERR_NOT_INIT
 * (never initialised). */
KDCOM_API int kdcom_link_restart(struct kdcom_link *link);

/* Marks the link closed: every later call returns KDCOM_ERR_CLOSED until
 * kdcom_link_init().  Returns KDCOM_OK or a fatal code. */
KDCOM_API int kdcom_link_close(struct kdcom_link *link);

/* Gives received bytes to the link.  Returns the number consumed, or a
 * fatal error.  It consumes less than len (possibly 0) when the upper layer
 * must act first: a PACKET event is waiting (its payload lives in the
 * link), the event queue is nearly full, or the control queue is full
 * (kdcom_drain() empties it).  Take the events, drain, and feed the rest.
 * With KDCOM_CFG_HOLD_PACKETS a PACKET does not stop the feed: a held
 * packet stops it in front of the next data packet's leader only (see
 * kdcom_packet_done(), kdcom_packet_held()).
 * At most INT32_MAX bytes are consumed per call.
 * A TARGET that receives a RESET consumes and discards the rest of `in`:
 * those bytes were buffered before the RESET was answered and are stale
 * (they are counted in stats.stale_bytes). */
KDCOM_API int kdcom_feed(struct kdcom_link *link, uint64_t now,
                         const uint8_t *in, size_t len);

/* Writes bytes to send into out, at most cap, and returns how many (0 when
 * there is nothing to send), or a fatal error.  Runs expired timers first,
 * like kdcom_tick().  Frames are written in order and never interleaved:
 * a control packet or a break-in byte never lands inside a data packet,
 * whatever cap is.  The ACK timer of a data packet starts when its last
 * byte has been drained. */
KDCOM_API int kdcom_drain(struct kdcom_link *link, uint64_t now, uint8_t *out,
                          size_t cap);

/* 1 if kdcom_drain() would write something at the latest `now` the link
 * has seen (a frame, a queued control packet, a due data packet, or what a
 * timer expired by then produces), else 0 (or a fatal error).  For poll
 * loops that wait for "writable" only when needed; timers that expire
 * later are kdcom_next_deadline()'s business. */
KDCOM_API int kdcom_want_write(const struct kdcom_link *link);

/* Queues a data packet: payload = head then data, as KdSendPacket gets
 * them.  Stop-and-wait: one packet is outstanding at a time, until its
 * KDCOM_EV_ACKED event (or kdcom_cancel_send()).  A DEBUGGER holds the
 * packet until the RESET handshake has completed.
 * Returns KDCOM_OK, KDCOM_ERR_INVAL, KDCOM_ERR_BAD_TYPE, KDCOM_ERR_TOO_BIG,
 * KDCOM_ERR_BUSY (a packet is outstanding, or the last one is still being
 * drained), or a fatal error. */
KDCOM_API int kdcom_send(struct kdcom_link *link, uint64_t now, uint32_t type,
                         const uint8_t *head, size_t head_len,
                         const uint8_t *data, size_t data_len);

/* 1 if kdcom_send() would accept a packet now, 0 if not, or a fatal
 * error. */
KDCOM_API int kdcom_can_send(const struct kdcom_link *link);

/* Gives up on the outstanding packet: what kdcom.dll does with a DbgPrint
 * nobody acknowledges.  A TARGET also re-arms the SYNC bit and resets both
 * ids (the debugger is presumed gone).  Bytes of the packet already being
 * drained are still written out, so the wire stays well formed.
 * Returns KDCOM_OK, KDCOM_ERR_NO_PACKET or a fatal error. */
KDCOM_API int kdcom_cancel_send(struct kdcom_link *link);

/* Takes the oldest event into *ev and returns its kind, or KDCOM_EV_NONE
 * (0) when there is none, or a negative error.  *ev is always written. */
KDCOM_API int kdcom_next_event(struct kdcom_link *link,
                               struct kdcom_event *ev);

/* KDCOM_CFG_HOLD_PACKETS: the upper layer is done with the packet of the
 * PACKET event it took (its payload is no longer valid): the next data
 * packet may be received.  Returns KDCOM_OK, KDCOM_ERR_NO_PACKET (no
 * taken packet is held, also without the flag) or a fatal error. */
KDCOM_API int kdcom_packet_done(struct kdcom_link *link);

/* 0 when no received packet is held; 1 while one is (its PACKET event
 * queued or taken, and with KDCOM_CFG_HOLD_PACKETS until
 * kdcom_packet_done()); 2 when, moreover, the last kdcom_feed() stopped in
 * front of the next data packet's leader (the peer has more to say, and
 * waits); or a fatal error.  While a packet is held, data leader bytes at
 * the end of the input, which the next bytes may complete, are not
 * consumed either (2 as well): offer them again with the bytes that
 * follow. */
KDCOM_API int kdcom_packet_held(const struct kdcom_link *link);

/* The time at which kdcom_tick() has work to do (a retransmission, a
 * RESET repeat, an abandoned packet), UINT64_MAX when no timer runs, or 0
 * for a link that is not usable.  Sleep until then or until bytes arrive. */
KDCOM_API uint64_t kdcom_next_deadline(const struct kdcom_link *link);

/* Runs expired timers: retransmits after an ACK timeout (and reports
 * RETRIES_EXHAUSTED every retry_limit timeouts), repeats RESET while a
 * DEBUGGER synchronises, abandons a packet stalled for byte_timeout_ms and
 * asks for a resend.  Returns KDCOM_OK or a fatal error. */
KDCOM_API int kdcom_tick(struct kdcom_link *link, uint64_t now);

/* DEBUGGER: queues a break-in byte (sent between packets).  Returns
 * KDCOM_OK, KDCOM_ERR_WRONG_ROLE or a fatal error. */
KDCOM_API int kdcom_send_breakin(struct kdcom_link *link);

/* DEBUGGER: starts a new RESET handshake (Ctrl+R in KD).  Data stops
 * flowing until it completes; an outstanding packet is kept and sent again
 * afterwards.  Returns KDCOM_OK, KDCOM_ERR_WRONG_ROLE or a fatal error. */
KDCOM_API int kdcom_resync(struct kdcom_link *link, uint64_t now);

/* TARGET: the message-header length the upper layer receives the next
 * data packet into (KdReceivePacket's MessageHeader->MaximumLength, which
 * splits the payload into message header and data).  From now on a new
 * data packet whose ByteCount is below `len` is not acknowledged and not
 * delivered: it gets a RESEND, the expected id stays, and
 * stats.bad_short counts it, as Windows' and ReactOS's KdReceivePacket
 * refuse it (docs/protocol.md 5.8).  A duplicate is acknowledged whatever
 * its length.  0, the value after kdcom_link_init(), accepts every
 * length; a RESET or a give-up keeps the value; above KDCOM_MAX_PAYLOAD
 * every data packet is refused (no packet can fill such a header).
 * Returns KDCOM_OK, KDCOM_ERR_WRONG_ROLE or a fatal error. */
KDCOM_API int kdcom_expect_header(struct kdcom_link *link, uint32_t len);

/* TARGET: returns 1 and clears the request if a break-in is pending, else
 * 0 (KdPollBreakIn's question), or KDCOM_ERR_WRONG_ROLE / a fatal error. */
KDCOM_API int kdcom_take_breakin(struct kdcom_link *link);

/* DEBUGGER: 1 once the RESET handshake has completed.  TARGET: 1 once the
 * debugger acknowledged a packet since the last give-up (SYNC bit clear).
 * Or a fatal error. */
KDCOM_API int kdcom_is_synced(const struct kdcom_link *link);

/* The link's counters (NULL for NULL or a link never initialised; a
 * closed link keeps them).  Valid as long as the link. */
KDCOM_API const struct kdcom_stats *kdcom_get_stats(
    const struct kdcom_link *link);

/* Id the next data packet we send will carry (for tests and tracing); 0
 * for NULL or a link never initialised. */
KDCOM_API uint32_t kdcom_tx_id(const struct kdcom_link *link);

#ifdef __cplusplus
}
#endif

#endif /* KDCOM_H */
