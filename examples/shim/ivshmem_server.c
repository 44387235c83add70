/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ivshmem_server.c - kdcom-shim as the ivshmem server of QEMU's
 * ivshmem-doorbell device (interface in ivshmem_server.h).
 *
 * Theory of operation
 *
 * An ivshmem-doorbell device takes its shared memory and its interrupt
 * plumbing from a server on a Unix stream socket (QEMU's
 * docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol").  The
 * connection is one way: the server sends, the client only reads.  Every
 * message is one 8-byte little-endian signed integer, some with one file
 * descriptor attached (SCM_RIGHTS).  On connect the server sends, in this
 * order:
 *
 *   1. the protocol version, 0 (no descriptor);
 *   2. the client's peer id, 0..65535 (no descriptor);
 *   3. -1 with the shared-memory descriptor.  QEMU fstat()s it, maps
 *      st_size bytes and registers them as PCI BAR 2; a BAR is a power of
 *      two in size, and QEMU 7.2 aborts on an assertion when the file is
 *      not (ivs_size_ok());
 *   4. for every other peer, its id N times, each with the eventfd that
 *      interrupts that peer's vector 0..N-1 ("connect notifications");
 *   5. the client's own id N times, each with the eventfd on which it
 *      receives vector 0..N-1 ("interrupt setup").
 *
 * Afterwards a peer id without a descriptor tells the clients that this
 * peer left.  QEMU reads steps 1-3 synchronously while it realises the
 * device (before the guest runs, even with -S) and the rest from its main
 * loop.  A guest rings peer P's vector V by writing the 32-bit value
 * (P << 16) | V to the Doorbell register (BAR 0, offset 12); QEMU writes
 * to the eventfd it got for (P, V), or with KVM and ioeventfd=on (the
 * default) the kernel signals it directly on the MMIO exit.
 *
 * The shim is peer 0 (IVS_HOST_ID), a peer without a QEMU.  It creates the
 * eventfds of its vectors for each client session, sends them as the
 * connect notification of peer 0 (step 4) and keeps them in the caller's
 * select() set: a guest that writes (0 << 16) | 0 to the Doorbell wakes
 * the shim, which reads the eventfd (clearing it) and polls the mailbox.
 * Clients get ids from 1 up, not reused while the shim runs (the log tells
 * VM incarnations apart), wrapping from 65535 back to 1.  Each client also
 * gets eventfds of its own (step 5), as the protocol wants; the shim keeps
 * them so a guest with an interrupt handler could be interrupted one day,
 * but never writes them: the KD guest waits with interrupts off.
 *
 * One client at a time.  The channel is one mailbox for one guest; two
 * guests on it would corrupt each other's sessions.  A second client gets
 * the version IVS_REFUSED (-1), which no client handles, and the socket is
 * closed: QEMU fails to start with "server sent version -1, expecting 0"
 * and the shim logs why.  (Closing without a message is worse: QEMU 7.2
 * then spins in device realisation for ever.)  A client also gets that
 * refusal while the shared-memory file cannot be handed over (no usable
 * mapping, or a size that is not a power of two).
 *
 * Nothing from a client is expected.  Any byte from it (and any
 * descriptor, which is closed at once) is logged and the client dropped;
 * end of file is a disconnect.  Either way its socket and eventfds are
 * closed, and so are the shim's eventfds of that session, so a process
 * that left can no longer ring us; the next client (a restarted VM) is
 * welcome.  Descriptors are non-blocking and every send uses MSG_DONTWAIT:
 * the handshake is a few hundred bytes, far below a socket buffer, and a
 * send that fails anyway drops the client.  No client can block or crash
 * the loop.
 */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred, MSG_CMSG_CLOEXEC */
#include "ivshmem_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "../common/endpoint.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)
#define MAX_ID 65535u
#define ACCEPTS_PER_ROUND 8

static void say(const struct ivs_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct ivs_server *s, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    if (s->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->log(msg);
}

int ivs_size_ok(uint64_t size)
{
    return size != 0 && (size & (size - 1)) == 0;
}

const struct ivs_stats *ivs_get_stats(const struct ivs_server *s)
{
    return &s->stats;
}

int ivs_accept_pending(const struct ivs_server *s, const fd_set *rd)
{
    return s->lfd >= 0 && FD_ISSET(s->lfd, rd);
}

int ivs_connected(const struct ivs_server *s)
{
    return s->cfd >= 0;
}

int ivs_fdset(const struct ivs_server *s, fd_set *rd, int maxfd)
{
    unsigned v;

    if (s->lfd < 0)
        return maxfd;
    FD_SET(s->lfd, rd);
    if (s->lfd > maxfd)
        maxfd = s->lfd;
    if (s->cfd < 0)
        return maxfd;
    FD_SET(s->cfd, rd);
    if (s->cfd > maxfd)
        maxfd = s->cfd;
    for (v = 0; v < s->vectors; v++) {
        FD_SET(s->host_efd[v], rd);
        if (s->host_efd[v] > maxfd)
            maxfd = s->host_efd[v];
    }
    return maxfd;
}

#ifdef __linux__

static void close_fds(int *fds, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* One message: v as 8 little-endian bytes, with passfd attached unless it
 * is negative.  Returns 0, or -1 (errno set) if the whole message did not
 * go out at once. */
static int send_msg(int fd, int64_t v, int passfd)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    uint64_t u = (uint64_t)v;
    uint8_t b[8];
    struct msghdr m;
    struct iovec iov;
    ssize_t n;
    int i;

    for (i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    iov.iov_base = b;
    iov.iov_len = sizeof b;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (passfd >= 0) {
        struct cmsghdr *c;
        memset(&ctl, 0, sizeof ctl);
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof ctl.buf;
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &passfd, sizeof passfd);
    }
    do
        n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof b)
        return 0;
    if (n >= 0)
        errno = EAGAIN; /* a partial message: the buffer was full */
    return -1;
}

/* Refuses a connection: the version no client handles, then close. */
static void refuse(struct ivs_server *s, int fd)
{
    (void)send_msg(fd, IVS_REFUSED, -1);
    close(fd);
    s->stats.refused++;
}

static void drop_client(struct ivs_server *s)
{
    if (s->cfd >= 0)
        close(s->cfd);
    s->cfd = -1;
    s->cpid = -1;
    close_fds(s->host_efd, IVS_MAX_VECTORS);
    close_fds(s->peer_efd, IVS_MAX_VECTORS);
}

static long peer_pid(int fd)
{
    struct ucred uc;
    socklen_t len = sizeof uc;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
        len != sizeof uc)
        return -1;
    return (long)uc.pid;
}

