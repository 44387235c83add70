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
 * new connection replaces an old one, or with --takeover refuse is turned
 * away while the old one is alive, and kdcom_vm_host_wire_reset() starts
 * the wire side over for it); the guest may restart, on the same
 * file or a new one (the host service notices a new epoch or a region
 * that read invalid); neither needs the shim restarted.  While no
 * debugger is connected, the link's output is discarded, so droppable
 * packets (DbgPrint) time out as with an absent debugger.
 *
 * Exposure (docs/SECURITY.md section 7): whoever is connected can read and
 * write the guest kernel's memory.  Unix sockets are made owner-only
 * (--mode, --ivshmem-mode widen them), --allow limits TCP peers by
 * address, a non-loopback listener is warned about, every takeover or
 * refusal is logged with the peers' addresses, and TCP keepalive ends a
 * connection whose host vanished.  Start-up opens the endpoint before the
 * channel file, and a failed start removes what it made.
 */
#define _DEFAULT_SOURCE /* syscall() */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

#include "../common/counters.h"
#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "../common/pcapng.h"
#include "../common/wiretrace.h"
#include "ivshmem_server.h"

#define HOT_WINDOW_MS 100
#define HOT_POLL_US 50
#define RECONNECT_MS 1000
#define BEAT_MS 250 /* longest sleep while a request is in progress */

