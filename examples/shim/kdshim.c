/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdshim.c - kdcom-shim: the VMM side of the VM channel as a daemon.
 *
 * It maps the channel's shared-memory file (the file QEMU's ivshmem-plain
 * device shares with the guest through memory-backend-file,share=on), runs
 * libkdcom's host service on it, and serves the resulting KDCOM TARGET
 * link to a debugger on TCP, a Unix socket or a tty/pty.  To WinDbg it
 * looks like a kernel's serial port.
 *
 * The loop owns all I/O and never blocks on a peer: sockets are
 * non-blocking, input waits in a bounded buffer while the host service
 * holds a packet for the guest, output waits in another.
 *
 * Doorbells (docs/vm-channel.md section 8.4).  A guest that declares
 * KDCOM_VM_GF_DOORBELL wakes us with FUTEX_WAKE on the REQ_SEQ word of
 * the mapping after each post: a doorbell thread sleeps in FUTEX_WAIT on
 * that word and pokes the loop through a pipe, so the loop sleeps in
 * pselect() until a request, debugger bytes or a deadline (and at least
 * every 250 ms while a request is in progress, so HOST_BEAT moves); right
 * after an answer the loop waits for the guest's next request on the word
 * itself, briefly.  The other way, after every answer the loop does
 * FUTEX_WAKE on RSP_SEQ, where such a guest sleeps (KDCOM_VM_HF_DOORBELL
 * tells it that we do).  The doorbell thread reads the word with pread()
 * on the file and only makes system calls on the mapping, never loads
 * from it, so a truncated file gives it a short read or EFAULT, never
 * SIGBUS.  A guest
 * without the flag (stock QEMU ivshmem-plain has no doorbell) is polled:
 * every 50 us while requests flow, backing off to --idle-poll ms when
 * nothing moved for 100 ms (a request waiting for the debugger does not
 * count: bytes wake us).
 *
 * QEMU's ivshmem-doorbell (--ivshmem-server PATH, ivshmem_server.c): the
 * shim is the device's ivshmem server and peer 0.  It hands the channel
 * file to QEMU as BAR 2, and a guest that writes (0 << 16) | 0 to the
 * Doorbell register makes one of our eventfds readable, which wakes the
 * pselect() at once: another wake source beside the futex doorbell, with
 * the same meaning ("poll the mailbox now").  For a guest that declares
 * the doorbell, the loop then sleeps while idle for --idle-poll or
 * BEAT_MS, whichever is longer (a safety net for a lost ring), and the
 * doorbell thread re-reads the word as rarely.
 *
 * Lifecycle: a debugger may disconnect and another connect at any time (a
 * new connection replaces an old one, and kdcom_vm_host_wire_reset()
 * starts the wire side over for it); the guest may restart, on the same
 * file or a new one (the host service notices a new epoch or a region
 * that read invalid); neither needs the shim restarted.  While no
 * debugger is connected, the link's output is discarded, so droppable
 * packets (DbgPrint) time out as with an absent debugger.
 */
#define _DEFAULT_SOURCE /* syscall() */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#endif

#include <kdcom.h>
#include <kdcom_vm.h>

#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "../common/wiretrace.h"
#include "ivshmem_server.h"

#define HOT_WINDOW_MS 100
#define HOT_POLL_US 50
#define RECONNECT_MS 1000
#define BEAT_MS 250 /* longest sleep while a request is in progress */

