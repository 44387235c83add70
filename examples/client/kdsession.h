/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdsession.h - a KD debugger session over one KDCOM byte stream: a
 * DEBUGGER-role link, the socket/tty it runs on, and the KD logic a
 * debugger needs on top (state changes, manipulate requests and their
 * replies, DbgPrint, answers to FILE_IO and DbgPrompt).
 *
 * Everything is driven by kds_pump(), which waits in poll() until bytes,
 * a link timer, the caller's deadline or a stop signal: no busy CPU, and
 * no wait without a deadline.
 */
#ifndef KDSESSION_H
#define KDSESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/wiretrace.h"

#define KDS_SENDQ 4
#define KDS_PRINTS 32
#define KDS_REPLY_TIMEOUT_MS 1000 /* defaults of reply_timeout_ms and */
#define KDS_REQUEST_RETRIES 3     /* request_retries */
#define KDS_SETTLE_MS 500         /* settle_ms */
#define KDS_SETTLE_CAP 10         /* kds_settle() waits settle_ms * this
                                     at most */

/* kds_* return values besides 0. */
enum kds_err {
    KDS_ERR_TIMEOUT = -1,  /* the target did not answer in time */
    KDS_ERR_GONE = -2,     /* connection closed or failed */
    KDS_ERR_STOPPED = -3,  /* a stop signal arrived */
    KDS_ERR_STATUS = -4,   /* the target answered with a failure status */
    KDS_ERR_PROTO = -5,    /* the answer was malformed */
    KDS_ERR_INTR = -6      /* interrupted (intr_fd: Ctrl-C) */
};

struct kds_pkt {
    uint32_t type;
    uint32_t len;
    uint8_t buf[KDCOM_MAX_PAYLOAD];
};

struct kds {
    struct kdcom_link link;
    int fd;
    int sigfd;
    int watch_fd;    /* also polled for input (-1: none): stdin */
    int watch_ready; /* set by kds_pump when watch_fd is readable */
    int intr_fd;     /* also polled (-1: none): readable after Ctrl-C */
    int interrupted; /* kds_pump drains it, sets this and returns
                        KDS_ERR_INTR until the caller clears it */
    struct wiretrace *wt;
    FILE *log;   /* transcript lines (stdout) */
    int verbose;
    int line_open; /* a prompt without newline is on the terminal: the
                      next transcript line starts on a line of its own */
    uint64_t t0; /* session start, for transcript times */
    /* output bytes drained from the link, not yet written */
    uint8_t out[8192];
    size_t out_len, out_off;
    /* packets waiting for the link to accept them */
    struct kds_pkt q[KDS_SENDQ];
    unsigned q_head, q_count;
    int in_link_is_manip; /* the link's outstanding packet is our request */
    int peer_restarted;   /* the target numbers afresh while a packet of
                             ours is outstanding: its next packet starts
                             a resynchronisation */
    /* target state */
    int synced;
    int stopped;
    unsigned sc_seq; /* state changes seen */
    unsigned sc_seq_at_sync; /* sc_seq when the link last synchronised */
    uint64_t synced_ms;      /* when it did */
    /* The last sign of a target in motion: a synchronisation (a stopped
     * target answers it with its state change), a state change, a
     * continue it acknowledged.  A stop can follow each of them within
     * settle_ms (a RESET's re-sent state change, the initial breakpoint
     * after a module load, a break-in kept across a continue). */
    uint64_t activity_ms;
    uint64_t print_ms; /* the last DbgPrint: a kernel in motion too (a
                          boot prints before its module load) */
    uint32_t settle_ms;
    uint8_t sc[KDCOM_KD_SC_SIZE];
    uint32_t machine; /* from GetVersion; 0 until known */
    int auto_continue_loads;
    /* the manipulate request in flight */
    uint32_t wait_api;
    uint8_t wait_key[16]; /* request bytes the reply must repeat */
    size_t wait_key_len;
    int reply_ready;
    size_t reply_len;
    uint8_t reply[KDCOM_MAX_PAYLOAD];
    unsigned continues_acked;
    /* a request acknowledged but not answered (kds_manipulate) */
    uint32_t reply_timeout_ms; /* silence after the ACK before a re-send */
    unsigned request_retries;  /* re-sends before a resynchronisation */
    uint64_t manip_acked_ms;   /* when the last request was acknowledged */
    uint64_t last_rx_ms;       /* when the target last sent anything */
    /* DbgPrint output */
    unsigned prints;
    unsigned prints_matched;
    char print_ring[KDS_PRINTS][256];
    int quiet_prints;
    /* counters of KD-level decisions */
    uint64_t unexpected_replies, file_io_answered, get_string_answered,
        ignored_packets, requests_resent, reply_timeouts, resyncs;
};

