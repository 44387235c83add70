/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hops.c - the reference for row 4c of `make bench`: the hops of one KD
 * memory read through the VM channel, kdcom-shim and TCP loopback, with
 * no KD and no KDCOM work.  Row 4c divided by this row says how close the
 * pipeline comes to what its transport allows.
 *
 *   hops [--reads N] [--reps R] [--timeout S]
 *
 * prints, in pipeline.sh's "key value" format (medians of R runs):
 *
 *   hops_reads_per_s X
 *   hops_MB_per_s Y        (3944 memory bytes per read, 10^6 bytes/s)
 *
 * One program, three processes forked from it, talking as the real ones
 * do (see docs/vm-channel.md sections 3 and 8.4):
 *
 *   guest   kdcom-simkernel-vm: maps a 1 MiB temporary file MAP_SHARED,
 *           posts requests the way guest/kd_chan.c does (REQ_SEQ 0, the
 *           fields, REQ_SEQ n, FUTEX_WAKE on REQ_SEQ: KdVmPlatformNotify)
 *           and waits for RSP_SEQ the way backend_vm.c's relax hook does
 *           (no spinning; FUTEX_WAIT on the value seen, 2 ms, 10 ms after
 *           50 rounds; a 50 us nap while the host does not announce its
 *           kicks).  Per read: RECEIVE; the answer written in the
 *           mailbox (the 56 request bytes, left in the header buffer,
 *           become the answer's header; 3944 bytes are copied from a
 *           4 MiB image into the data buffer); SEND, which completes only
 *           once the client has acknowledged the answer; RECEIVE again.
 *   shim    kdcom-shim's loop: a non-blocking listening socket on
 *           127.0.0.1 port 0, one connection (TCP_NODELAY), pselect() on
 *           the socket and the doorbell pipe, an 8 KiB input buffer read
 *           only when empty, an 8 KiB output buffer drained then written.
 *           A doorbell thread sleeps in FUTEX_WAIT on REQ_SEQ (the value
 *           read with pread() from the file first) and writes a byte to
 *           the pipe when the word moves; right after an answer the loop
 *           itself waits on REQ_SEQ for up to 300 us (following the guest,
 *           the thread stays quiet meanwhile).  After every answer:
 *           FUTEX_WAKE on RSP_SEQ.  Each round: poll the mailbox, feed the
 *           input, poll again if anything moved, drain the output, as
 *           kdcom-shim's service() and shuttle() do.
 *   client  kdcom-client's bench-read: a non-blocking socket, poll()
 *           before every read() of up to 16 KiB, one write for the
 *           request and one for the ACK; reads/s over CLOCK_MONOTONIC.
 *
 * The hops of one read:
 *
 *   1. client -> shim: the 77-byte request frame (16-byte header, 56
 *      bytes, trailer).  The shim wakes in pselect() on the socket.
 *   2. shim -> guest: the 56 bytes into the mailbox's header buffer,
 *      the answer fields, RSP_SEQ, FUTEX_WAKE on RSP_SEQ; then the
 *      16-byte ACK to the client (kdcom-shim kicks the guest before it
 *      drains the ACK, and so does this one).  The shim then follows
 *      REQ_SEQ for up to 300 us.
 *   3. guest: the 4000-byte answer into the mailbox (56-byte header, 3944
 *      bytes of memory), SEND posted, FUTEX_WAKE on REQ_SEQ (which wakes
 *      the following loop and the doorbell thread), FUTEX_WAIT on RSP_SEQ.
 *   4. shim -> client: the 4000 bytes copied out of the mailbox (the
 *      host's private copy), framed: 16 + 4000 + 1 bytes in one write.
 *   5. client -> shim: the 16-byte ACK (and then the next request, in a
 *      second write).  The shim completes the SEND: RSP_SEQ, FUTEX_WAKE,
 *      and follows REQ_SEQ again.
 *   6. guest: RECEIVE posted, FUTEX_WAKE on REQ_SEQ, FUTEX_WAIT on
 *      RSP_SEQ.  A request that came in before it is held (and already
 *      acknowledged), as the host service holds one packet, and handed
 *      over at once.
 *
 * Deliberately left out: everything KDCOM (checksums, packet ids, the
 * parser's states, RESEND/RESET, retransmission and receive timers: the
 * shim and the client only count bytes, alternating 77 and 16 in, 16 and
 * 4017 out), everything KD (decoding the manipulate request, the kernel's
 * own reply buffer and the copy KdSendPacket makes out of it, the
 * client's checks and its copy of each answer into the result buffer),
 * the host service's validation of the request fields (section 5; only
 * the lengths and offsets it copies with are checked), the guest's
 * HOST_BEAT and epoch watching, the shim's signal pipe and its stat() of
 * the channel file every 250 ms, and the client's signal descriptor.
 * The guest reads one field of the request: the offset to copy from.
 * All runs share one connection (pipeline.sh starts one kdcom-client per
 * run; connecting and synchronising are outside the timed part in both),
 * a few untimed reads come first, and every read carries 3944 bytes
 * (bench-read's last one of 2 MiB carries 2888).
 *
 * Every wait is bounded: the parent kills the three processes when
 * --timeout seconds (default 30) have passed or when one of them fails,
 * each process gives up on its own a little later, and the children die
 * with the parent (PR_SET_PDEATHSIG).  Linux only (futexes).
 */
#define _DEFAULT_SOURCE /* syscall() */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kdcom_vm.h>

/* The region: the offsets and values of include/kdcom_vm.h. */
#define REGION_SIZE (1u << 20)  /* kdcom-shim's default --shm-size */
#define OFF_REQ_SEQ KDCOM_VM_OFF_REQ_SEQ     /* guest -> host doorbell */
#define OFF_GUEST_FLAGS KDCOM_VM_OFF_GUEST_FLAGS
#define OFF_REQ_OP KDCOM_VM_OFF_REQ_OP       /* REQ_OP .. REQ_RESERVED */
#define OFF_REQ_HEAD_OFF KDCOM_VM_OFF_REQ_HEAD_OFF
#define OFF_REQ_HEAD_LEN KDCOM_VM_OFF_REQ_HEAD_LEN
#define OFF_REQ_DATA_OFF KDCOM_VM_OFF_REQ_DATA_OFF
#define OFF_REQ_DATA_LEN KDCOM_VM_OFF_REQ_DATA_LEN
#define REQ_WORDS 8
#define OFF_RSP_SEQ KDCOM_VM_OFF_RSP_SEQ     /* host -> guest doorbell */
#define OFF_HOST_FLAGS KDCOM_VM_OFF_HOST_FLAGS
#define OFF_HOST_BEAT KDCOM_VM_OFF_HOST_BEAT
#define OFF_STOP 0x94           /* reserved in the ABI; here: "run over" */
#define OFF_RSP_STATUS KDCOM_VM_OFF_RSP_STATUS /* RSP_STATUS .. RSP_EPOCH */
#define OFF_RSP_HEAD_LEN KDCOM_VM_OFF_RSP_HEAD_LEN
#define HEAD_BUF KDCOM_VM_DEF_HEAD_OFF
#define DATA_BUF KDCOM_VM_DEF_DATA_OFF
#define BUF_SIZE KDCOM_VM_BUF_SIZE
#define OP_SEND KDCOM_VM_OP_SEND
#define OP_RECEIVE KDCOM_VM_OP_RECEIVE
#define ST_OK KDCOM_VM_ST_OK
#define ST_RECEIVED KDCOM_VM_ST_RECEIVED
#define GF_DOORBELL KDCOM_VM_GF_DOORBELL
#define HF_READY KDCOM_VM_HF_READY
#define HF_DOORBELL KDCOM_VM_HF_DOORBELL

/* One read on the wire. */
#define KD_HEAD 56u                   /* DBGKD_MANIPULATE_STATE64 */
#define READ_DATA 3944u               /* memory bytes in one answer */
#define ANSWER (KD_HEAD + READ_DATA)  /* 4000: the largest KD payload */
#define FRAME_HDR 16u
#define REQ_FRAME (FRAME_HDR + KD_HEAD + 1u) /* 77 */
#define ANS_FRAME (FRAME_HDR + ANSWER + 1u)  /* 4017 */
#define ACK_FRAME 16u
#define KD_ADDR 0x10u  /* ReadMemory64.TargetBaseAddress in the request */
#define KD_COUNT 0x18u /* ReadMemory64.TransferCount */
#define KD_ACTUAL 0x1Cu

#define IMAGE_SIZE (4u << 20) /* the simulated kernel's image */
#define WARM_READS 8u
#define FOLLOW_US 300         /* kdcom-shim's FOLLOW_US */
#define BEAT_MS 250           /* kdcom-shim's longest sleep while busy */
#define GRACE_S 2             /* children give up this long after the parent */

static const char usage[] =
"usage: hops [--reads N] [--reps R] [--timeout S]\n"
"\n"
"Times the hops of row 4c (kdcom-client bench-read against kdcom-shim and\n"
"kdcom-simkernel-vm) with no KD or KDCOM work: a guest, a shim and a client\n"
"process share a file and a TCP loopback connection as the real programs\n"
"do, and only count bytes.  Prints hops_reads_per_s and hops_MB_per_s, the\n"
"medians of R runs.\n"
"\n"
"  --reads N     reads per run (default 532: 2 MiB of 3944-byte reads)\n"
"  --reps R      runs (default 5, as pipeline.sh)\n"
"  --timeout S   stop everything and fail after S seconds (default 30)\n"
"  -h, --help    this text\n";

struct cfg {
    int shm_fd;           /* the channel file (already unlinked) */
    int lfd;              /* listening socket (the shim's) */
    int port;
    unsigned reads, reps;
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; children give up here */
    int result_fd;        /* client -> parent: reps doubles */
};

static const char *role; /* "shim", "guest", "client"; NULL: the parent */

static int fail(const char *what)
{
    int e = errno;

    fprintf(stderr, "hops: %s%s%s: %s\n", role != NULL ? role : "",
            role != NULL ? ": " : "", what, strerror(e));
    return 1;
}

static int fail_msg(const char *what)
{
    fprintf(stderr, "hops: %s%s%s\n", role != NULL ? role : "",
            role != NULL ? ": " : "", what);
    return 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int past(const struct cfg *c)
{
    return now_ns() >= c->deadline_ns;
}

/* Milliseconds left before the deadline, at most cap. */
static int left_ms(const struct cfg *c, int cap)
{
    uint64_t t = now_ns();
    uint64_t d = t >= c->deadline_ns ? 0 : (c->deadline_ns - t) / 1000000u;

    return d < (uint64_t)cap ? (int)d : cap;
}

static long futex(uint32_t *w, int op, uint32_t val,
                  const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

/* FUTEX_WAIT's ordinary outcomes: woken, value already changed, timed
 * out, interrupted. */
static int wait_ok(long rc)
{
    return rc == 0 || errno == EAGAIN || errno == ETIMEDOUT || errno == EINTR;
}

static uint32_t *word(uint8_t *r, size_t off)
{
    return (uint32_t *)(void *)(r + off);
}

static uint32_t ld(uint8_t *r, size_t off)
{
    return __atomic_load_n(word(r, off), __ATOMIC_RELAXED);
}

static uint32_t ld_acq(uint8_t *r, size_t off)
{
    return __atomic_load_n(word(r, off), __ATOMIC_ACQUIRE);
}

static void st(uint8_t *r, size_t off, uint32_t v)
{
    __atomic_store_n(word(r, off), v, __ATOMIC_RELAXED);
}

static void st_rel(uint8_t *r, size_t off, uint32_t v)
{
    __atomic_store_n(word(r, off), v, __ATOMIC_RELEASE);
}

/* Maps the channel file MAP_SHARED, as kdcom-shim and
 * kdcom-simkernel-vm do (the file was created and unlinked by the parent,
 * so nothing is left behind whatever happens).  Keeps the descriptor in
 * *fd_out if asked to, else closes it. */
static int map_region(const struct cfg *c, uint8_t **r, int *fd_out)
{
    struct stat sb;
    void *p;
    int fd = c->shm_fd;

    if (fstat(fd, &sb) != 0) {
        fail("fstat of the channel file");
        close(fd);
        return 1;
    }
    if ((uint64_t)sb.st_size != REGION_SIZE) {
        close(fd);
        return fail_msg("the channel file has the wrong size");
    }
    p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        fail("mmap of the channel file");
        close(fd);
        return 1;
    }
    *r = p;
    if (fd_out != NULL)
        *fd_out = fd;
    else
        close(fd);
    return 0;
}

/* ---- guest: kdcom-simkernel-vm ---- */

/* guest/kd_chan.c's kdg_chan_post and KdVmPlatformNotify. */
static int guest_post(uint8_t *r, uint32_t *seq, uint32_t op,
                      uint32_t head_len, uint32_t data_len, uint32_t arg)
{
    if (++*seq == 0)
        *seq = 1;
    st(r, OFF_REQ_SEQ, 0);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    st(r, OFF_REQ_OP, op);
    st(r, OFF_REQ_OP + 4, 2); /* STATE_MANIPULATE */
    st(r, OFF_REQ_HEAD_OFF, HEAD_BUF);
    st(r, OFF_REQ_HEAD_LEN, head_len);
    st(r, OFF_REQ_DATA_OFF, DATA_BUF);
    st(r, OFF_REQ_DATA_LEN, data_len);
    st(r, OFF_REQ_OP + 24, arg);
    st(r, OFF_REQ_OP + 28, 0);
    st_rel(r, OFF_REQ_SEQ, *seq);
    if (futex(word(r, OFF_REQ_SEQ), FUTEX_WAKE, INT32_MAX, NULL) < 0)
        return fail("FUTEX_WAKE on REQ_SEQ");
    return 0;
}

/* kdg_chan_wait with backend_vm.c's relax hook.  Returns 0 when answered,
 * 2 when the shim ended the run, 1 on an error. */
static int guest_wait(const struct cfg *c, uint8_t *r, uint32_t seq)
{
    uint32_t round = 0;

    for (;;) {
        uint32_t v = ld_acq(r, OFF_RSP_SEQ);

        if (v == seq) {
            (void)ld(r, OFF_RSP_STATUS);
            (void)ld(r, OFF_RSP_HEAD_LEN);
            return 0;
        }
        if (ld_acq(r, OFF_STOP) != 0)
            return 2;
        if (ld(r, OFF_HOST_FLAGS) & HF_DOORBELL) {
            struct timespec ts = {0, round < 50 ? 2000000 : 10000000};
            if (!wait_ok(futex(word(r, OFF_RSP_SEQ), FUTEX_WAIT, v, &ts)))
                return fail("FUTEX_WAIT on RSP_SEQ");
        } else {
            struct timespec ts = {0, 50000};
            if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
                return fail("nanosleep");
        }
        round++;
        if (past(c))
            return fail_msg("no answer from the shim in time");
    }
}

static int guest_main(const struct cfg *c)
{
    uint8_t *r, *image;
    uint32_t seq, i;
    int rc = 0;

    if (map_region(c, &r, NULL) != 0)
        return 1;
    image = malloc(IMAGE_SIZE);
    if (image == NULL) {
        munmap(r, REGION_SIZE);
        return fail("malloc");
    }
    for (i = 0; i < IMAGE_SIZE; i++)
        image[i] = (uint8_t)((i * 2654435761u) >> 24 ^ i >> 8 ^ i);
    st(r, OFF_GUEST_FLAGS, GF_DOORBELL);
    seq = ld(r, OFF_RSP_SEQ);
    for (;;) {
        uint64_t off;
        uint32_t count;

        if ((rc = guest_post(r, &seq, OP_RECEIVE, KD_HEAD,
                             BUF_SIZE - KD_HEAD, 0)) != 0 ||
            (rc = guest_wait(c, r, seq)) != 0)
            break;
        /* The one field read: where the memory comes from. */
        memcpy(&off, r + HEAD_BUF + KD_ADDR, sizeof off);
        memcpy(&count, r + HEAD_BUF + KD_COUNT, sizeof count);
        if (count > READ_DATA)
            count = READ_DATA;
        if (off > IMAGE_SIZE - count)
            off = 0;
        memcpy(r + HEAD_BUF + KD_ACTUAL, &count, sizeof count);
        memcpy(r + DATA_BUF, image + off, count);
        if ((rc = guest_post(r, &seq, OP_SEND, KD_HEAD, count, 20)) != 0 ||
            (rc = guest_wait(c, r, seq)) != 0)
            break;
    }
    free(image);
    munmap(r, REGION_SIZE);
    return rc == 2 ? 0 : rc;
}

/* ---- shim: kdcom-shim ---- */

/* The doorbell thread, as in kdshim.c (one mapping, no hand-over). */
static struct {
    pthread_t thread;
    int running;
    int pipe[2];        /* thread -> loop: "the guest rang" */
    int fd;             /* the channel file, for pread() */
    uint32_t *addr;     /* REQ_SEQ in the mapping */
    uint32_t following; /* the loop waits on REQ_SEQ itself */
    uint32_t stop;
    int err;            /* errno of the thread's failed call */
    const char *err_what;
} db = {.pipe = {-1, -1}, .fd = -1};

static void thread_fail(int e, const char *what)
{
    char b = 0;

    db.err_what = what;
    __atomic_store_n(&db.err, e != 0 ? e : EIO, __ATOMIC_RELEASE);
    if (write(db.pipe[1], &b, 1) < 0) {
        /* full: the loop wakes anyway */
    }
}

static void *doorbell_thread(void *arg)
{
    uint32_t seen = 0, v;
    int have = 0;

    (void)arg;
    while (!__atomic_load_n(&db.stop, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {1, 0};
        ssize_t n = pread(db.fd, &v, sizeof v, OFF_REQ_SEQ);

        if (n != (ssize_t)sizeof v) {
            thread_fail(n < 0 ? errno : EIO, "pread of REQ_SEQ");
            break;
        }
        if (have && v != seen && v != 0 &&
            !__atomic_load_n(&db.following, __ATOMIC_SEQ_CST)) {
            char b = 1;
            if (write(db.pipe[1], &b, 1) < 0 && errno != EAGAIN) {
                thread_fail(errno, "write to the doorbell pipe");
                break;
            }
        }
        seen = v;
        have = 1;
        if (!wait_ok(futex(db.addr, FUTEX_WAIT, v, &ts))) {
            thread_fail(errno, "FUTEX_WAIT on REQ_SEQ");
            break;
        }
    }
    return NULL;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static int doorbell_start(uint8_t *r, int fd)
{
    sigset_t all, old;
    int rc;

    db.fd = fd;
    db.addr = word(r, OFF_REQ_SEQ);
    if (pipe(db.pipe) != 0)
        return fail("pipe");
    if (set_nonblock(db.pipe[0]) != 0 || set_nonblock(db.pipe[1]) != 0)
        return fail("fcntl O_NONBLOCK on the doorbell pipe");
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&db.thread, NULL, doorbell_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return fail("pthread_create");
    }
    db.running = 1;
    return 0;
}

static void doorbell_stop(void)
{
    if (db.running) {
        __atomic_store_n(&db.stop, 1, __ATOMIC_RELEASE);
        futex(db.addr, FUTEX_WAKE, INT32_MAX, NULL);
        pthread_join(db.thread, NULL);
        db.running = 0;
    }
    if (db.pipe[0] >= 0)
        close(db.pipe[0]);
    if (db.pipe[1] >= 0)
        close(db.pipe[1]);
    db.pipe[0] = db.pipe[1] = -1;
}

struct shim {
    uint8_t *r;
    int lfd, cfd;
    uint8_t in[8192];
    size_t in_len, in_off;
    uint8_t out[8192];
    size_t out_len, out_off;
    int out_has_frame;
    /* wire side: frames are counted, request and ACK in turn */
    int rx_request;          /* the next frame in is a request */
    size_t rx_got;
    uint8_t rx[REQ_FRAME];
    uint8_t slot[KD_HEAD];   /* a request for the guest (held) */
    int slot_full;
    int ack_owed;
    uint8_t frame[ANS_FRAME]; /* the answer, framed */
    int frame_queued, frame_sent, send_acked;
    /* mailbox side */
    uint32_t answered, cur_seq, cur_op, beat;
    int kicked;
};

static void answer(struct shim *s, uint32_t status, uint32_t head_len)
{
    uint8_t *r = s->r;

    st(r, OFF_RSP_STATUS, status);
    st(r, OFF_RSP_STATUS + 4, status == ST_RECEIVED ? 2 : 0);
    st(r, OFF_RSP_HEAD_LEN, head_len);
    st(r, OFF_RSP_HEAD_LEN + 4, 0);
    st(r, OFF_RSP_HEAD_LEN + 8, 0);
    st(r, OFF_RSP_HEAD_LEN + 12, 0);
    st_rel(r, OFF_RSP_SEQ, s->cur_seq);
    s->answered = s->cur_seq;
    s->cur_seq = 0;
    s->cur_op = 0;
}

/* Takes a SEND: the host's private copy, straight into the frame. */
static int take_send(struct shim *s, const uint32_t *q)
{
    uint32_t hoff = q[2], hl = q[3], doff = q[4], dl = q[5];
    uint8_t *f = s->frame;
    uint32_t n;

    if (hl > ANSWER || dl > ANSWER || hl + dl > ANSWER ||
        (hl != 0 && (hoff < HEAD_BUF || hoff > REGION_SIZE - hl)) ||
        (dl != 0 && (doff < HEAD_BUF || doff > REGION_SIZE - dl)))
        return fail_msg("the guest posted a SEND out of bounds");
    n = hl + dl;
    memset(f, 0x30, 4); /* leader, type 2, length, id, checksum */
    f[4] = 2;
    f[5] = 0;
    f[6] = (uint8_t)n;
    f[7] = (uint8_t)(n >> 8);
    memset(f + 8, 0, 8);
    memcpy(f + FRAME_HDR, s->r + hoff, hl);
    memcpy(f + FRAME_HDR + hl, s->r + doff, dl);
    f[FRAME_HDR + n] = 0xAA;
    s->frame_queued = 1;
    s->frame_sent = 0;
    s->send_acked = 0;
    return 0;
}

/* kdcom_vm_host_poll plus kdshim.c's kick: take a posted request, answer
 * what can be answered, wake the guest after an answer. */
static int service(struct shim *s)
{
    uint8_t *r = s->r;
    int answered = 0;

    st(r, OFF_HOST_FLAGS, HF_READY | HF_DOORBELL);
    st_rel(r, OFF_HOST_BEAT, ++s->beat);
    if (s->cur_op == 0) {
        uint32_t seq = ld_acq(r, OFF_REQ_SEQ), q[REQ_WORDS], i;

        if (seq != 0 && seq != s->answered) {
            for (i = 0; i < REQ_WORDS; i++)
                q[i] = ld(r, OFF_REQ_OP + 4 * i);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (ld(r, OFF_REQ_SEQ) == seq) {
                if (q[0] == OP_SEND) {
                    if (take_send(s, q) != 0)
                        return -1;
                } else if (q[0] != OP_RECEIVE) {
                    return fail_msg("the guest posted an unknown request");
                }
                s->cur_seq = seq;
                s->cur_op = q[0];
            }
        }
    }
    if (s->cur_op == OP_RECEIVE && s->slot_full) {
        memcpy(r + HEAD_BUF, s->slot, KD_HEAD);
        s->slot_full = 0;
        answer(s, ST_RECEIVED, KD_HEAD);
        answered = 1;
    } else if (s->cur_op == OP_SEND && s->send_acked) {
        s->send_acked = 0;
        answer(s, ST_OK, 0);
        answered = 1;
    }
    if (answered) {
        if (futex(word(r, OFF_RSP_SEQ), FUTEX_WAKE, INT32_MAX, NULL) < 0)
            return fail("FUTEX_WAKE on RSP_SEQ");
        s->kicked = 1;
    }
    return 0;
}

/* kdcom_vm_host_feed: counts frames in, and stops in front of a request
 * while another waits for the guest.  Returns the bytes taken, or -1. */
static long feed(struct shim *s, const uint8_t *in, size_t len)
{
    size_t used = 0;

    while (used < len) {
        size_t want = s->rx_request ? REQ_FRAME : ACK_FRAME, k;

        if (s->rx_request && s->rx_got == 0 && s->slot_full)
            break; /* the guest first */
        k = want - s->rx_got;
        if (k > len - used)
            k = len - used;
        if (s->rx_request)
            memcpy(s->rx + s->rx_got, in + used, k);
        s->rx_got += k;
        used += k;
        if (s->rx_got < want)
            continue;
        s->rx_got = 0;
        if (s->rx_request) {
            memcpy(s->slot, s->rx + FRAME_HDR, KD_HEAD);
            s->slot_full = 1;
            s->ack_owed = 1;
        } else if (s->cur_op == OP_SEND && s->frame_sent) {
            s->send_acked = 1;
        } else {
            fail_msg("an ACK came in with no answer out");
            return -1;
        }
        s->rx_request = !s->rx_request;
    }
    return (long)used;
}

/* kdcom_vm_host_drain: the owed ACK, then the answer frame. */
static int drain(struct shim *s)
{
    static const uint8_t ack[ACK_FRAME] = {0x69, 0x69, 0x69, 0x69, 4};
    size_t n = 0;

    s->out_has_frame = 0;
    if (s->ack_owed) {
        memcpy(s->out, ack, sizeof ack);
        n = sizeof ack;
        s->ack_owed = 0;
    }
    if (s->frame_queued && n + ANS_FRAME <= sizeof s->out) {
        memcpy(s->out + n, s->frame, ANS_FRAME);
        n += ANS_FRAME;
        s->frame_queued = 0;
        s->out_has_frame = 1;
    }
    s->out_len = n;
    s->out_off = 0;
    return n != 0;
}

/* kdshim.c's shuttle().  Returns -1 on an error. */
static int shuttle(struct shim *s)
{
    int moved = 0;

    while (s->in_off < s->in_len) {
        long used = feed(s, s->in + s->in_off, s->in_len - s->in_off);
        if (used < 0)
            return -1;
        if (used == 0) {
            if (service(s) != 0)
                return -1;
            used = feed(s, s->in + s->in_off, s->in_len - s->in_off);
            if (used < 0)
                return -1;
            if (used == 0)
                break;
        }
        s->in_off += (size_t)used;
        moved = 1;
    }
    if (moved && service(s) != 0)
        return -1;
    for (;;) {
        ssize_t w;
        if (s->out_off == s->out_len && !drain(s))
            break;
        if (s->cfd < 0) {
            s->out_len = s->out_off = 0; /* nobody to hear it */
            continue;
        }
        w = write(s->cfd, s->out + s->out_off, s->out_len - s->out_off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            fail("write to the client");
            return -1;
        }
        s->out_off += (size_t)w;
        if (s->out_off == s->out_len && s->out_has_frame)
            s->frame_sent = 1;
    }
    return 0;
}

/* kdshim.c's follow_guest(): right after an answer, wait for the guest's
 * next post on REQ_SEQ itself.  Returns 1 if it moved, -1 on an error. */
static int follow_guest(struct shim *s)
{
    uint32_t *req = word(s->r, OFF_REQ_SEQ);
    uint32_t v = __atomic_load_n(req, __ATOMIC_ACQUIRE);
    struct timespec ts = {0, FOLLOW_US * 1000L};
    long rc;
    int moved, ok;

    if (v != ld_acq(s->r, OFF_RSP_SEQ))
        return 1; /* posted already */
    __atomic_store_n(&db.following, 1, __ATOMIC_SEQ_CST);
    rc = futex(req, FUTEX_WAIT, v, &ts);
    ok = wait_ok(rc);
    moved = rc == 0 || errno == EAGAIN;
    __atomic_store_n(&db.following, 0, __ATOMIC_SEQ_CST);
    if (!ok) {
        fail("FUTEX_WAIT on REQ_SEQ");
        return -1;
    }
    return moved || __atomic_load_n(req, __ATOMIC_SEQ_CST) != v;
}

static int shim_loop(const struct cfg *c, struct shim *s)
{
    for (;;) {
        struct timespec ts;
        fd_set rd, wr;
        int nfds, r, followed = 0;

        if (past(c))
            return fail_msg("the run did not end in time");
        if (service(s) != 0 || shuttle(s) != 0)
            return 1;
        if (s->kicked && s->in_off == s->in_len &&
            s->out_off == s->out_len) {
            followed = follow_guest(s);
            if (followed < 0)
                return 1;
        }
        s->kicked = 0;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(db.pipe[0], &rd);
        FD_SET(s->lfd, &rd);
        nfds = db.pipe[0] > s->lfd ? db.pipe[0] : s->lfd;
        if (s->cfd >= 0) {
            if (s->in_off == s->in_len)
                FD_SET(s->cfd, &rd);
            if (s->out_off < s->out_len)
                FD_SET(s->cfd, &wr);
            if (s->cfd > nfds)
                nfds = s->cfd;
        }
        if (followed) {
            ts.tv_sec = 0;
            ts.tv_nsec = 0;
        } else {
            int ms = left_ms(c, BEAT_MS);
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        }
        r = pselect(nfds + 1, &rd, &wr, NULL, &ts, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return fail("pselect");
        }
        if (FD_ISSET(db.pipe[0], &rd)) {
            char b[64];
            while (read(db.pipe[0], b, sizeof b) > 0)
                ; /* the loop polls anyway */
            if (__atomic_load_n(&db.err, __ATOMIC_ACQUIRE) != 0) {
                errno = db.err;
                return fail(db.err_what);
            }
        }
        if (FD_ISSET(s->lfd, &rd)) {
            int fd = accept(s->lfd, NULL, NULL), one = 1;
            if (fd < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK &&
                    errno != EINTR && errno != ECONNABORTED)
                    return fail("accept");
            } else if (s->cfd >= 0) {
                close(fd);
                return fail_msg("a second connection came in");
            } else if (set_nonblock(fd) != 0 ||
                       setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                                  sizeof one) != 0) {
                fail("setting up the connection");
                close(fd);
                return 1;
            } else {
                s->cfd = fd;
            }
        }
        if (s->cfd >= 0 && s->in_off == s->in_len &&
            FD_ISSET(s->cfd, &rd)) {
            ssize_t n = read(s->cfd, s->in, sizeof s->in);
            if (n > 0) {
                s->in_len = (size_t)n;
                s->in_off = 0;
            } else if (n == 0) {
                return 0; /* the client is done */
            } else if (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR) {
                return fail("read from the client");
            }
        }
    }
}

static int shim_main(const struct cfg *c)
{
    static struct shim s;
    int fd = -1, rc;

    memset(&s, 0, sizeof s);
    s.lfd = c->lfd;
    s.cfd = -1;
    s.rx_request = 1;
    if (map_region(c, &s.r, &fd) != 0)
        return 1;
    s.answered = ld(s.r, OFF_RSP_SEQ);
    rc = doorbell_start(s.r, fd);
    if (rc == 0)
        rc = shim_loop(c, &s);
    /* The run is over (or failed): release the guest. */
    st_rel(s.r, OFF_STOP, 1);
    if (futex(word(s.r, OFF_RSP_SEQ), FUTEX_WAKE, INT32_MAX, NULL) < 0 &&
        rc == 0)
        rc = fail("FUTEX_WAKE on RSP_SEQ");
    doorbell_stop();
    if (s.cfd >= 0)
        close(s.cfd);
    close(s.lfd);
    close(fd);
    munmap(s.r, REGION_SIZE);
    return rc;
}

/* ---- client: kdcom-client bench-read ---- */

/* Waits for fd to be ready for events; 1 ready, 0 not yet, -1 error. */
static int client_poll(const struct cfg *c, int fd, short events)
{
    struct pollfd p;
    int r;

    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, left_ms(c, 1000));
    if (r < 0) {
        if (errno == EINTR)
            return 0;
        fail("poll");
        return -1;
    }
    if (r == 0 && past(c)) {
        fail_msg("the shim did not answer in time");
        return -1;
    }
    return r > 0;
}

static int send_all(const struct cfg *c, int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return fail("write to the shim");
            if (client_poll(c, fd, POLLOUT) < 0)
                return 1;
            continue;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One read: the request, then the ACK and the answer, then our ACK. */
static int client_read(const struct cfg *c, int fd, uint8_t *req,
                       uint64_t off)
{
    static const uint8_t ack[ACK_FRAME] = {0x69, 0x69, 0x69, 0x69, 4};
    uint8_t buf[16384];
    size_t got = 0;

    memcpy(req + FRAME_HDR + KD_ADDR, &off, sizeof off);
    if (send_all(c, fd, req, REQ_FRAME) != 0)
        return 1;
    while (got < ACK_FRAME + ANS_FRAME) {
        ssize_t n;
        int r = client_poll(c, fd, POLLIN);
        if (r < 0)
            return 1;
        if (r == 0)
            continue;
        n = read(fd, buf, sizeof buf);
        if (n == 0)
            return fail_msg("the shim closed the connection");
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            return fail("read from the shim");
        }
        got += (size_t)n;
    }
    if (got != ACK_FRAME + ANS_FRAME)
        return fail_msg("more bytes came in than one read's answer");
    return send_all(c, fd, ack, sizeof ack);
}

static int client_connect(const struct cfg *c, int *out)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return fail("socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (set_nonblock(fd) != 0) {
        fail("fcntl O_NONBLOCK");
        close(fd);
        return 1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int soerr = 0, r;
        socklen_t sl = sizeof soerr;
        if (errno != EINPROGRESS) {
            fail("connect to 127.0.0.1");
            close(fd);
            return 1;
        }
        while ((r = client_poll(c, fd, POLLOUT)) == 0)
            ;
        if (r < 0) {
            close(fd);
            return 1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
            soerr != 0) {
            if (soerr != 0)
                errno = soerr;
            fail("connect to 127.0.0.1");
            close(fd);
            return 1;
        }
    }
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        fail("setsockopt TCP_NODELAY");
        close(fd);
        return 1;
    }
    *out = fd;
    return 0;
}

