/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * channel.c - kdcom-shim's channel file: mapping it (creating a missing
 * one, growing an empty one, never changing one with data in it),
 * following a file that is replaced, resized, removed or truncated under
 * the mapping (SIGBUS), and leaving nothing a failed start made.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/exutil.h"
#include "shim.h"

int mapped_fd = -1;

/* The file the mapping came from: a guest side that recreates or resizes
 * it (a VM restarted with a new memory-backend-file) is followed by a
 * remap. */
static struct stat mapped_st;

/* Another process may truncate the file under the mapping; touching the
 * lost pages raises SIGBUS.  The handler jumps back to the main loop,
 * which stops using the mapping until the file is whole again and then
 * starts the host service afresh (its state may be half-updated). */
sigjmp_buf bus_jmp;
volatile sig_atomic_t bus_armed;
int shm_bad;

static void on_sigbus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

void shm_catch_sigbus(void)
{
    ex_on_signal(SIGBUS, on_sigbus);
}

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
int map_shm(const char *path, uint64_t create_size, void **base,
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
void follow_shm(const char *path, void **shm, size_t *size)
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

void unmap_shm(const char *path, void *shm, size_t size, int remove,
               int how, off_t orig)
{
    munmap(shm, size);
    if (mapped_fd >= 0)
        close(mapped_fd);
    mapped_fd = -1;
    if (how == SHM_CREATED || remove)
        unlink(path);
    else if (how == SHM_GROWN && truncate(path, orig) != 0)
        fprintf(stderr, "kdcom-shim: %s: shrinking back to %lld bytes: "
                "%s\n", path, (long long)orig, strerror(errno));
}