/* --help, in pieces C99 compilers must accept (4095 bytes each). */
static const char *const usage[] = {
"NAME\n"
"  kdcom-shim - serve a VM's kernel debugging channel as a KDCOM serial line\n"
"\n"
"SYNOPSIS\n"
"  kdcom-shim [OPTIONS] --shm FILE ENDPOINT\n"
"  kdcom-shim --help | --version\n"
"\n"
"DESCRIPTION\n"
"  Maps FILE, the shared memory of the VM channel (the file behind QEMU's\n"
"  ivshmem memory-backend-file), answers the guest's requests in it with\n"
"  libkdcom's host service, and offers the resulting kernel debugging line\n"
"  on ENDPOINT as a Windows kernel's serial port would: WinDbg/KD,\n"
"  kdcom-client or any KDCOM debugger attaches to it.  One debugger at a\n"
"  time; guest and debugger may come and go without restarting the shim.\n"
"\n"
"  Whoever can connect to ENDPOINT can read and write the guest kernel's\n"
"  memory and stop or run it: KDCOM has no authentication and no\n"
"  encryption.  TCP listens on 127.0.0.1 and Unix sockets are owner-only\n"
"  unless told otherwise; listening on another address prints a warning\n"
"  (docs/SECURITY.md section 7).\n"
"\n",
"ENDPOINT\n"
"  tcp-listen:[HOST:]PORT  wait for debuggers on TCP (HOST 127.0.0.1 if\n"
"                          left out; 0.0.0.0 or [::] for every address;\n"
"                          PORT 0: any free port)\n"
"  unix-listen:PATH        wait for debuggers on a Unix socket, created with\n"
"                          mode 0600 (see --mode)\n"
"  tcp:HOST:PORT           connect to a debugger that listens; retried every\n"
"                          second, and each new reason it failed is printed\n"
"  unix:PATH               the same on a Unix socket\n"
"  tty:DEVICE[,BAUD]       a serial line, in raw mode\n"
"  pty                     a new pty for the debugger to open\n"
"\n"
"OPTIONS\n"
"  Values follow the option as the next argument or after '='\n"
"  (--takeover=refuse).\n"
"  --shm FILE              the channel's shared-memory file; created (mode\n"
"                          0600) if missing, grown if it exists but is empty\n"
"                          (all zeros, shorter than 12K); a shorter file with\n"
"                          data in it is refused, never changed\n"
"  --shm-size SIZE         the size of a FILE it creates or grows: 12K..1G\n"
"                          (12288..1073741824 bytes; K, M, G suffixes; default\n"
"                          1M); an existing FILE keeps its size\n"
"  --unlink                remove FILE on exit\n"
"  --allow ADDR[/BITS]     tcp-listen: accept debuggers only from this IPv4 or\n"
"                          IPv6 address or prefix (numeric; BITS defaults to\n"
"                          the whole address; repeatable).  Others are closed\n"
"                          at once and logged with their address\n"
"  --takeover replace|refuse\n"
"                          a debugger that connects while another is\n"
"                          connected: replace the old one (the default; both\n"
"                          addresses are logged), or refuse the new one as\n"
"                          long as the old connection is alive.  A TCP\n"
"                          debugger whose host vanished without closing the\n"
"                          connection counts as gone about 30 s after its\n"
"                          last sign of life (keepalive)\n"
"  --mode MODE             unix-listen: the socket file's permissions, octal\n"
"                          (default 0600; 0660 lets the file's group attach)\n",
"  --ivshmem-server PATH   also be the ivshmem server of QEMU's\n"
"                          ivshmem-doorbell on the Unix socket PATH\n"
"                          (-chardev socket,path=PATH,id=ivs -device\n"
"                          ivshmem-doorbell,chardev=ivs): QEMU gets FILE as\n"
"                          BAR 2 (its size must be a power of two), the shim\n"
"                          is peer 0, and a guest rings it by writing 0 (peer\n"
"                          0 << 16 | vector 0) to the BAR 0 Doorbell register\n"
"                          (offset 12).  One VM at a time: a second QEMU is\n"
"                          refused (it exits with \"server sent version -1\")\n"
"  --ivshmem-mode MODE     the ivshmem socket's permissions, octal (default\n"
"                          0600): QEMU's user needs write permission on it\n"
"  --ivshmem-vectors N     interrupt vectors per peer: 1..16 (default 1)\n"
"  --idle-poll MS          mailbox poll interval when idle, for guests without\n"
"                          a doorbell: 1..60000 (default 10); for a guest that\n"
"                          rings, the longer of MS and 250 ms (a safety net\n"
"                          for a lost ring)\n"
"  --receive-timeout MS    a guest RECEIVE is answered TIMEOUT after MS:\n"
"                          1..3600000 (default 1000)\n"
"  --ack-timeout MS        resend to the debugger after MS without an ACK:\n"
"                          1..3600000 (default 1000); a DbgPrint is dropped\n"
"                          after 20 of them\n"
"  --trace hex|decode      print the wire traffic on stderr\n"
"  --pcap FILE             capture the KDCOM traffic with every debugger\n"
"                          into FILE as it happens (pcapng; kdcom-dump and\n"
"                          Wireshark with examples/wireshark/kdcom.lua read\n"
"                          it; docs/wireshark.md)\n"
"  -q, --quiet             only warnings, errors and the final counters\n"
"  -h, --help              this text\n"
"  --version               the version (libkdcom's) and exit\n"
"\n",
"OUTPUT\n"
"  stdout gets one line for scripts, once the shim serves:\n"
"  KDCOM_SHIM_PORT=PORT (tcp-listen, the port actually bound) or\n"
"  KDCOM_SHIM_PTY=/dev/pts/N (pty).  Everything else goes to stderr: the\n"
"  WinDbg command line (\"attach WinDbg with: windbg -k com:ipport=...\"),\n"
"  debuggers and guests coming and going, warnings, errors and, at exit,\n"
"  the counters: channel (the mailbox) and link (the KDCOM wire), both\n"
"  totals since the start, over every debugger and guest.\n"
"\n"
"EXIT STATUS\n"
"  0  stopped by SIGINT, SIGTERM or SIGHUP\n"
"  1  could not start (FILE, ENDPOINT, the ivshmem socket) or failed while\n"
"     running; a start that fails leaves no file and no socket behind\n"
"  2  usage error (unknown option, bad value, missing argument)\n"
"\n"
"EXAMPLES\n"
"  kdcom-shim --shm /dev/shm/win10-kd tcp-listen:127.0.0.1:5800\n"
"      and on the same host: windbg -k com:ipport=5800,port=127.0.0.1\n"
"  kdcom-shim --shm /tmp/kd.shm tcp-listen:0\n"
"      any free port; read KDCOM_SHIM_PORT=N from stdout\n"
"  kdcom-shim --shm /dev/shm/win10-kd unix-listen:/run/kdcom/kd.sock\n"
"  kdcom-shim --shm /dev/shm/win10-kd --allow 192.0.2.20 --takeover refuse \\\n"
"      tcp-listen:192.0.2.10:5800\n"
"      WinDbg on the Windows machine 192.0.2.20 only, with\n"
"      windbg -k com:ipport=5800,port=192.0.2.10\n"
"  kdcom-shim --shm /dev/shm/win10-kd --ivshmem-server /run/kdcom/ivs.sock \\\n"
"      tcp-listen:127.0.0.1:5800\n"
"\n"
"SEE ALSO\n"
"  kdcom-client --help, kdcom-simkernel-vm --help; docs/integrating.md\n"
"  sections 2-4, docs/SECURITY.md section 7.\n",
NULL};

static struct kdcom_vm_host host;
static struct kdcom_vm_config vcfg;

struct conn {
    struct ep_spec sp;
    int lfd;                /* listening socket, or -1 */
    int fd;                 /* debugger connection / tty / pty, or -1 */
    int keep_slave;         /* pty: our slave descriptor */
    uint64_t next_connect;  /* connect mode: next attempt */
    char peer[160];         /* who fd is, for the log */
    char connect_err[256];  /* connect mode: the last failure reported */
    uint8_t in[8192];
    size_t in_len, in_off;
    uint8_t out[8192];
    size_t out_len, out_off;
};

static int quiet;
static struct ivs_server ivs; /* lfd -1 unless --ivshmem-server */