/* The whole handshake, steps 1-5 of the theory above.  Returns 0, or -1
 * with the client's descriptors closed again. */
static int handshake(struct ivs_server *s, int fd, uint32_t id, int shm_fd)
{
    unsigned v;

    for (v = 0; v < s->vectors; v++) {
        s->host_efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->peer_efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->host_efd[v] < 0 || s->peer_efd[v] < 0)
            goto fail;
        if (s->host_efd[v] >= FD_SETSIZE) {
            errno = EMFILE;
            goto fail;
        }
    }
    if (send_msg(fd, 0, -1) != 0 ||               /* 1. version */
        send_msg(fd, (int64_t)id, -1) != 0 ||     /* 2. its id */
        send_msg(fd, -1, shm_fd) != 0)            /* 3. the memory */
        goto fail;
    for (v = 0; v < s->vectors; v++)              /* 4. peer 0: us */
        if (send_msg(fd, IVS_HOST_ID, s->host_efd[v]) != 0)
            goto fail;
    for (v = 0; v < s->vectors; v++)              /* 5. its own vectors */
        if (send_msg(fd, (int64_t)id, s->peer_efd[v]) != 0)
            goto fail;
    return 0;
fail:
    close_fds(s->host_efd, IVS_MAX_VECTORS);
    close_fds(s->peer_efd, IVS_MAX_VECTORS);
    return -1;
}

static void accept_one(struct ivs_server *s, int fd, int shm_fd)
{
    long pid = peer_pid(fd);
    struct stat st;
    uint32_t id;

    if (fd >= FD_SETSIZE) {
        say(s, "ivshmem: refused a client (pid %ld): descriptor %d is past "
            "select()'s limit", pid, fd);
        refuse(s, fd);
        return;
    }
    if (s->cfd >= 0) {
        say(s, "ivshmem: refused a second client (pid %ld): peer %u (pid "
            "%ld) is connected, and one channel serves one VM", pid,
            (unsigned)s->cid, s->cpid);
        refuse(s, fd);
        return;
    }
    if (shm_fd < 0 || fstat(shm_fd, &st) != 0) {
        say(s, "ivshmem: refused a client (pid %ld): the channel file is "
            "not usable now", pid);
        refuse(s, fd);
        return;
    }
    if (!ivs_size_ok((uint64_t)st.st_size)) {
        say(s, "ivshmem: refused a client (pid %ld): the channel file has "
            "%lld bytes, not a power of two (QEMU maps it as PCI BAR 2, "
            "whose size must be a power of two)", pid,
            (long long)st.st_size);
        refuse(s, fd);
        return;
    }
    id = s->next_id;
    if (handshake(s, fd, id, shm_fd) != 0) {
        say(s, "ivshmem: handshake with a client (pid %ld) failed: %s; "
            "dropped", pid, strerror(errno));
        close(fd);
        s->stats.dropped++;
        return;
    }
    s->next_id = id >= MAX_ID ? 1 : id + 1;
    s->cfd = fd;
    s->cid = id;
    s->cpid = pid;
    s->stats.clients++;
    say(s, "ivshmem: peer %u connected (pid %ld), %u vector%s; its guest "
        "rings the shim by writing (%u << 16) | 0 to the Doorbell",
        (unsigned)id, pid, s->vectors, s->vectors == 1 ? "" : "s",
        (unsigned)IVS_HOST_ID);
}

