/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdclient.c - kdcom-client: a KD debugger client on libkdcom's DEBUGGER
 * role.  Connects to (or waits for) any KDCOM target, synchronises, and
 * runs the commands given on its command line, then, with -i, the ones
 * typed on stdin: version, memory reads and writes, registers, control
 * space, breakpoints, break-in, continue, DbgPrint monitoring, bulk-read
 * throughput, in its own words and in WinDbg's (g, r, db, eb, ...).
 * Every argument is checked before anything is connected.
 * Run with --help for the manual.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/counters.h"
#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "../common/simpattern.h"
#include "../common/pcapng.h"
#include "../common/wiretrace.h"
#include "kdsession.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONN 3

#define MAX_READ (256u << 20) /* read, verify, bench-read, physical, d* */
#define MAX_WAIT_MS 86400000u /* wait-stop, wait-print, monitor, sleep */

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

/* WinDbg commands a user may try that kdcom-client has no equivalent for
 * (anything starting with '.', '!', '~' or '|' is one too). */
static const char *const windbg_unsupported[] = {
    "k", "kb", "kc", "kd", "kn", "kp", "kP", "kv", "lm", "lmv", "ln", "u",
    "ub", "uf", "t", "ta", "tc", "p", "pa", "pc", "gu", "gh", "gn", "bl",
    "bd", "be", "ba", "bu", "bm", "x", "dt", "dv", "dx", "da", "du", "dc",
    "dp", "dps", "dds", "dqs", "dyb", "s", "sx", "sxe", "sxd", "sxn", "f",
    "m", "c", "ew?", "rm", "wrmsr", "ib", "iw", "id", "ob", "ow", "od",
    "qd", "qq"};

enum op {
    OP_VERSION, OP_VERTARGET, OP_READ, OP_VERIFY, OP_BENCH, OP_PHYSICAL,
    OP_CONTROL, OP_WRITE, OP_EXPECT, OP_WRITE_CONTROL, OP_CONTEXT, OP_REG,
    OP_CONTEXT_EX, OP_BP, OP_BC, OP_RDMSR, OP_QUERY, OP_BREAK, OP_GO,
    OP_REBOOT, OP_WAIT_STOP, OP_WAIT_PRINT, OP_MONITOR, OP_SLEEP,
    OP_RESYNC, OP_STATS, OP_DUMP, OP_ENTER, OP_HELP, OP_QUIT
};

struct cmddef {
    const char *name;
    enum op op;
    int nargs;      /* fixed arguments; -1: the parser decides */
    unsigned unit;  /* d* and e*: bytes per element */
    const char *syntax;
};

static const struct cmddef cmddefs[] = {
    {"version", OP_VERSION, 0, 0, "version"},
    {"vertarget", OP_VERTARGET, 0, 0, "vertarget"},
    {"read", OP_READ, 2, 0, "read ADDR LEN"},
    {"verify", OP_VERIFY, 2, 0, "verify ADDR LEN"},
    {"bench-read", OP_BENCH, 2, 0, "bench-read ADDR LEN"},
    {"physical", OP_PHYSICAL, 2, 0, "physical ADDR LEN"},
    {"control", OP_CONTROL, 2, 0, "control INDEX LEN"},
    {"write", OP_WRITE, 2, 0, "write ADDR HEXBYTES"},
    {"expect", OP_EXPECT, 2, 0, "expect ADDR HEXBYTES"},
    {"write-control", OP_WRITE_CONTROL, 2, 0, "write-control INDEX HEXBYTES"},
    {"context", OP_CONTEXT, 0, 0, "context"},
    {"r", OP_REG, -1, 0, "r [REG]"},
    {"context-ex", OP_CONTEXT_EX, 2, 0, "context-ex OFFSET LEN"},
    {"bp", OP_BP, 1, 0, "bp ADDR"},
    {"bc", OP_BC, 1, 0, "bc HANDLE"},
    {"rdmsr", OP_RDMSR, 1, 0, "rdmsr MSR"},
    {"query", OP_QUERY, 1, 0, "query ADDR"},
    {"break", OP_BREAK, 0, 0, "break"},
    {"go", OP_GO, 0, 0, "go"},
    {"g", OP_GO, 0, 0, "g"},
    {"reboot", OP_REBOOT, 0, 0, "reboot"},
    {".reboot", OP_REBOOT, 0, 0, ".reboot"},
    {"wait-stop", OP_WAIT_STOP, 1, 0, "wait-stop MS"},
    {"wait-print", OP_WAIT_PRINT, 2, 0, "wait-print TEXT MS"},
    {"monitor", OP_MONITOR, 1, 0, "monitor MS"},
    {"sleep", OP_SLEEP, 1, 0, "sleep MS"},
    {"resync", OP_RESYNC, 0, 0, "resync"},
    {"stats", OP_STATS, 0, 0, "stats"},
    {"db", OP_DUMP, -1, 1, "db ADDR [L COUNT]"},
    {"dw", OP_DUMP, -1, 2, "dw ADDR [L COUNT]"},
    {"dd", OP_DUMP, -1, 4, "dd ADDR [L COUNT]"},
    {"dq", OP_DUMP, -1, 8, "dq ADDR [L COUNT]"},
    {"eb", OP_ENTER, -1, 1, "eb ADDR VALUE..."},
    {"ew", OP_ENTER, -1, 2, "ew ADDR VALUE..."},
    {"ed", OP_ENTER, -1, 4, "ed ADDR VALUE..."},
    {"eq", OP_ENTER, -1, 8, "eq ADDR VALUE..."},
    {"help", OP_HELP, 0, 0, "help"},
    {"?", OP_HELP, 0, 0, "?"},
    {"quit", OP_QUIT, 0, 0, "quit"},
    {"q", OP_QUIT, 0, 0, "q"}};

/* A command with its arguments checked and converted. */
struct cmd {
    const struct cmddef *def;
    uint64_t addr; /* ADDR, INDEX */
    uint64_t len;  /* LEN, COUNT * unit */
    uint32_t u32;  /* HANDLE, MSR, MS, OFFSET */
    int reg;       /* r REG: index in regs[], -1 all */
    const char *text;
    size_t nbytes; /* write, expect, write-control, e* */
    uint8_t bytes[KDCOM_KD_MAX_TRANSFER];
};

/* r's registers: the x64 CONTEXT offsets and sizes. */
static const struct {
    const char *name;
    unsigned off, size;
} regs[] = {
    {"rax", KDCOM_KD_AMD64_CTX_GPR(0), 8},
    {"rbx", KDCOM_KD_AMD64_CTX_GPR(3), 8},
    {"rcx", KDCOM_KD_AMD64_CTX_GPR(1), 8},
    {"rdx", KDCOM_KD_AMD64_CTX_GPR(2), 8},
    {"rsi", KDCOM_KD_AMD64_CTX_GPR(6), 8},
    {"rdi", KDCOM_KD_AMD64_CTX_GPR(7), 8},
    {"rip", KDCOM_KD_AMD64_CTX_RIP, 8},
    {"rsp", KDCOM_KD_AMD64_CTX_GPR(4), 8},
    {"rbp", KDCOM_KD_AMD64_CTX_GPR(5), 8},
    {"r8", KDCOM_KD_AMD64_CTX_GPR(8), 8},
    {"r9", KDCOM_KD_AMD64_CTX_GPR(9), 8},
    {"r10", KDCOM_KD_AMD64_CTX_GPR(10), 8},
    {"r11", KDCOM_KD_AMD64_CTX_GPR(11), 8},
    {"r12", KDCOM_KD_AMD64_CTX_GPR(12), 8},
    {"r13", KDCOM_KD_AMD64_CTX_GPR(13), 8},
    {"r14", KDCOM_KD_AMD64_CTX_GPR(14), 8},
    {"r15", KDCOM_KD_AMD64_CTX_GPR(15), 8},
    {"cs", KDCOM_KD_AMD64_CTX_SEG_CS, 2},
    {"ss", KDCOM_KD_AMD64_CTX_SEG_SS, 2},
    {"ds", KDCOM_KD_AMD64_CTX_SEG_CS + 2, 2},
    {"es", KDCOM_KD_AMD64_CTX_SEG_CS + 4, 2},
    {"fs", KDCOM_KD_AMD64_CTX_SEG_CS + 6, 2},
    {"gs", KDCOM_KD_AMD64_CTX_SEG_CS + 8, 2},
    {"efl", KDCOM_KD_AMD64_CTX_EFLAGS, 4}};