static const char usage[] =
"usage: kdcom-shim [options] --shm FILE ENDPOINT\n"
"\n"
"Serves a guest's KD traffic from the VM channel's shared-memory FILE as a\n"
"KDCOM serial line on ENDPOINT, for WinDbg/KD or any KDCOM debugger.\n"
"\n"
"ENDPOINT\n"
"  tcp-listen:[HOST:]PORT   wait for debuggers (default host 127.0.0.1; PORT 0:\n"
"                           any free port).  Prints the WinDbg command line and\n"
"                           KDCOM_SHIM_PORT=N on stdout\n"
"  tcp:HOST:PORT            connect to a debugger that listens (retried)\n"
"  unix-listen:PATH, unix:PATH   the same on a Unix stream socket\n"
"  tty:DEVICE[,BAUD]        a serial line (raw mode)\n"
"  pty                      a new pty; prints KDCOM_SHIM_PTY=/dev/pts/N\n"
"\n"
"Options\n"
"  --shm FILE               shared-memory file (created if missing)\n"
"  --shm-size SIZE          size when creating it (default 1M; K/M suffixes)\n"
"  --unlink                 remove FILE on exit\n"
"  --idle-poll MS           mailbox poll interval when idle, for guests without\n"
"                           a doorbell (default 10, at most 60000); for a guest\n"
"                           that rings, the longer of MS and 250 ms (a safety\n"
"                           net for a lost ring)\n"
"  --ivshmem-server PATH    also be the ivshmem server of QEMU's ivshmem-doorbell\n"
"                           on the Unix socket PATH (-chardev socket,path=PATH,\n"
"                           id=ivs -device ivshmem-doorbell,chardev=ivs): QEMU\n"
"                           gets FILE as BAR 2 (its size must be a power of\n"
"                           two), the shim is peer 0, and a guest rings it by\n"
"                           writing 0 (peer 0 << 16 | vector 0) to the BAR 0\n"
"                           Doorbell register (offset 12).  One VM at a time:\n"
"                           a second QEMU is refused (it exits with \"server\n"
"                           sent version -1\")\n"
"  --ivshmem-vectors N      interrupt vectors per peer (1..16, default 1)\n"
"  --receive-timeout MS     guest RECEIVE answers TIMEOUT after MS (1000)\n"
"  --ack-timeout MS         resend to the debugger after MS without ACK (1000);\n"
"                           a DbgPrint is dropped after 20 of them\n"
"  --trace hex|decode       print the wire traffic on stderr\n"
"  -q, --quiet              only errors and the final counters\n"
"  -h, --help               this text\n"
"\n"
"SIGINT/SIGTERM: clean exit, counters on stderr.\n";

static struct kdcom_vm_host host;
static struct kdcom_vm_config vcfg;

struct conn {
    struct ep_spec sp;
    int lfd;                /* listening socket, or -1 */
    int fd;                 /* debugger connection / tty / pty, or -1 */
    int keep_slave;         /* pty: our slave descriptor */
    uint64_t next_connect;  /* connect mode: next attempt */
    uint8_t in[8192];
    size_t in_len, in_off;
    uint8_t out[8192];
    size_t out_len, out_off;
};

static int quiet;
static struct ivs_server ivs; /* lfd -1 unless --ivshmem-server */

static void say(const char *fmt, const char *a)
{
    if (!quiet) {
        fputs("kdcom-shim: ", stderr);
        fprintf(stderr, fmt, a);
        fputc('\n', stderr);
    }
}

static void drop(struct conn *c, struct wiretrace *wt, const char *why)
{
    if (c->fd < 0)
        return;
    say("debugger %s", why);
    close(c->fd);
    c->fd = -1;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    c->next_connect = ex_now_ms() + RECONNECT_MS;
    wt_reset(wt);
}

/* A new peer: the wire side starts over, so its first bytes never land in
 * a packet the old peer left half-sent, and the first bytes it gets begin
 * a frame. */
static void attached(struct conn *c, int fd, const char *peer)
{
    char msg[200];

    c->fd = fd;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    kdcom_vm_host_wire_reset(&host, ex_now_ms());
    snprintf(msg, sizeof msg, "debugger connected (%s)", peer);
    say("%s", msg);
}

static void try_connect(struct conn *c)
{
    char err[256];
    int fd;

    if (c->fd >= 0 || c->lfd >= 0 || ex_now_ms() < c->next_connect)
        return;
    if (c->sp.kind == EP_TTY || c->sp.kind == EP_PTY)
        return;
    fd = ep_open(&c->sp, 1000, err, sizeof err);
    if (fd < 0) {
        c->next_connect = ex_now_ms() + RECONNECT_MS;
        return;
    }
    attached(c, fd, "connect");
}

/* The file the mapping came from: a guest side that recreates or resizes
 * it (a VM restarted with a new memory-backend-file) is followed by a
 * remap. */
static struct stat mapped_st;

/* Another process may truncate the file under the mapping; touching the
 * lost pages raises SIGBUS.  The handler jumps back to the main loop,
 * which stops using the mapping until the file is whole again and then
 * starts the host service afresh (its state may be half-updated). */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;
static int shm_bad;

static void on_sigbus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- doorbells ---- */

static int mapped_fd = -1; /* the file behind the mapping */
/* The doorbell thread's longest wait before it reads REQ_SEQ again by
 * itself: the longer of 1 s and --idle-poll (set before it starts). */
static uint32_t db_wait_ms = 1000;

