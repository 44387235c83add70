/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim.h - a deterministic lossy-link simulator for libkdcom: a DEBUGGER
 * link and a TARGET link joined by two one-way "wires" that drop,
 * duplicate, corrupt and inject bytes, driven by a KD-style request /
 * response workload and checked for exactly-once, in-order delivery.
 *
 * Everything is reproducible from the seed: one xorshift64* generator
 * decides every fault, size and payload, and time is a virtual clock in
 * milliseconds that jumps straight to the next deadline when nothing
 * moves.  No wall clock, no rand(), no threads, no I/O.
 *
 * The workload follows KD's rule that makes the target's implicit ACK
 * sound: the target sends packet k and waits for its ACK and for one reply
 * from the debugger before it sends packet k+1; the debugger answers every
 * packet it receives with one reply.  Every payload of 8 bytes or more
 * starts with its sequence number and a hash over type, length, sequence
 * number and the rest of the payload, so the checker can tell lost,
 * duplicated, reordered and corrupted deliveries apart.  Shorter payloads
 * (0..7 bytes) cannot carry that; they are recognised by comparing them
 * with the packets the sender produced (every payload is a pure function of
 * seed, direction and sequence number).
 *
 * Memory: struct sim is about 530 KiB (two wire rings, two links, two
 * delivery maps).  Make it static or allocate it; do not put it on a small
 * stack.
 */
#ifndef KDCOM_TEST_SIM_H
#define KDCOM_TEST_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "kdcom.h"

/* Rates are in parts per million (0 = never, 1000000 = always). */
#define SIM_PPM 1000000u

/* Wire capacity: bytes in flight and writes in flight per direction.  A
 * write that does not fit is dropped and counted in overflow_writes. */
#define SIM_WIRE_CAP 65536u
#define SIM_SEG_CAP 4096u
/* Largest write or read the simulator makes. */
#define SIM_MAX_IO 8192u
/* Packets per direction the delivery map can follow. */
#define SIM_MAX_PACKETS 65536u

/* What a wire does to the bytes written into it. */
struct sim_faults {
    /* per byte */
    uint32_t drop_ppm;    /* the byte vanishes */
    uint32_t dup_ppm;     /* the byte arrives twice */
    uint32_t flip_ppm;    /* one random bit of the byte is inverted */
    uint32_t noise_ppm;   /* a random byte is inserted before it */
    uint32_t breakin_ppm; /* a 'b' is inserted before it */
    uint32_t leader_ppm;  /* a 0x30 or 0x69 is inserted before it */
    /* per write (one kdcom_drain() result) */
    uint32_t chunk_drop_ppm;  /* the whole write is lost */
    uint32_t chunk_dup_ppm;   /* the whole write arrives twice in a row */
    uint32_t chunk_split_ppm; /* the write arrives in two parts, the second
                                 1..split_gap_ms later */
    /* Bit flips that would land in a frame's type or id field (the header
     * bytes no checksum covers) are not applied.  The draws still happen,
     * so up to the first such flip a run is the same as the unprotected
     * one with the same seed, and after it the faults keep their rates. */
    int protect_uncovered;
};

