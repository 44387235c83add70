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
 *   unix-listen:PATH           listen on a Unix stream socket
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

enum ep_kind { EP_TCP = 1, EP_UNIX, EP_TTY, EP_PTY };

struct ep_spec {
    int kind;       /* enum ep_kind */
    int listen;     /* 1 for *-listen */
    char host[256]; /* TCP */
    char port[16];  /* TCP, numeric */
    char path[108]; /* Unix socket path or tty device */
    unsigned baud;  /* tty, 0 = leave as is */
};

/* Parses a spec.  Returns 0, or -1 with a message in err. */
int ep_parse(const char *s, struct ep_spec *sp, char *err, size_t errlen);

/* Connects (tcp:, unix:) within timeout_ms, or opens (tty:).  Returns a
 * connected descriptor, or -1 with a message in err. */
int ep_open(const struct ep_spec *sp, int timeout_ms, char *err,
            size_t errlen);

/* Listens (tcp-listen:, unix-listen:).  A stale Unix socket file nobody
 * listens on is replaced.  Returns the listening descriptor, or -1. */
int ep_listen(const struct ep_spec *sp, char *err, size_t errlen);

/* The TCP port a listening socket is bound to, or -1. */
int ep_local_port(int fd);

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
 * a failure); else "connection failed (<strerror>)", written into buf. */
const char *ep_end_reason(long n, int err, char *buf, size_t len);

/* Short human-readable form of a spec ("tcp 127.0.0.1:5800"). */
const char *ep_describe(const struct ep_spec *sp, char *buf, size_t len);

#endif /* ENDPOINT_H */
