/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_backend.h - the seam between the back-end-independent guest code
 * (kd_api.c: the kdcom.dll exports; kd_chan.c: the mailbox client) and the
 * back ends (kd_vm.c; kd_stream.c with a byte port: kd_uart.c or the
 * program's own).  Private to guest/.
 *
 * Every back end speaks the VM channel mailbox (include/kdcom_vm.h).  The
 * vm back end's mailbox is the region shared with the hypervisor; the
 * stream back end's is a private region in guest memory, served in-line
 * by the libkdcom host service, whose TARGET link talks KDCOM over the
 * byte port (the 16550 for the uart back end).  So the kernel-facing
 * semantics live in one place, the host service.
 */
#ifndef KD_BACKEND_H
#define KD_BACKEND_H

#include <stdint.h>

#include "kdguest.h"
#include "kdcom_vm.h"

/* ---- back end hooks (kd_vm.c or kd_stream.c) ---- */

/* Prepares the back end (stream: opens the port, starts the in-guest
 * host service).  Returns 0 or -1. */
int KdgBackendInit(void);
/* The mailbox region and its size, or NULL. */
void *KdgBackendChannel(ULONG *Size);
/* A request was posted. */
void KdgBackendNotify(void);
/* One step of waiting for an answer: word is RSP_SEQ in the region, seen
 * the value just read there (not the answer yet), round the number of
 * steps taken in this wait (vm: the platform's relax hook, or a CPU pause;
 * stream: serve the port and the host service once). */
void KdgBackendIdle(volatile uint32_t *word, uint32_t seen, ULONG round);
/* Serve pending I/O without waiting (stream: as one idle step; vm:
 * nothing).  Called by the clock-tick break-in poll. */
void KdgBackendService(void);

/* ---- mailbox client (kd_chan.c) ---- */

enum kdg_wait {
    KDG_WAIT_BOUNDED = 0, /* at most KdGuestAnswerTimeoutMs */
    KDG_WAIT_BEATING = 1  /* as long as the host beats */
};

enum kdg_rc {
    KDG_ANSWERED = 0,
    KDG_HOST_TIMEOUT = -1, /* no answer: host silent or too slow */
    KDG_BAD_ANSWER = -2,   /* an answer that fails validation */
    KDG_NO_CHANNEL = -3
};

/* An answer, read once out of the region. */
struct kdg_answer {
    uint32_t status, type, head_len, data_len, flags;
};

/* Opens the region: checks size and alignment, (re)initialises the
 * guest-written half with a new epoch.  Returns 0 or KDG_NO_CHANNEL. */
int kdg_chan_open(void *base, ULONG size);
int kdg_chan_ready(void);
/* Payload buffers in the region (KDCOM_VM_BUF_SIZE bytes each). */
uint8_t *kdg_chan_head_buf(void);
uint8_t *kdg_chan_data_buf(void);
/* Posts a request (payload already in the buffers); returns its sequence
 * number. */
uint32_t kdg_chan_post(uint32_t op, uint32_t type, uint32_t head_len,
                       uint32_t data_len, uint32_t arg);
/* Waits for the answer to seq. */
int kdg_chan_wait(uint32_t seq, int mode, struct kdg_answer *ans);
/* 1 if the last wait found the host silent and HOST_BEAT has not moved
 * since (or there is no channel). */
int kdg_chan_host_dead(void);
/* HOST_FLAGS as last published (0 without a channel). */
uint32_t kdg_chan_host_flags(void);

#endif /* KD_BACKEND_H */