#ifdef __linux__
static long futex(void *w, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static struct {
    pthread_t thread;
    int running;
    int pipe[2];          /* thread -> loop: "the guest rang" */
    pthread_mutex_t mu;   /* guards next_fd, next_addr */
    int next_fd;          /* handed to the thread, which then owns it */
    uint32_t *next_addr;  /* REQ_SEQ in the mapping, or NULL */
    uint32_t gen;         /* bumped on each hand-over (private futex) */
    uint32_t following;   /* the loop waits on REQ_SEQ itself */
    uint32_t stop;
} db = {.pipe = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER, .next_fd = -1};

/* Sleeps on REQ_SEQ and tells the loop (a byte in the pipe) when it moves,
 * unless the loop is waiting on it itself.  The value to wait on is read
 * with pread() on the file, never loaded from the mapping: a truncated
 * file gives a short read (and FUTEX_WAIT EFAULT), never SIGBUS.  Reading
 * the value right before each FUTEX_WAIT means no post is ever missed: one
 * in between makes the wait return at once. */
static void *doorbell_thread(void *arg)
{
    uint32_t *addr = NULL, mygen = 0, seen = 0, v;
    int fd = -1, have = 0;

    (void)arg;
    while (!__atomic_load_n(&db.stop, __ATOMIC_ACQUIRE)) {
        struct timespec slow = {0, 100000000}, ts;
        uint32_t g = __atomic_load_n(&db.gen, __ATOMIC_ACQUIRE);

        if (g != mygen) {
            pthread_mutex_lock(&db.mu);
            if (fd >= 0)
                close(fd);
            fd = db.next_fd;
            addr = db.next_addr;
            db.next_fd = -1;
            mygen = __atomic_load_n(&db.gen, __ATOMIC_ACQUIRE);
            pthread_mutex_unlock(&db.mu);
            have = 0;
        }
        if (fd < 0 || addr == NULL ||
            pread(fd, &v, sizeof v, KDCOM_VM_OFF_REQ_SEQ) != (ssize_t)sizeof v) {
            futex(&db.gen, FUTEX_WAIT_PRIVATE, mygen, &slow);
            continue;
        }
        if (have && v != seen && v != 0 &&
            !__atomic_load_n(&db.following, __ATOMIC_SEQ_CST)) {
            char b = 1;
            if (write(db.pipe[1], &b, 1) < 0 && errno != EAGAIN)
                break;
        }
        seen = v;
        have = 1;
        ts.tv_sec = (time_t)(db_wait_ms / 1000);
        ts.tv_nsec = (long)(db_wait_ms % 1000) * 1000000L;
        futex(addr, FUTEX_WAIT, v, &ts);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int doorbell_start(void)
{
    sigset_t all, old;
    int rc;

    if (pipe(db.pipe) != 0)
        return -1;
    ex_set_nonblock(db.pipe[0]);
    ex_set_nonblock(db.pipe[1]);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&db.thread, NULL, doorbell_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(db.pipe[0]);
        close(db.pipe[1]);
        db.pipe[0] = db.pipe[1] = -1;
        return -1;
    }
    db.running = 1;
    return 0;
}

/* Points the thread at the mapping shm of the file mapped_fd (NULL: at
 * nothing). */
static void doorbell_arm(void *shm)
{
    int fd = -1;

    if (!db.running)
        return;
    if (shm != NULL && mapped_fd >= 0)
        fd = fcntl(mapped_fd, F_DUPFD_CLOEXEC, 0);
    pthread_mutex_lock(&db.mu);
    if (db.next_fd >= 0)
        close(db.next_fd); /* never taken */
    db.next_fd = fd;
    db.next_addr = fd >= 0
        ? (uint32_t *)((uint8_t *)shm + KDCOM_VM_OFF_REQ_SEQ) : NULL;
    __atomic_add_fetch(&db.gen, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&db.mu);
    futex(&db.gen, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Before unmapping (after doorbell_arm() of the new mapping): get the
 * thread out of a wait on the old pages. */
static void doorbell_detach(void *old_shm)
{
    if (!db.running)
        return;
    futex((uint8_t *)old_shm + KDCOM_VM_OFF_REQ_SEQ, FUTEX_WAKE, INT32_MAX,
          NULL);
}

static void doorbell_stop(void *shm)
{
    if (!db.running)
        return;
    __atomic_store_n(&db.stop, 1, __ATOMIC_RELEASE);
    doorbell_arm(NULL);
    if (shm != NULL)
        doorbell_detach(shm);
    pthread_join(db.thread, NULL);
    close(db.pipe[0]);
    close(db.pipe[1]);
    db.running = 0;
}

/* Host -> guest: an answer was published; wake a guest sleeping on
 * RSP_SEQ. */
static void kick_guest(void *shm)
{
    futex((uint8_t *)shm + KDCOM_VM_OFF_RSP_SEQ, FUTEX_WAKE, INT32_MAX, NULL);
}

static int doorbell_fd(void)
{
    return db.running ? db.pipe[0] : -1;
}
#else
static int doorbell_start(void) { return -1; }
static void doorbell_arm(void *shm) { (void)shm; }
static void doorbell_detach(void *shm) { (void)shm; }
static void doorbell_stop(void *shm) { (void)shm; }
static void kick_guest(void *shm) { (void)shm; }
static int doorbell_fd(void) { return -1; }
#endif

static int kicked; /* an answer went out in this round of the loop */
static int last_poll = KDCOM_VM_POLL_NO_GUEST; /* what service() saw last */

/* Polls the host service, and kicks the guest if an answer went out. */
static int service(void *shm, size_t size, uint64_t now)
{
    int r = kdcom_vm_host_poll(&host, shm, size, now);

    last_poll = r;
    if (kdcom_vm_host_take_kick(&host) == 1) {
        kick_guest(shm);
        kicked = 1;
    }
    return r;
}

/* Right after an answer the guest's next request usually follows within
 * microseconds (a SEND after a RECEIVE, a RECEIVE after a SEND): wait for
 * it on the doorbell word directly, for at most FOLLOW_US, rather than
 * through the doorbell thread and the pipe.  Returns 1 if REQ_SEQ moved. */
#define FOLLOW_US 300

static int follow_guest(void *shm)
{
#ifdef __linux__
    uint32_t *req = (uint32_t *)((uint8_t *)shm + KDCOM_VM_OFF_REQ_SEQ);
    uint32_t *rsp = (uint32_t *)((uint8_t *)shm + KDCOM_VM_OFF_RSP_SEQ);
    uint32_t v = __atomic_load_n(req, __ATOMIC_ACQUIRE);
    struct timespec ts = {0, FOLLOW_US * 1000L};

    int moved;

    if (v != __atomic_load_n(rsp, __ATOMIC_ACQUIRE))
        return 1; /* posted already */
    __atomic_store_n(&db.following, 1, __ATOMIC_SEQ_CST);
    moved = futex(req, FUTEX_WAIT, v, &ts) == 0 || errno == EAGAIN;
    __atomic_store_n(&db.following, 0, __ATOMIC_SEQ_CST);
    /* A post the doorbell thread saw while we were following was left to
     * us: look once more. */
    return moved || __atomic_load_n(req, __ATOMIC_SEQ_CST) != v;
#else
    (void)shm;
    return 0;
#endif
}

static int map_shm(const char *path, uint64_t create_size, void **base,
                   size_t *size, int *created)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    *created = 0;
    if (fd < 0) {
        fprintf(stderr, "kdcom-shim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "kdcom-shim: %s: not a regular file\n", path);
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        if (ftruncate(fd, (off_t)create_size) != 0) {
            fprintf(stderr, "kdcom-shim: %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        st.st_size = (off_t)create_size;
        *created = 1; /* zero-filled: no guest until one initialises it */
    }
    if ((uint64_t)st.st_size < KDCOM_VM_MIN_SIZE ||
        (uint64_t)st.st_size > (1u << 30)) {
        fprintf(stderr, "kdcom-shim: %s: size %lld outside %u..1G bytes\n",
                path, (long long)st.st_size, (unsigned)KDCOM_VM_MIN_SIZE);
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    *base = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    mapped_st = st;
    if (*base != MAP_FAILED) {
        if (mapped_fd >= 0)
            close(mapped_fd);
        mapped_fd = fd; /* the doorbell thread reads REQ_SEQ through it */
    } else {
        close(fd);
    }
    if (*base == MAP_FAILED) {
        fprintf(stderr, "kdcom-shim: mmap %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Checks whether the channel file is still the one mapped; remaps a
 * replaced or resized one.  A vanished file keeps the old mapping. */
static void follow_shm(const char *path, void **shm, size_t *size)
{
    static int gone;
    struct stat st;
    void *nb;
    size_t ns;
    int created;

    if (stat(path, &st) != 0) {
        if (shm_bad)
            return;
        if (!gone)
            say("channel file %s removed; still serving the old mapping",
                path);
        gone = 1;
        return;
    }
    gone = 0;
    if (st.st_dev == mapped_st.st_dev && st.st_ino == mapped_st.st_ino &&
        st.st_size == mapped_st.st_size) {
        if (shm_bad) { /* whole again: the pages are back */
            shm_bad = 0;
            /* The SIGBUS may have cut a poll short: start afresh. */
            kdcom_vm_host_init(&host, &vcfg);
            say("channel file %s is whole again", path);
        }
        return;
    }
    if ((uint64_t)st.st_size < KDCOM_VM_MIN_SIZE ||
        (uint64_t)st.st_size > (1u << 30))
        return; /* being set up; look again later */
    if (map_shm(path, 0, &nb, &ns, &created) != 0)
        return;
    doorbell_arm(nb);
    doorbell_detach(*shm);
    munmap(*shm, *size);
    *shm = nb;
    *size = ns;
    if (shm_bad) {
        shm_bad = 0;
        kdcom_vm_host_init(&host, &vcfg); /* a poll may have been cut */
    }
    /* The guest on the new file is noticed by the host service (a region
     * that reads invalid, or a new epoch): nothing of the old one carries
     * over. */
    say("channel file %s replaced or resized: mapped again", path);
    if (ivs_connected(&ivs))
        say("%s", "ivshmem: the connected VM keeps the old file; clients "
            "that connect from now on get the new one");
}

static void print_stats(void)
{
    const struct kdcom_vm_stats *v = kdcom_vm_host_stats(&host);
    const struct kdcom_stats *l = kdcom_get_stats(kdcom_vm_host_link(&host));

    fprintf(stderr, "kdcom-shim: channel: requests=%llu sends=%llu acked=%llu "
            "dropped=%llu receives=%llu received=%llu timeouts=%llu "
            "resends=%llu breakins=%llu errors=%llu guest_restarts=%llu "
            "torn=%llu abandoned=%llu rx_dropped=%llu wire_resets=%llu\n",
            (unsigned long long)v->requests, (unsigned long long)v->sends,
            (unsigned long long)v->sends_acked,
            (unsigned long long)v->sends_dropped,
            (unsigned long long)v->receives, (unsigned long long)v->received,
            (unsigned long long)v->timeouts, (unsigned long long)v->resends,
            (unsigned long long)v->breakins, (unsigned long long)v->errors,
            (unsigned long long)v->guest_restarts,
            (unsigned long long)v->torn_requests,
            (unsigned long long)v->abandoned,
            (unsigned long long)v->rx_dropped,
            (unsigned long long)v->wire_resets);
    fprintf(stderr, "kdcom-shim: link: bytes in=%llu out=%llu packets "
            "sent=%llu received=%llu retransmits=%llu ack_timeouts=%llu "
            "resets in=%llu resends in/out=%llu/%llu duplicates=%llu "
            "bad checksum/trailer/size/type/id=%llu/%llu/%llu/%llu/%llu "
            "noise=%llu\n",
            (unsigned long long)l->bytes_in, (unsigned long long)l->bytes_out,
            (unsigned long long)l->packets_sent,
            (unsigned long long)l->packets_received,
            (unsigned long long)l->retransmits,
            (unsigned long long)l->ack_timeouts,
            (unsigned long long)l->resets_received,
            (unsigned long long)l->resends_received,
            (unsigned long long)l->resends_sent,
            (unsigned long long)l->duplicates,
            (unsigned long long)l->bad_checksum,
            (unsigned long long)l->bad_trailer,
            (unsigned long long)l->bad_size,
            (unsigned long long)l->bad_type,
            (unsigned long long)l->bad_id,
            (unsigned long long)l->noise_bytes);
    if (ivs.lfd >= 0) {
        const struct ivs_stats *is = ivs_get_stats(&ivs);
        fprintf(stderr, "kdcom-shim: ivshmem: clients=%llu refused=%llu "
                "dropped=%llu rings=%llu\n",
                (unsigned long long)is->clients,
                (unsigned long long)is->refused,
                (unsigned long long)is->dropped,
                (unsigned long long)is->rings);
    }
}

static void ivs_log(const char *msg)
{
    say("%s", msg);
}

/* Moves bytes between the host service and the peer.  Returns 1 if
 * anything moved. */
static int shuttle(struct conn *c, struct wiretrace *wt, void *shm,
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
                         errno != EINTR)
                    drop(c, wt, "connection failed (write)");
                break;
            }
            wt_bytes(wt, 0, c->out + c->out_off, (size_t)w);
            c->out_off += (size_t)w;
        }
    }
    return moved;
}

int main(int argc, char **argv)
{
    /* static: the loop state survives the SIGBUS siglongjmp intact */
    static const char *shm_path, *ep_arg, *ivs_path;
    static uint64_t shm_size = 1u << 20, last_active;
    static uint32_t idle_ms = 10, rx_timeout = 1000, ack_timeout = 1000;
    static uint32_t ivs_vectors = 1;
    static int unlink_shm, trace, created, guest_seen = -1, rearm = 1;
    static uint64_t restarts_seen, last_progress, next_follow;
    static struct wiretrace wt;
    static struct conn c;
    static void *shm;
    static size_t size;
    int i, sigfd;
    char err[256];

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--unlink") == 0) {
            unlink_shm = 1;
        } else if (strcmp(a, "--shm") == 0 && v != NULL) {
            shm_path = v;
            i++;
        } else if (strcmp(a, "--shm-size") == 0 && v != NULL) {
            if (ex_parse_size(v, &shm_size) != 0 ||
                shm_size < KDCOM_VM_MIN_SIZE || shm_size > (1u << 30))
                goto bad;
            i++;
        } else if (strcmp(a, "--idle-poll") == 0 && v != NULL) {
            if (ex_parse_u32(v, 60000, &idle_ms) != 0 || idle_ms == 0)
                goto bad;
            i++;
        } else if (strcmp(a, "--ivshmem-server") == 0 && v != NULL) {
            if (v[0] == '\0')
                goto bad;
            ivs_path = v;
            i++;
        } else if (strcmp(a, "--ivshmem-vectors") == 0 && v != NULL) {
            if (ex_parse_u32(v, IVS_MAX_VECTORS, &ivs_vectors) != 0 ||
                ivs_vectors == 0)
                goto bad;
            i++;
        } else if (strcmp(a, "--receive-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &rx_timeout) != 0 || rx_timeout == 0)
                goto bad;
            i++;
        } else if (strcmp(a, "--ack-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &ack_timeout) != 0 ||
                ack_timeout == 0)
                goto bad;
            i++;
        } else if (strcmp(a, "--trace") == 0 && v != NULL) {
            if ((trace = wt_parse_mode(v)) < 0)
                goto bad;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "kdcom-shim: unknown option '%s' or missing value "
                    "(see --help)\n", a);
            return 2;
        } else if (ep_arg == NULL) {
            ep_arg = a;
        } else {
            fprintf(stderr, "kdcom-shim: unexpected argument '%s'\n", a);
            return 2;
        }
        continue;
    bad:
        fprintf(stderr, "kdcom-shim: bad value for %s: '%s'\n", a, v);
        return 2;
    }
    if (shm_path == NULL || ep_arg == NULL) {
        fprintf(stderr, "kdcom-shim: need --shm FILE and an ENDPOINT (see "
                "--help)\n");
        return 2;
    }
    memset(&c, 0, sizeof c);
    c.lfd = c.fd = c.keep_slave = -1;
    ivs.lfd = ivs.cfd = -1;
    if (ep_parse(ep_arg, &c.sp, err, sizeof err) != 0) {
        fprintf(stderr, "kdcom-shim: %s\n", err);
        return 2;
    }
    sigfd = ex_signals_init();
    kdcom_vm_config_init(&vcfg);
    vcfg.receive_timeout_ms = rx_timeout;
    vcfg.ack_timeout_ms = ack_timeout;
    db_wait_ms = idle_ms > 1000 ? idle_ms : 1000;
    if (doorbell_start() == 0)
        vcfg.flags |= KDCOM_VM_CFG_KICKS_GUEST;
    if (kdcom_vm_host_init(&host, &vcfg) != KDCOM_OK) {
        fprintf(stderr, "kdcom-shim: host service configuration refused\n");
        return 2;
    }
    if (map_shm(shm_path, shm_size, &shm, &size, &created) != 0)
        return 1;
    if (created && !quiet)
        fprintf(stderr, "kdcom-shim: created %s (%zu bytes)\n", shm_path,
                size);
    if (ivs_path != NULL && !ivs_size_ok(size)) {
        fprintf(stderr, "kdcom-shim: %s: %zu bytes is not a power of two: "
                "ivshmem-doorbell maps the file as PCI BAR 2, whose size "
                "must be a power of two (QEMU aborts otherwise); use e.g. "
                "1M\n", shm_path, size);
        doorbell_stop(shm);
        munmap(shm, size);
        close(mapped_fd);
        if (unlink_shm || created) /* never a file we just made */
            unlink(shm_path);
        return 1;
    }
    wt_init(&wt, trace, stderr);
    if (ivs_path != NULL) {
        if (ivs_open(&ivs, ivs_path, ivs_vectors, ivs_log, err,
                     sizeof err) != 0)
            goto fail;
        if (!quiet)
            fprintf(stderr, "kdcom-shim: ivshmem server on %s: %s (%zu "
                    "bytes) is BAR 2; the shim is peer 0\n", ivs_path,
                    shm_path, size);
    }

    if (c.sp.kind == EP_PTY) {
        char slave[128];
        c.fd = ep_open_pty(slave, sizeof slave, &c.keep_slave, err,
                           sizeof err);
        if (c.fd < 0)
            goto fail;
        printf("KDCOM_SHIM_PTY=%s\n", slave);
    } else if (c.sp.listen) {
        c.lfd = ep_listen(&c.sp, err, sizeof err);
        if (c.lfd < 0)
            goto fail;
        if (c.sp.kind == EP_TCP) {
            int port = ep_local_port(c.lfd);
            if (!quiet)
                fprintf(stderr, "kdcom-shim: %s (%zu bytes) served on "
                        "tcp %s:%d\nkdcom-shim: attach WinDbg with: "
                        "windbg -k com:ipport=%d,port=%s\n", shm_path, size,
                        c.sp.host, port, port, c.sp.host);
            printf("KDCOM_SHIM_PORT=%d\n", port);
        } else if (!quiet) {
            fprintf(stderr, "kdcom-shim: %s served on unix socket %s\n",
                    shm_path, c.sp.path);
        }
    } else if (c.sp.kind == EP_TTY) {
        c.fd = ep_open(&c.sp, 0, err, sizeof err);
        if (c.fd < 0)
            goto fail;
    }
    fflush(stdout);

    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigbus;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, NULL);
    }
    while (!ex_stop_requested()) {
        uint64_t now = ex_now_ms(), deadline;
        if (sigsetjmp(bus_jmp, 0) != 0) {
            sigset_t bus;
            bus_armed = 0;
            sigemptyset(&bus);
            sigaddset(&bus, SIGBUS);
            sigprocmask(SIG_UNBLOCK, &bus, NULL);
            if (!shm_bad)
                say("channel file %s shrank under the mapping; waiting "
                    "for it to be whole", shm_path);
            shm_bad = 1;
            next_follow = 0;
            rearm = 1;
            continue;
        }
        if (now >= next_follow) {
            int was_bad = shm_bad;
            follow_shm(shm_path, &shm, &size);
            if (shm_bad != was_bad)
                rearm = 1;
            next_follow = now + 250;
        }
        bus_armed = 1;
        struct timespec ts;
        fd_set rd, wr;
        int nfds = sigfd, r, moved, doorbell, followed = 0;

        if (rearm) {
            doorbell_arm(shm_bad ? NULL : shm);
            rearm = 0;
        }
        r = shm_bad ? KDCOM_VM_POLL_NO_GUEST : service(shm, size, now);
        if (r == KDCOM_VM_POLL_NO_GUEST && guest_seen != 0) {
            say("%s", "waiting for a guest to initialise the channel");
            guest_seen = 0;
        } else if (r >= 0 && r != KDCOM_VM_POLL_NO_GUEST) {
            uint64_t rs = kdcom_vm_host_stats(&host)->guest_restarts;
            if (rs != restarts_seen)
                say("%s", "guest restarted");
            else if (guest_seen != 1)
                say("%s", "guest attached");
            guest_seen = 1;
            restarts_seen = rs;
        }
        try_connect(&c);
        moved = shuttle(&c, &wt, shm_bad ? NULL : shm, size, now);
        /* The guest rings: through the futex word, or (a VM) through
         * ivshmem-doorbell's eventfd. */
        doorbell = (doorbell_fd() >= 0 || ivs_connected(&ivs)) && !shm_bad &&
                   (kdcom_vm_host_guest_flags(&host) & KDCOM_VM_GF_DOORBELL);
        /* Following the futex word serves only a guest that wakes it; a
         * VM's next ring arrives on the eventfd, which pselect() sees. */
        if (doorbell && kicked && !ivs_connected(&ivs) &&
            c.in_off == c.in_len && c.out_off == c.out_len)
            followed = follow_guest(shm);
        kicked = 0;
        bus_armed = 0;
        /* Hot polling only while the mailbox moves, and only for a guest
         * without a doorbell: a request that just waits for the debugger
         * needs no polling (its input wakes us). */
        {
            const struct kdcom_vm_stats *vs = kdcom_vm_host_stats(&host);
            uint64_t progress = vs->requests + vs->sends_acked +
                                vs->sends_dropped + vs->received +
                                vs->timeouts + vs->resends;
            if (moved || progress != last_progress)
                last_active = now;
            last_progress = progress;
        }

        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(sigfd, &rd);
        if (doorbell_fd() >= 0) {
            FD_SET(doorbell_fd(), &rd);
            if (doorbell_fd() > nfds)
                nfds = doorbell_fd();
        }
        if (c.lfd >= 0) {
            FD_SET(c.lfd, &rd);
            if (c.lfd > nfds)
                nfds = c.lfd;
        }
        nfds = ivs_fdset(&ivs, &rd, nfds);
        if (c.fd >= 0) {
            if (c.in_off == c.in_len)
                FD_SET(c.fd, &rd);
            if (c.out_off < c.out_len)
                FD_SET(c.fd, &wr);
            if (c.fd > nfds)
                nfds = c.fd;
        }
        /* Sleep, never past a link or service deadline: with a doorbell
         * until the guest rings (at least every BEAT_MS while a request is
         * in progress, so HOST_BEAT moves; when idle, every BEAT_MS or
         * --idle-poll, whichever is longer, to follow the file and to
         * catch a lost ring); without one, briefly while requests flow,
         * --idle-poll when idle. */
        deadline = kdcom_vm_host_next_deadline(&host);
        if (followed) {
            /* The guest posted: serve it at once, after a look at the
             * descriptors (a guest posting without end must not starve
             * the debugger). */
            ts.tv_sec = 0;
            ts.tv_nsec = 0;
        } else if (!doorbell && now - last_active < HOT_WINDOW_MS) {
            ts.tv_sec = 0;
            ts.tv_nsec = HOT_POLL_US * 1000L;
        } else {
            int ms, cap = (int)idle_ms;
            if (doorbell && (last_poll == KDCOM_VM_POLL_BUSY ||
                             cap < BEAT_MS))
                cap = BEAT_MS;
            ms = ex_poll_timeout(now, deadline, cap);
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        }
        r = pselect(nfds + 1, &rd, &wr, NULL, &ts, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kdcom-shim: select: %s\n", strerror(errno));
            break;
        }
        if (FD_ISSET(sigfd, &rd))
            ex_signals_drain();
        if (doorbell_fd() >= 0 && FD_ISSET(doorbell_fd(), &rd)) {
            char b[64];
            while (read(doorbell_fd(), b, sizeof b) > 0)
                ; /* the loop polls anyway */
        }
        /* Rings (the loop polls anyway), a VM leaving, a VM arriving.  A
         * VM gets the channel file as it is now: a replaced or resized
         * file is followed first, even while idle sleeps are long. */
        if (ivs_accept_pending(&ivs, &rd)) {
            int was_bad = shm_bad;
            follow_shm(shm_path, &shm, &size);
            if (shm_bad != was_bad)
                rearm = 1;
            next_follow = ex_now_ms() + 250;
        }
        ivs_handle(&ivs, &rd, shm_bad ? -1 : mapped_fd);
        if (c.lfd >= 0 && FD_ISSET(c.lfd, &rd)) {
            char peer[160];
            int fd = ep_accept(c.lfd, peer, sizeof peer);
            if (fd >= 0) {
                if (c.fd >= 0)
                    drop(&c, &wt, "replaced by a new connection");
                attached(&c, fd, peer);
                last_active = ex_now_ms();
            }
        }
        if (c.fd >= 0 && c.in_off == c.in_len && FD_ISSET(c.fd, &rd)) {
            ssize_t n = read(c.fd, c.in, sizeof c.in);
            if (n > 0) {
                wt_bytes(&wt, 1, c.in, (size_t)n);
                c.in_len = (size_t)n;
                c.in_off = 0;
                last_active = ex_now_ms();
            } else if (n == 0 && c.sp.kind != EP_PTY) {
                drop(&c, &wt, "disconnected");
            } else if (n < 0 && errno == ECONNRESET) {
                /* A debugger killed with unread data: it went away. */
                drop(&c, &wt, "disconnected (connection reset)");
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR && errno != EIO) {
                drop(&c, &wt, "connection failed (read)");
            }
        }
    }
    if (ex_stop_requested())
        say("%s", "stopping");
    doorbell_stop(shm);
    print_stats();
    ivs_close(&ivs);
    if (c.fd >= 0)
        close(c.fd);
    if (c.keep_slave >= 0)
        close(c.keep_slave);
    if (c.lfd >= 0) {
        close(c.lfd);
        if (c.sp.kind == EP_UNIX)
            unlink(c.sp.path);
    }
    munmap(shm, size);
    if (mapped_fd >= 0)
        close(mapped_fd);
    if (unlink_shm)
        unlink(shm_path);
    return 0;
fail:
    fprintf(stderr, "kdcom-shim: %s\n", err);
    ivs_close(&ivs);
    doorbell_stop(shm);
    munmap(shm, size);
    if (unlink_shm)
        unlink(shm_path);
    return 1;
}
