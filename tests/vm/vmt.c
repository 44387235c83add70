/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vmt.c - the end-to-end harness (see vmt.h) and the guest platform
 * interface for user space: a monotonic clock, the shared file as the vm
 * back end's channel, and a 16550 emulated over a socketpair or a pty for
 * the uart back end.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmt.h"

static struct vmt *cur; /* the platform functions serve this one */

uint64_t vmt_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int vmt_get(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void vmt_set(int *p, int val)
{
    __atomic_store_n(p, val, __ATOMIC_RELEASE);
}

void vmt_failf(struct vmt *v, const char *fmt, ...)
{
    va_list ap;

    if (v->fail[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(v->fail, sizeof v->fail, fmt, ap);
    va_end(ap);
}

/* ---- platform interface ---- */

uint64_t KdPlatformMilliseconds(void)
{
    /* The guest spins around this call; yielding keeps a shared machine
     * usable and lets the host thread run. */
    sched_yield();
    return vmt_ms();
}

void *KdVmPlatformChannel(ULONG *Size)
{
    if (cur == NULL || cur->guest_map == NULL)
        return NULL;
    *Size = (ULONG)cur->size;
    return cur->guest_map;
}

void KdVmPlatformNotify(void)
{
}

static uint8_t uart_regs[8];
static int uart_ahead = -1; /* a byte read to answer LSR (pty: no peek) */

/* Non-blocking one-way I/O on either kind of fd.  Returns what read(),
 * write() or their socket versions return. */
static ssize_t io_read(const struct vmt *v, int fd, void *buf, size_t n)
{
    return v->tty ? read(fd, buf, n) : recv(fd, buf, n, MSG_DONTWAIT);
}

/* Writes everything, waiting while a pty's buffer is full (the other
 * thread drains it).  Returns 0, or -1 on an error. */
static int io_write_all(const struct vmt *v, int fd, const void *buf,
                        size_t n)
{
    const uint8_t *p = buf;

    while (n > 0) {
        ssize_t r = v->tty ? write(fd, p, n) : send(fd, p, n, MSG_NOSIGNAL);

        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};

            (void)poll(&pfd, 1, 10);
        } else {
            return -1;
        }
    }
    return 0;
}

static int uart_rx_ready(void)
{
    uint8_t b;

    if (uart_ahead >= 0)
        return 1;
    if (cur->tty) {
        if (read(cur->fd_guest, &b, 1) != 1)
            return 0;
        uart_ahead = b;
        return 1;
    }
    return recv(cur->fd_guest, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

uint8_t KdUartPlatformRead(ULONG reg)
{
    uint8_t b = 0;

    if (cur == NULL || cur->fd_guest < 0)
        return 0;
    switch (reg) {
    case KDUART_RBR:
        if (uart_regs[KDUART_LCR] & 0x80)
            return uart_regs[0];
        if (uart_ahead >= 0) {
            b = (uint8_t)uart_ahead;
            uart_ahead = -1;
            return b;
        }
        if (io_read(cur, cur->fd_guest, &b, 1) != 1)
            return 0;
        return b;
    case KDUART_LSR:
        return (uint8_t)(0x60 | (uart_rx_ready() ? KDUART_LSR_DR : 0));
    default:
        return reg < 8 ? uart_regs[reg] : 0;
    }
}

void KdUartPlatformWrite(ULONG reg, uint8_t val)
{
    if (cur == NULL || cur->fd_guest < 0 || reg >= 8)
        return;
    if (reg == KDUART_THR && !(uart_regs[KDUART_LCR] & 0x80)) {
        (void)io_write_all(cur, cur->fd_guest, &val, 1);
        return;
    }
    uart_regs[reg] = val;
}

/* ---- set-up ---- */

static int dbg_init(struct vmt *v)
{
    struct kdcom_config dc;

    kdcom_config_init(&dc, KDCOM_ROLE_DEBUGGER);
    dc.ack_timeout_ms = 200;
    dc.reset_interval_ms = 50;
    return kdcom_link_init(&v->dbg, &dc) == KDCOM_OK ? 0 : -1;
}

static int host_init(struct vmt *v)
{
    struct kdcom_vm_config hc;

    kdcom_vm_config_init(&hc);
    hc.ack_timeout_ms = 50;
    hc.receive_timeout_ms = 100;
    return kdcom_vm_host_init(&v->host, &hc) == KDCOM_OK ? 0 : -1;
}

static int temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    int fd;

    if (dir == NULL || dir[0] == '\0' || strlen(dir) > 400)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/kdcom-vm-test-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0)
        unlink(path); /* nothing left behind, whatever happens next */
    return fd;
}

/* A pty in raw mode: 8-bit clean, no echo, no line editing, no signals
 * from ^C, no flow control from ^S/^Q: KDCOM bytes are binary.  Both ends
 * non-blocking. */
static int open_pty(struct vmt *v)
{
    struct termios t;
    const char *name;

    v->tty = 1;
    v->fd_guest = posix_openpt(O_RDWR | O_NOCTTY);
    if (v->fd_guest < 0 || grantpt(v->fd_guest) != 0 ||
        unlockpt(v->fd_guest) != 0 || (name = ptsname(v->fd_guest)) == NULL)
        return -1;
    v->fd_dbg = open(name, O_RDWR | O_NOCTTY);
    if (v->fd_dbg < 0 || tcgetattr(v->fd_dbg, &t) != 0)
        return -1;
    cfmakeraw(&t);
    if (tcsetattr(v->fd_dbg, TCSANOW, &t) != 0 ||
        fcntl(v->fd_guest, F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(v->fd_dbg, F_SETFL, O_NONBLOCK) != 0)
        return -1;
    return 0;
}

int vmt_open(struct vmt *v, int mode)
{
    memset(v, 0, sizeof(*v));
    v->mode = mode;
    v->fd_guest = v->fd_dbg = v->fd = -1;
    if (mode == VMT_VM) {
        v->fd = temp_file();
        if (v->fd < 0 || ftruncate(v->fd, VMT_REGION) != 0)
            return -1;
        v->size = VMT_REGION;
        v->guest_map = mmap(NULL, v->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                            v->fd, 0);
        v->host_map = mmap(NULL, v->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                           v->fd, 0);
        if (v->guest_map == MAP_FAILED || v->host_map == MAP_FAILED ||
            host_init(v) != 0)
            return -1;
    } else if (mode == VMT_UART) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            return -1;
        v->fd_guest = sv[0];
        v->fd_dbg = sv[1];
        /* the uart test sets KdUartAckTimeoutMs/KdUartReceiveTimeoutMs */
    } else if (open_pty(v) != 0) {
        return -1;
    }
    memset(uart_regs, 0, sizeof uart_regs);
    uart_ahead = -1;
    if (dbg_init(v) != 0)
        return -1;
    cur = v;
    return 0;
}

int vmt_attach_host(struct vmt *v, int fd, size_t size)
{
    memset(v, 0, sizeof(*v));
    v->mode = VMT_VM;
    v->fd_guest = v->fd_dbg = -1;
    v->fd = fd;
    v->size = size;
    v->host_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (v->host_map == MAP_FAILED) {
        v->host_map = NULL;
        return -1;
    }
    return host_init(v) == 0 && dbg_init(v) == 0 ? 0 : -1;
}

void vmt_close(struct vmt *v)
{
    if (v->guest_map != NULL && v->guest_map != MAP_FAILED)
        munmap(v->guest_map, v->size);
    if (v->host_map != NULL && v->host_map != MAP_FAILED)
        munmap(v->host_map, v->size);
    if (v->fd_guest >= 0)
        close(v->fd_guest);
    if (v->fd_dbg >= 0)
        close(v->fd_dbg);
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    v->guest_map = v->host_map = NULL;
    v->fd_guest = v->fd_dbg = -1;
    if (cur == v)
        cur = NULL;
}

/* ---- the debugger side ---- */

int vmt_phase(struct vmt *v, int phase)
{
    uint64_t end = vmt_ms() + 5000;

    vmt_set(&v->phase, phase);
    while (vmt_get(&v->phase_ack) != phase) {
        if (vmt_ms() > end || vmt_get(&v->stop)) {
            vmt_failf(v, "phase %d not acknowledged", phase);
            return -1;
        }
        sched_yield();
    }
    return 0;
}

static void *kernel_thread(void *arg)
{
    struct vmt *v = arg;

    v->kernel(v);
    vmt_set(&v->guest_done, 1);
    return NULL;
}

static void dbg_take(struct vmt *v)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&v->dbg, &ev) > 0)
        if (v->script != NULL)
            v->script(v, &ev);
}

