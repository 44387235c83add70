/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcore.c - a simulated Windows kernel, as its debugger sees it.
 *
 * Only the debugger-facing half of a kernel exists here: a memory image
 * (SIM_MEM_SIZE bytes at SIM_KERN_BASE, filled with sim_pattern()), one
 * processor with an x64 CONTEXT, and a KD core shaped like the kernel's
 * KdpSendWaitContinue loop:
 *
 *     report:  KdSendPacket(STATE_CHANGE64)
 *     loop:    KdReceivePacket(STATE_MANIPULATE)
 *                TIMEOUT -> receive again
 *                RESEND  -> back to report (the debugger reset the link)
 *                request -> answer it with KdSendPacket(STATE_MANIPULATE);
 *                           Continue/Continue2 leave the loop
 *
 * While "running" it polls for a break-in on every tick, as the clock
 * interrupt's KdPollBreakIn does: first KdpControlCPending (a 'b' the
 * transport saw during a packet exchange), then KdReceivePacket(
 * POLL_BREAKIN).  Output goes through DbgPrint (DEBUG_IO PrintString).
 *
 * DbgKdRebootApi (WinDbg's .reboot) ends the simulation with
 * SIM_END_REBOOT: the program decides what a reboot is (the Linux
 * programs exit, the bare-metal kernel leaves QEMU through isa-debug-exit).
 *
 * It talks only to the kdcom.dll export surface (guest/kdapi.h) and to the
 * SIM PLATFORM of kdcore.h, and includes no C library header, so the same
 * core runs over any transport linked with it, in a process or on bare
 * metal.
 */
#include "kdcore.h"

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/simpattern.h"
#include "kdapi.h"

/* Provided by the C library or the bare-metal runtime (guest/kd_mem.c). */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);

#define SIM_KPCR (SIM_KERN_BASE + 0x3fc000u)
#define SIM_KPRCB (SIM_KPCR + 0x180u)
#define SIM_SPECIAL_SIZE 0xF0 /* bytes of KSPECIAL_REGISTERS we serve */

/* dispatch() results */
#define SIM_SERVED 0
#define SIM_RESUME 1
#define SIM_REBOOT 2

static KD_CONTEXT kdctx;
static uint8_t *mem;
static uint8_t ctx[KDCOM_KD_AMD64_CONTEXT_SIZE];
static uint8_t special[SIM_SPECIAL_SIZE];
static uint32_t bp_next = 1;
static int quiet;

static void note(const char *text)
{
    if (!quiet)
        sim_note(text);
}

static size_t text_len(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

/* A DbgPrint line being built: text, decimal and hex, silently cut at the
 * end of the buffer (a kernel's vsnprintf does the same). */
struct line {
    char buf[128];
    size_t len;
};

static void line_str(struct line *l, const char *s, size_t max)
{
    while (*s != '\0' && max-- > 0 && l->len < sizeof l->buf - 1)
        l->buf[l->len++] = *s++;
    l->buf[l->len] = '\0';
}

static void line_num(struct line *l, uint32_t v, unsigned base,
                     unsigned width)
{
    char digits[10];
    unsigned n = 0;

    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n < width && n < sizeof digits)
        digits[n++] = '0';
    while (n > 0 && l->len < sizeof l->buf - 1)
        l->buf[l->len++] = digits[--n];
    l->buf[l->len] = '\0';
}

static void dbg_print(const char *text)
{
    STRING h, d;
    uint8_t head[KDCOM_KD_DIO_SIZE] = {0};
    size_t n = text_len(text);

    if (n > KDCOM_MAX_PAYLOAD - KDCOM_KD_DIO_SIZE)
        n = KDCOM_MAX_PAYLOAD - KDCOM_KD_DIO_SIZE;
    kdcom_kd_st32(head, KDCOM_KD_PRINT_STRING);
    kdcom_kd_st32(head + KDCOM_KD_DIO_LENGTH, (uint32_t)n);
    h.Length = h.MaximumLength = sizeof head;
    h.Buffer = (CHAR *)head;
    d.Length = d.MaximumLength = (USHORT)n;
    d.Buffer = (CHAR *)(uintptr_t)text;
    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &h, &d, &kdctx);
}

