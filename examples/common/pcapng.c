/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapng.c - the KDCOM capture writer (see pcapng.h for the file layout).
 *
 * Blocks are assembled in a small header buffer plus the caller's bytes
 * and handed to the kernel with one writev(2), so each block reaches the
 * file whole or (after a crash in the middle of the call) not at all
 * beyond what the kernel had taken.  Integers are written little-endian
 * byte by byte, whatever the host.
 */
#define _POSIX_C_SOURCE 200809L
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <kdcom.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define EPB_FLAGS 2

#define SNAPLEN 262144u

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

/* Appends one option (code, value) at *off; values are padded with
 * zeros.  The caller sizes buf for everything it appends. */
static void put_opt(uint8_t *buf, size_t *off, uint32_t code,
                    const void *val, size_t len)
{
    put16(buf + *off, code);
    put16(buf + *off + 2, (uint32_t)len);
    memset(buf + *off + 4, 0, pad4(len));
    if (len > 0)
        memcpy(buf + *off + 4, val, len);
    *off += 4 + pad4(len);
}

static void put_str_opt(uint8_t *buf, size_t *off, uint32_t code,
                        const char *s)
{
    put_opt(buf, off, code, s, strlen(s));
}

/* Writes all of iov (one block) or fails; returns 0 or -1 with errno. */
static int write_block(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t w = writev(fd, iov, iovcnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (iovcnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int write_buf(int fd, const uint8_t *b, size_t n)
{
    struct iovec iov;

    iov.iov_base = (void *)(uintptr_t)b;
    iov.iov_len = n;
    return write_block(fd, &iov, 1);
}

/* Finishes a block assembled in buf[0..len) (len already includes room
 * for the trailing length): fills both length fields and writes it.
 * Returns len or -1. */
static long emit(int fd, uint8_t *buf, size_t len, uint32_t type)
{
    put32(buf, type);
    put32(buf + 4, (uint32_t)len);
    put32(buf + len - 4, (uint32_t)len);
    return write_buf(fd, buf, len) == 0 ? (long)len : -1;
}

static long write_shb(int fd, const char *prog)
{
    uint8_t buf[512];
    char appl[128];
    size_t off = 8;

    put32(buf + off, BYTE_ORDER_MAGIC);
    put16(buf + off + 4, 1); /* major */
    put16(buf + off + 6, 0); /* minor */
    put32(buf + off + 8, 0xFFFFFFFFu); /* section length: unknown (-1) */
    put32(buf + off + 12, 0xFFFFFFFFu);
    off += 16;
    snprintf(appl, sizeof appl, "%s (libkdcom %s)", prog,
             KDCOM_VERSION_STRING);
    put_str_opt(buf, &off, SHB_USERAPPL, appl);
    put_str_opt(buf, &off, OPT_COMMENT,
                "KDCOM byte stream (Windows kernel debugging): interface 0 "
                "\"debugger\" = bytes sent by the debugger (D>T), interface "
                "1 \"target\" = bytes sent by the target (T>D); epb_flags "
                "direction as the capturing program saw them");
    put_opt(buf, &off, OPT_END, NULL, 0);
    return emit(fd, buf, off + 4, BT_SHB);
}

static long write_idb(int fd, const char *name, const char *desc)
{
    uint8_t buf[256];
    uint8_t tsresol = 6; /* microseconds */
    size_t off = 8;

    put16(buf + off, PCAPNG_KDCOM_LINKTYPE);
    put16(buf + off + 2, 0);
    put32(buf + off + 4, SNAPLEN);
    off += 8;
    put_str_opt(buf, &off, IF_NAME, name);
    put_str_opt(buf, &off, IF_DESCRIPTION, desc);
    put_opt(buf, &off, IF_TSRESOL, &tsresol, 1);
    put_opt(buf, &off, OPT_END, NULL, 0);
    return emit(fd, buf, off + 4, BT_IDB);
}

void pcapng_init(struct pcapng_writer *pc)
{
    memset(pc, 0, sizeof *pc);
    pc->fd = -1;
}

int pcapng_active(const struct pcapng_writer *pc)
{
    return pc != NULL && pc->on;
}

uint64_t pcapng_now_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int pcapng_open(struct pcapng_writer *pc, const char *path, const char *prog,
                int side, char *err, size_t errcap)
{
    int fd, owns = 1;
    long a, b = -1, d = -1;

    pcapng_init(pc);
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errcap, "--pcap needs a file name");
        return -1;
    }
    if (side != PCAPNG_SIDE_NONE && side != PCAPNG_SIDE_DEBUGGER &&
        side != PCAPNG_SIDE_TARGET) {
        snprintf(err, errcap, "pcapng_open: bad side %d", side);
        return -1;
    }
    if (strcmp(path, "-") == 0) {
        fd = STDOUT_FILENO;
        owns = 0;
    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) {
            snprintf(err, errcap, "cannot create %s: %s", path,
                     strerror(errno));
            return -1;
        }
    }
    if ((a = write_shb(fd, prog != NULL ? prog : "libkdcom")) < 0 ||
        (b = write_idb(fd, PCAPNG_IFNAME_DEBUGGER,
                       "KDCOM bytes sent by the debugger (D>T)")) < 0 ||
        (d = write_idb(fd, PCAPNG_IFNAME_TARGET,
                       "KDCOM bytes sent by the target (T>D)")) < 0) {
        snprintf(err, errcap, "cannot write %s: %s",
                 owns ? path : "standard output", strerror(errno));
        if (owns)
            close(fd);
        return -1;
    }
    pc->on = 1;
    pc->fd = fd;
    pc->owns_fd = owns;
    pc->size = (uint64_t)(a + b + d);
    pc->side = side;
    snprintf(pc->prog, sizeof pc->prog, "%s", prog != NULL ? prog : "pcapng");
    snprintf(pc->path, sizeof pc->path, "%s", path);
    return 0;
}

