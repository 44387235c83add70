/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_vm.c - kdcom-simkernel-vm: the platform interface guest/'s vm
 * back end needs (guest/kdguest.h), for a process.  The "ivshmem BAR" is
 * the shared-memory file, mapped; kdcom-shim (or any host running the
 * host service) serves it.  On Linux both doorbells are futexes on words
 * of the mapping: the kernel wakes the shim after posting a request
 * (REQ_SEQ) and sleeps on RSP_SEQ until the shim's kick, so neither side
 * spins.
 */
#define _DEFAULT_SOURCE /* syscall() */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <kdcom_vm.h>

#include "../common/exutil.h"
#include "backend.h"
#include "kdguest.h"

static void *region;
static size_t region_size;

static void doorbells_on(void);

const char *backend_program(void)
{
    return "kdcom-simkernel-vm";
}

const char *backend_args(void)
{
    return "SHM-FILE";
}

const char *backend_summary(void)
{
    return "a simulated Windows kernel on the VM channel";
}

const char *backend_transport(void)
{
    return "  Its KD transport is guest/'s vm back end, the code a guest kernel runs\n"
           "  on the VM channel: it posts KD packets to a mailbox in SHM-FILE, the\n"
           "  file that stands in for the ivshmem device's memory, and a host\n"
           "  service (kdcom-shim) turns them into KDCOM for the debugger.  It\n"
           "  rings the host with a futex on the mailbox and sleeps on another.\n";
}

const char *backend_help(void)
{
    return "SHM-FILE\n"
           "  The VM channel's shared memory (the file behind QEMU's ivshmem\n"
           "  memory-backend-file), 12K..1G.  It must exist: start\n"
           "  kdcom-shim --shm SHM-FILE first, which creates it.\n";
}

const char *backend_stdout(void)
{
    return "  Nothing goes to stdout; the debugger attaches to kdcom-shim.\n";
}

const char *backend_examples(void)
{
    return "  kdcom-shim --shm /tmp/kd.shm tcp-listen:127.0.0.1:5800 &\n"
           "  kdcom-simkernel-vm /tmp/kd.shm &\n"
           "  kdcom-client tcp:127.0.0.1:5800 wait-stop 5000 version go\n";
}

int backend_has_wire(void)
{
    return 0;
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
    /* Per boot: the guest epoch must differ from the last kernel's even
     * on a fresh zeroed file. */
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        KdGuestEpochSeed = (ULONG)((uint32_t)getpid() * 2654435761u ^
                                   (uint32_t)ts.tv_nsec ^
                                   (uint32_t)ts.tv_sec);
    }
    doorbells_on();
    return 0;
}

void backend_close(void)
{
    if (region != NULL)
        munmap(region, region_size);
    region = NULL;
}

/* The platform clock: plain CLOCK_MONOTONIC, no naps.  Waiting is the
 * relax hook's business. */
uint64_t KdPlatformMilliseconds(void)
{
    return ex_now_ms();
}

void *KdVmPlatformChannel(ULONG *size)
{
    *size = (ULONG)region_size;
    return region;
}

#ifdef __linux__
/* The doorbells of a two-process setup (docs/vm-channel.md section 8.4):
 * futexes on words of the shared mapping.  Shared futexes (no
 * FUTEX_PRIVATE_FLAG): the two processes map the same file, and the
 * kernel keys the futex on the file page, not on the address. */
static long futex(volatile uint32_t *w, int op, uint32_t val,
                  const struct timespec *ts)
{
    return syscall(SYS_futex, (void *)(uintptr_t)w, op, val, ts, NULL, 0);
}

/* Guest -> host: the request is posted (REQ_SEQ written); wake the
 * host's doorbell thread sleeping on REQ_SEQ. */
void KdVmPlatformNotify(void)
{
    if (region != NULL)
        futex((volatile uint32_t *)((uint8_t *)region + KDCOM_VM_OFF_REQ_SEQ),
              FUTEX_WAKE, INT32_MAX, NULL);
}

/* While waiting for an answer: sleep on RSP_SEQ until the host's kick,
 * 2 ms at most so the transport's clocks keep running (10 ms once the
 * wait has lasted 50 rounds: the debugger is away or thinking, and the
 * clocks count in seconds; an idle stopped kernel then wakes 100 times a
 * second, not 500).  No spinning
 * first: the simulated kernel shares the machine with the shim and the
 * debugger, and a spinning guest takes the CPU the answer needs (on a
 * loaded two-CPU machine, spinning even 32 rounds first halved the
 * throughput of `kdcom-client bench-read`).  A host that does not kick
 * (no KDCOM_VM_HF_DOORBELL) is waited for in 50 us naps. */
static void relax(volatile uint32_t *word, uint32_t seen, ULONG round)
{
    const uint32_t *flags =
        (const uint32_t *)((const uint8_t *)region + KDCOM_VM_OFF_HOST_FLAGS);

    if (__atomic_load_n(flags, __ATOMIC_RELAXED) & KDCOM_VM_HF_DOORBELL) {
        struct timespec ts = {0, round < 50 ? 2000000 : 10000000};
        futex(word, FUTEX_WAIT, seen, &ts);
    } else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static void doorbells_on(void)
{
    KdVmPlatformRelax = relax;
    KdGuestChannelFlags = KDCOM_VM_GF_DOORBELL;
}
#else
void KdVmPlatformNotify(void)
{
}

/* No futex: sleep a little between reads once the answer is late. */
static void relax(volatile uint32_t *word, uint32_t seen, ULONG round)
{
    struct timespec ts = {0, 50000};

    (void)word;
    (void)seen;
    if (round >= 32)
        nanosleep(&ts, NULL);
}

static void doorbells_on(void)
{
    KdVmPlatformRelax = relax;
}
#endif
