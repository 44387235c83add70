/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * endpoint.c - TCP, Unix socket, tty and pty endpoints (see endpoint.h).
 */
#define _GNU_SOURCE /* POLLRDHUP */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 600
#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "exutil.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

static int copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

static int parse_port(const char *s, char *out, size_t cap)
{
    uint32_t v;

    if (ex_parse_u32(s, 65535, &v) != 0)
        return -1;
    snprintf(out, cap, "%u", (unsigned)v);
    return 0;
}

int ep_parse(const char *s, struct ep_spec *sp, char *err, size_t errlen)
{
    const char *rest, *colon;

    memset(sp, 0, sizeof *sp);
    if (s == NULL)
        return ERR("missing endpoint");
    if (strncmp(s, "tcp-listen:", 11) == 0 || strncmp(s, "tcp:", 4) == 0) {
        const char *form;
        sp->kind = EP_TCP;
        sp->listen = s[3] == '-';
        rest = s + (sp->listen ? 11 : 4);
        form = sp->listen ? "tcp-listen:[HOST:]PORT (tcp-listen:PORT "
                            "listens on 127.0.0.1; tcp-listen:0.0.0.0:PORT "
                            "or tcp-listen:[::]:PORT on every address)"
                          : "tcp:HOST:PORT";
        colon = strrchr(rest, ':');
        if (colon == NULL && sp->listen) {
            strcpy(sp->host, "127.0.0.1");
            colon = rest - 1;
        } else if (colon == NULL) {
            return ERR("'%s': expected %s", s, form);
        } else if (colon == rest) {
            return ERR("'%s': empty host; expected %s", s, form);
        } else {
            const char *h = rest;
            size_t hl = (size_t)(colon - rest);
            if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
                h++;
                hl -= 2;
            }
            if (hl == 0)
                return ERR("'%s': empty host; expected %s", s, form);
            if (copy(sp->host, sizeof sp->host, h, hl) != 0)
                return ERR("'%s': host name too long", s);
        }
        if (parse_port(colon + 1, sp->port, sizeof sp->port) != 0)
            return ERR("'%s': bad TCP port '%s' (0-65535); expected %s", s,
                       colon + 1, form);
        if (!sp->listen && strcmp(sp->port, "0") == 0)
            return ERR("'%s': cannot connect to port 0", s);
        return 0;
    }
    if (strncmp(s, "unix-listen:", 12) == 0 || strncmp(s, "unix:", 5) == 0) {
        sp->kind = EP_UNIX;
        sp->listen = s[4] == '-';
        rest = s + (sp->listen ? 12 : 5);
        if (*rest == '\0')
            return ERR("'%s': missing socket path", s);
        if (copy(sp->path, sizeof sp->path, rest, strlen(rest)) != 0)
            return ERR("'%s': socket path longer than %zu bytes", s,
                       sizeof sp->path - 1);
        return 0;
    }
    if (strncmp(s, "tty:", 4) == 0) {
        const char *comma;
        sp->kind = EP_TTY;
        rest = s + 4;
        comma = strchr(rest, ',');
        if (comma != NULL) {
            uint32_t b;
            if (ex_parse_u32(comma + 1, 4000000, &b) != 0 || b == 0)
                return ERR("'%s': bad baud rate '%s'", s, comma + 1);
            sp->baud = b;
        } else {
            comma = rest + strlen(rest);
        }
        if (comma == rest)
            return ERR("'%s': missing device", s);
        if (copy(sp->path, sizeof sp->path, rest, (size_t)(comma - rest)))
            return ERR("'%s': device path too long", s);
        return 0;
    }
    if (strcmp(s, "pty") == 0) {
        sp->kind = EP_PTY;
        return 0;
    }
    return ERR("'%s': unknown endpoint (tcp:HOST:PORT, tcp-listen:[HOST:]PORT,"
               " unix:PATH, unix-listen:PATH, tty:DEV[,BAUD], pty)", s);
}

