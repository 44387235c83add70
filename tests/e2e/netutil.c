/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netutil.c - the socket plumbing the test tools share: a loopback
 * listener that prints its port, TCP connections, whole writes, a relay's
 * poll loop, one round of a link's I/O, the monotonic clock
 * (netutil.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t net_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int net_listen_announce(const char *key)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), e;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    printf("%s=%u\n", key, (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

int net_connect(const char *host, const char *port, int flags)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0 && (flags & NET_NODELAY))
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd >= 0 && (flags & NET_NONBLOCK))
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int net_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf;
            pf.fd = fd;
            pf.events = POLLOUT;
            pf.revents = 0;
            poll(&pf, 1, 100);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

void net_relay(const int fds[2], int timeout_ms,
               const volatile sig_atomic_t *stop,
               int (*ready)(void *ctx, int k), void *ctx)
{
    while (stop == NULL || !*stop) {
        struct pollfd pf[2];
        int k;

        for (k = 0; k < 2; k++) {
            pf[k].fd = fds[k];
            pf[k].events = POLLIN;
            pf[k].revents = 0;
        }
        if (poll(pf, 2, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (k = 0; k < 2; k++)
            if ((pf[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
                ready(ctx, k) != 0)
                return;
    }
}

int net_pump(struct kdcom_link *link, int fd, uint64_t until,
             void (*events)(void))
{
    uint8_t buf[16384], out[4096];
    struct pollfd pf;
    uint64_t now = net_now_ms(), d = kdcom_next_deadline(link);
    int n, tmo;
    ssize_t r;

    while ((n = kdcom_drain(link, now, buf, sizeof buf)) > 0)
        if (net_write_all(fd, buf, (size_t)n) != 0)
            return -1;
    events();
    if (d > until)
        d = until;
    tmo = d <= now ? 0 : (d - now > 200 ? 200 : (int)(d - now));
    pf.fd = fd;
    pf.events = POLLIN;
    pf.revents = 0;
    if (poll(&pf, 1, tmo) > 0) {
        r = read(fd, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            return -1;
        if (r > 0) {
            size_t off = 0;
            while (off < (size_t)r) {
                int used = kdcom_feed(link, net_now_ms(), buf + off,
                                      (size_t)r - off);
                if (used < 0)
                    return -1;
                off += (size_t)used;
                events();
                /* feeding pauses when the control queue fills up */
                while ((n = kdcom_drain(link, net_now_ms(), out,
                                        sizeof out)) > 0)
                    if (net_write_all(fd, out, (size_t)n) != 0)
                        return -1;
            }
        }
    }
    kdcom_tick(link, net_now_ms());
    events();
    return 0;
}