#define NREGS (sizeof regs / sizeof regs[0])

struct opts {
    int breakin;
    int keep_going;
    uint32_t timeout;
    uint32_t reply_timeout;
    uint32_t retries;
    uint32_t settle;
    uint32_t sync_timeout;
    uint32_t connect_timeout;
    uint32_t chunk;
    int trace;
    const char *pcap;
    int stay_stopped;
    int quiet;
    int verbose;
    int interactive;
    int prompt;
    uint64_t bench_size;
};

static uint64_t kern_base;

static struct kds sess;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "kdcom-client: %s: %s\n", what, kds_strerror(rc));
    return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
}

/* The reply's ReturnStatus is a failure: say which. */
static int failed_status(const char *what)
{
    uint32_t st = kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS);
    const char *n = kdcom_kd_status_name(st);

    fprintf(stderr, "kdcom-client: %s: the target answered %s (0x%08x)\n",
            what, n != NULL ? n : "a failure", (unsigned)st);
    return EXIT_FAILED;
}

/* ---- argument checks (before anything is connected) ---- */

static int arg_error(const struct cmddef *d, const char *what,
                     const char *value, const char *why)
{
    fprintf(stderr, "kdcom-client: %s: %s '%s' %s (usage: %s)\n", d->name,
            what, value, why, d->syntax);
    return EXIT_USAGE;
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s), i;

    if (n == 0 || n % 2 != 0 || n / 2 > cap)
        return -1;
    for (i = 0; i < n; i += 2) {
        char b[3] = {s[i], s[i + 1], 0};
        char *end;
        unsigned long v = strtoul(b, &end, 16);
        if (*end != '\0' || b[0] == '+' || b[0] == '-' || b[0] == ' ')
            return -1;
        out[i / 2] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

/* A number as WinDbg reads one: hex unless 0n (decimal), 0t (octal) or
 * 0y (binary) says otherwise, 0x allowed; a ` between digits is ignored
 * (fffff800`00001000).  0 or -1. */
static int wd_number(const char *s, uint64_t *out)
{
    unsigned base = 16, digits = 0;
    uint64_t v = 0;

    if (s[0] == '0' && s[1] != '\0' && strchr("xXnNtTyY", s[1]) != NULL) {
        base = strchr("xX", s[1]) ? 16 : strchr("nN", s[1]) ? 10
               : strchr("tT", s[1]) ? 8 : 2;
        s += 2;
    }
    for (; *s != '\0'; s++) {
        unsigned d;
        if (*s == '`' && digits != 0 && s[1] != '\0')
            continue;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
        digits++;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

static int get_u64(const struct cmddef *d, const char *what, const char *s,
                   uint64_t *v)
{
    if (ex_parse_u64(s, v) != 0)
        return arg_error(d, what, s, "is not a number (decimal or 0x hex)");
    return 0;
}

static int get_u32(const struct cmddef *d, const char *what, const char *s,
                   uint32_t lo, uint32_t hi, uint32_t *v)
{
    uint64_t x;
    char why[80];

    if (ex_parse_u64(s, &x) != 0)
        return arg_error(d, what, s, "is not a number (decimal or 0x hex)");
    if (x < lo || x > hi) {
        snprintf(why, sizeof why, "is out of range (%lu..%lu)",
                 (unsigned long)lo, (unsigned long)hi);
        return arg_error(d, what, s, why);
    }
    *v = (uint32_t)x;
    return 0;
}

/* LEN of a read: 1..max, with K/M suffixes. */
static int get_len(const struct cmddef *d, const char *s, uint64_t max,
                   uint64_t *v)
{
    char why[80];

    if (ex_parse_size(s, v) != 0)
        return arg_error(d, "LEN", s,
                         "is not a size (decimal or 0x hex, K/M suffix)");
    if (*v == 0 || *v > max) {
        if (max >= 1024 * 1024)
            snprintf(why, sizeof why, "is out of range (1..%lluM)",
                     (unsigned long long)(max >> 20));
        else
            snprintf(why, sizeof why, "is out of range (1..%llu)",
                     (unsigned long long)max);
        return arg_error(d, "LEN", s, why);
    }
    return 0;
}

/* ADDR .. ADDR+LEN-1 must not wrap around the address space. */
static int check_span(const struct cmddef *d, const char *a, uint64_t addr,
                      uint64_t len)
{
    if (len != 0 && len - 1 > UINT64_MAX - addr)
        return arg_error(d, "ADDR", a, "plus the length passes the end of "
                         "the address space");
    return 0;
}

static int get_hex(const struct cmddef *d, const char *s, struct cmd *c)
{
    char why[96];

    if (parse_hex(s, c->bytes, sizeof c->bytes, &c->nbytes) != 0) {
        snprintf(why, sizeof why, "is not an even number of hex digits "
                 "(1 to %d bytes, no 0x)", KDCOM_KD_MAX_TRANSFER);
        return arg_error(d, "HEXBYTES", s, why);
    }
    return 0;
}

/* e*'s values: words separated by blanks or commas, each a WinDbg
 * number that fits the element size. */
static int get_values(const struct cmddef *d, char **w, int n,
                      struct cmd *c)
{
    uint64_t max = d->unit == 8 ? UINT64_MAX
                                : (1ull << (8 * d->unit)) - 1;
    int k;

    c->nbytes = 0;
    for (k = 0; k < n; k++) {
        const char *p = w[k];
        for (;;) {
            char tok[72];
            size_t t = 0;
            uint64_t v;
            unsigned b;
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            if (*p == '\0')
                break;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') {
                if (t < sizeof tok - 1)
                    tok[t++] = *p;
                p++;
            }
            tok[t] = '\0';
            if (wd_number(tok, &v) != 0)
                return arg_error(d, "VALUE", tok, "is not a number (hex, "
                                 "0n decimal)");
            if (v > max) {
                char why[64];
                snprintf(why, sizeof why, "does not fit in %u byte%s",
                         d->unit, d->unit == 1 ? "" : "s");
                return arg_error(d, "VALUE", tok, why);
            }
            if (c->nbytes + d->unit > sizeof c->bytes)
                return arg_error(d, "VALUE", tok, "is one too many (at "
                                 "most 3944 bytes)");
            for (b = 0; b < d->unit; b++)
                c->bytes[c->nbytes++] = (uint8_t)(v >> (8 * b));
        }
    }
    if (c->nbytes == 0) {
        fprintf(stderr, "kdcom-client: %s: no values to write (usage: "
                "%s)\n", d->name, d->syntax);
        return EXIT_USAGE;
    }
    return 0;
}

static int is_windbg_unsupported(const char *w)
{
    size_t k;

    if (strchr(".!~|", w[0]) != NULL)
        return 1;
    for (k = 0; k < sizeof windbg_unsupported / sizeof windbg_unsupported[0];
         k++)
        if (strcmp(w, windbg_unsupported[k]) == 0)
            return 1;
    return 0;
}

/* "L10", "l10" or "L 10": a WinDbg range length. */
static int is_l(const char *w)
{
    return (w[0] == 'L' || w[0] == 'l');
}

/* Parses the command at argv[*pi] (argc words in all) into c; *pi moves
 * past it.  line: the words are one line typed in interactive mode (a
 * command may take the rest of it).  0, or EXIT_USAGE with a message. */
static int parse_cmd(int argc, char **argv, int *pi, struct cmd *c,
                     int line)
{
    const char *w = argv[*pi];
    const struct cmddef *d = NULL;
    char **a = argv + *pi + 1;
    int left = argc - *pi - 1, k, rc;

    for (k = 0; k < (int)(sizeof cmddefs / sizeof cmddefs[0]); k++)
        if (strcmp(w, cmddefs[k].name) == 0) {
            d = &cmddefs[k];
            break;
        }
    if (d == NULL) {
        if (is_windbg_unsupported(w))
            fprintf(stderr, "kdcom-client: '%s' is not supported by "
                    "kdcom-client (help lists what is)\n", w);
        else
            fprintf(stderr, "kdcom-client: unknown command '%s' (see "
                    "%s%s)\n", w, line ? "help" : "--help",
                    w[0] == '-' && !line ? "; options go before ENDPOINT"
                                         : "");
        return EXIT_USAGE;
    }
    memset(c, 0, offsetof(struct cmd, bytes));
    c->def = d;
    c->reg = -1;
    if (d->nargs >= 0 && left < d->nargs) {
        fprintf(stderr, "kdcom-client: '%s' needs %d argument%s (usage: "
                "%s)\n", w, d->nargs, d->nargs == 1 ? "" : "s", d->syntax);
        return EXIT_USAGE;
    }
    if (d->nargs >= 0)
        *pi += 1 + d->nargs;
    switch (d->op) {
    case OP_READ:
    case OP_VERIFY:
    case OP_BENCH:
    case OP_PHYSICAL:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0 ||
            (rc = get_len(d, a[1], MAX_READ, &c->len)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->len)) != 0)
            return rc;
        break;
    case OP_CONTROL:
        if ((rc = get_u64(d, "INDEX", a[0], &c->addr)) != 0 ||
            (rc = get_len(d, a[1], KDCOM_KD_MAX_TRANSFER, &c->len)) != 0)
            return rc;
        break;
    case OP_WRITE:
    case OP_EXPECT:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0 ||
            (rc = get_hex(d, a[1], c)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->nbytes)) != 0)
            return rc;
        break;
    case OP_WRITE_CONTROL:
        if ((rc = get_u64(d, "INDEX", a[0], &c->addr)) != 0 ||
            (rc = get_hex(d, a[1], c)) != 0)
            return rc;
        break;
    case OP_CONTEXT_EX: {
        uint32_t len;
        if ((rc = get_u32(d, "OFFSET", a[0], 0, UINT32_MAX, &c->u32)) != 0 ||
            (rc = get_u32(d, "LEN", a[1], 1, KDCOM_KD_MAX_TRANSFER,
                          &len)) != 0)
            return rc;
        c->len = len;
        break;
    }
    case OP_BP:
    case OP_QUERY:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0)
            return rc;
        break;
    case OP_BC:
        if ((rc = get_u32(d, "HANDLE", a[0], 1, UINT32_MAX, &c->u32)) != 0)
            return rc;
        break;
    case OP_RDMSR:
        if ((rc = get_u32(d, "MSR", a[0], 0, UINT32_MAX, &c->u32)) != 0)
            return rc;
        break;
    case OP_WAIT_STOP:
        if ((rc = get_u32(d, "MS", a[0], 1, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_WAIT_PRINT:
        if (a[0][0] == '\0')
            return arg_error(d, "TEXT", a[0], "is empty");
        c->text = a[0];
        if ((rc = get_u32(d, "MS", a[1], 1, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_MONITOR:
    case OP_SLEEP:
        if ((rc = get_u32(d, "MS", a[0], 0, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_REG:
        *pi += 1;
        if (left > 0) {
            for (k = 0; k < (int)NREGS; k++)
                if (strcmp(a[0], regs[k].name) == 0 ||
                    (strcmp(a[0], "eflags") == 0 && k == (int)NREGS - 1))
                    break;
            if (k < (int)NREGS) {
                c->reg = k;
                *pi += 1;
            } else if (line) {
                return arg_error(d, "REG", a[0], strchr(a[0], '=')
                                 ? "(setting registers) is not supported "
                                   "by kdcom-client"
                                 : "is not an x64 register r knows (rax.."
                                   "r15, rip, efl, cs..gs)");
            }
        }
        break;
    case OP_DUMP: {
        uint64_t count = 128 / d->unit;
        char why[80];
        if (left < 1) {
            fprintf(stderr, "kdcom-client: '%s' needs an address (usage: "
                    "%s)\n", w, d->syntax);
            return EXIT_USAGE;
        }
        if (wd_number(a[0], &c->addr) != 0)
            return arg_error(d, "ADDR", a[0], "is not a number (hex, 0n "
                             "decimal)");
        *pi += 2;
        if (left >= 2 && is_l(a[1])) {
            const char *n = a[1][1] != '\0' ? a[1] + 1
                            : left >= 3 ? a[2] : "";
            if (wd_number(n, &count) != 0)
                return arg_error(d, "COUNT", a[1][1] != '\0' ? a[1] : n,
                                 "is not a count (L followed by a number)");
            *pi += a[1][1] != '\0' ? 1 : 2;
        }
        if (count == 0 || count > MAX_READ / d->unit) {
            snprintf(why, sizeof why, "is out of range (1..0x%llx)",
                     (unsigned long long)(MAX_READ / d->unit));
            return arg_error(d, "COUNT", left >= 2 ? argv[*pi - 1] : "0",
                             why);
        }
        c->len = count * d->unit;
        if ((rc = check_span(d, a[0], c->addr, c->len)) != 0)
            return rc;
        break;
    }
    case OP_ENTER: {
        int n = line ? left - 1 : (left >= 2 ? 1 : 0);
        if (left < 2) {
            fprintf(stderr, "kdcom-client: '%s' needs an address and values "
                    "(usage: %s)\n", w, d->syntax);
            return EXIT_USAGE;
        }
        if (wd_number(a[0], &c->addr) != 0)
            return arg_error(d, "ADDR", a[0], "is not a number (hex, 0n "
                             "decimal)");
        if ((rc = get_values(d, a + 1, n, c)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->nbytes)) != 0)
            return rc;
        *pi += 2 + n;
        break;
    }
    case OP_HELP:
        if (line && left > 0) {
            fprintf(stderr, "kdcom-client: '? EXPRESSION' (expression "
                    "evaluation) is not supported by kdcom-client\n");
            return EXIT_USAGE;
        }
        break;
    case OP_QUIT:
        if (!line) {
            fprintf(stderr, "kdcom-client: '%s' is for interactive mode (-i)"
                    "\n", w);
            return EXIT_USAGE;
        }
        break;
    case OP_GO:
        if (line && left > 0) {
            fprintf(stderr, "kdcom-client: '%s %s': going to an address is "
                    "not supported by kdcom-client (bp ADDR, then g)\n", w,
                    a[0]);
            return EXIT_USAGE;
        }
        break;
    default:
        break;
    }
    /* A typed line is one command: words left over are a mistake. */
    if (line && *pi < argc) {
        fprintf(stderr, "kdcom-client: %s: unexpected '%s' (usage: %s)\n",
                d->name, argv[*pi], d->syntax);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- output helpers ---- */

static void hexdump(uint64_t addr, const uint8_t *b, size_t n)
{
    size_t i, j;

    for (i = 0; i < n; i += 16) {
        printf("%016llx ", (unsigned long long)(addr + i));
        for (j = i; j < i + 16; j++) {
            if (j < n)
                printf(" %02x", b[j]);
            else
                printf("   ");
        }
        printf("  ");
        for (j = i; j < i + 16 && j < n; j++)
            putchar(b[j] >= 0x20 && b[j] < 0x7f ? b[j] : '.');
        putchar('\n');
    }
}

/* fffff800`00001000, as WinDbg writes a 64-bit address. */
static const char *wd_addr(uint64_t a, char *buf)
{
    sprintf(buf, "%08lx`%08lx", (unsigned long)(a >> 32),
            (unsigned long)(a & 0xffffffffu));
    return buf;
}

/* WinDbg's d* layout: 16 bytes a line; got of len bytes were read, the
 * rest shows as question marks. */
static void wd_dump(uint64_t addr, const uint8_t *b, size_t got, size_t len,
                    unsigned unit)
{
    size_t i, j;
    unsigned k;
    char ab[24];

    for (i = 0; i < len; i += 16) {
        printf("%s ", wd_addr(addr + i, ab));
        for (j = i; j < i + 16 && j < len; j += unit) {
            if (unit == 1)
                putchar(j % 16 == 8 ? '-' : ' ');
            else
                putchar(' ');
            if (j + unit > got) {
                for (k = 0; k < 2 * unit + (unit == 8); k++)
                    putchar('?');
                continue;
            }
            for (k = unit; k-- > 0;) {
                printf("%02x", b[j + k]);
                if (unit == 8 && k == 4)
                    putchar('`');
            }
        }
        if (unit == 1) {
            for (; j < i + 16; j++)
                printf("   ");
            printf("  ");
            for (j = i; j < i + 16 && j < len; j++)
                putchar(j >= got ? '?'
                        : b[j] >= 0x20 && b[j] < 0x7f ? b[j] : '.');
        }
        putchar('\n');
    }
    fflush(stdout);
}

/* ---- commands ---- */

/* Commands that talk to the KD core need it stopped.  A stop may be on
 * its way (a stopped target answering our RESET, a module load followed
 * by a breakpoint): it gets --settle ms before a break-in goes out. */
static int ensure_stopped(const struct opts *o)
{
    int rc;

    if (sess.stopped && sess.q_count == 0)
        return 0;
    if ((rc = kds_settle(&sess)) != 0)
        return rc;
    if (sess.stopped && sess.q_count == 0)
        return 0;
    kds_say(&sess, "breaking in (the command needs a stopped target)");
    return kds_break(&sess, o->timeout);
}

/* The processor the target stopped on, for requests about "this" one. */
static uint16_t cur_processor(void)
{
    return sess.sc_seq ? kdcom_kd_ld16(sess.sc + KDCOM_KD_SC_PROCESSOR) : 0;
}

static int get_version(const struct opts *o, const char *what)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    const uint8_t *r = sess.reply;
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_VERSION);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return fail(what, rc);
    if (!kdcom_kd_nt_success(kdcom_kd_ld32(r + KDCOM_KD_MS_RETURN_STATUS)))
        return failed_status(what);
    sess.machine = kdcom_kd_ld16(r + KDCOM_KD_VERSION_MACHINE);
    kern_base = kdcom_kd_ld64(r + KDCOM_KD_VERSION_KERN_BASE);
    return 0;
}

static const char *machine_name(uint32_t m)
{
    return m == KDCOM_KD_MACHINE_AMD64 ? "x64"
           : m == KDCOM_KD_MACHINE_I386 ? "x86"
           : m == KDCOM_KD_MACHINE_ARM64 ? "arm64" : NULL;
}

static int cmd_version(const struct opts *o)
{
    const uint8_t *r = sess.reply;
    const char *mn;
    uint16_t major;
    int rc;

    if ((rc = get_version(o, "version")) != 0)
        return rc;
    major = kdcom_kd_ld16(r + KDCOM_KD_VERSION_MAJOR);
    mn = machine_name(sess.machine);
    /* "free kernel build 19041": the build type, then the debugger type
     * from MajorVersion's high byte ("boot" for a boot loader's). */
    kds_say(&sess, "version: %s %s build %u, KD protocol %u, "
            "machine 0x%04x%s%s%s, kernel base 0x%llx, module list 0x%llx",
            (major & 0xFF) == KDCOM_KD_BUILD_CHECKED ? "checked" : "free",
            kdcom_kd_major_type_name(major),
            (unsigned)kdcom_kd_ld16(r + KDCOM_KD_VERSION_MINOR),
            (unsigned)r[KDCOM_KD_VERSION_PROTOCOL], (unsigned)sess.machine,
            mn ? " (" : "", mn ? mn : "", mn ? ")" : "",
            (unsigned long long)kern_base,
            (unsigned long long)kdcom_kd_ld64(
                r + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST));
    return 0;
}

/* vertarget: WinDbg's lines from the same answer. */
static int cmd_vertarget(const struct opts *o)
{
    const uint8_t *r = sess.reply;
    const char *mn;
    char a1[24], a2[24];
    uint16_t major, flags;
    int rc;

    if ((rc = get_version(o, "vertarget")) != 0)
        return rc;
    major = kdcom_kd_ld16(r + KDCOM_KD_VERSION_MAJOR);
    flags = kdcom_kd_ld16(r + KDCOM_KD_VERSION_FLAGS);
    mn = machine_name(sess.machine);
    printf("Windows Kernel Version %u %s", (unsigned)kdcom_kd_ld16(
               r + KDCOM_KD_VERSION_MINOR),
           flags & KDCOM_KD_VERS_FLAG_MP ? "MP" : "UP");
    if (sess.sc_seq)
        printf(" (%u procs)", (unsigned)kdcom_kd_ld32(
                                  sess.sc + KDCOM_KD_SC_NUMBER_PROCESSORS));
    printf(" %s %s\n",
           (major & 0xFF) == KDCOM_KD_BUILD_CHECKED ? "Checked" : "Free",
           mn ? mn : "(unknown machine)");
    printf("Kernel base = 0x%s PsLoadedModuleList = 0x%s\n",
           wd_addr(kern_base, a1),
           wd_addr(kdcom_kd_ld64(r + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST),
                   a2));
    printf("KD protocol %u, %s debugger\n",
           (unsigned)r[KDCOM_KD_VERSION_PROTOCOL],
           kdcom_kd_major_type_name(major));
    fflush(stdout);
    return 0;
}

static int do_read(const struct opts *o, uint32_t api, uint64_t addr,
                   uint64_t len, uint8_t **out, size_t *got, double *secs,
                   size_t *reads, const char *what)
{
    uint8_t *buf;
    size_t done = 0;
    uint64_t t0;
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    buf = malloc((size_t)len);
    if (buf == NULL) {
        fprintf(stderr, "kdcom-client: %s: out of memory\n", what);
        return EXIT_FAILED;
    }
    t0 = ex_now_us();
    rc = kds_read(&sess, api, addr, buf, (size_t)len, o->chunk, &done,
                  o->timeout);
    *secs = (double)(ex_now_us() - t0) / 1e6;
    *reads = ((size_t)len + (o->chunk - 1)) / o->chunk;
    *got = done;
    *out = buf;
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: %s: %s at 0x%llx: %s after %zu of "
                "%llu bytes\n", what, api == KDCOM_KD_READ_PHYSICAL_MEMORY
                                          ? "physical read" : "read",
                (unsigned long long)(addr + done), kds_strerror(rc), done,
                (unsigned long long)len);
        return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
    }
    return 0;
}

static int cmd_read(const struct opts *o, const struct cmd *c)
{
    uint32_t api = c->def->op == OP_PHYSICAL ? KDCOM_KD_READ_PHYSICAL_MEMORY
                                             : KDCOM_KD_READ_VIRTUAL_MEMORY;
    uint8_t *buf = NULL;
    double secs, mbs;
    size_t reads, got, i;
    uint64_t addr = c->addr, len = c->len;
    int rc = do_read(o, api, addr, len, &buf, &got, &secs, &reads,
                     c->def->name);

    if (rc != 0) {
        free(buf);
        return rc;
    }
    mbs = secs > 0 ? (double)len / secs / 1e6 : 0.0;
    if (c->def->op == OP_READ || c->def->op == OP_PHYSICAL) {
        hexdump(addr, buf, (size_t)len);
    } else if (c->def->op == OP_VERIFY) {
        for (i = 0; i < len; i++)
            if (addr + i < SIM_KERN_BASE ||
                buf[i] != sim_pattern(addr + i - SIM_KERN_BASE))
                break;
        if (i != len) {
            fprintf(stderr, "kdcom-client: verify: byte at 0x%llx is 0x%02x, "
                    "pattern says 0x%02x\n", (unsigned long long)(addr + i),
                    buf[i], addr + i >= SIM_KERN_BASE
                        ? sim_pattern(addr + i - SIM_KERN_BASE) : 0);
            free(buf);
            return EXIT_FAILED;
        }
        kds_say(&sess, "verify: %llu bytes at 0x%llx match the pattern "
                "(%zu reads, %.3f s, %.2f MB/s)", (unsigned long long)len,
                (unsigned long long)addr, reads, secs, mbs);
    } else {
        printf("bench-read bytes=%llu reads=%zu seconds=%.6f reads_per_s=%.1f "
               "MB_per_s=%.3f\n", (unsigned long long)len, reads, secs,
               secs > 0 ? (double)reads / secs : 0.0, mbs);
        fflush(stdout);
    }
    free(buf);
    return 0;
}

/* db dw dd dq: what was readable, then question marks. */
static int cmd_dump(const struct opts *o, const struct cmd *c)
{
    uint8_t *buf = NULL;
    size_t done = 0;
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    buf = malloc((size_t)c->len);
    if (buf == NULL) {
        fprintf(stderr, "kdcom-client: %s: out of memory\n", c->def->name);
        return EXIT_FAILED;
    }
    rc = kds_read(&sess, KDCOM_KD_READ_VIRTUAL_MEMORY, c->addr, buf,
                  (size_t)c->len, o->chunk, &done, o->timeout);
    if (rc == 0 || rc == KDS_ERR_STATUS)
        wd_dump(c->addr, buf, done, (size_t)c->len, c->def->unit);
    free(buf);
    if (rc != 0) {
        char ab[24];
        if (rc == KDS_ERR_STATUS)
            fprintf(stderr, "kdcom-client: %s: memory at %s is not "
                    "readable\n", c->def->name,
                    wd_addr(c->addr + done, ab));
        else
            fprintf(stderr, "kdcom-client: %s: read at %s: %s\n",
                    c->def->name, wd_addr(c->addr + done, ab),
                    kds_strerror(rc));
        return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
    }
    return 0;
}

/* control INDEX LEN: one DbgKdReadControlSpaceApi.  INDEX names a block
 * of the processor's control space (x64: KPCR, KPRCB, special registers,
 * KTHREAD), not an address: the bytes come back at offset 0. */
static int cmd_control(const struct opts *o, const struct cmd *c)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    char what[96];
    uint32_t got;
    int rc;

    snprintf(what, sizeof what, "control: control-space read of index %llu "
             "(%llu bytes)", (unsigned long long)c->addr,
             (unsigned long long)c->len);
    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_READ_CONTROL_SPACE);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cur_processor());
    kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, c->addr);
    kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)c->len);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return failed_status(what);
    got = kdcom_kd_ld32(sess.reply + KDCOM_KD_MEM_ACTUAL);
    if (got > c->len || got > sess.reply_len - KDCOM_KD_MS_SIZE)
        return fail(what, KDS_ERR_PROTO);
    kds_say(&sess, "control: index %llu of processor %u: %u of %llu bytes",
            (unsigned long long)c->addr, (unsigned)cur_processor(),
            (unsigned)got, (unsigned long long)c->len);
    hexdump(0, sess.reply + KDCOM_KD_MS_SIZE, got);
    return 0;
}

