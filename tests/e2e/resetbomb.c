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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <kdcom.h>

#include "netutil.h"

int main(int argc, char **argv)
{
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
    fd = net_connect(argv[1], argv[2], 0);
    if (fd < 0) {
        fprintf(stderr, "resetbomb: cannot connect to %s:%s\n", argv[1],
                argv[2]);
        return 1;
    }
    kdcom_encode_control(reset, sizeof reset, KDCOM_TYPE_RESET, 0);
    kdcom_parser_init(&p);
    end = net_now_ms() + (uint64_t)ms;
    while (net_now_ms() < end) {
        struct pollfd pf = {fd, POLLIN, 0};
        uint64_t t = net_now_ms();
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