static void init_machine(void)
{
    size_t i;

    for (i = 0; i < SIM_MEM_SIZE; i++)
        mem[i] = sim_pattern(i);
    memset(ctx, 0, sizeof ctx);
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_FLAGS,
                  KDCOM_KD_CONTEXT_AMD64 | KDCOM_KD_CONTEXT_CONTROL |
                      KDCOM_KD_CONTEXT_INTEGER | KDCOM_KD_CONTEXT_SEGMENTS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS, 0x10);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_SS, 0x18);
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS, 0x202);
    for (i = 0; i < 16; i++)
        kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_GPR(i),
                      0x1111111111111111ull * (uint64_t)i);
    kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RSP, SIM_KERN_BASE + 0x3f0000u);
    kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RIP, SIM_BREAK_PC);
    for (i = 0; i < sizeof special; i++)
        special[i] = (uint8_t)(0xA0 + i);
}

/* Builds a DBGKD_WAIT_STATE_CHANGE64 header for the current processor. */
static void sc_header(uint8_t *sc, uint32_t state)
{
    uint64_t pc = kdcom_kd_ld64(ctx + KDCOM_KD_AMD64_CTX_RIP);
    size_t i;

    memset(sc, 0, KDCOM_KD_SC_SIZE);
    kdcom_kd_st32(sc + KDCOM_KD_SC_NEW_STATE, state);
    kdcom_kd_st16(sc + KDCOM_KD_SC_PROCESSOR_LEVEL, 6);
    kdcom_kd_st32(sc + KDCOM_KD_SC_NUMBER_PROCESSORS, 1);
    kdcom_kd_st64(sc + KDCOM_KD_SC_THREAD, SIM_THREAD);
    kdcom_kd_st64(sc + KDCOM_KD_SC_PROGRAM_COUNTER, pc);
    kdcom_kd_st32(sc + KDCOM_KD_CR_AMD64_EFLAGS,
                  kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS));
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_INSTRUCTION_COUNT,
                  KDCOM_KD_CR_INSTRUCTION_STREAM_SIZE);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_REPORT_FLAGS,
                  KDCOM_KD_REPORT_INCLUDES_SEGS | KDCOM_KD_REPORT_STANDARD_CS);
    for (i = 0; i < KDCOM_KD_CR_INSTRUCTION_STREAM_SIZE; i++) {
        uint64_t a = pc + i - SIM_KERN_BASE;
        sc[KDCOM_KD_CR_AMD64_INSTRUCTION_STREAM + i] =
            a < SIM_MEM_SIZE ? mem[a] : 0;
    }
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_CS, 0x10);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_DS, 0x2b);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_ES, 0x2b);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_FS, 0x53);
}

/* Copies between the image and a buffer; returns the bytes possible. */
static uint32_t mem_span(uint64_t addr, uint32_t count, int physical)
{
    uint64_t off;

    if (physical)
        off = addr;
    else if (addr >= SIM_KERN_BASE)
        off = addr - SIM_KERN_BASE;
    else
        return 0;
    if (off >= SIM_MEM_SIZE)
        return 0;
    if (count > SIM_MEM_SIZE - off)
        count = (uint32_t)(SIM_MEM_SIZE - off);
    return count;
}

static uint8_t *mem_at(uint64_t addr, int physical)
{
    return mem + (physical ? addr : addr - SIM_KERN_BASE);
}

static void reply(uint8_t *ms, const uint8_t *data, size_t dlen)
{
    STRING h, d;

    h.Length = h.MaximumLength = KDCOM_KD_MS_SIZE;
    h.Buffer = (CHAR *)ms;
    d.Length = d.MaximumLength = (USHORT)dlen;
    d.Buffer = (CHAR *)(uintptr_t)data;
    KdSendPacket(KDCOM_TYPE_STATE_MANIPULATE, &h, dlen ? &d : NULL, &kdctx);
}