static uint64_t read_offset(unsigned i)
{
    return (uint64_t)i * READ_DATA % (IMAGE_SIZE - READ_DATA + 1);
}

static int client_main(const struct cfg *c)
{
    uint8_t req[REQ_FRAME];
    uint32_t count = READ_DATA;
    double *rate;
    unsigned i, rep;
    int fd = -1, rc = 0;

    rate = calloc(c->reps, sizeof *rate);
    if (rate == NULL)
        return fail("calloc");
    if (client_connect(c, &fd) != 0) {
        free(rate);
        return 1;
    }
    /* A ReadVirtualMemory in a KDCOM frame; nothing checks the sums. */
    memset(req, 0, sizeof req);
    memset(req, 0x30, 4);
    req[4] = 2;
    req[6] = KD_HEAD;
    req[FRAME_HDR] = 0x30;
    req[FRAME_HDR + 1] = 0x31;
    memcpy(req + FRAME_HDR + KD_COUNT, &count, sizeof count);
    req[REQ_FRAME - 1] = 0xAA;
    for (i = 0; i < WARM_READS && rc == 0; i++)
        rc = client_read(c, fd, req, read_offset(i));
    for (rep = 0; rep < c->reps && rc == 0; rep++) {
        uint64_t t0 = now_ns(), t;
        for (i = 0; i < c->reads && rc == 0; i++)
            rc = client_read(c, fd, req, read_offset(i));
        t = now_ns() - t0;
        rate[rep] = (double)c->reads / ((double)(t ? t : 1) / 1e9);
    }
    if (rc == 0) {
        const uint8_t *p = (const uint8_t *)rate;
        size_t n = c->reps * sizeof *rate;
        while (n > 0) {
            ssize_t w = write(c->result_fd, p, n);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = fail("write of the results");
                break;
            }
            p += w;
            n -= (size_t)w;
        }
    }
    close(fd);
    free(rate);
    return rc;
}

