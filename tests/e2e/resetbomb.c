/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * resetbomb.c - a "debugger" that only ever sends RESET: connects to a
 * KDCOM endpoint, sends a RESET every 20 ms for a while, never
 * acknowledges anything, and counts what comes back.  Exits 0 if the
 * peer kept echoing RESETs the whole time (at least one per 200 ms).
 *
 *   resetbomb HOST PORT MILLISECONDS
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kdcom.h>

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
    struct addrinfo hints, *res;
    struct kdcom_parser p;
    uint8_t reset[KDCOM_CONTROL_FRAME_SIZE], buf[8192];
    unsigned long sent = 0, echoes = 0, data = 0;
    uint64_t end, next = 0;
    long ms;
    int fd;

    if (argc != 4 || (ms = strtol(argv[3], NULL, 10)) <= 0 || ms > 60000) {
        fprintf(stderr, "usage: resetbomb HOST PORT MILLISECONDS\n");
        return 2;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(argv[1], argv[2], &hints, &res) != 0) {
        fprintf(stderr, "resetbomb: bad address\n");
        return 2;
    }
    fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        fprintf(stderr, "resetbomb: connect: %s\n", strerror(errno));
        freeaddrinfo(res);
        return 1;
    }
    freeaddrinfo(res);
    kdcom_encode_control(reset, sizeof reset, KDCOM_TYPE_RESET, 0);
    kdcom_parser_init(&p);
    end = now_ms() + (uint64_t)ms;
    while (now_ms() < end) {
        struct pollfd pf = {fd, POLLIN, 0};
        uint64_t t = now_ms();
        if (t >= next) {
            if (write(fd, reset, sizeof reset) != (ssize_t)sizeof reset) {
                fprintf(stderr, "resetbomb: write failed after %lu\n", sent);
                return 1;
            }
            sent++;
            next = t + 20;
        }
        if (poll(&pf, 1, 5) > 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            size_t off = 0;
            if (n <= 0) {
                fprintf(stderr, "resetbomb: peer closed after %lu\n", sent);
                return 1;
            }
            while (off < (size_t)n) {
                struct kdcom_frame f;
                int used = kdcom_parse(&p, buf + off, (size_t)n - off, &f);
                if (used < 0)
                    return 1;
                off += (size_t)used;
                if (f.kind == KDCOM_FRAME_CONTROL &&
                    f.type == KDCOM_TYPE_RESET)
                    echoes++;
                else if (f.kind == KDCOM_FRAME_DATA)
                    data++;
            }
        }
    }
    close(fd);
    printf("resets sent=%lu echoed=%lu data packets seen=%lu\n", sent, echoes,
           data);
    return echoes * 200 >= (unsigned long)ms ? 0 : 1;
}