static int cmd_write(const struct opts *o, const struct cmd *c)
{
    uint8_t got[KDCOM_KD_MAX_TRANSFER];
    size_t n = c->nbytes, done;
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    if (c->def->op != OP_EXPECT) {
        if ((rc = kds_write(&sess, c->addr, c->bytes, n, o->timeout)) != 0)
            return fail(c->def->name, rc);
        kds_say(&sess, "%s: %zu bytes at 0x%llx", c->def->name, n,
                (unsigned long long)c->addr);
        return 0;
    }
    rc = kds_read(&sess, KDCOM_KD_READ_VIRTUAL_MEMORY, c->addr, got, n,
                  o->chunk, &done, o->timeout);
    if (rc != 0)
        return fail("expect: read back", rc);
    if (memcmp(got, c->bytes, n) != 0) {
        fprintf(stderr, "kdcom-client: expect: memory at 0x%llx differs\n",
                (unsigned long long)c->addr);
        hexdump(c->addr, got, n);
        return EXIT_FAILED;
    }
    kds_say(&sess, "expect: %zu bytes at 0x%llx read back as written", n,
            (unsigned long long)c->addr);
    return 0;
}

static int get_context(const struct opts *o, const char *what)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_CONTEXT);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cur_processor());
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return failed_status(what);
    return 0;
}