/* ---- parent ---- */

static const char *const role_name[3] = {"shim", "guest", "client"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int listen_loopback(struct cfg *c)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1;

    c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->lfd < 0)
        return fail("socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return fail("setsockopt SO_REUSEADDR");
    if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return fail("bind 127.0.0.1:0");
    if (listen(c->lfd, 4) != 0)
        return fail("listen");
    if (set_nonblock(c->lfd) != 0)
        return fail("fcntl O_NONBLOCK");
    if (getsockname(c->lfd, (struct sockaddr *)&sa, &sl) != 0)
        return fail("getsockname");
    c->port = ntohs(sa.sin_port);
    return 0;
}

/* The channel file: a zeroed temporary file in $TMPDIR (or /tmp), where
 * pipeline.sh puts kdcom-shim's, unlinked at once. */
static int make_region(struct cfg *c)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int n;

    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    n = snprintf(path, sizeof path, "%s/hops.XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return fail_msg("TMPDIR is too long");
    c->shm_fd = mkstemp(path);
    if (c->shm_fd < 0) {
        fprintf(stderr, "hops: creating the channel file in %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    if (unlink(path) != 0)
        return fail(path);
    if (ftruncate(c->shm_fd, REGION_SIZE) != 0)
        return fail("ftruncate of the channel file");
    return 0;
}

/* Client first, so the shim and the guest do not complain of a lost
 * peer on the way out. */
static void kill_all(pid_t *pid)
{
    int i, st;

    for (i = 2; i >= 0; i--)
        if (pid[i] > 0)
            kill(pid[i], SIGKILL);
    for (i = 0; i < 3; i++) {
        if (pid[i] > 0) {
            while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
                ;
            pid[i] = 0;
        }
    }
}

/* Waits for the three children; kills them all when one fails, on the
 * alarm, or on a signal.  Returns 0 when all three exited with 0. */
static int supervise(pid_t *pid, const sigset_t *set, unsigned timeout)
{
    int live = 3, i;

    while (live > 0) {
        struct timespec ts = {1, 0};
        int st, sig;
        pid_t p = waitpid(-1, &st, WNOHANG);

        if (p < 0) {
            fail("waitpid");
            kill_all(pid);
            return 1;
        }
        if (p > 0) {
            for (i = 0; i < 3 && pid[i] != p; i++)
                ;
            if (i == 3)
                continue;
            pid[i] = 0;
            live--;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                continue;
            if (WIFEXITED(st))
                fprintf(stderr, "hops: the %s failed (exit status %d); "
                        "stopping the others\n", role_name[i],
                        WEXITSTATUS(st));
            else
                fprintf(stderr, "hops: the %s was killed by signal %d; "
                        "stopping the others\n", role_name[i],
                        WTERMSIG(st));
            kill_all(pid);
            return 1;
        }
        sig = sigtimedwait(set, NULL, &ts);
        if (sig < 0 || sig == SIGCHLD)
            continue;
        if (sig == SIGALRM)
            fprintf(stderr, "hops: timed out after %u s; stopping the "
                    "processes\n", timeout);
        else
            fprintf(stderr, "hops: signal %d; stopping the processes\n",
                    sig);
        kill_all(pid);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct cfg c;
    unsigned timeout = 30, i;
    int res[2] = {-1, -1}, rc = 1;
    pid_t pid[3] = {0, 0, 0}, parent = getpid();
    sigset_t set, old;
    struct sigaction sa;
    double *rate = NULL;

    c.reads = (2u << 20) / READ_DATA + ((2u << 20) % READ_DATA != 0);
    c.reps = 5;
    c.lfd = -1;
    c.shm_fd = -1;
    for (i = 1; i < (unsigned)argc; i++) {
        const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1]
                                                            : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--reads") == 0 &&
                   parse_uint(v, 10000000u, &c.reads) == 0) {
            i++;
        } else if (strcmp(a, "--reps") == 0 &&
                   parse_uint(v, 1000u, &c.reps) == 0) {
            i++;
        } else if (strcmp(a, "--timeout") == 0 &&
                   parse_uint(v, 86400u, &timeout) == 0) {
            i++;
        } else if (strcmp(a, "--reads") == 0 || strcmp(a, "--reps") == 0 ||
                   strcmp(a, "--timeout") == 0) {
            fprintf(stderr, "hops: bad or missing value for %s: '%s' (see "
                    "--help)\n", a, v != NULL ? v : "");
            return 2;
        } else {
            fprintf(stderr, "hops: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    c.deadline_ns = now_ns() + ((uint64_t)timeout + GRACE_S) * 1000000000u;

    /* Signals: the parent takes them with sigtimedwait(); the children
     * get the old mask and default actions back.  SIGPIPE is ignored
     * everywhere, so a lost peer is an EPIPE with a message. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return fail("sigaction SIGPIPE");
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
        return fail("sigprocmask");

    if (make_region(&c) != 0 || listen_loopback(&c) != 0)
        goto out;
    if (pipe(res) != 0) {
        fail("pipe");
        goto out;
    }
    alarm(timeout);
    fflush(NULL);
    for (i = 0; i < 3; i++) {
        pid[i] = fork();
        if (pid[i] < 0) {
            pid[i] = 0;
            fail("fork");
            kill_all(pid);
            goto out;
        }
        if (pid[i] == 0) {
            int crc;
            role = role_name[i];
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
                exit(fail("prctl PR_SET_PDEATHSIG"));
            if (getppid() != parent)
                exit(1); /* the parent is gone already */
            sigprocmask(SIG_SETMASK, &old, NULL);
            close(res[0]);
            if (i == 0) {
                close(res[1]);
                crc = shim_main(&c);
            } else if (i == 1) {
                close(res[1]);
                close(c.lfd);
                crc = guest_main(&c);
            } else {
                close(c.lfd);
                close(c.shm_fd);
                c.result_fd = res[1];
                crc = client_main(&c);
                close(res[1]);
            }
            exit(crc);
        }
    }
    close(res[1]);
    res[1] = -1;
    close(c.lfd);
    c.lfd = -1;
    close(c.shm_fd);
    c.shm_fd = -1;
    if (supervise(pid, &set, timeout) != 0)
        goto out;
    alarm(0);

    rate = calloc(c.reps, sizeof *rate);
    if (rate == NULL) {
        fail("calloc");
        goto out;
    }
    {
        uint8_t *p = (uint8_t *)rate;
        size_t want = c.reps * sizeof *rate, got = 0;
        while (got < want) {
            ssize_t n = read(res[0], p + got, want - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fail("read of the results");
                goto out;
            }
            if (n == 0) {
                fprintf(stderr, "hops: the client left %zu of %zu result "
                        "bytes\n", got, want);
                goto out;
            }
            got += (size_t)n;
        }
    }
    qsort(rate, c.reps, sizeof *rate, cmp_double);
    {
        /* pipeline.sh's median: the ((R + 1) / 2)-th smallest */
        double m = rate[(c.reps + 1) / 2 - 1];
        printf("hops_reads_per_s %.1f\nhops_MB_per_s %.3f\n", m,
               m * READ_DATA / 1e6);
        if (fflush(stdout) != 0) {
            fail("stdout");
            goto out;
        }
    }
    rc = 0;
out:
    alarm(0);
    free(rate);
    if (res[0] >= 0)
        close(res[0]);
    if (res[1] >= 0)
        close(res[1]);
    if (c.lfd >= 0)
        close(c.lfd);
    if (c.shm_fd >= 0)
        close(c.shm_fd);
    return rc;
}