static void do_get_version(uint8_t *ms)
{
    uint8_t *v = ms;

    memset(ms + KDCOM_KD_MS_UNION, 0, KDCOM_KD_MS_SIZE - KDCOM_KD_MS_UNION);
    kdcom_kd_st16(v + KDCOM_KD_VERSION_MAJOR, 0xF);
    kdcom_kd_st16(v + KDCOM_KD_VERSION_MINOR, 19041);
    v[KDCOM_KD_VERSION_PROTOCOL] = KDCOM_KD_PROTOCOL_VERSION;
    kdcom_kd_st16(v + KDCOM_KD_VERSION_FLAGS,
                  KDCOM_KD_VERS_FLAG_DATA | KDCOM_KD_VERS_FLAG_PTR64);
    kdcom_kd_st16(v + KDCOM_KD_VERSION_MACHINE, KDCOM_KD_MACHINE_AMD64);
    v[KDCOM_KD_VERSION_MAX_PACKET_TYPE] = KDCOM_TYPE_MAX;
    v[KDCOM_KD_VERSION_MAX_STATE_CHANGE] =
        KDCOM_KD_STATE_MAX - KDCOM_KD_STATE_MIN;
    v[KDCOM_KD_VERSION_MAX_MANIPULATE] =
        KDCOM_KD_MANIPULATE_MAX - KDCOM_KD_MANIPULATE_MIN;
    kdcom_kd_st64(v + KDCOM_KD_VERSION_KERN_BASE, SIM_KERN_BASE);
    kdcom_kd_st64(v + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST,
                  SIM_LOADED_MODULE_LIST);
    kdcom_kd_st64(v + KDCOM_KD_VERSION_DEBUGGER_DATA_LIST,
                  SIM_DEBUGGER_DATA_LIST);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
    reply(ms, NULL, 0);
}

static void do_read(uint8_t *ms, int physical)
{
    uint64_t addr = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t want = kdcom_kd_ld32(ms + KDCOM_KD_MEM_COUNT), got;

    if (want > KDCOM_KD_MAX_TRANSFER)
        want = KDCOM_KD_MAX_TRANSFER;
    got = mem_span(addr, want, physical);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, got);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                  got == want ? KDCOM_KD_STATUS_SUCCESS
                              : KDCOM_KD_STATUS_UNSUCCESSFUL);
    reply(ms, got ? mem_at(addr, physical) : NULL, got);
}

static void do_write(uint8_t *ms, const uint8_t *data, uint32_t dlen,
                     int physical)
{
    uint64_t addr = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t want = kdcom_kd_ld32(ms + KDCOM_KD_MEM_COUNT), got;

    if (want > dlen)
        want = dlen; /* never trust the count over the bytes that came */
    got = mem_span(addr, want, physical);
    if (got)
        memcpy(mem_at(addr, physical), data, got);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, got);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                  got == want && want == kdcom_kd_ld32(ms + KDCOM_KD_MEM_COUNT)
                      ? KDCOM_KD_STATUS_SUCCESS
                      : KDCOM_KD_STATUS_UNSUCCESSFUL);
    reply(ms, NULL, 0);
}

static void do_read_control(uint8_t *ms)
{
    uint64_t idx = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t want = kdcom_kd_ld32(ms + KDCOM_KD_MEM_COUNT), got = 0;
    uint8_t buf[SIM_SPECIAL_SIZE];
    const uint8_t *src = buf;

    /* x64 control space: an index, not an address. */
    switch (idx) {
    case KDCOM_KD_AMD64_CONTROL_KPCR:
        kdcom_kd_st64(buf, SIM_KPCR);
        got = 8;
        break;
    case KDCOM_KD_AMD64_CONTROL_KPRCB:
        kdcom_kd_st64(buf, SIM_KPRCB);
        got = 8;
        break;
    case KDCOM_KD_AMD64_CONTROL_KSPECIAL:
        src = special;
        got = sizeof special;
        break;
    case KDCOM_KD_AMD64_CONTROL_KTHREAD:
        kdcom_kd_st64(buf, SIM_THREAD);
        got = 8;
        break;
    default:
        break;
    }
    if (got > want)
        got = want;
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, got);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                  got != 0 ? KDCOM_KD_STATUS_SUCCESS
                           : KDCOM_KD_STATUS_UNSUCCESSFUL);
    reply(ms, src, got);
}

static void do_context_ex(uint8_t *ms, const uint8_t *data, uint32_t dlen,
                          int set)
{
    uint32_t off = kdcom_kd_ld32(ms + KDCOM_KD_CONTEXT_EX_OFFSET);
    uint32_t n = kdcom_kd_ld32(ms + KDCOM_KD_CONTEXT_EX_COUNT);

    if (off > sizeof ctx)
        off = sizeof ctx;
    if (n > sizeof ctx - off)
        n = (uint32_t)sizeof ctx - off;
    if (n > KDCOM_KD_MAX_TRANSFER)
        n = KDCOM_KD_MAX_TRANSFER;
    if (set && n > dlen)
        n = dlen;
    if (set)
        memcpy(ctx + off, data, n);
    kdcom_kd_st32(ms + KDCOM_KD_CONTEXT_EX_COPIED, n);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
    reply(ms, set ? NULL : ctx + off, set ? 0 : n);
}