/* Who may attach (--allow, --takeover), and what came of it. */
#define MAX_ALLOW 64
#define TAKEOVER_REPLACE 0
#define TAKEOVER_REFUSE 1
static struct ep_allow allow[MAX_ALLOW];
static size_t n_allow;
static int takeover = TAKEOVER_REPLACE;
static struct {
    uint64_t accepted, replaced, refused_allow, refused_takeover;
    uint64_t log_window, log_lines, log_hidden; /* refusal lines */
} conns;

/* A debugger that vanished without closing its TCP connection (its host
 * crashed, slept or lost the network) counts as gone after this long
 * without a sign of life: keepalive probes after KEEPALIVE_IDLE_S of
 * silence, every KEEPALIVE_INTVL_S. */
#define KEEPALIVE_IDLE_S 10
#define KEEPALIVE_INTVL_S 5
#define PEER_TIMEOUT_MS 30000

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void say(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    fputs("kdcom-shim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Printed even with -q: warnings, and who attached to the kernel. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void warn(const char *fmt, ...)
{
    va_list ap;

    fputs("kdcom-shim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A refused connection: logged, at most 10 lines per 10 s (whoever can
 * reach the port must not be able to flood the log); the rest are
 * counted, and the count is logged with the next line. */
static void refused(const char *what, const char *peer, const char *why)
{
    uint64_t now = ex_now_ms();

    if (now - conns.log_window >= 10000) {
        if (conns.log_hidden > 0)
            warn("%llu more refused connections not logged one by one",
                 (unsigned long long)conns.log_hidden);
        conns.log_window = now;
        conns.log_lines = conns.log_hidden = 0;
    }
    if (conns.log_lines++ < 10)
        warn("refused %s from %s: %s", what, peer, why);
    else
        conns.log_hidden++;
}

static void drop_quietly(struct conn *c, struct wiretrace *wt)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    c->next_connect = ex_now_ms() + RECONNECT_MS;
    wt_reset(wt);
}

static void drop(struct conn *c, struct wiretrace *wt, const char *why)
{
    if (c->fd < 0)
        return;
    say("debugger %s", why);
    drop_quietly(c, wt);
}

/* A new peer: the wire side starts over, so its first bytes never land in
 * a packet the old peer left half-sent, and the first bytes it gets begin
 * a frame. */
static void attached(struct conn *c, int fd, const char *peer)
{
    c->fd = fd;
    c->in_len = c->in_off = 0;
    c->out_len = c->out_off = 0;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    kdcom_vm_host_wire_reset(&host, ex_now_ms());
    say("debugger connected (%s)", peer);
}

/* A connection on the listening socket: checked against --allow, then
 * against the debugger already attached (--takeover). */
static void accept_debugger(struct conn *c, struct wiretrace *wt)
{
    char peer[160];
    int fd = ep_accept(c->lfd, peer, sizeof peer);

    if (fd < 0)
        return;
    if (n_allow > 0 && !ep_allow_peer(allow, n_allow, fd)) {
        conns.refused_allow++;
        refused("a debugger connection", peer, "not in --allow");
        close(fd);
        return;
    }
    /* A debugger that has just gone (its close not read yet) is no
     * reason to refuse the next one. */
    if (c->fd >= 0 && ep_peer_gone(c->fd))
        drop(c, wt, "disconnected");
    if (c->fd >= 0 && takeover == TAKEOVER_REFUSE) {
        char why[256];
        conns.refused_takeover++;
        snprintf(why, sizeof why, "the debugger at %s is still connected "
                 "(--takeover refuse)", c->peer);
        refused("a debugger connection", peer, why);
        close(fd);
        return;
    }
    if (c->fd >= 0) {
        conns.replaced++;
        warn("debugger %s replaced by a new connection from %s", c->peer,
             peer);
        drop_quietly(c, wt);
    }
    conns.accepted++;
    ep_keepalive(fd, KEEPALIVE_IDLE_S, KEEPALIVE_INTVL_S, PEER_TIMEOUT_MS);
    attached(c, fd, peer);
}

static void try_connect(struct conn *c)
{
    char err[256], peer[300];
    int fd;

    if (c->fd >= 0 || c->lfd >= 0 || ex_now_ms() < c->next_connect)
        return;
    if (c->sp.kind == EP_TTY || c->sp.kind == EP_PTY)
        return;
    fd = ep_open(&c->sp, 1000, err, sizeof err);
    if (fd < 0) {
        /* Each new reason once: a debugger that is not listening yet is
         * the usual case, not an error. */
        if (strcmp(err, c->connect_err) != 0) {
            say("%s; retrying every %d ms until a debugger listens there",
                err, RECONNECT_MS);
            snprintf(c->connect_err, sizeof c->connect_err, "%s", err);
        }
        c->next_connect = ex_now_ms() + RECONNECT_MS;
        return;
    }
    c->connect_err[0] = '\0';
    ep_keepalive(fd, KEEPALIVE_IDLE_S, KEEPALIVE_INTVL_S, PEER_TIMEOUT_MS);
    if (c->sp.kind == EP_TCP)
        snprintf(peer, sizeof peer, "connected to %s:%s", c->sp.host,
                 c->sp.port);
    else
        snprintf(peer, sizeof peer, "connected to %s", c->sp.path);
    attached(c, fd, peer);
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

/* The counters printed at exit are totals since the start.  The host
 * service keeps its link's counters over debugger connections, but starts
 * the link afresh for a new guest, and the shim starts the whole service
 * afresh after a truncated file: what those had counted is added here. */
static struct kdcom_stats link_done;
static struct kdcom_vm_stats chan_done;

/* dst += src, counter by counter (both structures are uint64_t only). */
static void add_counters(void *dst, const void *src, size_t size)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
        uint64_t a, b;
        memcpy(&a, (uint8_t *)dst + off, sizeof a);
        memcpy(&b, (const uint8_t *)src + off, sizeof b);
        a += b;
        memcpy((uint8_t *)dst + off, &a, sizeof a);
    }
}

static void host_restart(void)
{
    add_counters(&link_done, kdcom_get_stats(kdcom_vm_host_link(&host)),
                 sizeof link_done);
    add_counters(&chan_done, kdcom_vm_host_stats(&host), sizeof chan_done);
    kdcom_vm_host_init(&host, &vcfg);
}

/* 1 if a counter of now is below the same counter of before: the
 * structure was started afresh in between. */
static int counters_restarted(const void *before, const void *now,
                              size_t size)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
        uint64_t a, b;
        memcpy(&a, (const uint8_t *)before + off, sizeof a);
        memcpy(&b, (const uint8_t *)now + off, sizeof b);
        if (b < a)
            return 1;
    }
    return 0;
}

