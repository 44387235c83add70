/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * commands.c - kdcom-client's commands at work: each checked command
 * becomes KD requests on the session (breaking in first where the target
 * must be stopped).  Here: running and stopping, version, registers and
 * context, breakpoints, MSRs, waiting, monitoring and counters; the
 * memory commands are in memory.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/counters.h"
#include "../common/exutil.h"
#include "client.h"

static uint64_t kern_base; /* from the last GetVersion */

int cl_fail(const char *what, int rc)
{
    fprintf(stderr, "kdcom-client: %s: %s\n", what, kds_strerror(rc));
    return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
}

int cl_failed_status(const char *what)
{
    uint32_t st = kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS);
    const char *n = kdcom_kd_status_name(st);

    fprintf(stderr, "kdcom-client: %s: the target answered %s (0x%08x)\n",
            what, n != NULL ? n : "a failure", (unsigned)st);
    return EXIT_FAILED;
}

/* A stop may be on its way (a stopped target answering our RESET, a
 * module load followed by a breakpoint): it gets --settle ms before a
 * break-in goes out. */
int cl_ensure_stopped(const struct opts *o)
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

uint16_t cl_cur_processor(void)
{
    return sess.sc_seq ? kdcom_kd_ld16(sess.sc + KDCOM_KD_SC_PROCESSOR) : 0;
}

static int get_version(const struct opts *o, const char *what)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    const uint8_t *r = sess.reply;
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_VERSION);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return cl_fail(what, rc);
    if (!kdcom_kd_nt_success(kdcom_kd_ld32(r + KDCOM_KD_MS_RETURN_STATUS)))
        return cl_failed_status(what);
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
           cl_wd_addr(kern_base, a1),
           cl_wd_addr(kdcom_kd_ld64(r + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST),
                   a2));
    printf("KD protocol %u, %s debugger\n",
           (unsigned)r[KDCOM_KD_VERSION_PROTOCOL],
           kdcom_kd_major_type_name(major));
    fflush(stdout);
    return 0;
}

static int get_context(const struct opts *o, const char *what)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_GET_CONTEXT);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cl_cur_processor());
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return cl_fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return cl_failed_status(what);
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
        cl_hexdump(0, c, n > 256 ? 256 : n);
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
    return cl_regs[k].size == 8 ? kdcom_kd_ld64(ctx + cl_regs[k].off)
           : cl_regs[k].size == 4 ? kdcom_kd_ld32(ctx + cl_regs[k].off)
                               : kdcom_kd_ld16(ctx + cl_regs[k].off);
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
        printf("%s=%0*llx\n", cl_regs[k].name, (int)(2 * cl_regs[k].size),
               (unsigned long long)reg_value(ctx, k));
        fflush(stdout);
        return 0;
    }
    /* rax..r15 three a line, as WinDbg lays them out */
    for (k = 0; k < 17; k++)
        printf("%3s=%016llx%s", cl_regs[k].name,
               (unsigned long long)reg_value(ctx, k),
               k % 3 == 2 || k == 16 ? "\n" : " ");
    efl = kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS);
    printf("iopl=%u        ", (unsigned)((efl >> 12) & 3));
    for (k = 0; k < sizeof fl / sizeof fl[0]; k++)
        printf(" %s", efl & fl[k].bit ? fl[k].set : fl[k].clear);
    printf("\n");
    for (k = 17; k < 23; k++)
        printf("%s=%04llx  ", cl_regs[k].name,
               (unsigned long long)reg_value(ctx, k));
    printf("           efl=%08x\n", (unsigned)efl);
    fflush(stdout);
    return 0;
}

int cl_simple_request(const struct opts *o, const char *what,
                          uint8_t *req, const uint8_t *data, size_t dlen)
{
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    if ((rc = kds_manipulate(&sess, req, data, dlen, o->timeout)) != 0)
        return cl_fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return cl_failed_status(what);
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
    if ((rc = cl_simple_request(o, "context-ex", req, NULL, 0)) != 0)
        return rc;
    got = kdcom_kd_ld32(sess.reply + KDCOM_KD_CONTEXT_EX_COPIED);
    if (got > sess.reply_len - KDCOM_KD_MS_SIZE)
        return cl_fail("context-ex", KDS_ERR_PROTO);
    kds_say(&sess, "context-ex: %u bytes at offset %u", (unsigned)got,
            (unsigned)off);
    cl_hexdump(off, sess.reply + KDCOM_KD_MS_SIZE, got);
    return 0;
}

