/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm_echo.c - the host side of the VM channel's bare round trip (the
 * bare-metal kernel's rtt=N, guest/baremetal/bm_rtt.c): maps the region
 * file QEMU's ivshmem-plain shares with the guest, and answers each
 * 512-byte request with its bytes inverted, as fast as one spinning host
 * thread can.  No KD, no KDCOM, no socket: what is left is shared memory
 * between a vCPU and a host thread.
 *
 *   vm_echo FILE [SIZE]     create or reuse FILE (SIZE bytes, default
 *                           1M), wait up to 60 s for the guest's "KDVE"
 *                           magic, serve COUNT round trips, exit 0;
 *                           exit 1 on an error or when the guest goes
 *                           quiet for 10 s
 *
 * Layout and rules: bm_rtt.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RTT_MAGIC 0x4556444Bu
#define OFF_MAGIC 0x00
#define OFF_COUNT 0x04
#define OFF_LEN 0x08
#define OFF_REQ_SEQ 0x10
#define OFF_RSP_SEQ 0x80
#define OFF_REQ 0x1000
#define OFF_ANS 0x2000
#define MAX_LEN 0x1000u
#define MIN_SIZE 0x3000u

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t load(volatile uint8_t *r, size_t off)
{
    return __atomic_load_n((volatile uint32_t *)(r + off), __ATOMIC_ACQUIRE);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#endif
}

/* Spins until the word at off differs from old: 0, or -1 after
 * timeout_ms. */
static int wait_change(volatile uint8_t *r, size_t off, uint32_t old,
                       uint32_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    unsigned spins = 0;

    while (load(r, off) == old) {
        cpu_relax();
        if ((++spins & 4095u) == 0 && now_ms() > end)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *path;
    uint64_t size = 1u << 20;
    volatile uint8_t *r;
    uint32_t count, len, seq = 0;
    struct stat st;
    int fd;

    if (argc < 2 || argc > 3 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: vm_echo FILE [SIZE]\n"
                "Answers the bare-metal kernel's rtt=N round trips over the "
                "region FILE.\n");
        return argc == 2 ? 0 : 2;
    }
    path = argv[1];
    if (argc == 3) {
        char *end;
        unsigned long long v = strtoull(argv[2], &end, 0);
        if (*end == 'K' || *end == 'k')
            v <<= 10, end++;
        else if (*end == 'M' || *end == 'm')
            v <<= 20, end++;
        if (*end != '\0' || v < MIN_SIZE || v > (1ull << 30)) {
            fprintf(stderr, "vm_echo: SIZE must be %u..1G\n", MIN_SIZE);
            return 2;
        }
        size = v;
    }
    fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "vm_echo: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0) {
        fprintf(stderr, "vm_echo: %s: %s\n", path, strerror(errno));
        return 1;
    }
    r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (r == MAP_FAILED) {
        fprintf(stderr, "vm_echo: mmap: %s\n", strerror(errno));
        return 1;
    }
    printf("vm_echo: ready on %s\n", path);
    fflush(stdout);
    while (load(r, OFF_MAGIC) != RTT_MAGIC) {
        if (wait_change(r, OFF_MAGIC, load(r, OFF_MAGIC), 60000) != 0) {
            fprintf(stderr, "vm_echo: no guest within 60 s\n");
            return 1;
        }
    }
    count = load(r, OFF_COUNT);
    len = load(r, OFF_LEN);
    if (len == 0 || len > MAX_LEN || count == 0) {
        fprintf(stderr, "vm_echo: guest asks for %u round trips of %u B: "
                "out of range\n", count, len);
        return 1;
    }
    while (seq < count) {
        uint32_t n, i;

        if (wait_change(r, OFF_REQ_SEQ, seq, 10000) != 0) {
            fprintf(stderr, "vm_echo: guest quiet after %u round trips\n",
                    seq);
            return 1;
        }
        n = load(r, OFF_REQ_SEQ);
        for (i = 0; i < len; i++)
            r[OFF_ANS + i] = (uint8_t)(r[OFF_REQ + i] ^ 0xffu);
        __atomic_store_n((volatile uint32_t *)(r + OFF_RSP_SEQ), n,
                         __ATOMIC_RELEASE);
        seq = n;
    }
    printf("vm_echo: %u round trips of %u B served\n", count, len);
    return 0;
}