static void tune_socket(int fd, int family)
{
    int one = 1;

    if (family == AF_INET || family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Waits for a non-blocking connect to finish. */
static int finish_connect(int fd, int timeout_ms)
{
    struct pollfd p;
    int soerr = 0, r;
    socklen_t sl = sizeof soerr;
    uint64_t end = ex_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        r = poll(&p, 1, ex_poll_timeout(ex_now_ms(), end, 1000));
        if (r < 0 && errno == EINTR) {
            if (ex_stop_requested()) {
                errno = EINTR;
                return -1;
            }
            continue;
        }
        if (r < 0)
            return -1;
        if (r == 0) {
            if (ex_now_ms() >= end) {
                errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        break;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        return -1;
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    return 0;
}

static int set_tty_raw(int fd, unsigned baud, char *err, size_t errlen)
{
    struct termios t;

    if (tcgetattr(fd, &t) != 0)
        return ERR("not a terminal: %s", strerror(errno));
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(unsigned)CRTSCTS;
    t.c_iflag &= ~(unsigned)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (baud != 0) {
        static const struct { unsigned b; speed_t s; } rates[] = {
            {9600, B9600}, {19200, B19200}, {38400, B38400},
            {57600, B57600}, {115200, B115200}, {230400, B230400},
            {460800, B460800}, {921600, B921600}};
        size_t i;
        for (i = 0; i < sizeof rates / sizeof rates[0]; i++)
            if (rates[i].b == baud)
                break;
        if (i == sizeof rates / sizeof rates[0])
            return ERR("unsupported baud rate %u (9600..921600)", baud);
        cfsetispeed(&t, rates[i].s);
        cfsetospeed(&t, rates[i].s);
    }
    if (tcsetattr(fd, TCSANOW, &t) != 0)
        return ERR("tcsetattr: %s", strerror(errno));
    return 0;
}

int ep_open(const struct ep_spec *sp, int timeout_ms, char *err,
            size_t errlen)
{
    int fd;

    if (sp->kind == EP_TCP && !sp->listen) {
        struct addrinfo hints, *res, *ai;
        int rc, saved = 0;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_family = AF_UNSPEC;
        rc = getaddrinfo(sp->host, sp->port, &hints, &res);
        if (rc != 0)
            return ERR("%s: %s", sp->host, gai_strerror(rc));
        fd = -1;
        for (ai = res; ai != NULL; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
            if (fd < 0)
                continue;
            ex_set_nonblock(fd);
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
                (errno == EINPROGRESS &&
                 finish_connect(fd, timeout_ms) == 0)) {
                tune_socket(fd, ai->ai_family);
                break;
            }
            saved = errno;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0)
            return ERR("connect to %s:%s: %s", sp->host, sp->port,
                       strerror(saved));
        return fd;
    }
    if (sp->kind == EP_UNIX && !sp->listen) {
        struct sockaddr_un sa;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return ERR("socket: %s", strerror(errno));
        ex_set_nonblock(fd);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, sp->path, strlen(sp->path) + 1);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
            !(errno == EINPROGRESS && finish_connect(fd, timeout_ms) == 0)) {
            int e = errno;
            close(fd);
            return ERR("connect to %s: %s", sp->path, strerror(e));
        }
        return fd;
    }
    if (sp->kind == EP_TTY) {
        fd = open(sp->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return ERR("%s: %s", sp->path, strerror(errno));
        if (set_tty_raw(fd, sp->baud, err, errlen) != 0) {
            close(fd);
            return -1;
        }
        tcflush(fd, TCIOFLUSH);
        return fd;
    }
    return ERR("endpoint cannot be opened this way");
}

int ep_listen(const struct ep_spec *sp, char *err, size_t errlen)
{
    int fd, one = 1;

    if (sp->kind == EP_TCP && sp->listen) {
        struct addrinfo hints, *res;
        int rc;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_family = AF_UNSPEC;
        hints.ai_flags = AI_PASSIVE;
        rc = getaddrinfo(sp->host[0] ? sp->host : NULL, sp->port, &hints,
                         &res);
        if (rc != 0)
            return ERR("%s: %s", sp->host, gai_strerror(rc));
        fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
        if (fd < 0) {
            freeaddrinfo(res);
            return ERR("socket: %s", strerror(errno));
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
            listen(fd, 4) != 0) {
            int e = errno;
            freeaddrinfo(res);
            close(fd);
            return ERR("listen on %s:%s: %s", sp->host, sp->port,
                       strerror(e));
        }
        freeaddrinfo(res);
        ex_set_nonblock(fd);
        return fd;
    }
    if (sp->kind == EP_UNIX && sp->listen) {
        struct sockaddr_un sa;
        struct stat st;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, sp->path, strlen(sp->path) + 1);
        if (lstat(sp->path, &st) == 0) {
            /* Replace a socket left behind by a dead process, never a
             * live one or a file that is not a socket. */
            int probe;
            if (!S_ISSOCK(st.st_mode))
                return ERR("%s exists and is not a socket", sp->path);
            probe = socket(AF_UNIX, SOCK_STREAM, 0);
            if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
                                      sizeof sa) == 0) {
                close(probe);
                return ERR("%s: another process is listening", sp->path);
            }
            if (probe >= 0)
                close(probe);
            unlink(sp->path);
        }
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return ERR("socket: %s", strerror(errno));
        {
            /* Connecting needs write permission on the socket file, so
             * its mode decides who may attach: owner only unless asked,
             * from the moment it exists (bind() creates it under the
             * umask). */
            mode_t old = umask(0177);
            int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
            int e = errno;
            umask(old);
            if (rc != 0) {
                close(fd);
                return ERR("listen on %s: %s", sp->path, strerror(e));
            }
        }
        if ((sp->mode != 0 && (sp->mode & 07777) != 0600 &&
             chmod(sp->path, (mode_t)(sp->mode & 07777)) != 0) ||
            listen(fd, 4) != 0) {
            int e = errno;
            close(fd);
            unlink(sp->path);
            return ERR("listen on %s: %s", sp->path, strerror(e));
        }
        ex_set_nonblock(fd);
        return fd;
    }
    return ERR("endpoint is not a listening one");
}