/* Polls the host service, and kicks the guest if an answer went out. */
static int service(void *shm, size_t size, uint64_t now)
{
    const struct kdcom_stats *ls = kdcom_get_stats(kdcom_vm_host_link(&host));
    struct kdcom_stats before;
    int r;

    if (ls != NULL)
        before = *ls;
    r = kdcom_vm_host_poll(&host, shm, size, now);
    /* A new guest may get a new link, its counters at zero: only the
     * poll ran in between, so what the old link counted is `before`. */
    if (ls != NULL && counters_restarted(&before, ls, sizeof before))
        add_counters(&link_done, &before, sizeof before);
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

#define SHM_EXISTING 0 /* map_shm(): the file was there, as it is */
#define SHM_CREATED 1  /* ... it was missing: made, mode 0600 */
#define SHM_GROWN 2    /* ... it was empty: grown to the size asked for */
#define SHM_RANGE "12K..1G, 12288..1073741824 bytes"

/* 1 if the first len bytes of fd are zeros (or it has fewer). */
static int all_zero(int fd, off_t len)
{
    uint8_t b[4096];
    off_t off = 0;

    while (off < len) {
        size_t want = len - off < (off_t)sizeof b ? (size_t)(len - off)
                                                  : sizeof b;
        ssize_t n = pread(fd, b, want, off), i;
        if (n <= 0)
            return n == 0;
        for (i = 0; i < n; i++)
            if (b[i] != 0)
                return 0;
        off += n;
    }
    return 1;
}

/* Maps the channel file.  With create_size (at the start): a missing file
 * is created and an empty one (no byte but zeros, too short for a
 * channel) grown to create_size, never one with data in it; *how says
 * which, *orig the size it had.  Without (following the file): the file
 * must be there and the right size.  On failure nothing made or grown
 * here is left behind. */
static int map_shm(const char *path, uint64_t create_size, void **base,
                   size_t *size, int *how, off_t *orig)
{
    struct stat st;
    int fd;

    *how = SHM_EXISTING;
    *orig = 0;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create_size != 0) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            *how = SHM_CREATED;
        else if (errno == EEXIST) /* made by someone else meanwhile */
            fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) {
        fprintf(stderr, "kdcom-shim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "kdcom-shim: %s: not a regular file\n", path);
        goto fail;
    }
    *orig = st.st_size;
    if ((uint64_t)st.st_size < KDCOM_VM_MIN_SIZE && create_size != 0) {
        if (*how == SHM_EXISTING && !all_zero(fd, st.st_size)) {
            fprintf(stderr, "kdcom-shim: %s: size %lld bytes, smaller "
                    "than a channel file (" SHM_RANGE "), and not empty: "
                    "left as it is; remove it or name another --shm\n",
                    path, (long long)st.st_size);
            goto fail;
        }
        if (ftruncate(fd, (off_t)create_size) != 0) {
            fprintf(stderr, "kdcom-shim: %s: growing to %llu bytes: %s\n",
                    path, (unsigned long long)create_size, strerror(errno));
            goto fail;
        }
        if (*how == SHM_EXISTING)
            *how = SHM_GROWN;
        /* zero-filled: no guest until one initialises it */
        st.st_size = (off_t)create_size;
    }
    if ((uint64_t)st.st_size < KDCOM_VM_MIN_SIZE ||
        (uint64_t)st.st_size > (1u << 30)) {
        fprintf(stderr, "kdcom-shim: %s: size %lld bytes, outside a "
                "channel file's range (" SHM_RANGE ")\n", path,
                (long long)st.st_size);
        goto fail;
    }
    *size = (size_t)st.st_size;
    *base = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*base == MAP_FAILED) {
        fprintf(stderr, "kdcom-shim: mmap %s: %s\n", path, strerror(errno));
        goto fail;
    }
    mapped_st = st;
    if (mapped_fd >= 0)
        close(mapped_fd);
    mapped_fd = fd; /* the doorbell thread reads REQ_SEQ through it */
    /* Whoever can read the file reads the kernel memory the debugger
     * reads; whoever can write it can post a debugger's requests to the
     * guest (docs/SECURITY.md section 7). */
    if (st.st_mode & 0066)
        warn("WARNING: %s has mode %04o: other users can %s the channel "
             "(the kernel memory the debugger reads%s); chmod 600 it, or "
             "let the shim create it (QEMU creates a missing mem-path with "
             "0644 less its umask)", path, (unsigned)(st.st_mode & 07777),
             (st.st_mode & 0022) ? "read and write" : "read",
             (st.st_mode & 0022) ? ", and a debugger's control of the guest"
                                 : "");
    else if (st.st_uid != geteuid())
        say("%s belongs to uid %ld, who can read and write the channel "
            "(as expected if that is the VM's user)", path,
            (long)st.st_uid);
    return 0;
