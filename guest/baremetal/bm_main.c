/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_main.c - the bare-metal test kernel: the simulated kernel of
 * `make demo` (examples/simkernel/kdcore.c, the same object code) running
 * in ring 0 of a QEMU virtual machine over guest/'s transport, with no C
 * library and no KDCOM code beyond what the back end links.
 *
 *   boot.S          Multiboot entry -> bm_main(magic, info)
 *   bm_main.c       command line, the SIM PLATFORM of kdcore.h, exit
 *   bm_vm.c         vm back end: finds ivshmem (1af4:1110) on PCI, BAR 2
 *                   is the VM channel, BAR 0's Doorbell register rings
 *                   the host when the device is ivshmem-doorbell
 *   bm_uart.c       uart back end: KDCOM through the emulated 16550 COM1
 *   bm_clock.c      TSC clock calibrated against the PIT
 *   bm_pci.c        PCI configuration mechanism #1
 *   bm_console.c    log lines to the debugcon port 0xe9
 *
 * Command line (QEMU -append "..."), words separated by spaces:
 *   nobreak         no initial breakpoint after LoadSymbols
 *   print=MS        a DbgPrint heartbeat every MS ms while running
 *   runfor=MS       stop after MS ms of running (QEMU exits with 35)
 *   doorbell=off    vm: never ring the doorbell (the host polls)
 *   doorbell=on     vm: ring it even without MSI-X (ivshmem-doorbell
 *                   with msi=off); default: ring on ivshmem-doorbell
 *   peer=N          vm: the ivshmem peer id the doorbell rings [0: the
 *                   id kdcom-shim --ivshmem-server takes]
 *   divisor=N       uart: 16550 divisor latch, 115200 / baud [1]
 *   rtt=N           vm: instead of the simulated kernel, N round trips of
 *                   512 bytes each way through the region with an echo
 *                   host (bm_rtt.c, tests/bench/vm_echo.c); exits 35, or
 *                   67 if an answer was wrong or missing
 *   quiet           fewer console lines
 *
 * Exit statuses with -device isa-debug-exit,iobase=0xf4,iosize=4 (bm.h):
 * 33 the debugger rebooted the target (.reboot, DbgKdRebootApi), 35
 * runfor elapsed, 65 no usable device, 67 transport initialisation
 * failed, 69 not booted by a Multiboot loader.
 */
#include "bm.h"

#include "../../examples/common/simpattern.h"
#include "../../examples/simkernel/kdcore.h"

#define MB_LOADER_MAGIC 0x2BADB002u
#define MB_INFO_CMDLINE 0x00000004u

struct bm_options bm_opts = {1, 0, 0, -1, 0, 1, 0, 0};

/* The simulated kernel's memory image: 4 MiB of .bss above the kernel. */
static uint8_t sim_mem[SIM_MEM_SIZE] __attribute__((aligned(4096)));

