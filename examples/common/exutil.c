/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exutil.c - clock, signals, number parsing and fd flags for the example
 * programs (see exutil.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "exutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_sig;
static int sig_pipe[2] = {-1, -1};
static int intr_pipe[2] = {-1, -1}; /* ex_signal_to_pipe() */

uint64_t ex_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ex_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One byte into the pipe write end fd: a poll() on the read end wakes. */
static void poke(int fd, int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (fd >= 0 && write(fd, &c, 1) < 0) {
        /* pipe full: a wake-up is already pending */
    }
    errno = saved;
}

static void on_signal(int sig)
{
    stop_sig = sig;
    poke(sig_pipe[1], sig);
}

static void on_intr(int sig)
{
    poke(intr_pipe[1], sig);
}

void ex_on_signal(int sig, void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* A pipe whose ends do not block and do not survive exec. */
static int make_pipe(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    ex_set_nonblock(p[0]);
    ex_set_nonblock(p[1]);
    return 0;
}

int ex_signals_init(void)
{
    if (sig_pipe[0] < 0 && make_pipe(sig_pipe) != 0)
        return -1;
    ex_on_signal(SIGINT, on_signal);
    ex_on_signal(SIGTERM, on_signal);
    ex_on_signal(SIGHUP, on_signal);
    ex_on_signal(SIGPIPE, SIG_IGN);
    return sig_pipe[0];
}

int ex_signal_to_pipe(int sig)
{
    if (intr_pipe[0] < 0 && make_pipe(intr_pipe) != 0)
        return -1;
    ex_on_signal(sig, on_intr);
    return intr_pipe[0];
}

void ex_drain(int fd)
{
    char buf[64];

    while (fd >= 0 && read(fd, buf, sizeof buf) > 0) {
    }
}

int ex_stop_requested(void)
{
    return (int)stop_sig;
}

void ex_signals_drain(void)
{
    ex_drain(sig_pipe[0]);
}

int ex_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int ex_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (ex_parse_u64(s, &v) != 0 || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int ex_parse_size(const char *s, uint64_t *out)
{
    char buf[64];
    size_t n;
    unsigned shift = 0;
    uint64_t v;

    if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    switch (buf[n - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: break;
    }
    if (shift != 0)
        buf[n - 1] = '\0';
    if (ex_parse_u64(buf, &v) != 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

int ex_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

void ex_ms_timespec(struct timespec *ts, uint64_t ms)
{
    ts->tv_sec = (time_t)(ms / 1000);
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

int ex_poll_timeout(uint64_t now, uint64_t deadline, int cap_ms)
{
    uint64_t d;

    if (deadline == UINT64_MAX)
        return cap_ms;
    if (deadline <= now)
        return 0;
    d = deadline - now;
    if (cap_ms >= 0 && d > (uint64_t)cap_ms)
        return cap_ms;
    return d > INT_MAX ? INT_MAX : (int)d;
}

void ex_sleep_ms(unsigned ms)
{
    struct pollfd p;

    p.fd = sig_pipe[0];
    p.events = POLLIN;
    p.revents = 0;
    if (!stop_sig)
        poll(&p, sig_pipe[0] >= 0 ? 1 : 0, (int)ms);
}