static int cmd_context(const struct opts *o)
{
    static const char *const names[16] = {"rax", "rcx", "rdx", "rbx", "rsp",
        "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
        "r15"};
    const uint8_t *c = sess.reply + KDCOM_KD_MS_SIZE;
    size_t n;
    int rc, i;

    if ((rc = get_context(o, "context")) != 0)
        return rc;
    n = sess.reply_len - KDCOM_KD_MS_SIZE;
    if (n < KDCOM_KD_AMD64_CONTEXT_SIZE) {
        kds_say(&sess, "context: %zu bytes (not an x64 CONTEXT)", n);
        hexdump(0, c, n > 256 ? 256 : n);
        return 0;
    }
    kds_say(&sess, "context: rip=%016llx eflags=%08x cs=%04x ss=%04x",
            (unsigned long long)kdcom_kd_ld64(c + KDCOM_KD_AMD64_CTX_RIP),
            (unsigned)kdcom_kd_ld32(c + KDCOM_KD_AMD64_CTX_EFLAGS),
            (unsigned)kdcom_kd_ld16(c + KDCOM_KD_AMD64_CTX_SEG_CS),
            (unsigned)kdcom_kd_ld16(c + KDCOM_KD_AMD64_CTX_SEG_SS));
    for (i = 0; i < 16; i += 4)
        printf("  %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx\n",
               names[i], (unsigned long long)kdcom_kd_ld64(
                   c + KDCOM_KD_AMD64_CTX_GPR(i)),
               names[i + 1], (unsigned long long)kdcom_kd_ld64(
                   c + KDCOM_KD_AMD64_CTX_GPR(i + 1)),
               names[i + 2], (unsigned long long)kdcom_kd_ld64(
                   c + KDCOM_KD_AMD64_CTX_GPR(i + 2)),
               names[i + 3], (unsigned long long)kdcom_kd_ld64(
                   c + KDCOM_KD_AMD64_CTX_GPR(i + 3)));
    return 0;
}

