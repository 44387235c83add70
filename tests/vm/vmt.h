/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vmt.h - end-to-end harness for the guest transport: a simulated kernel
 * in a thread calling the kdcom.dll exports (guest/), a DEBUGGER-role
 * libkdcom link in the main thread, and between them either
 *
 *   VMT_VM    the vm back end -> a temporary file mapped twice (guest and
 *             host mappings at different addresses) -> the host service
 *             -> in-memory wire -> DEBUGGER link, or
 *   VMT_UART  the uart back end -> an emulated 16550 over a socketpair ->
 *             DEBUGGER link, or
 *   VMT_UART_PTY  the same over a pseudo-terminal in raw mode (the
 *             emulated 16550 on the master, the debugger on the slave, as
 *             a VMM with a pty serial port and a debugger behind socat):
 *             the tty layer between them, its buffer limits included.
 *
 * The test binary links one back end; vmt.c provides the platform
 * interface for both (guest/kdguest.h).  The file is unlinked as soon as
 * it is mapped and the socketpair or pty closed at the end: nothing is
 * left behind.  Wall-clock time only bounds waits; no test asserts on it.
 */
#ifndef KDCOM_TEST_VMT_H
#define KDCOM_TEST_VMT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"
#include "kdcom_vm.h"
#include "kdguest.h"

enum { VMT_VM = 1, VMT_UART = 2, VMT_UART_PTY = 3 };

#define VMT_REGION (1u << 20) /* as QEMU's size=1M */
#define VMT_MAX_FAIL 256

struct vmt;
typedef void (*vmt_kernel_fn)(struct vmt *v);
/* Called for every debugger event (ev) and, with ev NULL, once per loop. */
typedef void (*vmt_dbg_fn)(struct vmt *v, const struct kdcom_event *ev);

struct vmt {
    int mode;
    /* vm: the shared file, mapped twice */
    uint8_t *guest_map, *host_map;
    size_t size;
    int fd;                /* the shared file (already unlinked) */
    struct kdcom_vm_host host;
    int host_down;         /* 1: the host service is not polled */
    /* uart: the socketpair, or the pty's master (guest) and slave (dbg) */
    int fd_guest, fd_dbg;
    int tty;               /* 1: fds are a pty (read/write, no MSG_PEEK) */
    /* debugger */
    struct kdcom_link dbg;
    volatile int silent;   /* 1: the wire is cut both ways */
    uint8_t to_target[65536];
    size_t to_target_len;
    vmt_dbg_fn script;
    void *user;
    /* the simulated kernel */
    pthread_t th;
    vmt_kernel_fn kernel;
    int guest_done;        /* atomic */
    int phase;             /* atomic: set by the kernel for the script */
    int phase_ack;         /* atomic: the script acted on phase */
    int stop;              /* atomic: the kernel must return soon */
    char fail[VMT_MAX_FAIL];
};

/* Sets up mode's plumbing and the debugger link.  0 or -1. */
int vmt_open(struct vmt *v, int mode);
void vmt_close(struct vmt *v);
/* The host side alone, on an inherited descriptor of the shared file (the
 * other process of the two-process test). */
int vmt_attach_host(struct vmt *v, int fd, size_t size);

/* Starts kernel in a thread and runs the debugger side until it returns
 * or timeout_ms passes.  Returns 0 if the kernel finished in time, -1 if
 * not: then `stop` is set, the wire and host are restored, and the kernel
 * (whose loops check `stop`) is given 10 s more before the process
 * aborts, so a broken guest fails the test instead of hanging it. */
int vmt_run(struct vmt *v, vmt_kernel_fn kernel, vmt_dbg_fn script,
            unsigned timeout_ms);

/* vmt_run in a cmocka test: it must return 0 and the kernel thread must
 * have recorded no failure (vmt_failf); either fails the test. */
void vmt_run_ok(struct vmt *v, vmt_kernel_fn kernel, vmt_dbg_fn script,
                unsigned timeout_ms);

/* One round of the debugger side (host service, wire, debugger link);
 * returns 1 if bytes moved. */
int vmt_step(struct vmt *v, uint64_t now);

/* Monotonic milliseconds. */
uint64_t vmt_ms(void);

/* Records the first failure seen by the kernel thread. */
void vmt_failf(struct vmt *v, const char *fmt, ...);
#define VMT_CHECK(v, cond)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            vmt_failf((v), "%s:%d: %s", __FILE__, __LINE__, #cond);          \
    } while (0)

int vmt_get(const int *p);
void vmt_set(int *p, int val);

/* The standard scenario (vmt_scenario.c): state changes and
 * manipulate-state round trips, DbgPrint, break-ins, a RESET storm and
 * debugger silence, for either back end. */
void vmt_std_kernel(struct vmt *v);
void vmt_std_debugger(struct vmt *v, const struct kdcom_event *ev);
/* Kernel side phase handshake: sets phase and waits (bounded) for the
 * script to acknowledge it.  0 or -1. */
int vmt_phase(struct vmt *v, int phase);

#define VMT_ROUNDS 8
struct vmt_std {
    /* debugger side (main thread) */
    unsigned rounds_done, prints, reads_ok, writes_ok, bad;
    unsigned storm_started, storm_left, storm_resets, silence_checked;
    unsigned breakins_sent, ccp_breakin_sent;
    uint64_t silence_until, storm_next;
    unsigned state_changes[VMT_ROUNDS + 1];
    uint32_t expect_len, expect_hash;
    int pend;             /* a request waits for kdcom_can_send() */
    uint32_t pend_type, pend_hlen, pend_dlen;
    uint8_t pend_head[56], pend_data[4000];
    /* kernel side (guest thread; read after it finished) */
    unsigned k_resends, k_timeouts, k_ccp, k_polls;
};

/* The standard scenario in a cmocka test, on v as vmt_open left it (the
 * wire is cut until the kernel's phase 2), with s for its counts: runs it
 * (vmt_run_ok) and asserts what every back end must show.  The caller
 * checks what is particular to its back end. */
void vmt_std_run(struct vmt *v, struct vmt_std *s);

#endif /* KDCOM_TEST_VMT_H */
