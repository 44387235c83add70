/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdshim.c - kdcom-shim: the VMM side of the VM channel as a daemon.
 *
 * It maps the channel's shared-memory file (the file QEMU's ivshmem-plain
 * device shares with the guest through memory-backend-file,share=on), runs
 * libkdcom's host service on it, and serves the resulting KDCOM TARGET
 * link to a debugger on TCP, a Unix socket or a tty/pty.  To WinDbg it
 * looks like a kernel's serial port.
 *
 * The loop owns all I/O and never blocks on a peer: sockets are
 * non-blocking, input waits in a bounded buffer while the host service
 * holds a packet for the guest, output waits in another.
 *
 * Doorbells and the loop's sleeps: doorbell.c.
 *
 * QEMU's ivshmem-doorbell (--ivshmem-server PATH, ivshmem_server.c): the
 * shim is the device's ivshmem server and peer 0.  It hands the channel
 * file to QEMU as BAR 2, and a guest that writes (0 << 16) | 0 to the
 * Doorbell register makes one of our eventfds readable, which wakes the
 * pselect() at once: another wake source beside the futex doorbell, with
 * the same meaning ("poll the mailbox now").  For a guest that declares
 * the doorbell, the loop then sleeps while idle for --idle-poll or
 * BEAT_MS, whichever is longer (a safety net for a lost ring), and the
 * doorbell thread re-reads the word as rarely.
 *
 * Lifecycle: a debugger may disconnect and another connect at any time (a
 * new connection replaces an old one, or with --takeover refuse is turned
 * away while the old one is alive, and kdcom_vm_host_wire_reset() starts
 * the wire side over for it); the guest may restart, on the same
 * file or a new one (the host service notices a new epoch or a region
 * that read invalid); neither needs the shim restarted.  While no
 * debugger is connected, the link's output is discarded, so droppable
 * packets (DbgPrint) time out as with an absent debugger.
 *
 * Exposure (docs/SECURITY.md section 7): whoever is connected can read and
 * write the guest kernel's memory.  Unix sockets are made owner-only
 * (--mode, --ivshmem-mode widen them), --allow limits TCP peers by
 * address, a non-loopback listener is warned about, every takeover or
 * refusal is logged with the peers' addresses, and TCP keepalive ends a
 * connection whose host vanished.  Start-up opens the endpoint before the
 * channel file, and a failed start removes what it made.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "../common/exutil.h"
#include "../common/pcapng.h"
#include "shim.h"

#define HOT_WINDOW_MS 100
#define HOT_POLL_US 50
#define BEAT_MS 250 /* longest sleep while a request is in progress */

int quiet;
struct ivs_server ivs;

/* The program's state: static, so that the loop's survives the SIGBUS
 * siglongjmp intact. */
static struct shim_opts o;
static struct conn c;
static struct wiretrace wt;
static struct pcapng_writer pcap;
static void *shm;
static size_t size;
static int shm_how, guest_seen = -1, rearm = 1;
static off_t shm_orig;
static uint64_t last_active, restarts_seen, last_progress, next_follow;

