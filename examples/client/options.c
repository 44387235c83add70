/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * options.c - kdcom-client's manual (--help, and the COMMANDS part of it
 * for interactive help) and its options, each checked before anything is
 * connected (see client.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <kdcom.h>

#include "../common/exutil.h"
#include "../common/wiretrace.h"
#include "client.h"

static const char usage_head[] =
"NAME\n"
"    kdcom-client - a KD debugger for Windows kernels on a KDCOM line\n"
"\n"
"SYNOPSIS\n"
"    kdcom-client [OPTIONS] ENDPOINT [COMMAND [ARGS]]...\n"
"    kdcom-client -i [OPTIONS] ENDPOINT [COMMAND [ARGS]]...\n"
"    kdcom-client -h | --help | -V | --version\n"
"\n"
"DESCRIPTION\n"
"    Attaches to a Windows kernel's debugger port as WinDbg and KD do (a\n"
"    serial port, a VM's serial socket, kdcom-shim, kdcom-simkernel),\n"
"    synchronises with a RESET, and runs the COMMANDs in order; the first\n"
"    that fails ends the run (unless -k).  Every option and argument is\n"
"    checked before anything is connected.  Without COMMANDs (and without\n"
"    -i) it monitors: DbgPrint output and stops are printed until Ctrl-C.\n"
"    With -i it then reads commands from stdin (INTERACTIVE MODE).\n"
"\n"
"    A command that needs a stopped target breaks in first, but only once\n"
"    a stop the target may still be reporting had --settle ms to arrive: a\n"
"    stopped target re-sends its state change after the RESET, and a\n"
"    break-in it did not need would stop it again after the next go.\n"
"    What a kernel asks of its debugger is answered: module loads\n"
"    (LoadSymbols) are continued, FILE_IO CreateFile gets\n"
"    STATUS_NO_SUCH_FILE, DbgPrompt an empty line.\n"
"\n"
"ENDPOINTS\n"
"    tcp:HOST:PORT             connect (kdcom-shim; QEMU -serial tcp:...,server)\n"
"    tcp-listen:[HOST:]PORT    wait for the target to connect (QEMU -serial\n"
"                              tcp:HOST:PORT)\n"
"    unix:PATH                 connect to a Unix stream socket (the serial port\n"
"                              of QEMU, VirtualBox, VMware)\n"
"    unix-listen:PATH          wait for the target on a Unix stream socket\n"
"    tty:DEVICE[,BAUD]         a serial port or pty slave, raw mode\n"
"\n";

static const char usage_commands[] =
"COMMANDS\n"
"    Numbers are decimal or 0x hex; LEN takes K and M suffixes (KiB, MiB).\n"
"    The WinDbg spellings (g r db dw dd dq eb ew ed eq vertarget .reboot)\n"
"    read numbers as WinDbg does: hex by default, 0x hex, 0n decimal, and a\n"
"    ` inside an address is ignored (fffff800`00001000).\n"
"\n"
"  Running and stopping\n"
"    break                     break in and wait until the target stops\n"
"    go | g                    continue (DbgKdContinueApi2, DBG_CONTINUE) and\n"
"                              serve until the target runs: a stop still on\n"
"                              its way (a stopped target's answer to the RESET,\n"
"                              a boot's initial breakpoint after its module\n"
"                              load) is waited for and continued; a stop within\n"
"                              --settle ms after the continue is reported\n"
"    wait-stop MS              wait up to MS ms for the target to stop by itself\n"
"    reboot | .reboot          DbgKdRebootApi: the target restarts\n"
"    resync                    a new RESET handshake (KD's Ctrl+R)\n"
"  Memory\n"
"    read ADDR LEN             hex dump of virtual memory (LEN 1..256M)\n"
"    db|dw|dd|dq ADDR [L N]    WinDbg's display: N bytes, words, dwords or\n"
"                              qwords (default 128 bytes' worth)\n"
"    write ADDR HEXBYTES       write memory: write 0xfffff80000002000 c0ffee\n"
"    eb|ew|ed|eq ADDR VALUE... WinDbg's enter: write byte, word, dword or qword\n"
"                              values; on the command line the values are one\n"
"                              argument: eb ADDR \"90 90\"\n"
"    expect ADDR HEXBYTES      read back and compare\n"
"    verify ADDR LEN           read and check kdcom-simkernel's pattern\n"
"    bench-read ADDR LEN       read LEN bytes, print one line for scripts:\n"
"                              bench-read bytes=N reads=N seconds=S\n"
"                              reads_per_s=R MB_per_s=M\n"
"    physical ADDR LEN         hex dump of physical memory\n"
"    query ADDR                DbgKdQueryMemoryApi: address space and flags\n"
;

static const char usage_commands2[] =
"  Processor\n"
"    version                   DbgKdGetVersionApi: build, machine, kernel base\n"
"    vertarget                 the same, as WinDbg prints it\n"
"    context                   DbgKdGetContextApi: the x64 registers\n"
"    r [REG]                   WinDbg's register display: all, or one (r rip)\n"
"    context-ex OFFSET LEN     DbgKdGetContextExApi: LEN (1..3944) bytes of the\n"
"                              CONTEXT from OFFSET\n"
"    control INDEX LEN         DbgKdReadControlSpaceApi: LEN (1..3944) bytes of\n"
"                              control-space block INDEX (an index, not an\n"
"                              address; x64: 0 KPCR, 1 KPRCB,\n"
"                              2 KSPECIAL_REGISTERS, 3 KTHREAD)\n"
"    write-control INDEX HEXBYTES   DbgKdWriteControlSpaceApi\n"
"    rdmsr MSR                 DbgKdReadMachineSpecificRegister\n"
"    bp ADDR                   DbgKdWriteBreakPointApi: prints the handle\n"
"    bc HANDLE                 DbgKdRestoreBreakPointApi (the handle bp printed)\n"
"  Session\n"
"    wait-print TEXT MS        wait up to MS ms for a DbgPrint containing TEXT\n"
"    monitor MS                print DbgPrint output and stops for MS ms\n"
"                              (0: until Ctrl-C)\n"
"    sleep MS                  keep serving the link for MS ms\n"
"    stats                     link and session counters\n"
"    help | ?                  this list (interactive mode)\n"
"    quit | q                  leave (interactive mode)\n"
"    Other WinDbg commands (k, lm, u, t, p, bl, dt, !process, .sympath, ...)\n"
"    answer \"not supported by kdcom-client\".\n"
"\n"
"INTERACTIVE MODE\n"
"    With -i, after the COMMANDs, one command per line from stdin.  The\n"
"    prompt tells the target's state: \"0: kd> \" stopped (on processor 0),\n"
"    \"kd (running)> \" running; it is printed when stdin is a terminal, or\n"
"    with --prompt, and again when the state changes.  Ctrl-C at the\n"
"    prompt breaks in when the target runs (WinDbg's Ctrl+Break); Ctrl-C\n"
"    during a command interrupts that command.  A failed command is\n"
"    reported, the session goes on, and the exit status will be 1; a line\n"
"    that is no command (mistyped, unsupported, bad arguments) is only\n"
"    reported.  quit, q or the end of input leaves.\n"
"\n";

static const char usage_tail[] =
"OPTIONS\n"
"    -b, --break               break in as soon as the link is synchronised\n"
"                              (the break-in goes out before the RESET, as\n"
"                              WinDbg's -b: a running kernel on a serial port\n"
"                              answers nothing else)\n"
"    -t, --timeout MS          per-request timeout (default 5000)\n"
"        --reply-timeout MS    a request the target acknowledged but did not\n"
"                              answer for MS ms is sent again (default 1000)\n"
"        --retries N           re-sends before resynchronising (default 3)\n"
"        --settle MS           how long a stop may take to arrive (default 500):\n"
"                              the state change a stopped target re-sends\n"
"                              after the RESET (no break-in goes out before),\n"
"                              a boot's initial breakpoint after its module\n"
"                              load, a stop right after go; 0: no wait\n"
"    -k, --keep-going          run the remaining commands after one fails\n"
"        --sync-timeout MS     RESET handshake timeout (default 10000)\n"
"        --connect-timeout MS  connect/accept timeout (default 10000; 0: wait\n"
"                              forever for a connecting target)\n"
"        --chunk N             bytes per read request (default and max 3944)\n"
"        --bench-read SIZE     read SIZE bytes from the kernel base that\n"
"                              GetVersion reports and print the bench-read\n"
"                              line (before any COMMANDs; works on any target)\n"
"        --trace hex|decode    print the wire traffic on stderr\n"
"        --pcap FILE           capture the wire traffic into FILE as it\n"
"                              happens (pcapng; kdcom-dump and Wireshark with\n"
"                              examples/wireshark/kdcom.lua read it)\n"
"        --stay-stopped        do not continue LoadSymbols stops by themselves\n"
"    -i, --interactive         after the COMMANDs, read more from stdin\n"
"        --prompt              print the interactive prompt also when stdin is\n"
"                              not a terminal (for programs driving -i)\n"
"    -q, --quiet               no transcript lines (errors and results only)\n"
"    -v, --verbose             more transcript lines\n"
"    -h, --help                this manual\n"
"    -V, --version             print the version (libkdcom's) and exit\n"
"\n"
"EXIT STATUS\n"
"    0   every command succeeded (a signal ending monitoring or -i included)\n"
"    1   a command failed (with -k: at least one; with -i: any command\n"
"        that ran; a typed line that is no command is only reported)\n"
"    2   usage: a bad option, endpoint, command or argument; nothing was\n"
"        connected\n"
"    3   the connection failed or was lost\n"
"\n"
"EXAMPLES\n"
"    kdcom-client tcp:127.0.0.1:5800                  # DbgPrint until Ctrl-C\n"
"    kdcom-client tcp:127.0.0.1:5800 version go       # break in, version, go\n"
"    kdcom-client unix:/run/kd.sock read 0xfffff80000000000 0x100 go\n"
"    kdcom-client tty:/dev/ttyUSB0,115200 break r go\n"
"    kdcom-client -q tcp:127.0.0.1:5800 bench-read 0xfffff80000000000 2M go\n"
"    kdcom-client tcp:127.0.0.1:5800 bp 0xfffff80000002000 bc 1 go\n"
"    kdcom-client tcp:127.0.0.1:5800 db 'fffff800`00000000' L20 \\\n"
"        eb 'fffff800`00200000' \"c0 ff ee\" go\n"
"    kdcom-client -i tcp:127.0.0.1:5800               # then: r, db ADDR, g, ...\n";

void cl_help(void)
{
    fputs(usage_commands, stdout);
    fputs(usage_commands2, stdout);
    fflush(stdout);
}

static int bad_option(const char *opt, const char *v, const char *range)
{
    fprintf(stderr, "kdcom-client: %s: bad argument '%s' (%s)\n", opt, v,
            range);
    return EXIT_USAGE;
}

/* Options without a value: they set their flag. */
static const struct {
    const char *shrt, *lng;
    size_t off; /* of the int in struct opts */
} flag_opts[] = {
    {"-b", "--break", offsetof(struct opts, breakin)},
    {"-k", "--keep-going", offsetof(struct opts, keep_going)},
    {"-i", "--interactive", offsetof(struct opts, interactive)},
    {NULL, "--prompt", offsetof(struct opts, prompt)},
    {"-q", "--quiet", offsetof(struct opts, quiet)},
    {"-v", "--verbose", offsetof(struct opts, verbose)},
    {NULL, "--stay-stopped", offsetof(struct opts, stay_stopped)}};

/* Options with a number in lo..hi: range is what the message says. */
static const struct {
    const char *shrt, *lng;
    size_t off; /* of the uint32_t in struct opts */
    uint32_t lo, hi;
    const char *range;
} num_opts[] = {
    {"-t", "--timeout", offsetof(struct opts, timeout), 1, 3600000u,
     "milliseconds, 1..3600000"},
    {NULL, "--reply-timeout", offsetof(struct opts, reply_timeout), 1,
     3600000u, "milliseconds, 1..3600000"},
    {NULL, "--retries", offsetof(struct opts, retries), 0, 1000u,
     "a count, 0..1000"},
    {NULL, "--settle", offsetof(struct opts, settle), 0, 60000u,
     "milliseconds, 0..60000"},
    {NULL, "--sync-timeout", offsetof(struct opts, sync_timeout), 1,
     3600000u, "milliseconds, 1..3600000"},
    {NULL, "--connect-timeout", offsetof(struct opts, connect_timeout), 0,
     3600000u, "milliseconds, 0..3600000"},
    {NULL, "--chunk", offsetof(struct opts, chunk), 1, KDCOM_KD_MAX_TRANSFER,
     "bytes, 1..3944"}};

static int is_opt(const char *a, const char *shrt, const char *lng)
{
    return (shrt != NULL && strcmp(a, shrt) == 0) || strcmp(a, lng) == 0;
}

/* A value option (a, its value v): 1 if taken, 0 if a is none, or
 * EXIT_USAGE after a message. */
static int value_option(const char *a, const char *v, struct opts *o)
{
    size_t k;

    for (k = 0; k < sizeof num_opts / sizeof num_opts[0]; k++) {
        uint32_t x;
        if (!is_opt(a, num_opts[k].shrt, num_opts[k].lng))
            continue;
        if (ex_parse_u32(v, num_opts[k].hi, &x) != 0 || x < num_opts[k].lo)
            return bad_option(a, v, num_opts[k].range);
        memcpy((char *)o + num_opts[k].off, &x, sizeof x);
        return 1;
    }
    if (strcmp(a, "--trace") == 0) {
        if ((o->trace = wt_parse_mode(v)) < 0)
            return bad_option(a, v, "hex or decode");
    } else if (strcmp(a, "--pcap") == 0) {
        /* stdout carries the transcript and results: no "-" */
        if (v[0] == '\0' || strcmp(v, "-") == 0)
            return bad_option(a, v, "a file name");
        o->pcap = v;
    } else if (strcmp(a, "--bench-read") == 0) {
        if (ex_parse_size(v, &o->bench_size) != 0 || o->bench_size == 0 ||
            o->bench_size > MAX_READ)
            return bad_option(a, v, "a size, 1..256M");
    } else {
        return 0;
    }
    return 1;
}

int cl_parse_options(int argc, char **argv, struct opts *o, int *next)
{
    int i;

    memset(o, 0, sizeof *o);
    o->timeout = 5000;
    o->reply_timeout = KDS_REPLY_TIMEOUT_MS;
    o->retries = KDS_REQUEST_RETRIES;
    o->settle = KDS_SETTLE_MS;
    o->sync_timeout = 10000;
    o->connect_timeout = 10000;
    o->chunk = KDCOM_KD_MAX_TRANSFER;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t k;
        int r;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_head, stdout);
            fputs(usage_commands, stdout);
            fputs(usage_commands2, stdout);
            fputs(usage_tail, stdout);
            return 0;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("kdcom-client (libkdcom) %s\n", kdcom_version_string());
            return 0;
        }
        for (k = 0; k < sizeof flag_opts / sizeof flag_opts[0]; k++)
            if (is_opt(a, flag_opts[k].shrt, flag_opts[k].lng))
                break;
        if (k < sizeof flag_opts / sizeof flag_opts[0]) {
            *(int *)(void *)((char *)o + flag_opts[k].off) = 1;
            continue;
        }
        r = v != NULL ? value_option(a, v, o) : 0;
        if (r == 1) {
            i++;
            continue;
        }
        if (r != 0)
            return r;
        fprintf(stderr, "kdcom-client: unknown option '%s' or missing "
                "value (see --help)\n", a);
        return EXIT_USAGE;
    }
    *next = i;
    return -1;
}