fail:
    if (*how == SHM_GROWN && ftruncate(fd, *orig) != 0)
        fprintf(stderr, "kdcom-shim: %s: shrinking back to %lld bytes: "
                "%s\n", path, (long long)*orig, strerror(errno));
    if (*how == SHM_CREATED)
        unlink(path);
    close(fd);
    return -1;
}

/* Checks whether the channel file is still the one mapped; remaps a
 * replaced or resized one.  A vanished file keeps the old mapping. */
static void follow_shm(const char *path, void **shm, size_t *size)
{
    static int gone;
    struct stat st;
    void *nb;
    size_t ns;
    int how;
    off_t orig;

    if (stat(path, &st) != 0) {
        if (shm_bad)
            return;
        if (!gone)
            warn("channel file %s removed: the shim and a guest that has "
                 "it mapped go on sharing the deleted file, but no new "
                 "guest can reach it.  For the next one, create the file "
                 "again (a VM's memory-backend-file does; by hand: "
                 "truncate -s %zu %s): the shim maps it as soon as it has a "
                 "channel's size.  Or restart kdcom-shim", path, *size,
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
            host_restart();
            say("channel file %s is whole again", path);
        }
        return;
    }
    if ((uint64_t)st.st_size < KDCOM_VM_MIN_SIZE ||
        (uint64_t)st.st_size > (1u << 30))
        return; /* being set up; look again later */
    if (map_shm(path, 0, &nb, &ns, &how, &orig) != 0)
        return;
    doorbell_arm(nb);
    doorbell_detach(*shm);
    munmap(*shm, *size);
    *shm = nb;
    *size = ns;
    if (shm_bad) {
        shm_bad = 0;
        host_restart(); /* a poll may have been cut */
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
    struct kdcom_vm_stats vt = chan_done;
    struct kdcom_stats lt = link_done;
    char line[EX_COUNTERS_LEN];

    add_counters(&vt, kdcom_vm_host_stats(&host), sizeof vt);
    add_counters(&lt, kdcom_get_stats(kdcom_vm_host_link(&host)), sizeof lt);
    fprintf(stderr, "kdcom-shim: channel: %s\n",
            ex_vm_counters(line, sizeof line, &vt));
    fprintf(stderr, "kdcom-shim: link: %s\n",
            ex_link_counters(line, sizeof line, &lt));
    if (conns.accepted + conns.refused_allow + conns.refused_takeover > 0)
        fprintf(stderr, "kdcom-shim: debuggers: accepted=%llu replaced=%llu "
                "refused allow/takeover=%llu/%llu\n",
                (unsigned long long)conns.accepted,
                (unsigned long long)conns.replaced,
                (unsigned long long)conns.refused_allow,
                (unsigned long long)conns.refused_takeover);
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
                         errno != EINTR) {
                    char why[160];
                    drop(c, wt, ep_end_reason(-1, errno, why, sizeof why));
                }
                break;
            }
            wt_bytes(wt, 0, c->out + c->out_off, (size_t)w);
            c->out_off += (size_t)w;
        }
    }
    return moved;
}

