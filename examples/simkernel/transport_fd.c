/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport_fd.c - the simulated kernel's serial line over an endpoint
 * (see transport_fd.h).
 *
 * It is a wire and nothing more: no KDCOM rule lives here.  The kernel
 * side of kdcom.dll (which packets are given up, RESEND after a RESET,
 * break-ins, receive timeouts) is guest/'s transport and the libkdcom
 * host service inside it, whatever carries the bytes.
 *
 * What a wire knows is who is at its other end.  A listening endpoint
 * accepts one debugger at a time, without waiting (the caller polls:
 * reads are non-blocking), and says so once through fdtr_read(), so the
 * transport can start the new session clean.  When the debugger hangs up
 * (end of file, or a read or write error) the line is closed and the
 * listener waits for the next one; the wire trace forgets half-seen
 * frames.  A tty, a pty or a connection we made stays as it is: a pty
 * master reads EIO while no one has the slave open, which is "no data",
 * and a dead connection is only slept on, so a kernel that waits for it
 * costs no CPU.
 */
#define _POSIX_C_SOURCE 200809L
#include "transport_fd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "backend.h"
#include "simep.h"

static int lfd = -1, cfd = -1, keep_slave = -1;
static struct wiretrace *trace;
/* the connection we made, or the tty, ended: do not poll it */
static int dead;

int backend_has_wire(void)
{
    return 1;
}

int backend_setup(const char *target, struct wiretrace *wt)
{
    struct ep_spec sp;
    char err[256];

    trace = wt;
    if (ep_parse(target, &sp, err, sizeof err) != 0 ||
        simep_open(&sp, &lfd, &cfd, &keep_slave, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", backend_program(), err);
        return -1;
    }
    return 0;
}

void backend_close(void)
{
    simep_close(&lfd, &cfd, &keep_slave);
}

/* The debugger went away (n, err: the read or write that said so). */
static void hang_up(long n, int err)
{
    char why[160];

    if (lfd < 0) {
        dead = 1; /* a tty or a connect endpoint stays as it is */
        return;
    }
    if (!backend_quiet)
        fprintf(stderr, "%s: debugger %s\n", backend_program(),
                ep_end_reason(n, err, why, sizeof why));
    close(cfd);
    cfd = -1;
    if (trace != NULL)
        wt_reset(trace);
}

/* A stop signal ends the process at once (simkernel.c).  Between a
 * read() or write() and the trace of its bytes it waits, so a trace never
 * misses bytes that crossed the wire: a debugger may act on a reply and
 * the kernel be stopped before the line is printed otherwise.  Without a
 * trace or capture there is nothing to wait for. */
static void hold_stop_signals(int hold, sigset_t *old)
{
    sigset_t set;

    if (trace == NULL || (trace->mode == WT_OFF && trace->pcap == NULL))
        return; /* nothing is traced: nothing to keep together */
    if (!hold) {
        sigprocmask(SIG_SETMASK, old, NULL);
        return;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, old);
}

long fdtr_read(uint8_t *buf, size_t cap)
{
    sigset_t old;
    ssize_t n;

    if (cfd < 0 && lfd >= 0) {
        cfd = ep_accept(lfd, NULL, 0);
        if (cfd >= 0)
            return FDTR_NEW_PEER;
    }
    if (cfd < 0 || dead || cap == 0)
        return 0;
    hold_stop_signals(1, &old);
    n = read(cfd, buf, cap);
    if (n > 0)
        wt_bytes(trace, 1, buf, (size_t)n);
    hold_stop_signals(0, &old);
    if (n > 0)
        return (long)n;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR && errno != EIO))
        hang_up((long)n, n < 0 ? errno : 0);
    return 0;
}

size_t fdtr_write(const uint8_t *buf, size_t len)
{
    sigset_t old;
    ssize_t w;

    if (cfd < 0 || dead)
        return len; /* no cable: the bytes leave the UART anyway */
    hold_stop_signals(1, &old);
    w = write(cfd, buf, len);
    if (w > 0)
        wt_bytes(trace, 0, buf, (size_t)w);
    hold_stop_signals(0, &old);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            hang_up(-1, errno);
            return len;
        }
        return 0;
    }
    return (size_t)w;
}

void fdtr_wait(int ms, int out)
{
    struct pollfd p;

    p.fd = cfd >= 0 && !dead ? cfd : lfd;
    p.events = (short)(POLLIN | (out && p.fd == cfd ? POLLOUT : 0));
    p.revents = 0;
    if (p.fd < 0)
        ex_sleep_ms((unsigned)ms);
    else
        poll(&p, 1, ms);
}