int ep_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int ep_is_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        const uint8_t *a =
            (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
        return a[0] == 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 1;
}

/* An address as family + 16 bytes, IPv4-mapped IPv6 as IPv4; -1 for
 * another family.  bits, if not NULL, is the prefix length of a rule,
 * converted along (a rule shorter than the ::ffff:0:0/96 prefix stays
 * IPv6). */
static int ip_key(int family, const void *addr, uint8_t out[16], int *bits)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0xff, 0xff};
    memset(out, 0, 16);
    if (family == AF_INET) {
        memcpy(out, addr, 4);
        return AF_INET;
    }
    if (family != AF_INET6)
        return -1;
    if (memcmp(addr, mapped, 12) == 0 && (bits == NULL || *bits >= 96)) {
        memcpy(out, (const uint8_t *)addr + 12, 4);
        if (bits != NULL)
            *bits -= 96;
        return AF_INET;
    }
    memcpy(out, addr, 16);
    return AF_INET6;
}

int ep_allow_parse(const char *s, struct ep_allow *a, char *err,
                   size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *slash = strchr(s, '/');
    size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
    const char *h = s;
    uint8_t bin[16];
    int family, bits, max;

    memset(a, 0, sizeof *a);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || copy(host, sizeof host, h, hl) != 0)
        return ERR("'%s': expected ADDR[/BITS], a numeric IPv4 or IPv6 "
                   "address and an optional prefix length", s);
    if (inet_pton(AF_INET, host, bin) == 1) {
        family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, bin) == 1) {
        family = AF_INET6;
        max = 128;
    } else {
        return ERR("'%s': '%s' is not a numeric IPv4 or IPv6 address (host "
                   "names are not looked up)", s, host);
    }
    bits = max;
    if (slash != NULL) {
        const char *d = slash + 1;
        size_t nd = strspn(d, "0123456789");
        unsigned long v = nd > 0 && nd <= 3 && d[nd] == '\0'
                              ? strtoul(d, NULL, 10) : 1000;
        if (v > (unsigned long)max)
            return ERR("'%s': prefix length '%s' is not a number in 0..%d "
                       "(an IPv%d address)", s, slash + 1, max,
                       family == AF_INET ? 4 : 6);
        bits = (int)v;
    }
    a->family = ip_key(family, bin, a->addr, &bits);
    a->bits = (unsigned)bits;
    {
        unsigned i;
        for (i = 0; i < 16; i++) { /* clear the host bits */
            unsigned keep = a->bits > i * 8 ? a->bits - i * 8 : 0;
            if (keep < 8)
                a->addr[i] &= (uint8_t)(0xff00u >> keep);
        }
    }
    return 0;
}

int ep_allow_match(const struct ep_allow *rules, size_t n,
                   const struct sockaddr *sa)
{
    uint8_t key[16];
    int family;
    size_t r;

    if (sa->sa_family == AF_INET)
        family = ip_key(AF_INET, &((const struct sockaddr_in *)
                                       (const void *)sa)->sin_addr,
                        key, NULL);
    else if (sa->sa_family == AF_INET6)
        family = ip_key(AF_INET6, &((const struct sockaddr_in6 *)
                                        (const void *)sa)->sin6_addr,
                        key, NULL);
    else
        return 1;
    for (r = 0; r < n; r++) {
        unsigned full = rules[r].bits / 8, rest = rules[r].bits % 8;
        if (rules[r].family != family ||
            memcmp(rules[r].addr, key, full) != 0)
            continue;
        if (rest == 0 ||
            ((rules[r].addr[full] ^ key[full]) & (0xff00u >> rest)) == 0)
            return 1;
    }
    return 0;
}

