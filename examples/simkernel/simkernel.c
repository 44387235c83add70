/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * simkernel.c - kdcom-simkernel: command line of the simulated kernel.
 * The KD core (kdcore.c) is the same in every build; the transport under
 * it is chosen at link time, like a kernel's kdcom.dll replacement:
 *
 *   kdcom-simkernel        serial: libkdcom's TARGET role on a socket/pty
 *   kdcom-simkernel-vm     the VM channel back end of guest/ over a
 *                          shared-memory file (served by kdcom-shim)
 *   kdcom-simkernel-uart   guest/'s 16550 back end over an emulated UART
 *
 * (guest/baremetal/ links the same core into a kernel QEMU boots.)  This
 * file provides the core's SIM PLATFORM for a Linux process.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>

#include "../common/exutil.h"
#include "../common/simpattern.h"
#include "../common/pcapng.h"
#include "../common/wiretrace.h"
#include "backend.h"
#include "kdcore.h"

int backend_quiet;

uint64_t sim_clock_ms(void)
{
    return ex_now_ms();
}

void sim_idle(void)
{
    ex_sleep_ms(5);
}

int sim_stop_requested(void)
{
    return ex_stop_requested();
}

void sim_note(const char *text)
{
    fprintf(stderr, "kdcom-simkernel: %s\n", text);
}

static void on_fatal_signal(int sig)
{
    /* The KD core may sit in a transport call that waits for a debugger
     * forever (as a real kernel would): leave at once. */
    (void)sig;
    _exit(0);
}

static int usage(FILE *f, int rc)
{
    const char *p = backend_program();

    fprintf(f,
"NAME\n"
"  %s - %s\n"
"\n"
"SYNOPSIS\n"
"  %s [OPTIONS] %s\n"
"  %s --help | --version\n"
"\n"
"DESCRIPTION\n"
"  A simulated Windows 10 x64 kernel for KD debuggers: it boots, reports\n"
"  LoadSymbols and its initial breakpoint, answers the manipulate requests\n"
"  as Windows does (GetVersion, memory reads and writes in a 4 MiB image at\n"
"  0xfffff80000000000 with a fixed pattern, contexts, control space,\n"
"  breakpoints, I/O space, MSRs, ...; docs/simkernel.md has the table),\n"
"  prints with DbgPrint and honours break-ins; Reboot (.reboot) ends it.\n"
"\n"
"%s"
"\n"
"%s",
            p, backend_summary(), p, backend_args(), p, backend_transport(),
            backend_help());
    fputs(
"\n"
"OPTIONS\n"
"  --no-initial-break     do not stop after boot\n"
"  --print-interval MS    DbgPrint a heartbeat every MS ms while running\n"
"                         (0..86400000; 0, the default: none)\n"
"  --run-for MS           exit after MS ms of running (0..86400000; 0, the\n"
"                         default: until a signal)\n"
"  --image PATH           image path reported by LoadSymbols (at most 512\n"
"                         bytes)\n"
"  --pull-file NAME       at boot, ask the debugger for NAME (FILE_IO CreateFile,\n"
"                         as Windows does for .kdfiles) and DbgPrint the answer\n"
"  --unload-after MS      MS ms after it starts running, unload every module:\n"
"                         the LoadSymbols state change with UnloadSymbols=1,\n"
"                         BaseOfDll=-1 and no path (once; 1..86400000)\n"
"  --trace hex|decode     print the wire traffic on stderr (serial back ends)\n"
"  --pcap FILE            capture the wire traffic into FILE (pcapng, read by\n"
"                         kdcom-dump and Wireshark with kdcom.lua; serial back\n"
"                         ends; - for stdout is refused: stdout carries lines)\n"
"  -q, --quiet            no progress lines on stderr\n"
"  -h, --help             this text\n"
"  --version              the version (libkdcom's) and exit\n"
"\n"
"OUTPUT\n", f);
    fputs(backend_stdout(), f);
    fputs(
"  Progress lines (boot, debuggers coming and going) and errors go to\n"
"  stderr.\n"
"\n"
"EXIT STATUS\n"
"  0  stopped by SIGINT, SIGTERM or SIGHUP, after --run-for, or on the\n"
"     debugger's Reboot request\n"
"  1  could not start: the transport or the --pcap file could not be set up\n"
"  2  usage error (unknown option, bad value, missing argument)\n"
"\n"
"EXAMPLES\n", f);
    fputs(backend_examples(), f);
    fputs(
"\n"
"SEE ALSO\n"
"  kdcom-shim --help, kdcom-client --help; docs/simkernel.md,\n"
"  docs/integrating.md section 7.\n", f);
    return rc;
}

