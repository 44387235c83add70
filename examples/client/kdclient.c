/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdclient.c - kdcom-client: a KD debugger client on libkdcom's DEBUGGER
 * role.  Connects to (or waits for) any KDCOM target, synchronises, and
 * runs the commands given on its command line: version, memory reads and
 * writes, break-in, continue, DbgPrint monitoring, bulk-read throughput.
 * Run with --help for the command list.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "../common/simpattern.h"
#include "../common/wiretrace.h"
#include "kdsession.h"

#define EXIT_USAGE 2
#define EXIT_CONN 3

static const char usage[] =
"usage: kdcom-client [options] ENDPOINT [COMMAND [ARGS]]...\n"
"\n"
"A KD debugger client: attaches to a KDCOM target (a Windows kernel on a\n"
"serial port, a VM's serial socket, kdcom-shim, kdcom-simkernel) and runs\n"
"the commands in order.  Without commands it monitors: DbgPrint output and\n"
"stops are printed until Ctrl-C.\n"
"\n"
"ENDPOINT\n"
"  tcp:HOST:PORT            connect (kdcom-shim, QEMU -serial tcp:...,server)\n"
"  tcp-listen:[HOST:]PORT   wait for the target to connect (QEMU -serial tcp:)\n"
"  unix:PATH | unix-listen:PATH   Unix stream socket (QEMU/VirtualBox/VMware)\n"
"  tty:DEVICE[,BAUD]        serial port or pty slave, raw mode\n"
"\n"
"COMMANDS (addresses and sizes: decimal or 0x hex; sizes take K/M suffixes)\n"
"  version                  DbgKdGetVersionApi: kernel build, machine, bases\n"
"  read ADDR LEN            hex dump of virtual memory\n"
"  verify ADDR LEN          read and check against kdcom-simkernel's pattern\n"
"  bench-read ADDR LEN      read LEN bytes, print one machine-readable line:\n"
"                           bench-read bytes=N reads=N seconds=S\n"
"                           reads_per_s=R MB_per_s=M\n"
"  write ADDR HEXBYTES      write memory (e.g. write 0xfffff80000002000 c0ffee)\n"
"  expect ADDR HEXBYTES     read back and compare\n"
"  context                  DbgKdGetContextApi: print the x64 registers\n"
"  context-ex OFFSET LEN    DbgKdGetContextExApi: LEN bytes of the CONTEXT\n"
"  control INDEX LEN        DbgKdReadControlSpaceApi, hex dump\n"
"  write-control INDEX HEXBYTES   DbgKdWriteControlSpaceApi\n"
"  physical ADDR LEN        DbgKdReadPhysicalMemoryApi, hex dump\n"
"  bp ADDR                  DbgKdWriteBreakPointApi: prints the handle\n"
"  bc HANDLE                DbgKdRestoreBreakPointApi\n"
"  rdmsr MSR                DbgKdReadMachineSpecificRegister\n"
"  query ADDR               DbgKdQueryMemoryApi: address space and flags\n"
"  break                    break in ('b'), wait until the target stops\n"
"  go                       continue (DbgKdContinueApi2, DBG_CONTINUE)\n"
"  reboot                   DbgKdRebootApi (.reboot): the target restarts\n"
"  wait-stop MS             wait for the target to stop by itself\n"
"  wait-print TEXT MS       wait for a DbgPrint containing TEXT\n"
"  monitor MS               print DbgPrint/stops for MS ms (0: until Ctrl-C)\n"
"  sleep MS                 keep serving the link for MS ms\n"
"  resync                   new RESET handshake (KD's Ctrl+R)\n"
"  stats                    link and session counters\n"
"Commands that need a stopped target (version, read, ...) break in first.\n"
"\n"
"OPTIONS\n"
"  -b, --break              break in as soon as the link is synchronised\n"
"  -t, --timeout MS         per-request timeout (default 5000)\n"
"      --reply-timeout MS   a request the target acknowledged but did not\n"
"                           answer for MS ms is sent again (default 1000)\n"
"      --retries N          re-sends before resynchronising (default 3)\n"
"  -k, --keep-going         run the remaining commands after one fails\n"
"      --sync-timeout MS    RESET handshake timeout (default 10000)\n"
"      --connect-timeout MS connect/accept timeout (default 10000; 0: wait\n"
"                           forever for a connecting target)\n"
"      --chunk N            bytes per read request (default and max 3944)\n"
"      --bench-read SIZE    read SIZE bytes from the kernel base that\n"
"                           GetVersion reports and print the bench-read line\n"
"                           (before any COMMANDS; works on any target)\n"
"      --trace hex|decode   print the wire traffic on stderr\n"
"      --stay-stopped       do not continue LoadSymbols stops by themselves\n"
"  -i, --interactive        after the commands, read more from stdin, one\n"
"                           per line (\"quit\" or end of input to leave)\n"
"  -q, --quiet              no transcript lines (errors and results only)\n"
"  -v, --verbose            more transcript lines\n"
"  -h, --help               this text\n"
"\n"
"Exit status: 0 every command succeeded, 1 a command failed, 2 usage,\n"
"3 connection failed or lost.\n";