static uint64_t reg_value(const uint8_t *ctx, size_t k)
{
    return regs[k].size == 8 ? kdcom_kd_ld64(ctx + regs[k].off)
           : regs[k].size == 4 ? kdcom_kd_ld32(ctx + regs[k].off)
                               : kdcom_kd_ld16(ctx + regs[k].off);
}

/* r [REG]: WinDbg's register display of an x64 CONTEXT. */
static int cmd_reg(const struct opts *o, const struct cmd *c)
{
    static const struct { uint32_t bit; const char *set, *clear; } fl[] = {
        {0x800, "ov", "nv"}, {0x400, "dn", "up"}, {0x200, "ei", "di"},
        {0x80, "ng", "pl"}, {0x40, "zr", "nz"}, {0x10, "ac", "na"},
        {0x4, "pe", "po"}, {0x1, "cy", "nc"}};
    const uint8_t *ctx = sess.reply + KDCOM_KD_MS_SIZE;
    uint32_t efl;
    size_t k;
    int rc;

    if ((rc = get_context(o, "r")) != 0)
        return rc;
    if (sess.reply_len - KDCOM_KD_MS_SIZE < KDCOM_KD_AMD64_CONTEXT_SIZE ||
        (sess.machine != 0 && sess.machine != KDCOM_KD_MACHINE_AMD64)) {
        fprintf(stderr, "kdcom-client: r: the target's context is not an x64 "
                "CONTEXT (%zu bytes); 'context' shows it raw\n",
                sess.reply_len - KDCOM_KD_MS_SIZE);
        return EXIT_FAILED;
    }
    if (c->reg >= 0) {
        k = (size_t)c->reg;
        printf("%s=%0*llx\n", regs[k].name, (int)(2 * regs[k].size),
               (unsigned long long)reg_value(ctx, k));
        fflush(stdout);
        return 0;
    }
    /* rax..r15 three a line, as WinDbg lays them out */
    for (k = 0; k < 17; k++)
        printf("%3s=%016llx%s", regs[k].name,
               (unsigned long long)reg_value(ctx, k),
               k % 3 == 2 || k == 16 ? "\n" : " ");
    efl = kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS);
    printf("iopl=%u        ", (unsigned)((efl >> 12) & 3));
    for (k = 0; k < sizeof fl / sizeof fl[0]; k++)
        printf(" %s", efl & fl[k].bit ? fl[k].set : fl[k].clear);
    printf("\n");
    for (k = 17; k < 23; k++)
        printf("%s=%04llx  ", regs[k].name,
               (unsigned long long)reg_value(ctx, k));
    printf("           efl=%08x\n", (unsigned)efl);
    fflush(stdout);
    return 0;
}

/* One request answered with a 56-byte header (and maybe data): 0 when
 * the target answered with a success status. */
static int simple_request(const struct opts *o, const char *what,
                          uint8_t *req, const uint8_t *data, size_t dlen)
{
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    if ((rc = kds_manipulate(&sess, req, data, dlen, o->timeout)) != 0)
        return fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return failed_status(what);
    return 0;
}

static int cmd_context_ex(const struct opts *o, uint32_t off, uint32_t len)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    uint32_t got;
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_GET_CONTEXT_EX);
    kdcom_kd_st32(req + KDCOM_KD_CONTEXT_EX_OFFSET, off);
    kdcom_kd_st32(req + KDCOM_KD_CONTEXT_EX_COUNT, len);
    if ((rc = simple_request(o, "context-ex", req, NULL, 0)) != 0)
        return rc;
    got = kdcom_kd_ld32(sess.reply + KDCOM_KD_CONTEXT_EX_COPIED);
    if (got > sess.reply_len - KDCOM_KD_MS_SIZE)
        return fail("context-ex", KDS_ERR_PROTO);
    kds_say(&sess, "context-ex: %u bytes at offset %u", (unsigned)got,
            (unsigned)off);
    hexdump(off, sess.reply + KDCOM_KD_MS_SIZE, got);
    return 0;
}

