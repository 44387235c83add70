/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_vm.c - kdcom-simkernel-vm: the platform interface guest/'s vm
 * back end needs (guest/kdguest.h), for a process.  The "ivshmem BAR" is
 * the shared-memory file, mapped; kdcom-shim (or any host running the
 * host service) serves it, polling the file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kdcom_vm.h>

#include "../common/exutil.h"
#include "backend.h"
#include "kdguest.h"

static void *region;
static size_t region_size;

const char *backend_program(void)
{
    return "kdcom-simkernel-vm";
}

const char *backend_args(void)
{
    return "SHM-FILE";
}

const char *backend_help(void)
{
    return "SHM-FILE is the VM channel's shared memory (the file behind QEMU's\n"
           "ivshmem-plain memory-backend-file); it must exist: start\n"
           "kdcom-shim --shm SHM-FILE first.\n";
}

int backend_setup(const char *target, struct wiretrace *wt)
{
    struct stat st;
    int fd = open(target, O_RDWR | O_CLOEXEC);

    (void)wt; /* no wire on this side: the host has it */
    if (fd < 0) {
        fprintf(stderr, "kdcom-simkernel-vm: %s: %s\n", target,
                strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < KDCOM_VM_MIN_SIZE ||
        (uint64_t)st.st_size > (1u << 30)) {
        fprintf(stderr, "kdcom-simkernel-vm: %s: not a channel file (size "
                "%u..1G bytes)\n", target, (unsigned)KDCOM_VM_MIN_SIZE);
        close(fd);
        return -1;
    }
    region_size = (size_t)st.st_size;
    region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                  0);
    close(fd);
    if (region == MAP_FAILED) {
        fprintf(stderr, "kdcom-simkernel-vm: mmap: %s\n", strerror(errno));
        region = NULL;
        return -1;
    }
    return 0;
}

void backend_close(void)
{
    if (region != NULL)
        munmap(region, region_size);
    region = NULL;
}

/* The guest transport spins on this clock while it waits for the host
 * (a kernel has nothing better to do with interrupts off).  A simulated
 * kernel shares the machine with its host, so every 32nd reading naps:
 * 10 us while the wait is young (during a transfer the answer is usually
 * microseconds away), 500 us once the request has waited 5 ms (the
 * debugger is thinking).  A spin then costs a few percent of a core. */
static uint64_t posted_at;

uint64_t KdPlatformMilliseconds(void)
{
    static unsigned calls;
    uint64_t now = ex_now_ms();

    if (++calls % 32 == 0) {
        struct timespec ts = {0, now - posted_at >= 5 ? 500000 : 10000};
        nanosleep(&ts, NULL);
        now = ex_now_ms();
    }
    return now;
}

void *KdVmPlatformChannel(ULONG *size)
{
    *size = (ULONG)region_size;
    return region;
}

/* Called right after each request is posted: the start of a wait.  The
 * host polls the file, so there is nobody to wake. */
void KdVmPlatformNotify(void)
{
    posted_at = ex_now_ms();
}