struct opts {
    int breakin;
    int keep_going;
    uint32_t timeout;
    uint32_t reply_timeout;
    uint32_t retries;
    uint32_t sync_timeout;
    uint32_t connect_timeout;
    uint32_t chunk;
    int trace;
    int stay_stopped;
    int quiet;
    int verbose;
    int interactive;
    uint64_t bench_size;
};

static uint64_t kern_base;

static struct kds sess;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "kdcom-client: %s: %s\n", what, kds_strerror(rc));
    return rc == KDS_ERR_GONE ? EXIT_CONN : 1;
}

/* The reply's ReturnStatus is a failure: say which. */
static int failed_status(const char *what)
{
    uint32_t st = kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS);
    const char *n = kdcom_kd_status_name(st);

    fprintf(stderr, "kdcom-client: %s: the target answered %s (0x%08x)\n",
            what, n != NULL ? n : "a failure", (unsigned)st);
    return 1;
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

/* Commands that talk to the KD core need it stopped. */
static int ensure_stopped(const struct opts *o)
{
    int rc;

    if (sess.stopped && sess.q_count == 0)
        return 0;
    kds_say(&sess, "breaking in (the command needs a stopped target)");
    rc = kds_break(&sess, o->timeout);
    return rc;
}

static int cmd_version(const struct opts *o)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    const uint8_t *r = sess.reply;
    uint16_t major;
    int rc;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_VERSION);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return fail("version", rc);
    if (!kdcom_kd_nt_success(kdcom_kd_ld32(r + KDCOM_KD_MS_RETURN_STATUS)))
        return fail("version", KDS_ERR_STATUS);
    sess.machine = kdcom_kd_ld16(r + KDCOM_KD_VERSION_MACHINE);
    kern_base = kdcom_kd_ld64(r + KDCOM_KD_VERSION_KERN_BASE);
    major = kdcom_kd_ld16(r + KDCOM_KD_VERSION_MAJOR);
    /* "free kernel build 19041": the build type, then the debugger type
     * from MajorVersion's high byte ("boot" for a boot loader's). */
    kds_say(&sess, "version: %s %s build %u, KD protocol %u, "
            "machine 0x%04x%s, kernel base 0x%llx, module list 0x%llx",
            (major & 0xFF) == KDCOM_KD_BUILD_CHECKED ? "checked" : "free",
            kdcom_kd_major_type_name(major),
            (unsigned)kdcom_kd_ld16(r + KDCOM_KD_VERSION_MINOR),
            (unsigned)r[KDCOM_KD_VERSION_PROTOCOL], (unsigned)sess.machine,
            sess.machine == KDCOM_KD_MACHINE_AMD64 ? " (x64)"
            : sess.machine == KDCOM_KD_MACHINE_I386 ? " (x86)"
            : sess.machine == KDCOM_KD_MACHINE_ARM64 ? " (arm64)" : "",
            (unsigned long long)kdcom_kd_ld64(r + KDCOM_KD_VERSION_KERN_BASE),
            (unsigned long long)kdcom_kd_ld64(
                r + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST));
    return 0;
}

