/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doorbell.c - kdcom-shim's futex doorbell, both ways.
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
 */
#define _DEFAULT_SOURCE /* syscall() */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#endif

#include "../common/exutil.h"
#include "shim.h"

/* The doorbell thread's longest wait before it reads REQ_SEQ again by
 * itself: the longer of 1 s and --idle-poll (set before it starts). */
uint32_t db_wait_ms = 1000;

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
        ex_ms_timespec(&ts, db_wait_ms);
        futex(addr, FUTEX_WAIT, v, &ts);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

int doorbell_start(void)
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
void doorbell_arm(void *shm)
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
void doorbell_detach(void *old_shm)
{
    if (!db.running)
        return;
    futex((uint8_t *)old_shm + KDCOM_VM_OFF_REQ_SEQ, FUTEX_WAKE, INT32_MAX,
          NULL);
}

void doorbell_stop(void *shm)
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
void kick_guest(void *shm)
{
    futex((uint8_t *)shm + KDCOM_VM_OFF_RSP_SEQ, FUTEX_WAKE, INT32_MAX, NULL);
}

int doorbell_fd(void)
{
    return db.running ? db.pipe[0] : -1;
}
#else
int doorbell_start(void) { return -1; }
void doorbell_arm(void *shm) { (void)shm; }
void doorbell_detach(void *shm) { (void)shm; }
void doorbell_stop(void *shm) { (void)shm; }
void kick_guest(void *shm) { (void)shm; }
int doorbell_fd(void) { return -1; }
#endif

/* Right after an answer the guest's next request usually follows within
 * microseconds (a SEND after a RECEIVE, a RECEIVE after a SEND): wait for
 * it on the doorbell word directly, for at most FOLLOW_US, rather than
 * through the doorbell thread and the pipe.  Returns 1 if REQ_SEQ moved. */
#define FOLLOW_US 300

int follow_guest(void *shm)
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