/* Serves one manipulate request.  Returns SIM_RESUME when it resumes the
 * target (*trace set for a single step), SIM_REBOOT for a reboot, else
 * SIM_SERVED. */
static int dispatch(uint8_t *ms, const uint8_t *data, uint32_t dlen,
                    int *trace)
{
    uint32_t api = kdcom_kd_ld32(ms);

    switch (api) {
    case KDCOM_KD_GET_VERSION:
        do_get_version(ms);
        return SIM_SERVED;
    case KDCOM_KD_READ_VIRTUAL_MEMORY:
    case KDCOM_KD_READ_PHYSICAL_MEMORY:
        do_read(ms, api == KDCOM_KD_READ_PHYSICAL_MEMORY);
        return SIM_SERVED;
    case KDCOM_KD_WRITE_VIRTUAL_MEMORY:
    case KDCOM_KD_WRITE_PHYSICAL_MEMORY:
        do_write(ms, data, dlen, api == KDCOM_KD_WRITE_PHYSICAL_MEMORY);
        return SIM_SERVED;
    case KDCOM_KD_GET_CONTEXT:
        kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
        reply(ms, ctx, sizeof ctx);
        return SIM_SERVED;
    case KDCOM_KD_SET_CONTEXT:
        memcpy(ctx, data, dlen < sizeof ctx ? dlen : sizeof ctx);
        kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                      dlen >= sizeof ctx ? KDCOM_KD_STATUS_SUCCESS
                                         : KDCOM_KD_STATUS_UNSUCCESSFUL);
        reply(ms, NULL, 0);
        return SIM_SERVED;
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        do_context_ex(ms, data, dlen, api == KDCOM_KD_SET_CONTEXT_EX);
        return SIM_SERVED;
    case KDCOM_KD_READ_CONTROL_SPACE:
        do_read_control(ms);
        return SIM_SERVED;
    case KDCOM_KD_WRITE_BREAKPOINT:
        kdcom_kd_st32(ms + KDCOM_KD_BP_HANDLE, bp_next++);
        kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
        reply(ms, NULL, 0);
        return SIM_SERVED;
    case KDCOM_KD_RESTORE_BREAKPOINT:
        kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
        reply(ms, NULL, 0);
        return SIM_SERVED;
    case KDCOM_KD_CONTINUE:
        return SIM_RESUME;
    case KDCOM_KD_CONTINUE2:
        *trace = kdcom_kd_ld32(ms + KDCOM_KD_CONTINUE2_TRACE_FLAG) != 0;
        return SIM_RESUME;
    case KDCOM_KD_REBOOT:
        /* Windows answers nothing: it reboots. */
        return SIM_REBOOT;
    default:
        /* What the kernel does with a request it does not know. */
        kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                      KDCOM_KD_STATUS_UNSUCCESSFUL);
        reply(ms, NULL, 0);
        return SIM_SERVED;
    }
}

/* The KdpSendWaitContinue loop.  Returns 1 to single-step, 0 to run, -1
 * when a stop request ends the simulation, -2 for a reboot. */
