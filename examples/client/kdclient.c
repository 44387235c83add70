/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdclient.c - kdcom-client: a KD debugger client on libkdcom's DEBUGGER
 * role.  Connects to (or waits for) any KDCOM target, synchronises, and
 * runs the commands given on its command line, then, with -i, the ones
 * typed on stdin: version, memory reads and writes, registers, control
 * space, breakpoints, break-in, continue, DbgPrint monitoring, bulk-read
 * throughput, in its own words and in WinDbg's (g, r, db, eb, ...).
 * Every argument is checked before anything is connected.
 * Run with --help for the manual.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>

#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "../common/pcapng.h"
#include "../common/wiretrace.h"
#include "client.h"

struct kds sess;

static int open_endpoint(const struct ep_spec *sp, const struct opts *o,
                         int sigfd)
{
    char err[256], desc[300];
    int fd;

    if (!sp->listen) {
        fd = ep_open(sp, o->connect_timeout ? (int)o->connect_timeout : -1,
                     err, sizeof err);
        if (fd < 0)
            fprintf(stderr, "kdcom-client: %s\n", err);
        return fd;
    } else {
        int lfd = ep_listen(sp, err, sizeof err);
        uint64_t end = o->connect_timeout ? ex_now_ms() + o->connect_timeout
                                          : UINT64_MAX;
        char peer[160];
        if (lfd < 0) {
            fprintf(stderr, "kdcom-client: %s\n", err);
            return -1;
        }
        if (sp->kind == EP_TCP)
            printf("listening on %s:%d\n", sp->host, ep_local_port(lfd));
        else
            printf("listening on %s\n", ep_describe(sp, desc, sizeof desc));
        fflush(stdout);
        for (;;) {
            struct pollfd p[2];
            p[0].fd = lfd;
            p[0].events = POLLIN;
            p[1].fd = sigfd;
            p[1].events = POLLIN;
            p[0].revents = p[1].revents = 0;
            if (ex_stop_requested() || ex_now_ms() >= end) {
                fprintf(stderr, "kdcom-client: no target connected\n");
                fd = -1;
                break;
            }
            poll(p, 2, ex_poll_timeout(ex_now_ms(), end, 1000));
            fd = ep_accept(lfd, peer, sizeof peer);
            if (fd >= 0) {
                if (!o->quiet)
                    printf("target connected from %s\n", peer);
                break;
            }
        }
        close(lfd);
        if (sp->kind == EP_UNIX)
            unlink(sp->path);
        return fd;
    }
}

int main(int argc, char **argv)
{
    static struct cmd scratch;
    struct opts o;
    struct ep_spec sp;
    struct wiretrace wt;
    struct pcapng_writer pcap;
    char err[320];
    int i, first, fd, sigfd, rc;

    if ((rc = cl_parse_options(argc, argv, &o, &i)) >= 0)
        return rc;
    if (i >= argc) {
        fprintf(stderr, "kdcom-client: missing ENDPOINT (see --help)\n");
        return EXIT_USAGE;
    }
    if (ep_parse(argv[i], &sp, err, sizeof err) != 0 || sp.kind == EP_PTY) {
        fprintf(stderr, "kdcom-client: %s\n",
                sp.kind == EP_PTY ? "a client cannot create a pty; use "
                                    "tty:/dev/pts/N" : err);
        return EXIT_USAGE;
    }
    /* Every command and argument is checked before anything connects. */
    first = i + 1;
    for (i = first; i < argc;)
        if (cl_parse_cmd(argc, argv, &i, &scratch, 0) != 0)
            return EXIT_USAGE;
    wt_init(&wt, o.trace, stderr);
    pcapng_init(&pcap);
    if (o.pcap != NULL) {
        if (pcapng_open(&pcap, o.pcap, "kdcom-client", PCAPNG_SIDE_DEBUGGER,
                        err, sizeof err) != 0) {
            fprintf(stderr, "kdcom-client: %s\n", err);
            return EXIT_USAGE;
        }
        wt.pcap = &pcap;
    }
    sigfd = ex_signals_init();
    fd = open_endpoint(&sp, &o, sigfd);
    if (fd < 0) {
        pcapng_close(&pcap);
        return EXIT_CONN;
    }
    kds_init(&sess, fd, sigfd, &wt, o.quiet ? NULL : stdout,
             o.breakin ? KDCOM_CFG_BREAKIN_ON_SYNC : 0);
    sess.verbose = o.verbose;
    sess.auto_continue_loads = !o.stay_stopped;
    sess.reply_timeout_ms = o.reply_timeout;
    sess.request_retries = o.retries;
    sess.settle_ms = o.settle;
    kds_say(&sess, "connected (%s), synchronising",
            ep_describe(&sp, err, sizeof err));
    rc = kds_sync(&sess, o.sync_timeout);
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: no RESET answer from the target: %s\n",
                kds_strerror(rc));
        kds_close(&sess);
        pcapng_close(&pcap);
        return EXIT_CONN;
    }
    rc = 0;
    if (o.breakin && (rc = kds_break(&sess, o.timeout)) != 0)
        rc = cl_fail("break", rc);
    if (rc == 0 && o.bench_size != 0)
        rc = cl_bench_kernel(&o);
    if (rc == 0 && first >= argc && !o.interactive && o.bench_size == 0)
        rc = cl_serve(0); /* no commands: monitor until a signal */
    if (rc == 0) {
        int failed = 0;
        for (i = first; i < argc;) {
            if (cl_parse_cmd(argc, argv, &i, &scratch, 0) != 0) {
                rc = EXIT_USAGE; /* checked above: cannot happen */
                break;
            }
            rc = cl_exec(&o, &scratch);
            if (rc == 0)
                continue;
            if (!o.keep_going || rc == EXIT_CONN || ex_stop_requested())
                break;
            failed = 1;
            rc = 0;
        }
        if (rc == 0 && failed)
            rc = EXIT_FAILED;
    }
    /* A signal that cut a command short already made it fail; one that
     * ends monitoring or an interactive session is the normal way out.
     * Commands that failed before -i (with -k) count in its status. */
    if (o.interactive && (rc == 0 || (o.keep_going && rc == EXIT_FAILED)) &&
        !ex_stop_requested())
        rc = cl_interactive(&o, rc);
    kds_close(&sess);
    pcapng_close(&pcap);
    return rc;
}