static int cmd_write_control(const struct opts *o, const struct cmd *c)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    char what[80];
    int rc;

    snprintf(what, sizeof what, "write-control: control-space write of "
             "index %llu", (unsigned long long)c->addr);
    kdcom_kd_st32(req, KDCOM_KD_WRITE_CONTROL_SPACE);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cur_processor());
    kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, c->addr);
    kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)c->nbytes);
    if ((rc = simple_request(o, what, req, c->bytes, c->nbytes)) != 0)
        return rc;
    kds_say(&sess, "write-control: %u of %zu bytes at index %llu",
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MEM_ACTUAL),
            c->nbytes, (unsigned long long)c->addr);
    return 0;
}

static int cmd_bp(const struct opts *o, uint64_t addr)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_WRITE_BREAKPOINT);
    kdcom_kd_st64(req + KDCOM_KD_BP_ADDRESS, addr);
    if ((rc = simple_request(o, "bp", req, NULL, 0)) != 0)
        return rc;
    kds_say(&sess, "bp: breakpoint %u at 0x%llx",
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_BP_HANDLE),
            (unsigned long long)addr);
    return 0;
}

static int cmd_bc(const struct opts *o, uint32_t handle)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_RESTORE_BREAKPOINT);
    kdcom_kd_st32(req + KDCOM_KD_BP_RESTORE_HANDLE, handle);
    if ((rc = simple_request(o, "bc", req, NULL, 0)) != 0)
        return rc;
    kds_say(&sess, "bc: breakpoint %u removed", (unsigned)handle);
    return 0;
}

static int cmd_rdmsr(const struct opts *o, uint32_t msr)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_READ_MSR);
    kdcom_kd_st32(req + KDCOM_KD_MSR_INDEX, msr);
    if ((rc = simple_request(o, "rdmsr", req, NULL, 0)) != 0)
        return rc;
    kds_say(&sess, "rdmsr: msr 0x%08x = 0x%08x%08x", (unsigned)msr,
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MSR_HIGH),
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MSR_LOW));
    return 0;
}

static int cmd_query(const struct opts *o, uint64_t addr)
{
    static const char *const spaces[] = {"process", "session", "kernel"};
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    uint32_t space, flags;
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_QUERY_MEMORY);
    kdcom_kd_st64(req + KDCOM_KD_QUERY_ADDRESS, addr);
    kdcom_kd_st32(req + KDCOM_KD_QUERY_ADDRESS_SPACE,
                  KDCOM_KD_QUERY_SPACE_VIRTUAL);
    if ((rc = simple_request(o, "query", req, NULL, 0)) != 0)
        return rc;
    space = kdcom_kd_ld32(sess.reply + KDCOM_KD_QUERY_ADDRESS_SPACE);
    flags = kdcom_kd_ld32(sess.reply + KDCOM_KD_QUERY_FLAGS);
    kds_say(&sess, "query: 0x%llx is %s memory, %s%s%s%s",
            (unsigned long long)addr, space < 3 ? spaces[space] : "unknown",
            flags & KDCOM_KD_QUERY_MEMORY_READ ? "r" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_WRITE ? "w" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_EXECUTE ? "x" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_FIXED ? " fixed" : "");
    return 0;
}

static int cmd_stats(void)
{
    char line[EX_COUNTERS_LEN];

    kds_say(&sess, "stats: %s", ex_link_counters(line, sizeof line,
                                                 kdcom_get_stats(&sess.link)));
    kds_say(&sess, "stats: state changes=%u dbgprints=%u file_io answered="
            "%llu requests resent=%llu reply timeouts=%llu resyncs=%llu "
            "unexpected replies=%llu",
            sess.sc_seq, sess.prints,
            (unsigned long long)sess.file_io_answered,
            (unsigned long long)sess.requests_resent,
            (unsigned long long)sess.reply_timeouts,
            (unsigned long long)sess.resyncs,
            (unsigned long long)sess.unexpected_replies);
    return 0;
}

/* break: a stop the target is still reporting needs no break-in. */
static int cmd_break(const struct opts *o)
{
    int rc;

    if (!(sess.stopped && sess.q_count == 0) &&
        (rc = kds_settle(&sess)) != 0)
        return fail("break", rc);
    if (sess.stopped && sess.q_count == 0) {
        kds_say(&sess, "break: target is already stopped");
        return 0;
    }
    kds_say(&sess, "break: sending break-in");
    if ((rc = kds_break(&sess, o->timeout)) != 0)
        return fail("break", rc);
    return 0;
}

/* go: continues the stop the target is in, then serves the link until
 * it runs.  A stopped target re-sends its state change only after our
 * RESET, and a booting one follows its module load (LoadSymbols,
 * continued by itself) with the initial breakpoint: before deciding that
 * the target already runs, its stop gets --settle ms to arrive.  A stop
 * within --settle ms after the continue is reported, not continued: the
 * target stopped again by itself (a breakpoint, a new boot), and a later
 * command may be waiting for exactly that stop. */
static int cmd_go(const struct opts *o)
{
    int rc;

    if ((rc = kds_settle(&sess)) != 0)
        return fail("go", rc);
    if (!(sess.stopped && sess.q_count == 0)) {
        kds_say(&sess, "go: target is already running (no stop reported "
                "within %u ms)", (unsigned)sess.settle_ms);
        return 0;
    }
    if ((rc = kds_continue(&sess, o->timeout)) != 0)
        return fail("go", rc);
    kds_say(&sess, "go: target resumed");
    rc = kds_settle(&sess);
    if (rc == KDS_ERR_INTR)
        return 0; /* Ctrl-C: the continue went out, no more waiting */
    if (rc != 0)
        return fail("go", rc);
    if (sess.stopped && sess.q_count == 0)
        kds_say(&sess, "go: the target stopped again right after it "
                "resumed; it is stopped");
    else
        kds_say(&sess, "go: target running (no stop within %u ms)",
                (unsigned)sess.settle_ms);
    return 0;
}

/* Serves the link for ms milliseconds (0: until a signal or Ctrl-C). */
static int serve(uint32_t ms)
{
    uint64_t end = ms == 0 ? UINT64_MAX : ex_now_ms() + ms;

    while (ex_now_ms() < end) {
        int rc = kds_pump(&sess, end);
        if ((rc == KDS_ERR_STOPPED && ms == 0) || rc == KDS_ERR_INTR)
            return 0;
        if (rc != 0)
            return fail("monitor", rc);
    }
    return 0;
}

static void help(void)
{
    fputs(usage_commands, stdout);
    fputs(usage_commands2, stdout);
    fflush(stdout);
}