/* An option's number in lo..hi: 0, or 2 after saying what is wrong. */
static int opt_u32(const char *opt, const char *v, uint32_t lo, uint32_t hi,
                   const char *unit, uint32_t *out)
{
    uint64_t x;

    if (ex_parse_u64(v, &x) != 0) {
        fprintf(stderr, "kdcom-shim: %s '%s' is not a number (%u..%u%s)\n",
                opt, v, (unsigned)lo, (unsigned)hi, unit);
        return 2;
    }
    if (x < lo || x > hi) {
        fprintf(stderr, "kdcom-shim: %s %s is out of range: %u..%u%s\n",
                opt, v, (unsigned)lo, (unsigned)hi, unit);
        return 2;
    }
    *out = (uint32_t)x;
    return 0;
}

/* An octal file mode up to 0777: 0, or 2 after a message. */
static int opt_mode(const char *opt, const char *v, unsigned *out)
{
    size_t n = strspn(v, "01234567");
    unsigned long m;

    if (n == 0 || n > 4 || v[n] != '\0' ||
        (m = strtoul(v, NULL, 8)) > 0777) {
        fprintf(stderr, "kdcom-shim: %s '%s' is not an octal file mode "
                "(0000..0777, e.g. 0600 or 0660)\n", opt, v);
        return 2;
    }
    *out = (unsigned)m;
    return 0;
}

