/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * endpoint.h - where a KDCOM byte stream comes from: TCP or Unix socket
 * (connect or listen), a tty or a new pty.  Shared by the shim, the
 * debugger client and the simulated kernel's UART.
 *
 *   tcp:HOST:PORT              connect
 *   tcp-listen:PORT            listen on 127.0.0.1 (PORT 0: any free port)
 *   tcp-listen:HOST:PORT       listen on HOST (0.0.0.0 for every address)
 *   unix:PATH                  connect to a Unix stream socket
 *   unix-listen:PATH           listen on a Unix stream socket, created
 *                              owner-only (mode 0600) unless the spec's
 *                              mode says otherwise
 *   tty:DEVICE[,BAUD]          open a serial device or pty slave, raw
 *   pty                        create a pty pair; peers open the slave
 *
 * Every descriptor returned is non-blocking and close-on-exec; TCP
 * sockets have TCP_NODELAY (KDCOM is stop-and-wait: Nagle would add a
 * delay to every packet).
 */
#ifndef ENDPOINT_H
#define ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

enum ep_kind { EP_TCP = 1, EP_UNIX, EP_TTY, EP_PTY };

struct ep_spec {
    int kind;       /* enum ep_kind */
    int listen;     /* 1 for *-listen */
    char host[256]; /* TCP */
    char port[16];  /* TCP, numeric */
    char path[108]; /* Unix socket path or tty device */
    unsigned baud;  /* tty, 0 = leave as is */
    unsigned mode;  /* unix-listen: the socket file's permissions; 0 (what
                       ep_parse() leaves) means 0600, owner only.  Whoever
                       may connect to a debugger socket can read and write
                       the kernel's memory (docs/SECURITY.md section 7) */
};

/* Parses a spec.  Returns 0, or -1 with a message in err. */
int ep_parse(const char *s, struct ep_spec *sp, char *err, size_t errlen);

/* Connects (tcp:, unix:) within timeout_ms, or opens (tty:).  Returns a
 * connected descriptor, or -1 with a message in err. */
int ep_open(const struct ep_spec *sp, int timeout_ms, char *err,
            size_t errlen);

/* Listens (tcp-listen:, unix-listen:).  A stale Unix socket file nobody
 * listens on is replaced.  A Unix socket file is created with mode 0600
 * (the process's umask cannot widen it; sp->mode widens it after bind(),
 * before listen()).  Returns the listening descriptor, or -1. */
int ep_listen(const struct ep_spec *sp, char *err, size_t errlen);

/* The TCP port a listening socket is bound to, or -1. */
int ep_local_port(int fd);

/* 1 if the socket is bound to a loopback address (127.0.0.0/8, ::1, or
 * ::ffff:127.0.0.0/104), or is not an IP socket at all; 0 if it is bound
 * to another address, or to the wildcard (0.0.0.0, ::), which other hosts
 * can reach. */
int ep_is_loopback(int fd);

/* One --allow rule: an IPv4 or IPv6 prefix.  IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d, what a dual-stack [::] listener sees from IPv4 peers)
 * are compared as IPv4, in rules and in peers. */
struct ep_allow {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t addr[16];  /* network byte order, host bits cleared */
    unsigned bits;     /* prefix length: 0..32 or 0..128 */
};

/* Parses "ADDR[/BITS]" (IPv6 may be written [ADDR]); BITS defaults to the
 * whole address.  Returns 0, or -1 with a message in err. */
int ep_allow_parse(const char *s, struct ep_allow *a, char *err,
                   size_t errlen);
/* 1 if the address matches one of the n rules, else 0.  Not an IP
 * address (a Unix socket peer): 1. */
int ep_allow_match(const struct ep_allow *rules, size_t n,
                   const struct sockaddr *sa);
/* The same for a connected socket's peer (getpeername); 0 if it has none. */
int ep_allow_peer(const struct ep_allow *rules, size_t n, int fd);

/* 1 if the peer of a connected socket is known to be gone: it closed or
 * shut down its side, or the connection failed (the next read would say
 * so).  Data still waiting to be read does not hide an orderly close
 * where the system reports it (Linux: POLLRDHUP).  Never blocks. */
int ep_peer_gone(int fd);

/* TCP keepalive on a connected socket, so that a peer whose host died or
 * lost its network without closing the connection is noticed: probes
 * after idle_s seconds of silence, every intvl_s seconds, and the
 * connection is given up when timeout_ms pass without an answer (or with
 * data sent and not acknowledged; TCP_USER_TIMEOUT where available).  Not
 * a TCP socket: nothing.  Returns 0, or -1 if an option was refused. */
int ep_keepalive(int fd, unsigned idle_s, unsigned intvl_s,
                 unsigned timeout_ms);

/* Accepts one connection (non-blocking listener: returns -1 with errno
 * EAGAIN when none is waiting).  peer gets a printable address. */
int ep_accept(int lfd, char *peer, size_t peerlen);

/* Creates a pty pair in raw mode.  Returns the master; the slave's path
 * goes to slave (keep_slave gets an open slave descriptor that keeps the
 * master readable while no peer has the slave open; -1 if not wanted). */
int ep_open_pty(char *slave, size_t slavelen, int *keep_slave, char *err,
                size_t errlen);

/* Why a peer connection ended, for "debugger %s": a read() or write()
 * returned n (0: end of file, or -1 with errno err) and the caller drops
 * the connection.  "disconnected" for end of file, EPIPE and EIO (a pty
 * whose other side closed); "disconnected (connection reset)" for
 * ECONNRESET, which is how a peer killed with unread data goes away (not
 * a failure); for ETIMEDOUT (keepalive found the peer's host gone) a
 * "gone (connection timed out ...)"; else "connection failed
 * (<strerror>)", written into buf. */
const char *ep_end_reason(long n, int err, char *buf, size_t len);

/* Short human-readable form of a spec ("tcp 127.0.0.1:5800"). */
const char *ep_describe(const struct ep_spec *sp, char *buf, size_t len);

#endif /* ENDPOINT_H */