/* The client is readable: end of file, an error, or input it must not
 * send.  Descriptors that come along are closed. */
static void client_input(struct ivs_server *s)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(16 * sizeof(int))];
    } ctl;
    uint8_t b[64];
    struct msghdr m;
    struct iovec iov;
    struct cmsghdr *c;
    ssize_t n;

    iov.iov_base = b;
    iov.iov_len = sizeof b;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    do
        n = recvmsg(s->cfd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                size_t k, nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (k = 0; k < nfd; k++) {
                    int x;
                    memcpy(&x, CMSG_DATA(c) + k * sizeof(int), sizeof x);
                    close(x);
                }
            }
        }
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        /* A reset is a disconnect too: a QEMU that exits before reading
         * all it was sent. */
        say(s, "ivshmem: peer %u disconnected (pid %ld)", (unsigned)s->cid,
            s->cpid);
    } else if (n < 0) {
        say(s, "ivshmem: peer %u (pid %ld) connection failed: %s; dropped",
            (unsigned)s->cid, s->cpid, strerror(errno));
        s->stats.dropped++;
    } else {
        say(s, "ivshmem: peer %u (pid %ld) sent %zd byte%s%s, but clients "
            "only listen in this protocol; dropped", (unsigned)s->cid,
            s->cpid, n, n == 1 ? "" : "s",
            (m.msg_flags & MSG_CTRUNC) || m.msg_controllen > 0
                ? " and descriptors" : "");
        s->stats.dropped++;
    }
    drop_client(s);
}

int ivs_handle(struct ivs_server *s, const fd_set *rd, int shm_fd)
{
    int rang = 0, i;
    unsigned v;

    if (s->lfd < 0)
        return 0;
    if (s->cfd >= 0) {
        for (v = 0; v < s->vectors; v++) {
            uint64_t count;
            if (!FD_ISSET(s->host_efd[v], rd))
                continue;
            if (read(s->host_efd[v], &count, sizeof count) ==
                (ssize_t)sizeof count && count > 0) {
                s->stats.rings += count;
                rang = 1;
            }
        }
        if (FD_ISSET(s->cfd, rd))
            client_input(s);
    }
    if (!FD_ISSET(s->lfd, rd))
        return rang;
    for (i = 0; i < ACCEPTS_PER_ROUND; i++) {
        int fd = ep_accept(s->lfd, NULL, 0);
        if (fd < 0)
            break;
        accept_one(s, fd, shm_fd);
    }
    return rang;
}

int ivs_open(struct ivs_server *s, const char *path, unsigned vectors,
             unsigned mode, void (*log)(const char *msg), char *err,
             size_t errlen)
{
    struct ep_spec sp;
    unsigned v;

    memset(s, 0, sizeof *s);
    s->lfd = s->cfd = -1;
    s->cpid = -1;
    s->next_id = 1;
    s->log = log;
    for (v = 0; v < IVS_MAX_VECTORS; v++)
        s->host_efd[v] = s->peer_efd[v] = -1;
    if (vectors < 1 || vectors > IVS_MAX_VECTORS)
        return ERR("ivshmem: %u vectors, want 1..%u", vectors,
                   (unsigned)IVS_MAX_VECTORS);
    s->vectors = vectors;
    memset(&sp, 0, sizeof sp);
    sp.kind = EP_UNIX;
    sp.listen = 1;
    sp.mode = mode;
    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof sp.path)
        return ERR("ivshmem: socket path empty or longer than %zu bytes",
                   sizeof sp.path - 1);
    memcpy(sp.path, path, strlen(path) + 1);
    s->lfd = ep_listen(&sp, err, errlen);
    if (s->lfd < 0)
        return -1;
    if (s->lfd >= FD_SETSIZE) {
        close(s->lfd);
        s->lfd = -1;
        unlink(path);
        return ERR("ivshmem: descriptor past select()'s limit");
    }
    memcpy(s->path, sp.path, sizeof s->path);
    return 0;
}

void ivs_close(struct ivs_server *s)
{
    if (s->lfd < 0)
        return;
    drop_client(s);
    close(s->lfd);
    s->lfd = -1;
    unlink(s->path);
}

#else /* !__linux__: no eventfd */

int ivs_handle(struct ivs_server *s, const fd_set *rd, int shm_fd)
{
    (void)s;
    (void)rd;
    (void)shm_fd;
    return 0;
}

int ivs_open(struct ivs_server *s, const char *path, unsigned vectors,
             unsigned mode, void (*log)(const char *msg), char *err,
             size_t errlen)
{
    (void)path;
    (void)vectors;
    (void)mode;
    (void)log;
    memset(s, 0, sizeof *s);
    s->lfd = s->cfd = -1;
    return ERR("ivshmem: the server needs eventfd (Linux)");
}

void ivs_close(struct ivs_server *s)
{
    (void)s;
}

#endif