static void dbg_feed(struct vmt *v, const uint8_t *p, size_t n, uint64_t now)
{
    while (n > 0) {
        int k = kdcom_feed(&v->dbg, now, p, n);
        if (k < 0) {
            vmt_failf(v, "debugger feed: %s", kdcom_strerror(k));
            return;
        }
        p += k;
        n -= (size_t)k;
        dbg_take(v);
        if (k == 0) {
            uint8_t out[256];
            /* control queue full: let it drain (into the void if the
             * wire is cut, as it would be) */
            int d = kdcom_drain(&v->dbg, now, out, sizeof out);
            if (d > 0 && !v->silent &&
                v->to_target_len + (size_t)d <= sizeof v->to_target) {
                memcpy(v->to_target + v->to_target_len, out, (size_t)d);
                v->to_target_len += (size_t)d;
            }
        }
    }
}

static int step_vm(struct vmt *v, uint64_t now)
{
    uint8_t buf[8192];
    int n, moved = 0;

    if (!v->host_down)
        kdcom_vm_host_poll(&v->host, v->host_map, v->size, now);
    while ((n = kdcom_vm_host_drain(&v->host, now, buf, sizeof buf)) > 0) {
        moved = 1;
        if (!v->silent)
            dbg_feed(v, buf, (size_t)n, now);
    }
    dbg_take(v);
    while ((n = kdcom_drain(&v->dbg, now, buf, sizeof buf)) > 0) {
        moved = 1;
        if (!v->silent && v->to_target_len + (size_t)n <= sizeof v->to_target) {
            memcpy(v->to_target + v->to_target_len, buf, (size_t)n);
            v->to_target_len += (size_t)n;
        }
    }
    if (v->to_target_len > 0) {
        n = kdcom_vm_host_feed(&v->host, now, v->to_target, v->to_target_len);
        if (n > 0) {
            moved = 1;
            memmove(v->to_target, v->to_target + n,
                    v->to_target_len - (size_t)n);
            v->to_target_len -= (size_t)n;
        }
    }
    if (!v->host_down)
        kdcom_vm_host_poll(&v->host, v->host_map, v->size, now);
    return moved;
}