int main(int argc, char **argv)
{
    struct sim_options o;
    struct sigaction sa;
    struct wiretrace wt;
    struct pcapng_writer pcap;
    const char *target = NULL, *pcap_path = NULL;
    int trace = 0, i, rc;

    memset(&o, 0, sizeof o);
    o.initial_break = 1;
    o.image_path = "\\SystemRoot\\system32\\ntoskrnl.exe";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return usage(stdout, 0);
        if (strcmp(a, "--version") == 0) {
            printf("%s (libkdcom) %s\n", backend_program(),
                   kdcom_version_string());
            return 0;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else if (strcmp(a, "--no-initial-break") == 0) {
            o.initial_break = 0;
        } else if (strcmp(a, "--print-interval") == 0 && v != NULL) {
            uint32_t ms;
            if (ex_parse_u32(v, 86400000u, &ms) != 0)
                goto bad;
            o.print_interval_ms = ms;
            i++;
        } else if (strcmp(a, "--run-for") == 0 && v != NULL) {
            uint32_t ms;
            if (ex_parse_u32(v, 86400000u, &ms) != 0)
                goto bad;
            o.run_ms = ms;
            i++;
        } else if (strcmp(a, "--image") == 0 && v != NULL) {
            if (strlen(v) > 512)
                goto bad;
            o.image_path = v;
            i++;
        } else if (strcmp(a, "--unload-after") == 0 && v != NULL) {
            uint32_t ms;
            if (ex_parse_u32(v, 86400000u, &ms) != 0 || ms == 0)
                goto bad;
            sim_set_unload_after(ms);
            i++;
        } else if (strcmp(a, "--pull-file") == 0 && v != NULL) {
            if (strlen(v) > 200)
                goto bad;
            o.pull_file = v;
            i++;
        } else if (strcmp(a, "--trace") == 0 && v != NULL) {
            if ((trace = wt_parse_mode(v)) < 0)
                goto bad;
            i++;
        } else if (strcmp(a, "--pcap") == 0 && v != NULL) {
            if (v[0] == '\0' || strcmp(v, "-") == 0)
                goto bad;
            pcap_path = v;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "%s: unknown option '%s' or missing value "
                    "(see --help)\n", backend_program(), a);
            return 2;
        } else if (target == NULL) {
            target = a;
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n",
                    backend_program(), a);
            return 2;
        }
        continue;
    bad:
        fprintf(stderr, "%s: bad value for %s: '%s'\n", backend_program(), a,
                v);
        return 2;
    }
    if (target == NULL) {
        fprintf(stderr, "%s: missing %s (see --help)\n", backend_program(),
                backend_args());
        return 2;
    }
    if (!backend_has_wire() && (trace != WT_OFF || pcap_path != NULL)) {
        fprintf(stderr, "%s: --trace and --pcap need a KDCOM wire, and this "
                "build has none: the VM channel carries KD packets and "
                "kdcom-shim makes the KDCOM (trace or capture there)\n",
                backend_program());
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    wt_init(&wt, trace, stderr);
    pcapng_init(&pcap);
    if (pcap_path != NULL) {
        char err[320];
        if (pcapng_open(&pcap, pcap_path, backend_program(),
                        PCAPNG_SIDE_TARGET, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", backend_program(), err);
            return 1;
        }
        wt.pcap = &pcap;
    }
    backend_quiet = o.quiet;
    if (backend_setup(target, &wt) != 0) {
        pcapng_close(&pcap);
        return 1;
    }
    o.mem = malloc(SIM_MEM_SIZE);
    if (o.mem == NULL) {
        fprintf(stderr, "%s: out of memory\n", backend_program());
        backend_close();
        pcapng_close(&pcap);
        return 1;
    }
    switch (sim_run(&o)) {
    case SIM_END_FAILED:
        fprintf(stderr, "%s: transport initialisation failed\n",
                backend_program());
        rc = 1;
        break;
    case SIM_END_REBOOT:
        /* A process cannot reboot; it ends, as the VM would go away. */
        if (!o.quiet)
            fprintf(stderr, "%s: exiting on the debugger's reboot "
                    "request\n", backend_program());
        rc = 0;
        break;
    default:
        rc = 0;
        break;
    }
    free(o.mem);
    backend_close();
    pcapng_close(&pcap);
    return rc;
}