struct sim_config {
    uint64_t seed;
    struct sim_faults t2d; /* target -> debugger wire */
    struct sim_faults d2t; /* debugger -> target wire */
    uint32_t max_write;    /* drain caps drawn from 1..max_write */
    uint32_t max_read;     /* feed sizes drawn from 1..max_read */
    uint32_t latency_ms;   /* fixed one-way delay */
    uint32_t jitter_ms;    /* extra random delay 0..jitter_ms (order kept) */
    uint32_t split_gap_ms; /* largest gap inside a split write */
    uint32_t min_payload;  /* payload sizes drawn from min..max */
    uint32_t max_payload;  /* (at most KDCOM_MAX_PAYLOAD) */
    uint32_t reply_stall_ms; /* the target stops waiting for a reply after
                                this long (counted in reply_stalls; only
                                happens when a packet was lost) */
    struct kdcom_config target;   /* link configurations */
    struct kdcom_config debugger;
    /* KD's DbgPrint rules (both 0 by default):
     * kd_prints: a DEBUG_IO packet from the target is a print; the
     *   debugger does not answer it and the target does not wait for an
     *   answer;
     * give_up_prints: on RETRIES_EXHAUSTED for a print the target gives up
     *   (kdcom_cancel_send(), what kdcom.dll does with a DbgPrint nobody
     *   acknowledges).  Such a packet counts in given_up; if it never
     *   arrives it is not counted as lost (dropping it is the design). */
    uint32_t kd_prints;
    uint32_t give_up_prints;
    /* Diagnosis: when set, one line per uncovered-header flip and per
     * duplicate, reordered or lost packet, with the virtual time. */
    FILE *trace;
};

/* Counters of one wire. */
struct sim_wire_stats {
    uint64_t writes;       /* writes offered to the wire */
    uint64_t bytes_in;     /* bytes offered */
    uint64_t bytes_out;    /* bytes put on the wire after faults */
    uint64_t dropped, duplicated, flipped, noise, breakins, leaders;
    uint64_t writes_dropped, writes_duplicated, writes_split;
    uint64_t overflow_writes; /* lost because the wire was full */
    /* Faults that hit the header fields no checksum covers (bytes 4..5,
     * type, and 8..11, id, of a frame as the sender wrote it): */
    uint64_t uncovered_flips;     /* flips applied there */
    uint64_t uncovered_protected; /* flips not applied (protect_uncovered) */
    uint64_t track_lost;          /* bytes the frame tracker could not place
                                     (0 unless a link writes malformed
                                     output) */
};

/* The checker's verdict on one direction. */
struct sim_dir_results {
    uint64_t sent;       /* packets the sender handed to kdcom_send() */
    uint64_t delivered;  /* intact deliveries, first time, in order */
    uint64_t lost;       /* sent, never delivered intact */
    uint64_t replaced;   /* ... of which a corrupted delivery took the
                            place of (it came while the checker expected
                            that packet, and was acknowledged for it) */
    uint64_t duplicated; /* intact deliveries of a packet already delivered */
    uint64_t reordered;  /* intact first deliveries after a later packet */
    uint64_t corrupted;  /* deliveries that match no packet sent */
    uint64_t payload_bytes; /* payload bytes of the intact deliveries */
    uint64_t given_up;   /* packets the sender cancelled (give_up_prints) */
};

struct sim_results {
    struct sim_dir_results t2d; /* target -> debugger */
    struct sim_dir_results d2t; /* debugger -> target */
    struct sim_wire_stats wire_t2d, wire_d2t;
    uint64_t retransmissions;   /* both links' stats.retransmits */
    uint64_t resets_target;     /* KDCOM_EV_RESET at the target */
    uint64_t resets_debugger;   /* KDCOM_EV_RESET at the debugger */
    uint64_t syncs;             /* KDCOM_EV_SYNCED at the debugger */
    uint64_t resends;           /* KDCOM_EV_RESEND, both links */
    uint64_t breakins;          /* KDCOM_EV_BREAKIN at the target */
    uint64_t retries_exhausted; /* KDCOM_EV_RETRIES_EXHAUSTED, both */
    uint64_t reply_stalls;      /* the target gave up waiting for a reply */
    uint64_t wire_bytes;        /* bytes that crossed both wires */
    uint64_t virtual_ms;        /* virtual time the run took */
    int completed;              /* 1: every packet exchanged in time */
    int error;                  /* a libkdcom call failed (its code) or
                                   the simulation stopped making progress
                                   (SIM_ERR_STUCK); 0 normally */
    struct kdcom_stats target;  /* the links' counters at the end */
    struct kdcom_stats debugger;
};