static int do_read(const struct opts *o, uint32_t api, uint64_t addr,
                   uint64_t len, uint8_t **out, double *secs, size_t *reads)
{
    uint8_t *buf;
    size_t done = 0;
    uint64_t t0;
    int rc;

    if (len == 0 || len > (256u << 20)) {
        fprintf(stderr, "kdcom-client: length must be 1..256M\n");
        return -1;
    }
    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    buf = malloc((size_t)len);
    if (buf == NULL) {
        fprintf(stderr, "kdcom-client: out of memory\n");
        return 1;
    }
    t0 = ex_now_us();
    rc = kds_read(&sess, api, addr, buf, (size_t)len, o->chunk, &done,
                  o->timeout);
    *secs = (double)(ex_now_us() - t0) / 1e6;
    *reads = ((size_t)len + (o->chunk - 1)) / o->chunk;
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: read at 0x%llx: %s after %zu of %llu "
                "bytes\n", (unsigned long long)(addr + done),
                kds_strerror(rc), done, (unsigned long long)len);
        free(buf);
        return rc == KDS_ERR_GONE ? EXIT_CONN : 1;
    }
    *out = buf;
    return 0;
}

static int cmd_read(const struct opts *o, uint32_t api, uint64_t addr,
                    uint64_t len, int mode)
{
    uint8_t *buf = NULL;
    double secs;
    size_t reads, i;
    int rc = do_read(o, api, addr, len, &buf, &secs, &reads);
    double mbs;

    if (rc != 0)
        return rc;
    mbs = secs > 0 ? (double)len / secs / 1e6 : 0.0;
    if (mode == 0) {
        hexdump(addr, buf, (size_t)len);
    } else if (mode == 1) {
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
            return 1;
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

static int cmd_write(const struct opts *o, uint64_t addr, const char *hex,
                     int expect)
{
    uint8_t want[KDCOM_KD_MAX_TRANSFER], got[KDCOM_KD_MAX_TRANSFER];
    size_t n, done;
    int rc;

    if (parse_hex(hex, want, sizeof want, &n) != 0) {
        fprintf(stderr, "kdcom-client: '%s': expected an even number of hex "
                "digits (at most %d bytes)\n", hex, KDCOM_KD_MAX_TRANSFER);
        return EXIT_USAGE;
    }
    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    if (!expect) {
        if ((rc = kds_write(&sess, addr, want, n, o->timeout)) != 0)
            return fail("write", rc);
        kds_say(&sess, "write: %zu bytes at 0x%llx", n,
                (unsigned long long)addr);
        return 0;
    }
    rc = kds_read(&sess, KDCOM_KD_READ_VIRTUAL_MEMORY, addr, got, n,
                  o->chunk, &done, o->timeout);
    if (rc != 0)
        return fail("read back", rc);
    if (memcmp(got, want, n) != 0) {
        fprintf(stderr, "kdcom-client: expect: memory at 0x%llx differs\n",
                (unsigned long long)addr);
        hexdump(addr, got, n);
        return 1;
    }
    kds_say(&sess, "expect: %zu bytes at 0x%llx read back as written", n,
            (unsigned long long)addr);
    return 0;
}

static int cmd_context(const struct opts *o)
{
    static const char *const names[16] = {"rax", "rcx", "rdx", "rbx", "rsp",
        "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
        "r15"};
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    const uint8_t *c = sess.reply + KDCOM_KD_MS_SIZE;
    size_t n;
    int rc, i;

    if ((rc = ensure_stopped(o)) != 0)
        return fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_CONTEXT);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return fail("context", rc);
    n = sess.reply_len - KDCOM_KD_MS_SIZE;
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return fail("context", KDS_ERR_STATUS);
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

/* One request with no data, answered with a 56-byte header (and maybe
 * data): 0 when the target answered with a success status. */
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

static int cmd_write_control(const struct opts *o, uint64_t index,
                             const char *hex)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0}, bytes[KDCOM_KD_MAX_TRANSFER];
    size_t n;
    int rc;

    if (parse_hex(hex, bytes, sizeof bytes, &n) != 0) {
        fprintf(stderr, "kdcom-client: '%s': expected an even number of hex "
                "digits\n", hex);
        return EXIT_USAGE;
    }
    kdcom_kd_st32(req, KDCOM_KD_WRITE_CONTROL_SPACE);
    kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, index);
    kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)n);
    if ((rc = simple_request(o, "write-control", req, bytes, n)) != 0)
        return rc;
    kds_say(&sess, "write-control: %u of %zu bytes at index %llu",
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MEM_ACTUAL), n,
            (unsigned long long)index);
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
    const struct kdcom_stats *st = kdcom_get_stats(&sess.link);

    kds_say(&sess, "stats: bytes in=%llu out=%llu packets sent=%llu "
            "received=%llu retransmits=%llu resends in/out=%llu/%llu "
            "resets in/out/ignored=%llu/%llu/%llu syncs=%llu "
            "duplicates=%llu bad checksum/trailer/size/type/id="
            "%llu/%llu/%llu/%llu/%llu noise=%llu",
            (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
            (unsigned long long)st->packets_sent,
            (unsigned long long)st->packets_received,
            (unsigned long long)st->retransmits,
            (unsigned long long)st->resends_received,
            (unsigned long long)st->resends_sent,
            (unsigned long long)st->resets_received,
            (unsigned long long)st->resets_sent,
            (unsigned long long)st->resets_ignored,
            (unsigned long long)st->syncs, (unsigned long long)st->duplicates,
            (unsigned long long)st->bad_checksum,
            (unsigned long long)st->bad_trailer,
            (unsigned long long)st->bad_size,
            (unsigned long long)st->bad_type,
            (unsigned long long)st->bad_id,
            (unsigned long long)st->noise_bytes);
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

/* Serves the link for ms milliseconds (0: until a signal). */
static int serve(uint32_t ms)
{
    uint64_t end = ms == 0 ? UINT64_MAX : ex_now_ms() + ms;

    while (ex_now_ms() < end) {
        int rc = kds_pump(&sess, end);
        if (rc == KDS_ERR_STOPPED && ms == 0)
            return 0;
        if (rc != 0)
            return fail("monitor", rc);
    }
    return 0;
}

static int need(int argc, int i, int n, const char *cmd)
{
    if (i + n >= argc) {
        fprintf(stderr, "kdcom-client: '%s' needs %d argument%s (see "
                "--help)\n", cmd, n, n == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

static int bad_arg(const char *cmd, const char *arg)
{
    fprintf(stderr, "kdcom-client: %s: bad argument '%s'\n", cmd, arg);
    return EXIT_USAGE;
}

/* Checks the command list before connecting, so a typo fails at once. */
static int check_commands(int argc, char **argv, int first)
{
    static const struct { const char *name; int args; } cmds[] = {
        {"version", 0}, {"read", 2}, {"verify", 2}, {"bench-read", 2},
        {"write", 2}, {"expect", 2}, {"context", 0}, {"control", 2},
        {"context-ex", 2}, {"write-control", 2}, {"physical", 2},
        {"bp", 1}, {"bc", 1}, {"rdmsr", 1}, {"query", 1},
        {"break", 0}, {"go", 0}, {"reboot", 0}, {"wait-stop", 1},
        {"wait-print", 2},
        {"monitor", 1}, {"sleep", 1}, {"resync", 0}, {"stats", 0}};
    int i = first;

    while (i < argc) {
        size_t k;
        for (k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
            if (strcmp(argv[i], cmds[k].name) == 0)
                break;
        if (k == sizeof cmds / sizeof cmds[0]) {
            fprintf(stderr, "kdcom-client: unknown command '%s' (see "
                    "--help%s)\n", argv[i],
                    argv[i][0] == '-' ? "; options go before ENDPOINT" : "");
            return -1;
        }
        if (need(argc, i, cmds[k].args, argv[i]) != 0)
            return -1;
        i += 1 + cmds[k].args;
    }
    return 0;
}

static int run_command(const struct opts *o, char **argv, int *pi)
{
    int i = *pi;
    const char *c = argv[i];
    uint64_t a = 0, n = 0;
    uint32_t ms = 0;

    if (strcmp(c, "version") == 0) {
        *pi = i + 1;
        return cmd_version(o);
    }
    if (strcmp(c, "read") == 0 || strcmp(c, "verify") == 0 ||
        strcmp(c, "bench-read") == 0 || strcmp(c, "control") == 0 ||
        strcmp(c, "physical") == 0) {
        *pi = i + 3;
        if (ex_parse_u64(argv[i + 1], &a) != 0)
            return bad_arg(c, argv[i + 1]);
        if (ex_parse_size(argv[i + 2], &n) != 0)
            return bad_arg(c, argv[i + 2]);
        if (c[0] == 'c')
            return cmd_read(o, KDCOM_KD_READ_CONTROL_SPACE, a, n, 0);
        if (c[0] == 'p')
            return cmd_read(o, KDCOM_KD_READ_PHYSICAL_MEMORY, a, n, 0);
        return cmd_read(o, KDCOM_KD_READ_VIRTUAL_MEMORY, a, n,
                        c[0] == 'r' ? 0 : c[0] == 'v' ? 1 : 2);
    }
    if (strcmp(c, "write") == 0 || strcmp(c, "expect") == 0) {
        *pi = i + 3;
        if (ex_parse_u64(argv[i + 1], &a) != 0)
            return bad_arg(c, argv[i + 1]);
        return cmd_write(o, a, argv[i + 2], c[0] == 'e');
    }
    if (strcmp(c, "context") == 0) {
        *pi = i + 1;
        return cmd_context(o);
    }
    if (strcmp(c, "context-ex") == 0) {
        uint32_t off, len;
        *pi = i + 3;
        if (ex_parse_u32(argv[i + 1], UINT32_MAX, &off) != 0)
            return bad_arg(c, argv[i + 1]);
        if (ex_parse_u32(argv[i + 2], KDCOM_KD_MAX_TRANSFER, &len) != 0)
            return bad_arg(c, argv[i + 2]);
        return cmd_context_ex(o, off, len);
    }
    if (strcmp(c, "write-control") == 0) {
        *pi = i + 3;
        if (ex_parse_u64(argv[i + 1], &a) != 0)
            return bad_arg(c, argv[i + 1]);
        return cmd_write_control(o, a, argv[i + 2]);
    }
    if (strcmp(c, "bp") == 0 || strcmp(c, "query") == 0) {
        *pi = i + 2;
        if (ex_parse_u64(argv[i + 1], &a) != 0)
            return bad_arg(c, argv[i + 1]);
        return c[0] == 'b' ? cmd_bp(o, a) : cmd_query(o, a);
    }
    if (strcmp(c, "bc") == 0 || strcmp(c, "rdmsr") == 0) {
        uint32_t v;
        *pi = i + 2;
        if (ex_parse_u32(argv[i + 1], UINT32_MAX, &v) != 0)
            return bad_arg(c, argv[i + 1]);
        return c[0] == 'b' ? cmd_bc(o, v) : cmd_rdmsr(o, v);
    }
    if (strcmp(c, "break") == 0) {
        int rc;
        *pi = i + 1;
        kds_say(&sess, "break: sending break-in");
        if ((rc = kds_break(&sess, o->timeout)) != 0)
            return fail("break", rc);
        return 0;
    }
    if (strcmp(c, "go") == 0) {
        int rc;
        *pi = i + 1;
        if (!sess.stopped) {
            kds_say(&sess, "go: target is already running");
            return 0;
        }
        if ((rc = kds_continue(&sess, o->timeout)) != 0)
            return fail("go", rc);
        kds_say(&sess, "go: target resumed");
        return 0;
    }
    if (strcmp(c, "reboot") == 0) {
        uint8_t req[KDCOM_KD_MS_SIZE] = {0};
        int rc;
        *pi = i + 1;
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
    if (strcmp(c, "wait-print") == 0) {
        int rc;
        *pi = i + 3;
        if (ex_parse_u32(argv[i + 2], 86400000u, &ms) != 0)
            return bad_arg(c, argv[i + 2]);
        if ((rc = kds_wait_print(&sess, argv[i + 1], ms)) != 0)
            return fail("wait-print", rc);
        return 0;
    }
    if (strcmp(c, "wait-stop") == 0 || strcmp(c, "monitor") == 0 ||
        strcmp(c, "sleep") == 0) {
        *pi = i + 2;
        if (ex_parse_u32(argv[i + 1], 86400000u, &ms) != 0)
            return bad_arg(c, argv[i + 1]);
        if (c[0] == 'w') {
            int rc = kds_wait_stop(&sess, ms);
            return rc != 0 ? fail("wait-stop", rc) : 0;
        }
        return serve(c[0] == 'm' ? ms : (ms == 0 ? 1 : ms));
    }
    if (strcmp(c, "resync") == 0) {
        int rc;
        *pi = i + 1;
        sess.synced = 0;
        kdcom_resync(&sess.link, ex_now_ms());
        if ((rc = kds_sync(&sess, o->sync_timeout)) != 0)
            return fail("resync", rc);
        kds_say(&sess, "resync: link synchronised again");
        return 0;
    }
    if (strcmp(c, "stats") == 0) {
        *pi = i + 1;
        return cmd_stats();
    }
    fprintf(stderr, "kdcom-client: unknown command '%s'\n", c);
    return EXIT_USAGE;
}

/* Splits a command line into words; "double quotes" group.  Returns the
 * word count, or -1 if there are too many or a quote is open. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
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
            while (*p != '\0' && *p != ' ' && *p != '\t')
                p++;
            if (*p == '\0')
                return n;
        }
        *p++ = '\0';
    }
}

/* Commands from stdin while the link is served: DbgPrint output and stops
 * show up between prompts.  A failed command is reported, not fatal;
 * losing the connection is. */
static int interactive(const struct opts *o)
{
    char line[1024];
    size_t len = 0;
    int tty = isatty(0);

    sess.watch_fd = 0;
    for (;;) {
        char *nl;
        ssize_t n;
        int rc;
        if (tty) {
            fputs(sess.stopped ? "kd> " : "kd (running)> ", stdout);
            fflush(stdout);
        }
        for (;;) {
            sess.watch_ready = 0;
            rc = kds_pump(&sess, UINT64_MAX);
            if (rc == KDS_ERR_STOPPED)
                return 0;
            if (rc != 0)
                return fail("connection", rc);
            if (sess.watch_ready)
                break;
        }
        n = read(0, line + len, sizeof line - 1 - len);
        if (n <= 0)
            return 0; /* end of input */
        len += (size_t)n;
        line[len] = '\0';
        while ((nl = strchr(line, '\n')) != NULL) {
            char *words[32];
            int wc, i = 0;
            *nl = '\0';
            wc = split(line, words, 32);
            if (wc < 0) {
                fprintf(stderr, "kdcom-client: bad line (quotes?)\n");
            } else if (wc > 0 && (strcmp(words[0], "quit") == 0 ||
                                  strcmp(words[0], "q") == 0)) {
                return 0;
            } else if (wc > 0 && check_commands(wc, words, 0) == 0) {
                while (i < wc) {
                    rc = run_command(o, words, &i);
                    if (rc == EXIT_CONN)
                        return rc;
                    if (rc != 0)
                        break;
                }
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len + 1);
        }
        if (len == sizeof line - 1) {
            fprintf(stderr, "kdcom-client: line too long, dropped\n");
            len = 0;
        }
    }
}

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

int main(int argc, char **argv)
{
    struct opts o;
    struct ep_spec sp;
    struct wiretrace wt;
    char err[256];
    int i, fd, sigfd, rc;

    memset(&o, 0, sizeof o);
    o.timeout = 5000;
    o.reply_timeout = KDS_REPLY_TIMEOUT_MS;
    o.retries = KDS_REQUEST_RETRIES;
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
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-b") == 0 || strcmp(a, "--break") == 0) {
            o.breakin = 1;
        } else if (strcmp(a, "-k") == 0 || strcmp(a, "--keep-going") == 0) {
            o.keep_going = 1;
        } else if (strcmp(a, "--reply-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.reply_timeout) != 0 ||
                o.reply_timeout == 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--retries") == 0 && v != NULL) {
            if (ex_parse_u32(v, 1000u, &o.retries) != 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "-i") == 0 ||
                   strcmp(a, "--interactive") == 0) {
            o.interactive = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
        } else if (strcmp(a, "--stay-stopped") == 0) {
            o.stay_stopped = 1;
        } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0) &&
                   v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.timeout) != 0 || o.timeout == 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--sync-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.sync_timeout) != 0 ||
                o.sync_timeout == 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--connect-timeout") == 0 && v != NULL) {
            if (ex_parse_u32(v, 3600000u, &o.connect_timeout) != 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--chunk") == 0 && v != NULL) {
            if (ex_parse_u32(v, KDCOM_KD_MAX_TRANSFER, &o.chunk) != 0 ||
                o.chunk == 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--trace") == 0 && v != NULL) {
            if ((o.trace = wt_parse_mode(v)) < 0)
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--bench-read") == 0 && v != NULL) {
            if (ex_parse_size(v, &o.bench_size) != 0 || o.bench_size == 0 ||
                o.bench_size > (256u << 20))
                return bad_arg(a, v);
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
    if (check_commands(argc, argv, i + 1) != 0)
        return EXIT_USAGE;
    sigfd = ex_signals_init();
    wt_init(&wt, o.trace, stderr);
    fd = open_endpoint(&sp, &o, sigfd);
    if (fd < 0)
        return EXIT_CONN;
    kds_init(&sess, fd, sigfd, &wt, o.quiet ? NULL : stdout,
             o.breakin ? KDCOM_CFG_BREAKIN_ON_SYNC : 0);
    sess.verbose = o.verbose;
    sess.auto_continue_loads = !o.stay_stopped;
    sess.reply_timeout_ms = o.reply_timeout;
    sess.request_retries = o.retries;
    kds_say(&sess, "connected (%s), synchronising",
            ep_describe(&sp, err, sizeof err));
    rc = kds_sync(&sess, o.sync_timeout);
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: no RESET answer from the target: %s\n",
                kds_strerror(rc));
        kds_close(&sess);
        return EXIT_CONN;
    }
    rc = 0;
    if (o.breakin && (rc = kds_break(&sess, o.timeout)) != 0)
        rc = fail("break", rc);
    if (rc == 0 && o.bench_size != 0) {
        rc = cmd_version(&o);
        if (rc == 0)
            rc = cmd_read(&o, KDCOM_KD_READ_VIRTUAL_MEMORY, kern_base,
                          o.bench_size, 2);
    }
    if (rc == 0 && i + 1 >= argc && !o.interactive && o.bench_size == 0)
        rc = serve(0); /* no commands: monitor until a signal */
    if (rc == 0) {
        int failed = 0;
        for (i = i + 1; i < argc;) {
            rc = run_command(&o, argv, &i);
            if (rc == 0)
                continue;
            if (!o.keep_going || rc == EXIT_CONN || rc == EXIT_USAGE ||
                ex_stop_requested())
                break;
            failed = 1;
            rc = 0;
        }
        if (rc == 0 && failed)
            rc = 1;
    }
    /* A signal that cut a command short already made it fail; one that
     * ends monitoring or an interactive session is the normal way out. */
    if (rc == 0 && o.interactive)
        rc = interactive(&o);
    kds_close(&sess);
    return rc;
}