void say(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    fputs("kdcom-shim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Printed even with -q: warnings, and who attached to the kernel. */
void warn(const char *fmt, ...)
{
    va_list ap;

    fputs("kdcom-shim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void ivs_log(const char *msg)
{
    say("%s", msg);
}

/* Looks at the channel file again (replaced, resized, whole again). */
static void follow(uint64_t now)
{
    int was_bad = shm_bad;

    follow_shm(o.shm_path, &shm, &size);
    if (shm_bad != was_bad)
        rearm = 1;
    next_follow = now + 250;
}

/* The endpoint first, then the file: a start that fails on the endpoint
 * leaves no file behind, and one that fails later removes what it made
 * (leave()).  0, or -1 after saying why. */
static int start(void)
{
    char err[320];

    if (conn_open(&c, err, sizeof err) != 0)
        goto fail;
    if (map_shm(o.shm_path, o.shm_size, &shm, &size, &shm_how,
                &shm_orig) != 0) {
        shm = NULL;
        return -1;
    }
    if (o.ivs_path != NULL && !ivs_size_ok(size)) {
        fprintf(stderr, "kdcom-shim: %s: %zu bytes is not a power of two: "
                "ivshmem-doorbell maps the file as PCI BAR 2, whose size "
                "must be a power of two (QEMU aborts otherwise); use e.g. "
                "1M\n", o.shm_path, size);
        return -1;
    }
    wt_init(&wt, o.trace, stderr);
    if (o.ivs_path != NULL &&
        ivs_open(&ivs, o.ivs_path, o.ivs_vectors, o.ivs_mode, ivs_log, err,
                 sizeof err) != 0)
        goto fail;
    pcapng_init(&pcap);
    if (o.pcap_path != NULL) {
        if (pcapng_open(&pcap, o.pcap_path, "kdcom-shim", PCAPNG_SIDE_TARGET,
                        err, sizeof err) != 0)
            goto fail;
        wt.pcap = &pcap;
    }
    return 0;
fail:
    fprintf(stderr, "kdcom-shim: %s\n", err);
    return -1;
}

/* What was made, where the shim serves (the line for scripts on stdout),
 * and the warnings about who can reach it. */
static void announce(void)
{
    if (shm_how == SHM_CREATED)
        say("created %s (%zu bytes, mode 0600)", o.shm_path, size);
    else if (shm_how == SHM_GROWN)
        say("grew %s from %lld to %zu bytes (it existed, %s)", o.shm_path,
            (long long)shm_orig, size,
            shm_orig == 0 ? "empty" : "all zeros, too short for a channel");
    else if (o.size_given && size != o.shm_size)
        say("%s exists with %zu bytes and keeps them (--shm-size is the "
            "size of a file the shim creates or grows)", o.shm_path, size);
    if (o.ivs_path != NULL)
        say("ivshmem server on %s (mode %04o): %s (%zu bytes) is BAR 2; the "
            "shim is peer 0", o.ivs_path, o.ivs_mode,
            o.shm_path, size);
    if (c.sp.kind == EP_PTY) {
        printf("KDCOM_SHIM_PTY=%s\n", c.peer);
    } else if (c.sp.listen && c.sp.kind == EP_TCP) {
        int port = ep_local_port(c.lfd);
        int wild = c.sp.host[0] == '\0' || strcmp(c.sp.host, "0.0.0.0") == 0 ||
                   strcmp(c.sp.host, "::") == 0;
        say("%s (%zu bytes) served on tcp %s:%d", o.shm_path, size, c.sp.host,
            port);
        say("attach WinDbg with: windbg -k com:ipport=%d,port=%s", port,
            wild ? "ADDRESS-OF-THIS-HOST" : c.sp.host);
        if (!ep_is_loopback(c.lfd))
            warn("WARNING: tcp %s:%d is not a loopback address: whoever "
                 "can reach it can read and write the guest kernel's "
                 "memory and run or stop it (KDCOM has no authentication "
                 "and no encryption).  %s  See docs/SECURITY.md section 7",
                 c.sp.host, port,
                 o.n_allow > 0 ? "Only --allow's addresses are accepted; "
                               "anyone on the path can still read and "
                               "change the traffic."
                             : "Limit it with --allow ADDR[/BITS], or "
                               "listen on 127.0.0.1 and reach it through "
                               "an SSH tunnel.");
        printf("KDCOM_SHIM_PORT=%d\n", port);
    } else if (c.sp.listen) {
        say("%s served on unix socket %s (mode %04o)", o.shm_path, c.sp.path,
            c.sp.mode);
        if (c.sp.mode & 0007)
            warn("WARNING: unix socket %s has mode %04o: every local user "
                 "can attach a debugger to the guest kernel (read and "
                 "write its memory); see docs/SECURITY.md section 7",
                 c.sp.path, c.sp.mode);
    }
    fflush(stdout);
}

/* Serves until a stop signal: 0, or 1 if waiting failed. */
static int run(int sigfd)
{
    while (!ex_stop_requested()) {
        uint64_t now = ex_now_ms(), deadline;
        if (sigsetjmp(bus_jmp, 0) != 0) {
            sigset_t bus;
            bus_armed = 0;
            sigemptyset(&bus);
            sigaddset(&bus, SIGBUS);
            sigprocmask(SIG_UNBLOCK, &bus, NULL);
            if (!shm_bad)
                say("channel file %s shrank under the mapping; waiting "
                    "for it to be whole", o.shm_path);
            shm_bad = 1;
            next_follow = 0;
            rearm = 1;
            continue;
        }
        if (now >= next_follow)
            follow(now);
        bus_armed = 1;
        struct timespec ts;
        fd_set rd, wr;
        int nfds = sigfd, r, moved, doorbell, followed = 0;

        if (rearm) {
            doorbell_arm(shm_bad ? NULL : shm);
            rearm = 0;
        }
        r = shm_bad ? KDCOM_VM_POLL_NO_GUEST : service(shm, size, now);
        if (r == KDCOM_VM_POLL_NO_GUEST && guest_seen != 0) {
            say("%s", "waiting for a guest to initialise the channel");
            guest_seen = 0;
        } else if (r >= 0 && r != KDCOM_VM_POLL_NO_GUEST) {
            uint64_t rs = kdcom_vm_host_stats(&host)->guest_restarts;
            if (rs != restarts_seen)
                say("%s", "guest restarted");
            else if (guest_seen != 1)
                say("%s", "guest attached");
            guest_seen = 1;
            restarts_seen = rs;
        }
        conn_try_connect(&c);
        moved = conn_shuttle(&c, &wt, shm_bad ? NULL : shm, size, now);
        /* The guest rings: through the futex word, or (a VM) through
         * ivshmem-doorbell's eventfd. */
        doorbell = (doorbell_fd() >= 0 || ivs_connected(&ivs)) && !shm_bad &&
                   (kdcom_vm_host_guest_flags(&host) & KDCOM_VM_GF_DOORBELL);
        /* Following the futex word serves only a guest that wakes it; a
         * VM's next ring arrives on the eventfd, which pselect() sees. */
        if (doorbell && kicked && !ivs_connected(&ivs) &&
            c.in_off == c.in_len && c.out_off == c.out_len)
            followed = follow_guest(shm);
        kicked = 0;
        bus_armed = 0;
        /* Hot polling only while the mailbox moves, and only for a guest
         * without a doorbell: a request that just waits for the debugger
         * needs no polling (its input wakes us). */
        {
            const struct kdcom_vm_stats *vs = kdcom_vm_host_stats(&host);
            uint64_t progress = vs->requests + vs->sends_acked +
                                vs->sends_dropped + vs->received +
                                vs->timeouts + vs->resends;
            if (moved || progress != last_progress)
                last_active = now;
            last_progress = progress;
        }

        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(sigfd, &rd);
        if (doorbell_fd() >= 0) {
            FD_SET(doorbell_fd(), &rd);
            if (doorbell_fd() > nfds)
                nfds = doorbell_fd();
        }
        nfds = ivs_fdset(&ivs, &rd, nfds);
        nfds = conn_fdset(&c, &rd, &wr, nfds);
        /* Sleep, never past a link or service deadline: with a doorbell
         * until the guest rings (at least every BEAT_MS while a request is
         * in progress, so HOST_BEAT moves; when idle, every BEAT_MS or
         * --idle-poll, whichever is longer, to follow the file and to
         * catch a lost ring); without one, briefly while requests flow,
         * --idle-poll when idle. */
        deadline = kdcom_vm_host_next_deadline(&host);
        if (followed) {
            /* The guest posted: serve it at once, after a look at the
             * descriptors (a guest posting without end must not starve
             * the debugger). */
            ts.tv_sec = 0;
            ts.tv_nsec = 0;
        } else if (!doorbell && now - last_active < HOT_WINDOW_MS) {
            ts.tv_sec = 0;
            ts.tv_nsec = HOT_POLL_US * 1000L;
        } else {
            int ms, cap = (int)o.idle_ms;
            if (doorbell && (last_poll == KDCOM_VM_POLL_BUSY ||
                             cap < BEAT_MS))
                cap = BEAT_MS;
            ms = ex_poll_timeout(now, deadline, cap);
            ex_ms_timespec(&ts, (uint64_t)ms);
        }
        r = pselect(nfds + 1, &rd, &wr, NULL, &ts, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kdcom-shim: select: %s\n", strerror(errno));
            return 1;
        }
        if (FD_ISSET(sigfd, &rd))
            ex_signals_drain();
        if (doorbell_fd() >= 0 && FD_ISSET(doorbell_fd(), &rd))
            ex_drain(doorbell_fd()); /* the loop polls anyway */
        /* Rings (the loop polls anyway), a VM leaving, a VM arriving.  A
         * VM gets the channel file as it is now: a replaced or resized
         * file is followed first, even while idle sleeps are long. */
        if (ivs_accept_pending(&ivs, &rd))
            follow(ex_now_ms());
        ivs_handle(&ivs, &rd, shm_bad ? -1 : mapped_fd);
        if (c.lfd >= 0 && FD_ISSET(c.lfd, &rd)) {
            conn_accept(&c, &wt);
            last_active = ex_now_ms();
        }
        if (conn_read(&c, &wt, &rd))
            last_active = ex_now_ms();
    }
    return 0;
}

static void print_stats(void)
{
    host_print_stats();
    conn_print_stats();
    if (ivs.lfd >= 0) {
        const struct ivs_stats *is = ivs_get_stats(&ivs);
        fprintf(stderr, "kdcom-shim: ivshmem: clients=%llu refused=%llu "
                "dropped=%llu rings=%llu\n",
                (unsigned long long)is->clients,
                (unsigned long long)is->refused,
                (unsigned long long)is->dropped,
                (unsigned long long)is->rings);
    }
}

/* Closes everything; after a failed start (failed) also removes what it
 * made: the socket, the file made or grown. */
static void leave(int failed)
{
    if (!failed) {
        if (ex_stop_requested())
            say("%s", "stopping");
        doorbell_stop(shm);
        print_stats();
        pcapng_close(&pcap);
        conn_report_hidden();
    }
    ivs_close(&ivs);
    doorbell_stop(shm);
    conn_close(&c);
    if (shm != NULL)
        unmap_shm(o.shm_path, shm, size, o.unlink_shm,
                  failed ? shm_how : SHM_EXISTING, shm_orig);
}

int main(int argc, char **argv)
{
    int sigfd, rc;

    if ((rc = shim_parse_options(argc, argv, &o)) >= 0)
        return rc;
    quiet = o.quiet;
    memset(&c, 0, sizeof c);
    c.lfd = c.fd = c.keep_slave = -1;
    c.sp = o.sp;
    c.o = &o;
    ivs.lfd = ivs.cfd = -1;
    sigfd = ex_signals_init();
    kdcom_vm_config_init(&vcfg);
    vcfg.receive_timeout_ms = o.rx_timeout;
    vcfg.ack_timeout_ms = o.ack_timeout;
    db_wait_ms = o.idle_ms > 1000 ? o.idle_ms : 1000;
    if (doorbell_start() == 0)
        vcfg.flags |= KDCOM_VM_CFG_KICKS_GUEST;
    if (kdcom_vm_host_init(&host, &vcfg) != KDCOM_OK) {
        fprintf(stderr, "kdcom-shim: host service configuration refused\n");
        doorbell_stop(NULL);
        return 2;
    }
    if (start() != 0) {
        leave(1);
        return 1;
    }
    announce();
    shm_catch_sigbus();
    rc = run(sigfd);
    leave(0);
    return rc;
}