/* A write failed (disk full, file too large, ...): says so once, cuts off
 * what the kernel took of the unfinished block, so the file ends with the
 * last complete one, and stops. */
static void fail(struct pcapng_writer *pc, const char *what)
{
    int err = errno;

    fprintf(stderr, "%s: --pcap %s: %s: %s; capture stopped\n", pc->prog,
            pc->path, what, strerror(err));
    if (pc->owns_fd) {
        if (ftruncate(pc->fd, (off_t)pc->size) != 0) {
            /* not a regular file: nothing to cut */
        }
        close(pc->fd);
    }
    pc->on = 0;
    pc->fd = -1;
}

static uint32_t direction(const struct pcapng_writer *pc, int to_target)
{
    switch (pc->side) {
    case PCAPNG_SIDE_DEBUGGER:
        return to_target ? PCAPNG_DIR_OUTBOUND : PCAPNG_DIR_INBOUND;
    case PCAPNG_SIDE_TARGET:
        return to_target ? PCAPNG_DIR_INBOUND : PCAPNG_DIR_OUTBOUND;
    default:
        return PCAPNG_DIR_UNKNOWN;
    }
}

int pcapng_write(struct pcapng_writer *pc, int to_target, const uint8_t *b,
                 size_t n, uint64_t t_us)
{
    static const uint8_t zeros[4];

    if (!pcapng_active(pc))
        return -1;
    if (n > 0 && b == NULL)
        return -1;
    while (n > 0) {
        size_t len = n > PCAPNG_MAX_CHUNK ? PCAPNG_MAX_CHUNK : n;
        size_t padded = pad4(len);
        /* header 28 bytes; after the data: flags option (8), end of
         * options (4), trailing length (4) */
        uint8_t head[28], tail[16];
        size_t total = 28 + padded + sizeof tail;
        struct iovec iov[4];

        put32(head, BT_EPB);
        put32(head + 4, (uint32_t)total);
        put32(head + 8, to_target ? PCAPNG_IF_DEBUGGER : PCAPNG_IF_TARGET);
        put32(head + 12, (uint32_t)(t_us >> 32));
        put32(head + 16, (uint32_t)t_us);
        put32(head + 20, (uint32_t)len);
        put32(head + 24, (uint32_t)len);
        put16(tail, EPB_FLAGS);
        put16(tail + 2, 4);
        put32(tail + 4, direction(pc, to_target));
        put16(tail + 8, OPT_END);
        put16(tail + 10, 0);
        put32(tail + 12, (uint32_t)total);
        iov[0].iov_base = head;
        iov[0].iov_len = sizeof head;
        iov[1].iov_base = (void *)(uintptr_t)b;
        iov[1].iov_len = len;
        iov[2].iov_base = (void *)(uintptr_t)zeros;
        iov[2].iov_len = padded - len;
        iov[3].iov_base = tail;
        iov[3].iov_len = sizeof tail;
        if (write_block(pc->fd, iov, 4) != 0) {
            fail(pc, "write failed");
            return -1;
        }
        pc->blocks++;
        pc->bytes += len;
        pc->size += total;
        b += len;
        n -= len;
    }
    return 0;
}

int pcapng_bytes(struct pcapng_writer *pc, int to_target, const uint8_t *b,
                 size_t n)
{
    if (!pcapng_active(pc) || n == 0)
        return pcapng_active(pc) ? 0 : -1;
    return pcapng_write(pc, to_target, b, n, pcapng_now_us());
}

int pcapng_close(struct pcapng_writer *pc)
{
    int rc = 0;

    if (!pcapng_active(pc))
        return 0;
    if (pc->owns_fd && close(pc->fd) != 0) {
        fprintf(stderr, "%s: --pcap %s: close failed: %s\n", pc->prog,
                pc->path, strerror(errno));
        rc = -1;
    }
    pc->on = 0;
    pc->fd = -1;
    return rc;
}