#define SIM_ERR_STUCK (-1000)

/* Follows the sender's output (before the faults) frame by frame, so
 * that a fault can be told where in a frame it landed. */
struct sim_track {
    uint32_t pos;   /* bytes of the current frame seen; 0: between frames */
    uint32_t type;  /* its type, as written */
    uint32_t count; /* its ByteCount */
    int data;       /* it has a data leader */
};

struct sim_wire {
    uint8_t buf[SIM_WIRE_CAP]; /* byte ring */
    struct sim_track track;
    uint64_t gap;     /* fault-free bytes before the next faulted one */
    int gap_set;      /* gap holds a draw */
    uint32_t head, count;
    uint64_t seg_at[SIM_SEG_CAP];  /* delivery time of each write */
    uint32_t seg_len[SIM_SEG_CAP]; /* bytes of it still on the wire */
    uint32_t seg_head, seg_count;
    uint64_t last_at;              /* keeps deliveries in order */
    struct sim_wire_stats st;
};

/* Per-direction bookkeeping of the checker. */
struct sim_dir {
    uint32_t sent;     /* packets sent so far (sequence numbers 0..sent-1) */
    uint32_t expect;   /* next sequence number expected in order */
    uint8_t seen[SIM_MAX_PACKETS]; /* intact deliveries per packet (sat.) */
    uint8_t given_up[SIM_MAX_PACKETS]; /* the sender cancelled it */
    uint8_t replaced[SIM_MAX_PACKETS]; /* a corrupted delivery came while
                                          it was the one expected */
    uint64_t sent_at[SIM_MAX_PACKETS]; /* virtual time of kdcom_send() */
    struct sim_dir_results r;
};

struct sim {
    struct sim_config cfg;
    uint64_t rng;
    uint64_t now;
    uint32_t goal; /* packets the target sends */
    struct kdcom_link target, debugger;
    struct sim_wire t2d, d2t;
    struct sim_dir dir_t2d, dir_d2t;
    /* target driver */
    int t_wait_ack, t_wait_reply;
    uint32_t t_type; /* type of the target's outstanding packet */
    uint64_t t_reply_since;
    /* debugger driver */
    uint32_t d_replies_due;
    struct sim_results res;
    /* work buffers */
    uint8_t wire_tmp[2 * SIM_MAX_IO]; /* a write after the fault model */
    uint8_t io_buf[SIM_MAX_IO];       /* one kdcom_drain() result */
    uint8_t pkt_out[KDCOM_MAX_PAYLOAD]; /* the packet being sent */
    uint8_t pkt_ref[KDCOM_MAX_PAYLOAD]; /* the checker's reference */
};

/* Defaults: no faults, writes and reads of 1..4096 bytes, no latency,
 * payloads of 0..4000 bytes, default link configurations with an
 * unlimited retry budget (retry_limit 0). */
void sim_config_init(struct sim_config *cfg, uint64_t seed);

/* Prepares a simulation.  Returns 0, or a negative kdcom_err when a link
 * configuration is refused. */
int sim_init(struct sim *s, const struct sim_config *cfg);

/* Runs until the target has sent `packets_each_way` packets (at most
 * SIM_MAX_PACKETS) and got an answer to each, or until max_virtual_ms of
 * virtual time has passed.  The debugger answers each packet it receives.
 * Returns 0 when the exchange completed, 1 when time ran out, or a
 * negative error (also stored in results.error).  Fills the results. */
int sim_run(struct sim *s, uint32_t packets_each_way, uint64_t max_virtual_ms);

const struct sim_results *sim_results(const struct sim *s);

/* Writes the results as "key value" lines (for logs and the soak run). */
void sim_print_results(const struct sim_results *r, FILE *out);

/* The generator itself, for tests that want reproducible randomness. */
uint64_t sim_rand(uint64_t *state);

#endif /* KDCOM_TEST_SIM_H */