static int send_wait_continue(const uint8_t *sc, const uint8_t *scdata,
                              size_t sclen)
{
    static uint8_t ms[KDCOM_KD_MS_SIZE];
    static uint8_t data[KDCOM_MAX_PAYLOAD];
    STRING h, d, mh, md;
    int trace = 0;

    h.Length = h.MaximumLength = KDCOM_KD_SC_SIZE;
    h.Buffer = (CHAR *)(uintptr_t)sc;
    d.Length = d.MaximumLength = (USHORT)sclen;
    d.Buffer = (CHAR *)(uintptr_t)scdata;
resend:
    KdSendPacket(KDCOM_TYPE_STATE_CHANGE64, &h, sclen ? &d : NULL, &kdctx);
    for (;;) {
        ULONG dlen = 0;
        KDP_STATUS st;

        int r;

        if (sim_stop_requested())
            return -1;
        mh.Length = 0;
        mh.MaximumLength = sizeof ms;
        mh.Buffer = (CHAR *)ms;
        md.Length = 0;
        md.MaximumLength = sizeof data;
        md.Buffer = (CHAR *)data;
        st = KdReceivePacket(KDCOM_TYPE_STATE_MANIPULATE, &mh, &md, &dlen,
                             &kdctx);
        if (st == KdPacketNeedsResend)
            goto resend;
        if (st != KdPacketReceived)
            continue;
        if (mh.Length < KDCOM_KD_MS_SIZE)
            continue; /* the transport split it short: not a request */
        if (dlen > sizeof data)
            dlen = sizeof data;
        r = dispatch(ms, data, dlen, &trace);
        if (r == SIM_REBOOT)
            return -2;
        if (r == SIM_RESUME)
            return trace;
    }
}

static int report_exception(uint32_t code)
{
    uint8_t sc[KDCOM_KD_SC_SIZE];
    uint64_t pc = kdcom_kd_ld64(ctx + KDCOM_KD_AMD64_CTX_RIP);
    int rc;

    sc_header(sc, KDCOM_KD_STATE_EXCEPTION);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_CODE, code);
    kdcom_kd_st64(sc + KDCOM_KD_EXC_ADDRESS, pc);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_FIRST_CHANCE, 1);
    if (code == KDCOM_KD_STATUS_BREAKPOINT) {
        kdcom_kd_st32(sc + KDCOM_KD_EXC_NUMBER_PARAMS, 1);
    }
    while ((rc = send_wait_continue(sc, NULL, 0)) == 1) {
        /* Single step: one "instruction" is one byte here. */
        pc = kdcom_kd_ld64(ctx + KDCOM_KD_AMD64_CTX_RIP) + 1;
        kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RIP, pc);
        sc_header(sc, KDCOM_KD_STATE_EXCEPTION);
        kdcom_kd_st32(sc + KDCOM_KD_EXC_CODE, KDCOM_KD_STATUS_SINGLE_STEP);
        kdcom_kd_st64(sc + KDCOM_KD_EXC_ADDRESS, pc);
        kdcom_kd_st32(sc + KDCOM_KD_EXC_FIRST_CHANCE, 1);
    }
    return rc;
}

static int report_load_symbols(const char *path)
{
    uint8_t sc[KDCOM_KD_SC_SIZE];
    size_t n = text_len(path) + 1;

    sc_header(sc, KDCOM_KD_STATE_LOAD_SYMBOLS);
    kdcom_kd_st32(sc + KDCOM_KD_LS_PATH_LENGTH, (uint32_t)n);
    kdcom_kd_st64(sc + KDCOM_KD_LS_BASE_OF_DLL, SIM_KERN_BASE);
    kdcom_kd_st32(sc + KDCOM_KD_LS_CHECKSUM, 0x00A1B2C3u);
    kdcom_kd_st32(sc + KDCOM_KD_LS_SIZE_OF_IMAGE, SIM_MEM_SIZE);
    int rc = send_wait_continue(sc, (const uint8_t *)path, n);

    return rc < 0 ? rc : 0;
}

/* What KdPullRemoteFile does first: ask the debugger to open a file it may
 * substitute for the one on disk (.kdfiles).  Returns the status the
 * debugger answered, or STATUS_UNSUCCESSFUL if it never did. */
