/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netutil.h - the socket plumbing the test tools share (tests/e2e's
 * faultproxy, kdreplay, kdpeer and resetbomb, tests/dump's kdproxy): a
 * listener on a free loopback port that announces itself, a TCP
 * connection, whole writes, the poll loop of a two-socket relay, one
 * round of a link's I/O on a socket, and a monotonic clock.
 */
#ifndef KDCOM_TEST_NETUTIL_H
#define KDCOM_TEST_NETUTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <kdcom.h>

/* Milliseconds on the monotonic clock. */
uint64_t net_now_ms(void);

/* Listens on 127.0.0.1, a port the system picks, and prints KEY=PORT on
 * stdout (flushed) for the test script.  The listening socket, or -1
 * (errno says why; nothing printed). */
int net_listen_announce(const char *key);

enum {
    NET_NODELAY = 1,  /* TCP_NODELAY on the connected socket */
    NET_NONBLOCK = 2  /* O_NONBLOCK on it */
};

/* Connects to HOST PORT, trying each address the resolver gives in turn,
 * with the NET_* flags.  The socket, or -1. */
int net_connect(const char *host, const char *port, int flags);

/* Writes all n bytes: an interrupted write is retried, a full
 * non-blocking socket waited for.  0, or -1 when the peer is gone. */
int net_write_all(int fd, const void *p, size_t n);

/* The relay loop of a proxy: waits for input on fds[0] and fds[1] and
 * calls ready(ctx, k) when fds[k] has some (or was closed), until ready
 * returns non-zero, poll fails, or *stop (if stop is not NULL) is set;
 * stop is looked at every timeout_ms (-1: only after a signal). */
void net_relay(const int fds[2], int timeout_ms,
               const volatile sig_atomic_t *stop,
               int (*ready)(void *ctx, int k), void *ctx);

/* One round of a link's I/O on fd: writes what the link has, waits for
 * input until `until` or the link's next deadline (200 ms at the most),
 * feeds it (writing the link's answers as it goes), ticks the link.
 * events() is called after each step to take the link's events.  0, or
 * -1 when the connection is gone. */
int net_pump(struct kdcom_link *link, int fd, uint64_t until,
             void (*events)(void));

#endif