/* Takes ownership of fd.  sigfd: from ex_signals_init(). */
int kds_init(struct kds *s, int fd, int sigfd, struct wiretrace *wt,
             FILE *log, uint32_t flags);
void kds_close(struct kds *s);

/* Transcript line with a timestamp. */
void kds_say(struct kds *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* One wait in poll() (at most until deadline, absolute ms), then I/O and
 * event handling.  0, KDS_ERR_GONE or KDS_ERR_STOPPED. */
int kds_pump(struct kds *s, uint64_t deadline);

/* Waits for the RESET handshake. */
int kds_sync(struct kds *s, uint32_t timeout_ms);
/* Waits until the target reports a stop (state change). */
int kds_wait_stop(struct kds *s, uint32_t timeout_ms);
/* Lets a stop that may be on its way arrive: serves the link until the
 * target is stopped, or until settle_ms passed since activity_ms without
 * one (then the target is running).  A DbgPrint counts as activity too,
 * but one during the wait does not extend it past settle_ms (a running
 * kernel that prints all the time must not hold it forever), and no
 * wait lasts longer than KDS_SETTLE_CAP * settle_ms.  Call it before
 * deciding that a target is running: a stopped target re-sends its state
 * change only after it handled our RESET, and a break-in sent to a
 * stopped target is kept by it and stops it again after the next
 * continue. */
int kds_settle(struct kds *s);
/* Sends break-in bytes (one per second) until the target stops.  Right
 * after a synchronisation the first one waits for the target's re-sent
 * state change, up to settle_ms. */
int kds_break(struct kds *s, uint32_t timeout_ms);
/* Continue2 with DBG_CONTINUE; returns once the target acknowledged it. */
int kds_continue(struct kds *s, uint32_t timeout_ms);
/* Sends a manipulate request that gets no reply (Continue, Reboot): the
 * target resumes (or goes away); returns once it acknowledged it. */
int kds_send_unanswered(struct kds *s, const uint8_t *req,
                        uint32_t timeout_ms);
/* Sends a manipulate request (56-byte header + data) and waits for the
 * reply with the same ApiNumber.  The request is sent again when the
 * target restarts its wait loop (a new state change), and when it was
 * acknowledged but nothing came back for reply_timeout_ms (the target
 * dropped it, or the reply was lost): as a new packet, request_retries
 * times, then the link is resynchronised and it goes out once more after
 * the target's state change; all within timeout_ms.  The reply lands in
 * s->reply / s->reply_len. */
int kds_manipulate(struct kds *s, const uint8_t *req, const uint8_t *data,
                   size_t dlen, uint32_t timeout_ms);
/* Reads len bytes at addr into buf, in chunks of at most chunk bytes.
 * *done gets the bytes actually read; returns 0 or an error. */
int kds_read(struct kds *s, uint32_t api, uint64_t addr, uint8_t *buf,
             size_t len, size_t chunk, size_t *done, uint32_t timeout_ms);
int kds_write(struct kds *s, uint64_t addr, const uint8_t *buf, size_t len,
              uint32_t timeout_ms);
/* Waits for a DbgPrint whose text contains needle. */
int kds_wait_print(struct kds *s, const char *needle, uint32_t timeout_ms);

const char *kds_strerror(int err);

#endif /* KDSESSION_H */