static uint32_t pull_file(const char *name)
{
    uint8_t head[KDCOM_KD_FIO_SIZE] = {0}, rhead[KDCOM_KD_FIO_SIZE];
    uint8_t wide[512], rdata[64];
    STRING h, d, rh, rd;
    size_t n = text_len(name), i;
    int tries;

    if (n > sizeof wide / 2)
        n = sizeof wide / 2;
    for (i = 0; i < n; i++) { /* UTF-16LE, as the kernel sends names */
        wide[2 * i] = (uint8_t)name[i];
        wide[2 * i + 1] = 0;
    }
    kdcom_kd_st32(head, KDCOM_KD_CREATE_FILE);
    kdcom_kd_st32(head + KDCOM_KD_FIO_CREATE_ACCESS, 0x80100080u);
    kdcom_kd_st32(head + KDCOM_KD_FIO_CREATE_DISPOSITION, 1); /* open */
    h.Length = h.MaximumLength = sizeof head;
    h.Buffer = (CHAR *)head;
    d.Length = d.MaximumLength = (USHORT)(2 * n);
    d.Buffer = (CHAR *)wide;
    KdSendPacket(KDCOM_TYPE_FILE_IO, &h, &d, &kdctx);
    for (tries = 0; tries < 5 && !sim_stop_requested(); tries++) {
        ULONG dlen = 0;
        rh.Length = 0;
        rh.MaximumLength = sizeof rhead;
        rh.Buffer = (CHAR *)rhead;
        rd.Length = 0;
        rd.MaximumLength = sizeof rdata;
        rd.Buffer = (CHAR *)rdata;
        if (KdReceivePacket(KDCOM_TYPE_FILE_IO, &rh, &rd, &dlen, &kdctx) ==
                KdPacketReceived &&
            kdcom_kd_ld32(rhead) == KDCOM_KD_CREATE_FILE)
            return kdcom_kd_ld32(rhead + KDCOM_KD_FIO_STATUS);
    }
    return KDCOM_KD_STATUS_UNSUCCESSFUL;
}

/* KdPollBreakIn: a pending Ctrl-C first, then the port. */
static int poll_breakin(void)
{
    ULONG len = 0;

    if (kdctx.KdpControlCPending) {
        kdctx.KdpControlCPending = 0;
        return 1;
    }
    return KdReceivePacket(KDCOM_TYPE_POLL_BREAKIN, NULL, NULL, &len,
                           &kdctx) == KdPacketReceived;
}

/* Appends "simkernel: running (resume N)\n" style lines. */
static void print_counted(const char *what, unsigned n)
{
    struct line l = {{0}, 0};

    line_str(&l, "simkernel: ", 64);
    line_str(&l, what, 64);
    line_num(&l, n, 10, 0);
    line_str(&l, what[0] == 'r' ? ")\n" : "\n", 2);
    dbg_print(l.buf);
}

enum sim_end sim_run(const struct sim_options *o)
{
    unsigned resumes = 0, beats = 0;
    uint64_t start, next_beat;
    int rc = 0;

    quiet = o->quiet;
    mem = o->mem;
    init_machine();
    kdctx.KdpDefaultRetries = 20;
    kdctx.KdpControlCPending = 0;
    if (KdDebuggerInitialize0(NULL) != KDAPI_STATUS_SUCCESS ||
        KdDebuggerInitialize1(NULL) != KDAPI_STATUS_SUCCESS) {
        note("transport initialisation failed");
        return SIM_END_FAILED;
    }
    note("booting, image at 0xfffff80000000000");
    dbg_print("simkernel: booting\n");
    if (o->pull_file != NULL) {
        struct line l = {{0}, 0};
        uint32_t st = pull_file(o->pull_file);

        line_str(&l, "simkernel: CreateFile(", 64);
        line_str(&l, o->pull_file, 60);
        line_str(&l, ") -> 0x", 8);
        line_num(&l, st, 16, 8);
        line_str(&l, "\n", 1);
        dbg_print(l.buf);
    }
    if ((rc = report_load_symbols(o->image_path)) < 0)
        goto out;
    if (o->initial_break &&
        (rc = report_exception(KDCOM_KD_STATUS_BREAKPOINT)) < 0)
        goto out;
    start = sim_clock_ms();
    next_beat = start + o->print_interval_ms;
    print_counted("running (resume ", resumes);
    while (!sim_stop_requested()) {
        uint64_t now = sim_clock_ms();
        if (o->run_ms && now - start >= o->run_ms)
            break;
        if (poll_breakin()) {
            note("break-in");
            if ((rc = report_exception(KDCOM_KD_STATUS_BREAKPOINT)) < 0)
                break;
            resumes++;
            print_counted("running (resume ", resumes);
            continue;
        }
        if (o->print_interval_ms && now >= next_beat) {
            print_counted("heartbeat ", ++beats);
            next_beat = now + o->print_interval_ms;
        }
        sim_idle(); /* a clock tick */
    }
out:
    if (rc == -2) {
        note("reboot requested by the debugger");
        return SIM_END_REBOOT;
    }
    note("stopping");
    return SIM_END_STOPPED;
}
