/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * debugger.c - kdcom-shim's debugger side: the endpoint (a listener that
 * accepts, a debugger it connects to and reconnects, a tty or a pty), who
 * may attach (--allow, --takeover, each refusal logged and rate-limited),
 * TCP keepalive for a debugger whose host vanished, and the bytes between
 * the debugger and the host service.  A new debugger starts the wire side
 * over; while none is connected the link's output is discarded.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/exutil.h"
#include "shim.h"

#define RECONNECT_MS 1000

/* Who attached, or was refused (--allow, --takeover). */
static struct {
    uint64_t accepted, replaced, refused_allow, refused_takeover;
    uint64_t log_window, log_lines, log_hidden; /* refusal lines */
} conns;

/* A debugger that vanished without closing its TCP connection (its host
 * crashed, slept or lost the network) counts as gone after this long
 * without a sign of life: keepalive probes after KEEPALIVE_IDLE_S of
 * silence, every KEEPALIVE_INTVL_S. */
#define KEEPALIVE_IDLE_S 10
#define KEEPALIVE_INTVL_S 5
#define PEER_TIMEOUT_MS 30000

/* A refused connection: logged, at most 10 lines per 10 s (whoever can
 * reach the port must not be able to flood the log); the rest are
 * counted, and the count is logged with the next line. */
static void refused(const char *what, const char *peer, const char *why)
{
    uint64_t now = ex_now_ms();

    if (now - conns.log_window >= 10000) {
        conn_report_hidden();
        conns.log_window = now;
        conns.log_lines = conns.log_hidden = 0;
    }
    if (conns.log_lines++ < 10)
        warn("refused %s from %s: %s", what, peer, why);
    else
        conns.log_hidden++;
}

static void drop_quietly(struct conn *c, struct wiretrace *wt)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    c->next_connect = ex_now_ms() + RECONNECT_MS;
    wt_reset(wt);
}

static void drop(struct conn *c, struct wiretrace *wt, const char *why)
{
    if (c->fd < 0)
        return;
    say("debugger %s", why);
    drop_quietly(c, wt);
}

/* A new peer: the wire side starts over, so its first bytes never land in
 * a packet the old peer left half-sent, and the first bytes it gets begin
 * a frame. */
static void attached(struct conn *c, int fd, const char *peer)
{
    size_t n;

    c->fd = fd;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    n = strnlen(peer, sizeof c->peer - 1); /* cut to the field */
    memcpy(c->peer, peer, n);
    c->peer[n] = '\0';
    kdcom_vm_host_wire_reset(&host, ex_now_ms());
    say("debugger connected (%s)", peer);
}

/* A connection on the listening socket: checked against --allow, then
 * against the debugger already attached (--takeover). */
void conn_accept(struct conn *c, struct wiretrace *wt)
{
    char peer[160];
    int fd = ep_accept(c->lfd, peer, sizeof peer);

    if (fd < 0)
        return;
    if (c->o->n_allow > 0 &&
        !ep_allow_peer(c->o->allow, c->o->n_allow, fd)) {
        conns.refused_allow++;
        refused("a debugger connection", peer, "not in --allow");
        close(fd);
        return;
    }
    /* A debugger that has just gone (its close not read yet) is no
     * reason to refuse the next one. */
    if (c->fd >= 0 && ep_peer_gone(c->fd))
        drop(c, wt, "disconnected");
    if (c->fd >= 0 && c->o->takeover == TAKEOVER_REFUSE) {
        char why[256];
        conns.refused_takeover++;
        snprintf(why, sizeof why, "the debugger at %s is still connected "
                 "(--takeover refuse)", c->peer);
        refused("a debugger connection", peer, why);
        close(fd);
        return;
    }
    if (c->fd >= 0) {
        conns.replaced++;
        warn("debugger %s replaced by a new connection from %s", c->peer,
             peer);
        drop_quietly(c, wt);
    }
    conns.accepted++;
    ep_keepalive(fd, KEEPALIVE_IDLE_S, KEEPALIVE_INTVL_S, PEER_TIMEOUT_MS);
    attached(c, fd, peer);
}

void conn_try_connect(struct conn *c)
{
    char err[256], peer[300];
    int fd;

    if (c->fd >= 0 || c->lfd >= 0 || ex_now_ms() < c->next_connect)
        return;
    if (c->sp.kind == EP_TTY || c->sp.kind == EP_PTY)
        return;
    fd = ep_open(&c->sp, 1000, err, sizeof err);
    if (fd < 0) {
        /* Each new reason once: a debugger that is not listening yet is
         * the usual case, not an error. */
        if (strcmp(err, c->connect_err) != 0) {
            say("%s; retrying every %d ms until a debugger listens there",
                err, RECONNECT_MS);
            snprintf(c->connect_err, sizeof c->connect_err, "%s", err);
        }
        c->next_connect = ex_now_ms() + RECONNECT_MS;
        return;
    }
    c->connect_err[0] = '\0';
    ep_keepalive(fd, KEEPALIVE_IDLE_S, KEEPALIVE_INTVL_S, PEER_TIMEOUT_MS);
    if (c->sp.kind == EP_TCP)
        snprintf(peer, sizeof peer, "connected to %s:%s", c->sp.host,
                 c->sp.port);
    else
        snprintf(peer, sizeof peer, "connected to %s", c->sp.path);
    attached(c, fd, peer);
}