/* Runs a parsed command: 0, EXIT_FAILED or EXIT_CONN. */
static int exec_cmd(const struct opts *o, const struct cmd *c)
{
    int rc;

    switch (c->def->op) {
    case OP_VERSION:
        return cmd_version(o);
    case OP_VERTARGET:
        return cmd_vertarget(o);
    case OP_READ:
    case OP_VERIFY:
    case OP_BENCH:
    case OP_PHYSICAL:
        return cmd_read(o, c);
    case OP_CONTROL:
        return cmd_control(o, c);
    case OP_WRITE:
    case OP_EXPECT:
    case OP_ENTER:
        return cmd_write(o, c);
    case OP_WRITE_CONTROL:
        return cmd_write_control(o, c);
    case OP_CONTEXT:
        return cmd_context(o);
    case OP_REG:
        return cmd_reg(o, c);
    case OP_CONTEXT_EX:
        return cmd_context_ex(o, c->u32, (uint32_t)c->len);
    case OP_BP:
        return cmd_bp(o, c->addr);
    case OP_BC:
        return cmd_bc(o, c->u32);
    case OP_RDMSR:
        return cmd_rdmsr(o, c->u32);
    case OP_QUERY:
        return cmd_query(o, c->addr);
    case OP_DUMP:
        return cmd_dump(o, c);
    case OP_BREAK:
        return cmd_break(o);
    case OP_GO:
        return cmd_go(o);
    case OP_REBOOT: {
        uint8_t req[KDCOM_KD_MS_SIZE] = {0};
        if ((rc = ensure_stopped(o)) != 0)
            return fail("break", rc);
        kdcom_kd_st32(req, KDCOM_KD_REBOOT);
        rc = kds_send_unanswered(&sess, req, o->timeout);
        /* A target that reboots may close the line before its ACK is
         * read: that is the reboot too. */
        if (rc != 0 && rc != KDS_ERR_GONE)
            return fail("reboot", rc);
        sess.stopped = 0;
        kds_say(&sess, "reboot: %s", rc == 0 ? "the target acknowledged it"
                                             : "the target closed the line");
        return 0;
    }
    case OP_WAIT_PRINT:
        if ((rc = kds_wait_print(&sess, c->text, c->u32)) != 0)
            return fail("wait-print", rc);
        return 0;
    case OP_WAIT_STOP:
        if ((rc = kds_wait_stop(&sess, c->u32)) != 0)
            return fail("wait-stop", rc);
        return 0;
    case OP_MONITOR:
        return serve(c->u32);
    case OP_SLEEP:
        return serve(c->u32 == 0 ? 1 : c->u32);
    case OP_RESYNC:
        sess.synced = 0;
        kdcom_resync(&sess.link, ex_now_ms());
        if ((rc = kds_sync(&sess, o->sync_timeout)) != 0)
            return fail("resync", rc);
        kds_say(&sess, "resync: link synchronised again");
        return 0;
    case OP_STATS:
        return cmd_stats();
    case OP_HELP:
        help();
        return 0;
    case OP_QUIT:
        return 0;
    }
    return EXIT_FAILED;
}

/* ---- interactive mode ---- */

/* Splits a command line into words; "double quotes" group.  Returns the
 * word count, or -1 if there are too many or a quote is open. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0')
            return n;
        if (n == max)
            return -1;
        if (*p == '"') {
            words[n++] = ++p;
            while (*p != '\0' && *p != '"')
                p++;
            if (*p != '"')
                return -1;
        } else {
            words[n++] = p;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
            if (*p == '\0')
                return n;
        }
        *p++ = '\0';
    }
}

static int intr_pipe[2] = {-1, -1};

static void on_sigint(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (write(intr_pipe[1], &c, 1) < 0) {
        /* full: a Ctrl-C is already pending */
    }
    errno = saved;
}

/* Ctrl-C ends interactive mode no more: it breaks in (or interrupts a
 * command).  SIGTERM and SIGHUP still end the program. */
static void catch_ctrl_c(void)
{
    struct sigaction sa;

    if (pipe(intr_pipe) != 0)
        return;
    ex_set_nonblock(intr_pipe[0]);
    ex_set_nonblock(intr_pipe[1]);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sess.intr_fd = intr_pipe[0];
}

static void prompt(int show)
{
    if (!show)
        return;
    if (sess.stopped && sess.q_count == 0)
        printf("%u: kd> ", (unsigned)cur_processor());
    else
        fputs("kd (running)> ", stdout);
    fflush(stdout);
    sess.line_open = sess.log != NULL;
}

/* Ctrl-C at the prompt: break in, as WinDbg's Ctrl+Break does. */
static int ctrl_c(const struct opts *o)
{
    int rc;

    sess.line_open = 0;
    if (sess.stopped && sess.q_count == 0) {
        printf("\n");
        fprintf(stderr, "kdcom-client: the target is stopped ('g' resumes "
                "it, 'q' leaves)\n");
        return 0;
    }
    printf("\n");
    kds_say(&sess, "break: Ctrl-C, sending break-in");
    rc = kds_break(&sess, o->timeout);
    if (rc == KDS_ERR_INTR) {
        sess.interrupted = 0;
        kds_say(&sess, "break: interrupted again; not waiting for the stop");
        return 0;
    }
    return rc != 0 ? fail("break", rc) : 0;
}

/* Commands from stdin while the link is served: DbgPrint output and
 * stops show up between prompts.  A failed command is reported and
 * counted; losing the connection ends the session.  Returns 0, 1 when a
 * command failed, 3 when the connection was lost. */
static int interactive(const struct opts *o, int failed)
{
    static struct cmd c;
    char line[1024];
    size_t len = 0;
    int show = o->prompt || isatty(0), rc;

    sess.watch_fd = 0;
    catch_ctrl_c();
    /* The prompt must not guess: a stop may still be on its way. */
    rc = kds_settle(&sess);
    if (rc == KDS_ERR_INTR)
        sess.interrupted = 0;
    else if (rc == KDS_ERR_STOPPED)
        return failed;
    else if (rc != 0)
        return fail("connection", rc);
    for (;;) {
        char *nl;
        ssize_t n;
        int was;
        prompt(show);
        was = sess.stopped && sess.q_count == 0;
        for (;;) {
            int now;
            sess.watch_ready = 0;
            rc = kds_pump(&sess, UINT64_MAX);
            if (rc == KDS_ERR_INTR) {
                sess.interrupted = 0;
                if ((rc = ctrl_c(o)) == EXIT_CONN)
                    return rc;
                if (rc != 0)
                    failed = EXIT_FAILED;
                prompt(show);
                was = sess.stopped && sess.q_count == 0;
                continue;
            }
            if (rc == KDS_ERR_STOPPED)
                return failed;
            if (rc != 0)
                return fail("connection", rc);
            if (sess.watch_ready)
                break;
            now = sess.stopped && sess.q_count == 0;
            if (now != was && show) { /* the prompt would lie: a new one */
                if (sess.log == NULL || sess.line_open)
                    printf("\n");
                sess.line_open = 0;
                prompt(show);
            }
            was = now;
        }
        n = read(0, line + len, sizeof line - 1 - len);
        sess.line_open = 0;
        if (n <= 0) {
            if (show)
                printf("\n");
            return failed; /* end of input */
        }
        len += (size_t)n;
        line[len] = '\0';
        while ((nl = strchr(line, '\n')) != NULL) {
            char *words[64];
            int wc, i = 0;
            *nl = '\0';
            wc = split(line, words, 64);
            if (wc < 0) {
                fprintf(stderr, "kdcom-client: bad line (an open quote, or "
                        "more than 64 words)\n");
            } else if (wc > 0) {
                /* A line that is no command (mistyped, unsupported) is
                 * reported and does not count as a failed command. */
                rc = parse_cmd(wc, words, &i, &c, 1);
                if (rc != 0) {
                    /* reported */
                } else if (c.def->op == OP_QUIT) {
                    return failed;
                } else {
                    sess.interrupted = 0;
                    rc = exec_cmd(o, &c);
                    if (rc == EXIT_CONN)
                        return rc;
                    if (rc != 0)
                        failed = EXIT_FAILED;
                    sess.interrupted = 0;
                    if (ex_stop_requested())
                        return failed;
                }
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len + 1);
            if (strchr(line, '\n') != NULL)
                prompt(show);
        }
        if (len == sizeof line - 1) {
            fprintf(stderr, "kdcom-client: line too long, dropped\n");
            len = 0;
        }
    }
}

/* ---- connection ---- */

static int open_endpoint(const struct ep_spec *sp, const struct opts *o,
                         int sigfd)
{
    char err[256], desc[300];
    int fd;

    if (!sp->listen) {
        fd = ep_open(sp, o->connect_timeout ? (int)o->connect_timeout : -1,
                     err, sizeof err);
        if (fd < 0)
            fprintf(stderr, "kdcom-client: %s\n", err);
        return fd;
    } else {
        int lfd = ep_listen(sp, err, sizeof err);
        uint64_t end = o->connect_timeout ? ex_now_ms() + o->connect_timeout
                                          : UINT64_MAX;
        char peer[160];
        if (lfd < 0) {
            fprintf(stderr, "kdcom-client: %s\n", err);
            return -1;
        }
        if (sp->kind == EP_TCP)
            printf("listening on %s:%d\n", sp->host, ep_local_port(lfd));
        else
            printf("listening on %s\n", ep_describe(sp, desc, sizeof desc));
        fflush(stdout);
        for (;;) {
            struct pollfd p[2];
            p[0].fd = lfd;
            p[0].events = POLLIN;
            p[1].fd = sigfd;
            p[1].events = POLLIN;
            p[0].revents = p[1].revents = 0;
            if (ex_stop_requested() || ex_now_ms() >= end) {
                fprintf(stderr, "kdcom-client: no target connected\n");
                fd = -1;
                break;
            }
            poll(p, 2, ex_poll_timeout(ex_now_ms(), end, 1000));
            fd = ep_accept(lfd, peer, sizeof peer);
            if (fd >= 0) {
                if (!o->quiet)
                    printf("target connected from %s\n", peer);
                break;
            }
        }
        close(lfd);
        if (sp->kind == EP_UNIX)
            unlink(sp->path);
        return fd;
    }
}