int ep_allow_peer(const struct ep_allow *rules, size_t n, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    return ep_allow_match(rules, n, (const struct sockaddr *)&ss);
}

int ep_peer_gone(int fd)
{
    struct pollfd p;
    char b;
    ssize_t n;

    p.fd = fd;
    p.events = POLLIN;
#ifdef POLLRDHUP
    p.events |= POLLRDHUP;
#endif
    p.revents = 0;
    if (poll(&p, 1, 0) < 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        return 1;
#ifdef POLLRDHUP
    if (p.revents & POLLRDHUP)
        return 1;
#endif
    if (!(p.revents & POLLIN))
        return 0;
    n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return 1;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
           errno != EINTR && errno != ENOTSOCK;
}

int ep_keepalive(int fd, unsigned idle_s, unsigned intvl_s,
                 unsigned timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1, rc = 0, v;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return 0;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0)
        rc = -1;
#ifdef TCP_KEEPIDLE
    v = (int)idle_s;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v) != 0)
        rc = -1;
#endif
#ifdef TCP_KEEPINTVL
    v = (int)intvl_s;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v) != 0)
        rc = -1;
#endif
#ifdef TCP_KEEPCNT
    v = intvl_s > 0 ? (int)(timeout_ms / 1000 / intvl_s) : 1;
    if (v < 1)
        v = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v) != 0)
        rc = -1;
#endif
#ifdef TCP_USER_TIMEOUT
    {
        unsigned int t = timeout_ms;
        if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &t, sizeof t) != 0)
            rc = -1;
    }
#else
    (void)timeout_ms;
#endif
    (void)v;
    return rc;
}

int ep_accept(int lfd, char *peer, size_t peerlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
    char host[128], serv[32];

    if (fd < 0)
        return -1;
    ex_set_nonblock(fd);
    tune_socket(fd, ss.ss_family);
    if (peer != NULL && peerlen > 0) {
        if (ss.ss_family == AF_UNIX)
            snprintf(peer, peerlen, "unix socket");
        else if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host,
                             serv, sizeof serv,
                             NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(peer, peerlen, "%s:%s", host, serv);
        else
            snprintf(peer, peerlen, "?");
    }
    return fd;
}

int ep_open_pty(char *slave, size_t slavelen, int *keep_slave, char *err,
                size_t errlen)
{
    int m, s;
    const char *name;

    if (keep_slave != NULL)
        *keep_slave = -1;
    m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        return ERR("posix_openpt: %s", strerror(errno));
    if (grantpt(m) != 0 || unlockpt(m) != 0 || (name = ptsname(m)) == NULL) {
        int e = errno;
        close(m);
        return ERR("pty: %s", strerror(e));
    }
    if (copy(slave, slavelen, name, strlen(name)) != 0) {
        close(m);
        return ERR("pty name too long");
    }
    /* The line discipline sits on the slave: make it raw there, or it
     * would echo and translate bytes. */
    s = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (s < 0 || set_tty_raw(s, 0, err, errlen) != 0) {
        if (s >= 0)
            close(s);
        else
            snprintf(err, errlen, "%s: %s", slave, strerror(errno));
        close(m);
        return -1;
    }
    if (keep_slave != NULL)
        *keep_slave = s;
    else
        close(s);
    ex_set_nonblock(m);
    return m;
}

const char *ep_end_reason(long n, int err, char *buf, size_t len)
{
    if (n == 0 || err == EPIPE || err == EIO)
        return "disconnected";
    if (err == ECONNRESET)
        return "disconnected (connection reset)";
    if (err == ETIMEDOUT) /* keepalive or a TCP user timeout */
        return "gone (connection timed out: no sign of life from its host)";
    snprintf(buf, len, "connection failed (%s)", strerror(err));
    return buf;
}

const char *ep_describe(const struct ep_spec *sp, char *buf, size_t len)
{
    switch (sp->kind) {
    case EP_TCP:
        snprintf(buf, len, "tcp %s %s:%s", sp->listen ? "listen" : "connect",
                 sp->host, sp->port);
        break;
    case EP_UNIX:
        snprintf(buf, len, "unix %s %s", sp->listen ? "listen" : "connect",
                 sp->path);
        break;
    case EP_TTY:
        snprintf(buf, len, "tty %s", sp->path);
        break;
    case EP_PTY:
        snprintf(buf, len, "pty");
        break;
    default:
        snprintf(buf, len, "?");
    }
    return buf;
}