static int cmd_bp(const struct opts *o, uint64_t addr)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_WRITE_BREAKPOINT);
    kdcom_kd_st64(req + KDCOM_KD_BP_ADDRESS, addr);
    if ((rc = cl_simple_request(o, "bp", req, NULL, 0)) != 0)
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
    if ((rc = cl_simple_request(o, "bc", req, NULL, 0)) != 0)
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
    if ((rc = cl_simple_request(o, "rdmsr", req, NULL, 0)) != 0)
        return rc;
    kds_say(&sess, "rdmsr: msr 0x%08x = 0x%08x%08x", (unsigned)msr,
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MSR_HIGH),
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MSR_LOW));
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
        return cl_fail("break", rc);
    if (sess.stopped && sess.q_count == 0) {
        kds_say(&sess, "break: target is already stopped");
        return 0;
    }
    kds_say(&sess, "break: sending break-in");
    if ((rc = kds_break(&sess, o->timeout)) != 0)
        return cl_fail("break", rc);
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
        return cl_fail("go", rc);
    if (!(sess.stopped && sess.q_count == 0)) {
        kds_say(&sess, "go: target is already running (no stop reported "
                "within %u ms)", (unsigned)sess.settle_ms);
        return 0;
    }
    if ((rc = kds_continue(&sess, o->timeout)) != 0)
        return cl_fail("go", rc);
    kds_say(&sess, "go: target resumed");
    rc = kds_settle(&sess);
    if (rc == KDS_ERR_INTR)
        return 0; /* Ctrl-C: the continue went out, no more waiting */
    if (rc != 0)
        return cl_fail("go", rc);
    if (sess.stopped && sess.q_count == 0)
        kds_say(&sess, "go: the target stopped again right after it "
                "resumed; it is stopped");
    else
        kds_say(&sess, "go: target running (no stop within %u ms)",
                (unsigned)sess.settle_ms);
    return 0;
}

int cl_serve(uint32_t ms)
{
    uint64_t end = ms == 0 ? UINT64_MAX : ex_now_ms() + ms;

    while (ex_now_ms() < end) {
        int rc = kds_pump(&sess, end);
        if ((rc == KDS_ERR_STOPPED && ms == 0) || rc == KDS_ERR_INTR)
            return 0;
        if (rc != 0)
            return cl_fail("monitor", rc);
    }
    return 0;
}

int cl_exec(const struct opts *o, const struct cmd *c)
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
    case OP_DUMP:
    case OP_CONTROL:
    case OP_WRITE:
    case OP_EXPECT:
    case OP_ENTER:
    case OP_WRITE_CONTROL:
    case OP_QUERY:
        return cl_memory(o, c);
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
    case OP_BREAK:
        return cmd_break(o);
    case OP_GO:
        return cmd_go(o);
    case OP_REBOOT: {
        uint8_t req[KDCOM_KD_MS_SIZE] = {0};
        if ((rc = cl_ensure_stopped(o)) != 0)
            return cl_fail("break", rc);
        kdcom_kd_st32(req, KDCOM_KD_REBOOT);
        rc = kds_send_unanswered(&sess, req, o->timeout);
        /* A target that reboots may close the line before its ACK is
         * read: that is the reboot too. */
        if (rc != 0 && rc != KDS_ERR_GONE)
            return cl_fail("reboot", rc);
        sess.stopped = 0;
        kds_say(&sess, "reboot: %s", rc == 0 ? "the target acknowledged it"
                                             : "the target closed the line");
        return 0;
    }
    case OP_WAIT_PRINT:
        if ((rc = kds_wait_print(&sess, c->text, c->u32)) != 0)
            return cl_fail("wait-print", rc);
        return 0;
    case OP_WAIT_STOP:
        if ((rc = kds_wait_stop(&sess, c->u32)) != 0)
            return cl_fail("wait-stop", rc);
        return 0;
    case OP_MONITOR:
        return cl_serve(c->u32);
    case OP_SLEEP:
        return cl_serve(c->u32 == 0 ? 1 : c->u32);
    case OP_RESYNC:
        sess.synced = 0;
        kdcom_resync(&sess.link, ex_now_ms());
        if ((rc = kds_sync(&sess, o->sync_timeout)) != 0)
            return cl_fail("resync", rc);
        kds_say(&sess, "resync: link synchronised again");
        return 0;
    case OP_STATS:
        return cmd_stats();
    case OP_HELP:
        cl_help();
        return 0;
    case OP_QUIT:
        return 0;
    }
    return EXIT_FAILED;
}

int cl_bench_kernel(const struct opts *o)
{
    static struct cmd c;
    char b[] = "bench-read", a[24], n[24], *w[3];
    int i = 0, rc = get_version(o, "version");

    if (rc != 0)
        return rc;
    w[0] = b;
    w[1] = a;
    w[2] = n;
    snprintf(a, sizeof a, "%llu", (unsigned long long)kern_base);
    snprintf(n, sizeof n, "%llu", (unsigned long long)o->bench_size);
    rc = cl_parse_cmd(3, w, &i, &c, 0);
    return rc != 0 ? rc : cl_memory(o, &c);
}