static int bad_option(const char *opt, const char *v, const char *range)
{
    fprintf(stderr, "kdcom-client: %s: bad argument '%s' (%s)\n", opt, v,
            range);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static struct cmd scratch;
    struct opts o;
    struct ep_spec sp;
    struct wiretrace wt;
    struct pcapng_writer pcap;
    char err[320];
    int i, first, fd, sigfd, rc;

    memset(&o, 0, sizeof o);
    o.timeout = 5000;
    o.reply_timeout = KDS_REPLY_TIMEOUT_MS;
    o.retries = KDS_REQUEST_RETRIES;
    o.settle = KDS_SETTLE_MS;
    o.sync_timeout = 10000;
    o.connect_timeout = 10000;
    o.chunk = KDCOM_KD_MAX_TRANSFER;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_head, stdout);
            fputs(usage_commands, stdout);
            fputs(usage_commands2, stdout);
            fputs(usage_tail, stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            uint32_t ver = kdcom_version();
            printf("kdcom-client (libkdcom) %u.%u.%u\n",
                   (unsigned)(ver >> 16) & 0xff, (unsigned)(ver >> 8) & 0xff,
                   (unsigned)ver & 0xff);
            return 0;
        } else if (strcmp(a, "-b") == 0 || strcmp(a, "--break") == 0) {
            o.breakin = 1;
        } else if (strcmp(a, "-k") == 0 || strcmp(a, "--keep-going") == 0) {
            o.keep_going = 1;
        } else if (strcmp(a, "--reply-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.reply_timeout) != 0 ||
                o.reply_timeout == 0)
                return bad_option(a, v, "milliseconds, 1..3600000");
            i++;
        } else if (strcmp(a, "--retries") == 0 && v != NULL) {
            if (ex_parse_u32(v, 1000u, &o.retries) != 0)
                return bad_option(a, v, "a count, 0..1000");
            i++;
        } else if (strcmp(a, "--settle") == 0 && v != NULL) {
            if (ex_parse_u32(v, 60000u, &o.settle) != 0)
                return bad_option(a, v, "milliseconds, 0..60000");
            i++;
        } else if (strcmp(a, "-i") == 0 ||
                   strcmp(a, "--interactive") == 0) {
            o.interactive = 1;
        } else if (strcmp(a, "--prompt") == 0) {
            o.prompt = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
        } else if (strcmp(a, "--stay-stopped") == 0) {
            o.stay_stopped = 1;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0) &&
                   v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.timeout) != 0 || o.timeout == 0)
                return bad_option(a, v, "milliseconds, 1..3600000");
            i++;
        } else if (strcmp(a, "--sync-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.sync_timeout) != 0 ||
                o.sync_timeout == 0)
                return bad_option(a, v, "milliseconds, 1..3600000");
            i++;
        } else if (strcmp(a, "--connect-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.connect_timeout) != 0)
                return bad_option(a, v, "milliseconds, 0..3600000");
            i++;
        } else if (strcmp(a, "--chunk") == 0 && v != NULL) {
            if (ex_parse_u32(v, KDCOM_KD_MAX_TRANSFER, &o.chunk) != 0 ||
                o.chunk == 0)
                return bad_option(a, v, "bytes, 1..3944");
            i++;
        } else if (strcmp(a, "--trace") == 0 && v != NULL) {
            if ((o.trace = wt_parse_mode(v)) < 0)
                return bad_option(a, v, "hex or decode");
            i++;
        } else if (strcmp(a, "--pcap") == 0 && v != NULL) {
            /* stdout carries the transcript and results: no "-" */
            if (v[0] == '\0' || strcmp(v, "-") == 0)
                return bad_option(a, v, "a file name");
            o.pcap = v;
            i++;
        } else if (strcmp(a, "--bench-read") == 0 && v != NULL) {
            if (ex_parse_size(v, &o.bench_size) != 0 || o.bench_size == 0 ||
                o.bench_size > MAX_READ)
                return bad_option(a, v, "a size, 1..256M");
            i++;
        } else {
            fprintf(stderr, "kdcom-client: unknown option '%s' or missing "
                    "value (see --help)\n", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "kdcom-client: missing ENDPOINT (see --help)\n");
        return EXIT_USAGE;
    }
    if (ep_parse(argv[i], &sp, err, sizeof err) != 0 || sp.kind == EP_PTY) {
        fprintf(stderr, "kdcom-client: %s\n",
                sp.kind == EP_PTY ? "a client cannot create a pty; use "
                                    "tty:/dev/pts/N" : err);
        return EXIT_USAGE;
    }
    /* Every command and argument is checked before anything connects. */
    first = i + 1;
    for (i = first; i < argc;)
        if (parse_cmd(argc, argv, &i, &scratch, 0) != 0)
            return EXIT_USAGE;
    wt_init(&wt, o.trace, stderr);
    pcapng_init(&pcap);
    if (o.pcap != NULL) {
        if (pcapng_open(&pcap, o.pcap, "kdcom-client", PCAPNG_SIDE_DEBUGGER,
                        err, sizeof err) != 0) {
            fprintf(stderr, "kdcom-client: %s\n", err);
            return EXIT_USAGE;
        }
        wt.pcap = &pcap;
    }
    sigfd = ex_signals_init();
    fd = open_endpoint(&sp, &o, sigfd);
    if (fd < 0) {
        pcapng_close(&pcap);
        return EXIT_CONN;
    }
    kds_init(&sess, fd, sigfd, &wt, o.quiet ? NULL : stdout,
             o.breakin ? KDCOM_CFG_BREAKIN_ON_SYNC : 0);
    sess.verbose = o.verbose;
    sess.auto_continue_loads = !o.stay_stopped;
    sess.reply_timeout_ms = o.reply_timeout;
    sess.request_retries = o.retries;
    sess.settle_ms = o.settle;
    kds_say(&sess, "connected (%s), synchronising",
            ep_describe(&sp, err, sizeof err));
    rc = kds_sync(&sess, o.sync_timeout);
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: no RESET answer from the target: %s\n",
                kds_strerror(rc));
        kds_close(&sess);
        pcapng_close(&pcap);
        return EXIT_CONN;
    }
    rc = 0;
    if (o.breakin && (rc = kds_break(&sess, o.timeout)) != 0)
        rc = fail("break", rc);
    if (rc == 0 && o.bench_size != 0) {
        rc = get_version(&o, "version");
        if (rc == 0) {
            char b[] = "bench-read", a[24], n[24], *w[3];
            w[0] = b;
            w[1] = a;
            w[2] = n;
            snprintf(a, sizeof a, "%llu", (unsigned long long)kern_base);
            snprintf(n, sizeof n, "%llu", (unsigned long long)o.bench_size);
            i = 0;
            rc = parse_cmd(3, w, &i, &scratch, 0);
            if (rc == 0)
                rc = cmd_read(&o, &scratch);
        }
    }
    if (rc == 0 && first >= argc && !o.interactive && o.bench_size == 0)
        rc = serve(0); /* no commands: monitor until a signal */
    if (rc == 0) {
        int failed = 0;
        for (i = first; i < argc;) {
            if (parse_cmd(argc, argv, &i, &scratch, 0) != 0) {
                rc = EXIT_USAGE; /* checked above: cannot happen */
                break;
            }
            rc = exec_cmd(&o, &scratch);
            if (rc == 0)
                continue;
            if (!o.keep_going || rc == EXIT_CONN || ex_stop_requested())
                break;
            failed = 1;
            rc = 0;
        }
        if (rc == 0 && failed)
            rc = EXIT_FAILED;
    }
    /* A signal that cut a command short already made it fail; one that
     * ends monitoring or an interactive session is the normal way out.
     * Commands that failed before -i (with -k) count in its status. */
    if (o.interactive && (rc == 0 || (o.keep_going && rc == EXIT_FAILED)) &&
        !ex_stop_requested())
        rc = interactive(&o, rc);
    kds_close(&sess);
    pcapng_close(&pcap);
    return rc;
}