int main(int argc, char **argv)
{
    /* static: the loop state survives the SIGBUS siglongjmp intact */
    static const char *shm_path, *ep_arg, *ivs_path;
    static uint64_t shm_size = 1u << 20, last_active;
    static uint32_t idle_ms = 10, rx_timeout = 1000, ack_timeout = 1000;
    static uint32_t ivs_vectors = 1;
    static unsigned sock_mode, ivs_mode;
    static int unlink_shm, trace, shm_how, guest_seen = -1, rearm = 1;
    static int size_given, mode_given, takeover_given, ivs_mode_given, rc;
    static off_t shm_orig;
    static uint64_t restarts_seen, last_progress, next_follow;
    static struct wiretrace wt;
    static struct pcapng_writer pcap;
    static const char *pcap_path;
    static struct conn c;
    static void *shm;
    static size_t size;
    int i, sigfd;
    char err[320];

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        char name[32];
        int inline_v = 0, r = 0;

        if (eq != NULL && (size_t)(eq - a) < sizeof name) {
            /* --option=value */
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            v = eq + 1;
            inline_v = 1;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
            strcmp(a, "--version") == 0 || strcmp(a, "-q") == 0 ||
            strcmp(a, "--quiet") == 0 || strcmp(a, "--unlink") == 0) {
            if (inline_v) {
                fprintf(stderr, "kdcom-shim: %s takes no value\n", a);
                return 2;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                const char *const *u;
                for (u = usage; *u != NULL; u++)
                    fputs(*u, stdout);
                return 0;
            }
            if (strcmp(a, "--version") == 0) {
                printf("kdcom-shim (libkdcom) %s\n", kdcom_version_string());
                return 0;
            }
            if (strcmp(a, "--unlink") == 0)
                unlink_shm = 1;
            else
                quiet = 1;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (ep_arg == NULL) {
                ep_arg = a;
                continue;
            }
            fprintf(stderr, "kdcom-shim: unexpected argument '%s'\n", a);
            return 2;
        }
        if (v == NULL) {
            fprintf(stderr, "kdcom-shim: unknown option '%s' or missing "
                    "value (see --help)\n", a);
            return 2;
        }
        if (strcmp(a, "--shm") == 0) {
            if (v[0] == '\0')
                goto bad;
            shm_path = v;
        } else if (strcmp(a, "--shm-size") == 0) {
            if (ex_parse_size(v, &shm_size) != 0) {
                fprintf(stderr, "kdcom-shim: --shm-size '%s' is not a size "
                        "(" SHM_RANGE "; K, M, G suffixes)\n", v);
                return 2;
            }
            if (shm_size < KDCOM_VM_MIN_SIZE || shm_size > (1u << 30)) {
                fprintf(stderr, "kdcom-shim: --shm-size %s is out of range: "
                        SHM_RANGE "\n", v);
                return 2;
            }
            size_given = 1;
        } else if (strcmp(a, "--idle-poll") == 0) {
            r = opt_u32(a, v, 1, 60000, " ms", &idle_ms);
        } else if (strcmp(a, "--ivshmem-server") == 0) {
            if (v[0] == '\0')
                goto bad;
            ivs_path = v;
        } else if (strcmp(a, "--ivshmem-vectors") == 0) {
            r = opt_u32(a, v, 1, IVS_MAX_VECTORS, "", &ivs_vectors);
        } else if (strcmp(a, "--ivshmem-mode") == 0) {
            r = opt_mode(a, v, &ivs_mode);
            ivs_mode_given = 1;
        } else if (strcmp(a, "--receive-timeout") == 0) {
            r = opt_u32(a, v, 1, 3600000u, " ms", &rx_timeout);
        } else if (strcmp(a, "--ack-timeout") == 0) {
            r = opt_u32(a, v, 1, 3600000u, " ms", &ack_timeout);
        } else if (strcmp(a, "--mode") == 0) {
            r = opt_mode(a, v, &sock_mode);
            mode_given = 1;
        } else if (strcmp(a, "--allow") == 0) {
            if (n_allow == MAX_ALLOW) {
                fprintf(stderr, "kdcom-shim: more than %d --allow rules\n",
                        MAX_ALLOW);
                return 2;
            }
            if (ep_allow_parse(v, &allow[n_allow], err, sizeof err) != 0) {
                fprintf(stderr, "kdcom-shim: --allow %s\n", err);
                return 2;
            }
            n_allow++;
        } else if (strcmp(a, "--takeover") == 0) {
            if (strcmp(v, "replace") == 0)
                takeover = TAKEOVER_REPLACE;
            else if (strcmp(v, "refuse") == 0)
                takeover = TAKEOVER_REFUSE;
            else
                goto bad;
            takeover_given = 1;
        } else if (strcmp(a, "--trace") == 0) {
            if ((trace = wt_parse_mode(v)) < 0)
                goto bad;
        } else if (strcmp(a, "--pcap") == 0) {
            /* stdout carries KDCOM_SHIM_PORT and the like: no "-" */
            if (v[0] == '\0' || strcmp(v, "-") == 0)
                goto bad;
            pcap_path = v;
        } else {
            fprintf(stderr, "kdcom-shim: unknown option '%s' (see --help)\n",
                    a);
            return 2;
        }
        if (r != 0)
            return r;
        if (!inline_v)
            i++;
        continue;
    bad:
        fprintf(stderr, "kdcom-shim: bad value for %s: '%s' (see --help)\n",
                a, v);
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
    if (n_allow > 0 && !(c.sp.kind == EP_TCP && c.sp.listen)) {
        fprintf(stderr, "kdcom-shim: --allow applies to tcp-listen "
                "endpoints (a Unix socket's --mode says who may connect)\n");
        return 2;
    }
    if (mode_given && !(c.sp.kind == EP_UNIX && c.sp.listen)) {
        fprintf(stderr, "kdcom-shim: --mode applies to unix-listen "
                "endpoints\n");
        return 2;
    }
    if (takeover_given && !c.sp.listen) {
        fprintf(stderr, "kdcom-shim: --takeover applies to tcp-listen and "
                "unix-listen endpoints\n");
        return 2;
    }
    if (ivs_mode_given && ivs_path == NULL) {
        fprintf(stderr, "kdcom-shim: --ivshmem-mode needs "
                "--ivshmem-server\n");
        return 2;
    }
    c.sp.mode = mode_given ? sock_mode : 0600;
    sigfd = ex_signals_init();
    kdcom_vm_config_init(&vcfg);
    vcfg.receive_timeout_ms = rx_timeout;
    vcfg.ack_timeout_ms = ack_timeout;
    db_wait_ms = idle_ms > 1000 ? idle_ms : 1000;
    if (doorbell_start() == 0)
        vcfg.flags |= KDCOM_VM_CFG_KICKS_GUEST;
    if (kdcom_vm_host_init(&host, &vcfg) != KDCOM_OK) {
        fprintf(stderr, "kdcom-shim: host service configuration refused\n");
        doorbell_stop(NULL);
        return 2;
    }

    /* The endpoint first, then the file: a start that fails on the
     * endpoint leaves no file behind, and one that fails later removes
     * what it made. */
    if (c.sp.kind == EP_PTY) {
        c.fd = ep_open_pty(c.peer, sizeof c.peer, &c.keep_slave, err,
                           sizeof err);
        if (c.fd < 0)
            goto fail;
    } else if (c.sp.listen) {
        c.lfd = ep_listen(&c.sp, err, sizeof err);
        if (c.lfd < 0)
            goto fail;
    } else if (c.sp.kind == EP_TTY) {
        c.fd = ep_open(&c.sp, 0, err, sizeof err);
        if (c.fd < 0)
            goto fail;
        snprintf(c.peer, sizeof c.peer, "%s", c.sp.path);
    }
    if (map_shm(shm_path, shm_size, &shm, &size, &shm_how, &shm_orig) != 0) {
        shm = NULL;
        goto fail_said;
    }
    if (ivs_path != NULL && !ivs_size_ok(size)) {
        fprintf(stderr, "kdcom-shim: %s: %zu bytes is not a power of two: "
                "ivshmem-doorbell maps the file as PCI BAR 2, whose size "
                "must be a power of two (QEMU aborts otherwise); use e.g. "
                "1M\n", shm_path, size);
        goto fail_said;
    }
    wt_init(&wt, trace, stderr);
    if (ivs_path != NULL &&
        ivs_open(&ivs, ivs_path, ivs_vectors,
                 ivs_mode_given ? ivs_mode : 0600, ivs_log, err,
                 sizeof err) != 0)
        goto fail;
    pcapng_init(&pcap);
    if (pcap_path != NULL) {
        if (pcapng_open(&pcap, pcap_path, "kdcom-shim", PCAPNG_SIDE_TARGET,
                        err, sizeof err) != 0)
            goto fail;
        wt.pcap = &pcap;
    }

    if (shm_how == SHM_CREATED)
        say("created %s (%zu bytes, mode 0600)", shm_path, size);
    else if (shm_how == SHM_GROWN)
        say("grew %s from %lld to %zu bytes (it existed, %s)", shm_path,
            (long long)shm_orig, size,
            shm_orig == 0 ? "empty" : "all zeros, too short for a channel");
    else if (size_given && size != shm_size)
        say("%s exists with %zu bytes and keeps them (--shm-size is the "
            "size of a file the shim creates or grows)", shm_path, size);
    if (ivs_path != NULL)
        say("ivshmem server on %s (mode %04o): %s (%zu bytes) is BAR 2; the "
            "shim is peer 0", ivs_path, ivs_mode_given ? ivs_mode : 0600,
            shm_path, size);
    if (c.sp.kind == EP_PTY) {
        printf("KDCOM_SHIM_PTY=%s\n", c.peer);
    } else if (c.sp.listen && c.sp.kind == EP_TCP) {
        int port = ep_local_port(c.lfd);
        int wild = c.sp.host[0] == '\0' || strcmp(c.sp.host, "0.0.0.0") == 0 ||
                   strcmp(c.sp.host, "::") == 0;
        say("%s (%zu bytes) served on tcp %s:%d", shm_path, size, c.sp.host,
            port);
        say("attach WinDbg with: windbg -k com:ipport=%d,port=%s", port,
            wild ? "ADDRESS-OF-THIS-HOST" : c.sp.host);
        if (!ep_is_loopback(c.lfd))
            warn("WARNING: tcp %s:%d is not a loopback address: whoever "
                 "can reach it can read and write the guest kernel's "
                 "memory and run or stop it (KDCOM has no authentication "
                 "and no encryption).  %s  See docs/SECURITY.md section 7",
                 c.sp.host, port,
                 n_allow > 0 ? "Only --allow's addresses are accepted; "
                               "anyone on the path can still read and "
                               "change the traffic."
                             : "Limit it with --allow ADDR[/BITS], or "
                               "listen on 127.0.0.1 and reach it through "
                               "an SSH tunnel.");
        printf("KDCOM_SHIM_PORT=%d\n", port);
    } else if (c.sp.listen) {
        say("%s served on unix socket %s (mode %04o)", shm_path, c.sp.path,
            c.sp.mode);
        if (c.sp.mode & 0007)
            warn("WARNING: unix socket %s has mode %04o: every local user "
                 "can attach a debugger to the guest kernel (read and "
                 "write its memory); see docs/SECURITY.md section 7",
                 c.sp.path, c.sp.mode);
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
            rc = 1;
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
            accept_debugger(&c, &wt);
            last_active = ex_now_ms();
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
                /* ETIMEDOUT: keepalive found the debugger's host gone. */
                char why[160];
                drop(&c, &wt, ep_end_reason(n, errno, why, sizeof why));
            }
        }
    }
    if (ex_stop_requested())
        say("%s", "stopping");
    doorbell_stop(shm);
    print_stats();
    pcapng_close(&pcap);
    if (conns.log_hidden > 0)
        warn("%llu more refused connections not logged one by one",
             (unsigned long long)conns.log_hidden);
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
    return rc;
fail:
    fprintf(stderr, "kdcom-shim: %s\n", err);
fail_said:
    /* Nothing left behind: the socket made, the file made or grown. */
    ivs_close(&ivs);
    doorbell_stop(shm);
    if (c.fd >= 0)
        close(c.fd);
    if (c.keep_slave >= 0)
        close(c.keep_slave);
    if (c.lfd >= 0) {
        close(c.lfd);
        if (c.sp.kind == EP_UNIX)
            unlink(c.sp.path);
    }
    if (shm != NULL) {
        munmap(shm, size);
        close(mapped_fd);
        if (shm_how == SHM_CREATED || unlink_shm)
            unlink(shm_path);
        else if (shm_how == SHM_GROWN && truncate(shm_path, shm_orig) != 0)
            fprintf(stderr, "kdcom-shim: %s: shrinking back to %lld bytes: "
                    "%s\n", shm_path, (long long)shm_orig, strerror(errno));
    }
    return 1;
}