void bm_exit(uint8_t code)
{
    bm_outb(BM_EXIT_PORT, code);
    bm_printf("bm: no isa-debug-exit device: halting\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- the SIM PLATFORM of kdcore.h ---- */

uint64_t sim_clock_ms(void)
{
    return bm_clock_ms();
}

void sim_idle(void)
{
    /* No interrupts, so no hlt: a tick is a polite spin. */
    bm_delay_ms(5);
}

int sim_stop_requested(void)
{
    return 0;
}

void sim_note(const char *text)
{
    bm_printf("bm: sim: %s\n", text);
}

/* ---- command line ---- */

static int word_is(const char *w, size_t n, const char *lit)
{
    size_t i;

    for (i = 0; i < n && lit[i] != '\0'; i++)
        if (w[i] != lit[i])
            return 0;
    return i == n && lit[i] == '\0';
}

/* "key=N" with a decimal N; 1 if w is that key (then *v is set or the
 * word is reported), else 0. */
static int word_num(const char *w, size_t n, const char *key, uint32_t *v)
{
    size_t k = 0, i;
    uint32_t x = 0;

    while (key[k] != '\0') {
        if (k >= n || w[k] != key[k])
            return 0;
        k++;
    }
    if (k >= n || w[k] != '=')
        return 0;
    for (i = k + 1; i < n; i++) {
        if (w[i] < '0' || w[i] > '9' || x > 429496728u) {
            bm_printf("bm: ignoring bad number in '%s...'\n", key);
            return 1;
        }
        x = x * 10u + (uint32_t)(w[i] - '0');
    }
    if (i == k + 1) {
        bm_printf("bm: ignoring '%s=' without a value\n", key);
        return 1;
    }
    *v = x;
    return 1;
}

static int has_slash(const char *w, size_t n)
{
    while (n-- > 0)
        if (*w++ == '/')
            return 1;
    return 0;
}

static void parse_cmdline(const char *s)
{
    while (*s != '\0') {
        const char *w;
        size_t n = 0;
        uint32_t v = 0;

        while (*s == ' ')
            s++;
        w = s;
        while (s[n] != '\0' && s[n] != ' ')
            n++;
        s += n;
        if (n == 0)
            break;
        if (word_is(w, n, "nobreak"))
            bm_opts.initial_break = 0;
        else if (word_is(w, n, "quiet"))
            bm_opts.quiet = 1;
        else if (word_is(w, n, "doorbell=off"))
            bm_opts.doorbell = 0;
        else if (word_is(w, n, "doorbell=on"))
            bm_opts.doorbell = 1;
        else if (word_num(w, n, "print", &v))
            bm_opts.print_interval_ms = v;
        else if (word_num(w, n, "runfor", &v))
            bm_opts.run_ms = v;
        else if (word_num(w, n, "peer", &v))
            bm_opts.doorbell_peer = v > 0xffffu ? 0 : v;
        else if (word_num(w, n, "rtt", &v))
            bm_opts.rtt = v < 2 ? 2 : v > BM_RTT_MAX ? BM_RTT_MAX : v;
        else if (word_num(w, n, "divisor", &v))
            bm_opts.divisor = v == 0 || v > 0xffffu ? 1 : v;
        else if (has_slash(w, n))
            ; /* the kernel's own path, which loaders put first */
        else
            bm_printf("bm: ignoring unknown word on the command line\n");
    }
}

void bm_main(uint32_t magic, const uint32_t *info);

void bm_main(uint32_t magic, const uint32_t *info)
{
    struct sim_options o;
    enum sim_end end;

    bm_printf("\nbm: kdcom bare-metal test kernel (%s back end)\n",
              bm_backend_name);
    if (magic != MB_LOADER_MAGIC) {
        bm_printf("bm: not started by a Multiboot loader (eax=%08x)\n",
                  magic);
        bm_exit(BM_EXIT_BAD_BOOT);
    }
    if ((info[0] & MB_INFO_CMDLINE) && info[4] != 0) {
        const char *cmdline = (const char *)(uintptr_t)info[4];
        bm_printf("bm: command line: %s\n", cmdline);
        parse_cmdline(cmdline);
    }
    bm_clock_init();
    bm_printf("bm: clock: TSC %u kHz\n", bm_clock_tsc_per_ms());
    if (bm_backend_setup() != 0)
        bm_exit(BM_EXIT_NO_DEVICE);

    if (bm_opts.rtt != 0) {
        int rc = bm_backend_rtt(bm_opts.rtt);
        bm_exit(rc == 0 ? BM_EXIT_STOPPED : BM_EXIT_FAILED);
    }
    o.initial_break = bm_opts.initial_break;
    o.print_interval_ms = bm_opts.print_interval_ms;
    o.run_ms = bm_opts.run_ms;
    o.quiet = bm_opts.quiet;
    o.image_path = "\\SystemRoot\\system32\\ntoskrnl.exe";
    o.pull_file = NULL;
    o.mem = sim_mem;
    bm_printf("bm: simulated kernel: 4 MiB image at %llx\n",
              (uint64_t)SIM_KERN_BASE);
    end = sim_run(&o);
    bm_backend_report();
    switch (end) {
    case SIM_END_REBOOT:
        bm_printf("bm: reboot requested by the debugger: exiting QEMU\n");
        bm_exit(BM_EXIT_REBOOT);
        break;
    case SIM_END_FAILED:
        bm_printf("bm: transport initialisation failed\n");
        bm_exit(BM_EXIT_FAILED);
        break;
    default:
        bm_printf("bm: run time over: exiting QEMU\n");
        bm_exit(BM_EXIT_STOPPED);
        break;
    }
}