static int step_uart(struct vmt *v, uint64_t now)
{
    uint8_t buf[8192];
    ssize_t r;
    int n, moved = 0;

    while ((r = io_read(v, v->fd_dbg, buf, sizeof buf)) > 0) {
        moved = 1;
        if (!v->silent)
            dbg_feed(v, buf, (size_t)r, now);
    }
    dbg_take(v);
    while ((n = kdcom_drain(&v->dbg, now, buf, sizeof buf)) > 0) {
        moved = 1;
        if (!v->silent && io_write_all(v, v->fd_dbg, buf, (size_t)n) != 0)
            vmt_failf(v, "send to the guest uart failed");
    }
    return moved;
}

int vmt_step(struct vmt *v, uint64_t now)
{
    return v->mode == VMT_VM ? step_vm(v, now) : step_uart(v, now);
}

int vmt_run(struct vmt *v, vmt_kernel_fn kernel, vmt_dbg_fn script,
            unsigned timeout_ms)
{
    uint64_t end = vmt_ms() + timeout_ms;
    int finished;

    v->kernel = kernel;
    v->script = script;
    if (pthread_create(&v->th, NULL, kernel_thread, v) != 0)
        return -1;
    while (!vmt_get(&v->guest_done) && vmt_ms() < end) {
        uint64_t now = vmt_ms();
        int moved = v->mode == VMT_VM ? step_vm(v, now) : step_uart(v, now);

        if (script != NULL)
            script(v, NULL);
        if (!moved) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    finished = vmt_get(&v->guest_done);
    if (!finished) {
        /* Unstick a kernel waiting for a debugger: let the wire and the
         * host work again so it can finish, bounded. */
        uint64_t grace = vmt_ms() + 10000;
        vmt_set(&v->stop, 1);
        v->silent = 0;
        v->host_down = 0;
        v->script = NULL;
        while (!vmt_get(&v->guest_done) && vmt_ms() < grace) {
            uint64_t now = vmt_ms();
            if (v->mode == VMT_VM)
                step_vm(v, now);
            else
                step_uart(v, now);
        }
        if (!vmt_get(&v->guest_done)) {
            fprintf(stderr, "vmt: kernel thread stuck; aborting\n");
            abort();
        }
    }
    pthread_join(v->th, NULL);
    return finished ? 0 : -1;
}

void vmt_run_ok(struct vmt *v, vmt_kernel_fn kernel, vmt_dbg_fn script,
                unsigned timeout_ms)
{
    assert_int_equal(vmt_run(v, kernel, script, timeout_ms), 0);
    if (v->fail[0] != '\0')
        fail_msg("kernel: %s", v->fail);
}