int conn_open(struct conn *c, char *err, size_t cap)
{
    if (c->sp.kind == EP_PTY) {
        c->fd = ep_open_pty(c->peer, sizeof c->peer, &c->keep_slave, err,
                            cap);
        return c->fd < 0 ? -1 : 0;
    }
    if (c->sp.listen) {
        c->lfd = ep_listen(&c->sp, err, cap);
        return c->lfd < 0 ? -1 : 0;
    }
    if (c->sp.kind == EP_TTY) {
        c->fd = ep_open(&c->sp, 0, err, cap);
        if (c->fd < 0)
            return -1;
        snprintf(c->peer, sizeof c->peer, "%s", c->sp.path);
    }
    return 0;
}

void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->keep_slave >= 0)
        close(c->keep_slave);
    if (c->lfd >= 0) {
        close(c->lfd);
        if (c->sp.kind == EP_UNIX)
            unlink(c->sp.path);
    }
    c->fd = c->keep_slave = c->lfd = -1;
}

int conn_fdset(const struct conn *c, fd_set *rd, fd_set *wr, int nfds)
{
    if (c->lfd >= 0) {
        FD_SET(c->lfd, rd);
        if (c->lfd > nfds)
            nfds = c->lfd;
    }
    if (c->fd >= 0) {
        if (c->in_off == c->in_len)
            FD_SET(c->fd, rd);
        if (c->out_off < c->out_len)
            FD_SET(c->fd, wr);
        if (c->fd > nfds)
            nfds = c->fd;
    }
    return nfds;
}

int conn_read(struct conn *c, struct wiretrace *wt, const fd_set *rd)
{
    ssize_t n;

    if (c->fd < 0 || c->in_off != c->in_len || !FD_ISSET(c->fd, rd))
        return 0;
    n = read(c->fd, c->in, sizeof c->in);
    if (n > 0) {
        wt_bytes(wt, 1, c->in, (size_t)n);
        c->in_len = (size_t)n;
        c->in_off = 0;
        return 1;
    }
    if (n == 0 && c->sp.kind != EP_PTY) {
        drop(c, wt, "disconnected");
    } else if (n < 0 && errno == ECONNRESET) {
        /* A debugger killed with unread data: it went away. */
        drop(c, wt, "disconnected (connection reset)");
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
               errno != EINTR && errno != EIO) {
        /* ETIMEDOUT: keepalive found the debugger's host gone. */
        char why[160];
        drop(c, wt, ep_end_reason(n, errno, why, sizeof why));
    }
    return 0;
}

int conn_shuttle(struct conn *c, struct wiretrace *wt, void *shm,
                 size_t size, uint64_t now)
{
    int moved = 0;

    /* input: feed what is buffered, as far as the service takes it */
    while (c->in_off < c->in_len) {
        int used = kdcom_vm_host_feed(&host, now, c->in + c->in_off,
                                      c->in_len - c->in_off);
        if (used < 0)
            break;
        if (used == 0) {
            /* A packet waits for the guest: let the mailbox take it. */
            if (shm == NULL || service(shm, size, now) < 0)
                break;
            used = kdcom_vm_host_feed(&host, now, c->in + c->in_off,
                                      c->in_len - c->in_off);
            if (used <= 0)
                break;
        }
        c->in_off += (size_t)used;
        moved = 1;
    }
    if (moved && shm != NULL)
        service(shm, size, now);
    /* output */
    for (;;) {
        if (c->out_off == c->out_len) {
            int n = kdcom_vm_host_drain(&host, now, c->out, sizeof c->out);
            if (n <= 0)
                break;
            c->out_len = (size_t)n;
            c->out_off = 0;
            moved = 1;
            if (c->fd < 0) {
                c->out_len = c->out_off = 0; /* nobody to hear it */
                continue;
            }
        }
        if (c->fd < 0)
            break;
        {
            ssize_t w = write(c->fd, c->out + c->out_off,
                              c->out_len - c->out_off);
            if (w < 0) {
                if (errno == ECONNRESET || errno == EPIPE)
                    drop(c, wt, errno == EPIPE
                                    ? "disconnected"
                                    : "disconnected (connection reset)");
                else if (errno != EAGAIN && errno != EWOULDBLOCK &&
                         errno != EINTR) {
                    char why[160];
                    drop(c, wt, ep_end_reason(-1, errno, why, sizeof why));
                }
                break;
            }
            wt_bytes(wt, 0, c->out + c->out_off, (size_t)w);
            c->out_off += (size_t)w;
        }
    }
    return moved;
}

void conn_print_stats(void)
{
    if (conns.accepted + conns.refused_allow + conns.refused_takeover > 0)
        fprintf(stderr, "kdcom-shim: debuggers: accepted=%llu replaced=%llu "
                "refused allow/takeover=%llu/%llu\n",
                (unsigned long long)conns.accepted,
                (unsigned long long)conns.replaced,
                (unsigned long long)conns.refused_allow,
                (unsigned long long)conns.refused_takeover);
}

void conn_report_hidden(void)
{
    if (conns.log_hidden > 0)
        warn("%llu more refused connections not logged one by one",
             (unsigned long long)conns.log_hidden);
}
