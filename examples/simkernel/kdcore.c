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
 * The answers follow what a Windows 10 x64 kernel gives to the same
 * requests (status codes, sizes, fields); where a detail is only known
 * from ReactOS's reimplementation of the kernel debugger (kd64), that is
 * what is followed.  docs/simkernel.md has the table, API by API.
 * Every malformed request gets a defined answer: counts are checked
 * against what arrived and against the buffers before anything is copied.
 *
 * DbgKdRebootApi (WinDbg's .reboot) ends the simulation with
 * SIM_END_REBOOT: the program decides what a reboot is (the Linux
 * programs exit, the bare-metal kernel leaves QEMU through isa-debug-exit).
 *
 * It talks only to the kdcom.dll export surface (kdcom_kdapi.h) and to the
 * SIM PLATFORM of kdcore.h, and includes no C library header, so the same
 * core runs over any transport linked with it, in a process or on bare
 * metal.
 */
#include "kdcore.h"

#include <kdcom.h>
#include <kdcom_kd.h>
#include <kdcom_kdapi.h>

#include "../common/simpattern.h"

/* Provided by the C library or the bare-metal runtime (guest/kd_mem.c). */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);

#define SIM_KPCR (SIM_KERN_BASE + 0x3fc000u)
#define SIM_KPRCB (SIM_KPCR + 0x180u)
#define SIM_SPECIAL_SIZE 0xF0 /* bytes of KSPECIAL_REGISTERS we serve */
#define SIM_NPROC 1           /* processors */
#define SIM_BUILD 19041       /* Windows 10 2004 */
#define SIM_USER_LIMIT 0x800000000000ull /* first address above user space */

/* The breakpoint table (ReactOS's kd64 has 32 entries, KD_BREAKPOINT_MAX;
 * a handle is the entry's index + 1). */
#define SIM_BP_MAX 32
#define SIM_BP_ACTIVE 0x01
#define SIM_BP_OWED 0x02 /* address not mapped: nothing written */

/* x64 segment selectors of kernel code (KGDT64_R0_CODE), data, ... */
#define SIM_SEG_CS 0x10
#define SIM_SEG_SS 0x18
#define SIM_SEG_DS 0x2b
#define SIM_SEG_FS 0x53
#define SIM_EFLAGS_TF 0x100u

/* dispatch() results */
#define SIM_SERVED 0
#define SIM_RESUME 1
#define SIM_REBOOT 2
#define SIM_RESELECT 3 /* SwitchProcessor: report the state change again */

struct sim_bp {
    uint64_t addr;
    uint8_t flags;
    uint8_t content; /* the byte the int 3 replaced */
};

/* MSRs a debugger may read (rdmsr): anything else is STATUS_NO_SUCH_DEVICE,
 * what the kernel answers when the instruction faults. */
static const uint32_t msr_index[] = {
    0x0000001Bu, /* IA32_APIC_BASE */
    0xC0000080u, /* EFER */
    0xC0000081u, /* STAR */
    0xC0000082u, /* LSTAR: KiSystemCall64 */
    0xC0000084u, /* SFMASK */
    0xC0000100u, /* FS base */
    0xC0000101u, /* GS base: the KPCR */
    0xC0000102u  /* kernel GS base (user's, swapped) */
};
#define SIM_NMSR (sizeof msr_index / sizeof msr_index[0])

static KD_CONTEXT kdctx;
static uint8_t *mem;
static uint8_t ctx[KDCOM_KD_AMD64_CONTEXT_SIZE];
static uint8_t special[SIM_SPECIAL_SIZE];
static uint64_t msr_value[SIM_NMSR];
static struct sim_bp bps[SIM_BP_MAX];
static int context_sent; /* a Get(Ex) came since the last state change */
static unsigned unload_after_ms;
static int quiet;

void sim_set_unload_after(unsigned ms)
{
    unload_after_ms = ms;
}

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
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_MXCSR, 0x1f80);
    /* SegCs SegDs SegEs SegFs SegGs SegSs */
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS, SIM_SEG_CS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 2, SIM_SEG_DS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 4, SIM_SEG_DS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 6, SIM_SEG_FS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 8, SIM_SEG_DS);
    kdcom_kd_st16(ctx + KDCOM_KD_AMD64_CTX_SEG_SS, SIM_SEG_SS);
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS, 0x202);
    for (i = 0; i < 16; i++)
        kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_GPR(i),
                      0x1111111111111111ull * (uint64_t)i);
    kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RSP, SIM_KERN_BASE + 0x3f0000u);
    kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RIP, SIM_BREAK_PC);
    /* KSPECIAL_REGISTERS: control registers and descriptor tables of a
     * running x64 kernel, debug registers clear (Dr6's reserved bits
     * read as ones), the rest a recognisable filler. */
    for (i = 0; i < sizeof special; i++)
        special[i] = (uint8_t)(0xA0 + i);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_CR0, 0x80050033u);
    kdcom_kd_st64(special + 0x08, 0);                       /* Cr2 */
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_CR3, 0x1aa000u);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_CR4, 0x350ef8u);
    for (i = 0; i < 4; i++)                                 /* Dr0-Dr3 */
        kdcom_kd_st64(special + 0x20 + 8 * i, 0);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_DR6, 0xffff0ff0u);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_DR7, 0x400u);
    memset(special + KDCOM_KD_AMD64_KSPECIAL_GDTR, 0, 32);
    kdcom_kd_st16(special + KDCOM_KD_AMD64_KSPECIAL_GDTR + 6, 0x57);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_GDTR + 8,
                  SIM_KPCR + 0x1000u);
    kdcom_kd_st16(special + KDCOM_KD_AMD64_KSPECIAL_IDTR + 6, 0xfff);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_IDTR + 8,
                  SIM_KPCR + 0x2000u);
    kdcom_kd_st16(special + KDCOM_KD_AMD64_KSPECIAL_TR, 0x40);
    kdcom_kd_st16(special + KDCOM_KD_AMD64_KSPECIAL_TR + 2, 0);  /* Ldtr */
    kdcom_kd_st32(special + KDCOM_KD_AMD64_KSPECIAL_MXCSR, 0x1f80);
    msr_value[0] = 0xfee00900u;
    msr_value[1] = 0xd01u;
    msr_value[2] = 0x0023001000000000ull;
    msr_value[3] = SIM_KERN_BASE + 0x2000u;
    msr_value[4] = 0x4700u;
    msr_value[5] = 0;
    msr_value[6] = SIM_KPCR;
    msr_value[7] = 0;
    memset(bps, 0, sizeof bps);
    context_sent = 0;
}

/* Offset of a virtual (or, physical set, physical) address in the image
 * and the bytes mapped from there, at most count: 0 when the first byte is
 * not mapped.  Memory is copied up to the first byte that is not. */
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

/* Builds a DBGKD_WAIT_STATE_CHANGE64 header for the current processor:
 * KdpSetCommonState and the x64 control report (ReactOS's kdx64.c
 * KdpSetContextState): Dr6/Dr7 from the special registers, segments and
 * EFlags from the context, ReportFlags INCLUDES_SEGS, plus STANDARD_CS
 * when CS is the kernel's code selector, and the instruction bytes at the
 * program counter (InstructionCount: those mapped, at most 16). */
static void sc_header(uint8_t *sc, uint32_t state)
{
    uint64_t pc = kdcom_kd_ld64(ctx + KDCOM_KD_AMD64_CTX_RIP);
    uint16_t cs = kdcom_kd_ld16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS);
    uint32_t n = mem_span(pc, KDCOM_KD_CR_INSTRUCTION_STREAM_SIZE, 0);

    memset(sc, 0, KDCOM_KD_SC_SIZE);
    kdcom_kd_st32(sc + KDCOM_KD_SC_NEW_STATE, state);
    kdcom_kd_st16(sc + KDCOM_KD_SC_PROCESSOR_LEVEL, 6);
    kdcom_kd_st16(sc + KDCOM_KD_SC_PROCESSOR, 0);
    kdcom_kd_st32(sc + KDCOM_KD_SC_NUMBER_PROCESSORS, SIM_NPROC);
    kdcom_kd_st64(sc + KDCOM_KD_SC_THREAD, SIM_THREAD);
    kdcom_kd_st64(sc + KDCOM_KD_SC_PROGRAM_COUNTER, pc);
    kdcom_kd_st64(sc + KDCOM_KD_CR_AMD64_DR6,
                  kdcom_kd_ld64(special + KDCOM_KD_AMD64_KSPECIAL_DR6));
    kdcom_kd_st64(sc + KDCOM_KD_CR_AMD64_DR7,
                  kdcom_kd_ld64(special + KDCOM_KD_AMD64_KSPECIAL_DR7));
    kdcom_kd_st32(sc + KDCOM_KD_CR_AMD64_EFLAGS,
                  kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS));
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_INSTRUCTION_COUNT, (uint16_t)n);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_REPORT_FLAGS,
                  KDCOM_KD_REPORT_INCLUDES_SEGS |
                      (cs == SIM_SEG_CS ? KDCOM_KD_REPORT_STANDARD_CS : 0));
    if (n != 0)
        memcpy(sc + KDCOM_KD_CR_AMD64_INSTRUCTION_STREAM, mem_at(pc, 0), n);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_CS, cs);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_DS,
                  kdcom_kd_ld16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 2));
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_ES,
                  kdcom_kd_ld16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 4));
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_SEG_FS,
                  kdcom_kd_ld16(ctx + KDCOM_KD_AMD64_CTX_SEG_CS + 6));
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

static void reply_status(uint8_t *ms, uint32_t status)
{
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, status);
    reply(ms, NULL, 0);
}

/* The request names a processor that does not exist. */
static int bad_processor(const uint8_t *ms)
{
    return kdcom_kd_ld16(ms + KDCOM_KD_MS_PROCESSOR) >= SIM_NPROC;
}

static void do_get_version(uint8_t *ms)
{
    uint8_t *v = ms;

    memset(ms + KDCOM_KD_MS_UNION, 0, KDCOM_KD_MS_SIZE - KDCOM_KD_MS_UNION);
    /* The kernel's own debugger (high byte), a free build (low byte). */
    kdcom_kd_st16(v + KDCOM_KD_VERSION_MAJOR,
                  (KDCOM_KD_MAJOR_NT << 8) | KDCOM_KD_BUILD_FREE);
    kdcom_kd_st16(v + KDCOM_KD_VERSION_MINOR, SIM_BUILD);
    v[KDCOM_KD_VERSION_PROTOCOL] = KDCOM_KD_PROTOCOL_VERSION;
    v[KDCOM_KD_VERSION_SECONDARY] = KDCOM_KD_SECONDARY_VERSION_AMD64_CONTEXT;
    /* Every x64 kernel since Vista is built multiprocessor. */
    kdcom_kd_st16(v + KDCOM_KD_VERSION_FLAGS,
                  KDCOM_KD_VERS_FLAG_MP | KDCOM_KD_VERS_FLAG_DATA |
                      KDCOM_KD_VERS_FLAG_PTR64);
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
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

/* Read(Virtual|Physical)Memory: at most what fits in a packet; the bytes
 * up to the first unmapped one, STATUS_SUCCESS only if that is all of
 * them (KdpCopyMemoryChunks). */
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

/* Write(Virtual|Physical)Memory: the bytes that came with the request are
 * written (the kernel goes by the data length, not TransferCount), up to
 * the first unmapped one. */
static void do_write(uint8_t *ms, const uint8_t *data, uint32_t dlen,
                     int physical)
{
    uint64_t addr = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t got = mem_span(addr, dlen, physical);

    if (got)
        memcpy(mem_at(addr, physical), data, got);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, got);
    reply_status(ms, got == dlen ? KDCOM_KD_STATUS_SUCCESS
                                 : KDCOM_KD_STATUS_UNSUCCESSFUL);
}

/* x64 control space: an index, not an address (kdx64.c). */
static void do_read_control(uint8_t *ms)
{
    uint64_t idx = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t want = kdcom_kd_ld32(ms + KDCOM_KD_MEM_COUNT), got = 0;
    uint8_t buf[8];
    const uint8_t *src = buf;

    if (!bad_processor(ms)) {
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
    }
    if (got > want)
        got = want;
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, got);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                  got != 0 ? KDCOM_KD_STATUS_SUCCESS
                           : KDCOM_KD_STATUS_UNSUCCESSFUL);
    reply(ms, src, got);
}

/* WriteControlSpace (WinDbg writes the debug registers in KSPECIAL at
 * every resume): only the special registers are writable. */
static void do_write_control(uint8_t *ms, const uint8_t *data, uint32_t dlen)
{
    uint64_t idx = kdcom_kd_ld64(ms + KDCOM_KD_MEM_ADDRESS);
    uint32_t n = dlen;

    if (bad_processor(ms) || idx != KDCOM_KD_AMD64_CONTROL_KSPECIAL) {
        kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, 0);
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
        return;
    }
    if (n > sizeof special)
        n = sizeof special;
    memcpy(special, data, n);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, n);
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

static void do_get_context(uint8_t *ms)
{
    if (bad_processor(ms)) {
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
        return;
    }
    context_sent = 1;
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
    reply(ms, ctx, sizeof ctx);
}

/* SetContext: a whole CONTEXT, and only once the debugger has read the
 * current one in this stop (the kernel's KdpContextSent). */
static void do_set_context(uint8_t *ms, const uint8_t *data, uint32_t dlen)
{
    if (bad_processor(ms) || !context_sent || dlen < sizeof ctx) {
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
        return;
    }
    memcpy(ctx, data, sizeof ctx);
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

/* Get/SetContextEx: a window [Offset, Offset + ByteCount) that must lie
 * inside the CONTEXT; all of it or nothing (BytesCopied 0,
 * STATUS_UNSUCCESSFUL). */
static void do_context_ex(uint8_t *ms, const uint8_t *data, uint32_t dlen,
                          int set)
{
    uint32_t off = kdcom_kd_ld32(ms + KDCOM_KD_CONTEXT_EX_OFFSET);
    uint32_t n = kdcom_kd_ld32(ms + KDCOM_KD_CONTEXT_EX_COUNT);
    int ok = !bad_processor(ms) && off <= sizeof ctx &&
             n <= sizeof ctx - off;

    if (set)
        ok = ok && context_sent && dlen >= n;
    if (!ok) {
        kdcom_kd_st32(ms + KDCOM_KD_CONTEXT_EX_COPIED, 0);
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
        return;
    }
    if (set)
        memcpy(ctx + off, data, n);
    else
        context_sent = 1;
    kdcom_kd_st32(ms + KDCOM_KD_CONTEXT_EX_COPIED, n);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, KDCOM_KD_STATUS_SUCCESS);
    reply(ms, set ? NULL : ctx + off, set ? 0 : n);
}

/* WriteBreakPoint: an entry of the table, the byte at the address saved
 * and replaced by int 3.  An address already holding one of ours is
 * refused (handle 0), as is a full table; an address that is not mapped
 * gets an owed entry (nothing is written), as the kernel does for memory
 * that is paged out. */
static void do_write_bp(uint8_t *ms)
{
    uint64_t addr = kdcom_kd_ld64(ms + KDCOM_KD_BP_ADDRESS);
    uint32_t handle = 0, i;

    for (i = 0; i < SIM_BP_MAX; i++)
        if (bps[i].flags != 0 && bps[i].addr == addr)
            break;
    if (i == SIM_BP_MAX) {
        for (i = 0; i < SIM_BP_MAX && bps[i].flags != 0; i++)
            ;
        if (i < SIM_BP_MAX) {
            bps[i].addr = addr;
            if (mem_span(addr, 1, 0) == 1) {
                bps[i].content = *mem_at(addr, 0);
                bps[i].flags = SIM_BP_ACTIVE;
                *mem_at(addr, 0) = 0xcc;
            } else {
                bps[i].content = 0;
                bps[i].flags = SIM_BP_ACTIVE | SIM_BP_OWED;
            }
            handle = i + 1;
        }
    }
    kdcom_kd_st32(ms + KDCOM_KD_BP_HANDLE, handle);
    reply_status(ms, handle != 0 ? KDCOM_KD_STATUS_SUCCESS
                                 : KDCOM_KD_STATUS_UNSUCCESSFUL);
}

/* RestoreBreakPoint: the saved byte goes back and the entry is free;
 * a handle that names no entry in use is STATUS_UNSUCCESSFUL. */
static void do_restore_bp(uint8_t *ms)
{
    uint32_t handle = kdcom_kd_ld32(ms + KDCOM_KD_BP_RESTORE_HANDLE);
    struct sim_bp *b;

    if (handle == 0 || handle > SIM_BP_MAX || bps[handle - 1].flags == 0) {
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
        return;
    }
    b = &bps[handle - 1];
    if (!(b->flags & SIM_BP_OWED) && mem_span(b->addr, 1, 0) == 1)
        *mem_at(b->addr, 0) = b->content;
    b->flags = 0;
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

/* I/O space: ISA ports, bus 0, of which none is decoded (a floating bus
 * reads all ones; writes go nowhere).  Checks in the kernel's order:
 * interface/bus/space, then the size, then the alignment. */
static uint32_t io_access(uint32_t iface, uint32_t bus, uint32_t space,
                          uint64_t port, uint32_t *size, uint32_t *value,
                          int write)
{
    uint32_t n = *size;

    *size = 0;
    if (iface != 1 || bus != 0 || space != 1)
        return KDCOM_KD_STATUS_INVALID_PARAMETER;
    if (n != 1 && n != 2 && n != 4)
        return KDCOM_KD_STATUS_INVALID_PARAMETER;
    if ((port & (n - 1)) != 0)
        return KDCOM_KD_STATUS_DATATYPE_MISALIGNMENT;
    if (!write)
        *value = n == 4 ? 0xffffffffu : (1u << (8 * n)) - 1;
    *size = n;
    return KDCOM_KD_STATUS_SUCCESS;
}

static void do_io(uint8_t *ms, int extended, int write)
{
    uint32_t size, value, st;

    if (!extended) {
        size = kdcom_kd_ld32(ms + KDCOM_KD_IO_SIZE);
        value = write ? kdcom_kd_ld32(ms + KDCOM_KD_IO_VALUE) : 0;
        st = io_access(1, 0, 1, kdcom_kd_ld64(ms + KDCOM_KD_IO_ADDRESS),
                       &size, &value, write);
        kdcom_kd_st32(ms + KDCOM_KD_IO_SIZE, size);
        kdcom_kd_st32(ms + KDCOM_KD_IO_VALUE, value);
    } else {
        size = kdcom_kd_ld32(ms + KDCOM_KD_IOX_SIZE);
        value = write ? kdcom_kd_ld32(ms + KDCOM_KD_IOX_VALUE) : 0;
        st = io_access(kdcom_kd_ld32(ms + KDCOM_KD_IOX_INTERFACE_TYPE),
                       kdcom_kd_ld32(ms + KDCOM_KD_IOX_BUS_NUMBER),
                       kdcom_kd_ld32(ms + KDCOM_KD_IOX_ADDRESS_SPACE),
                       kdcom_kd_ld64(ms + KDCOM_KD_IOX_ADDRESS), &size,
                       &value, write);
        kdcom_kd_st32(ms + KDCOM_KD_IOX_SIZE, size);
        kdcom_kd_st32(ms + KDCOM_KD_IOX_VALUE, value);
    }
    reply_status(ms, st);
}

static void do_msr(uint8_t *ms, int write)
{
    uint32_t idx = kdcom_kd_ld32(ms + KDCOM_KD_MSR_INDEX);
    size_t i;

    for (i = 0; i < SIM_NMSR && msr_index[i] != idx; i++)
        ;
    if (i == SIM_NMSR) {
        reply_status(ms, KDCOM_KD_STATUS_NO_SUCH_DEVICE);
        return;
    }
    if (write) {
        msr_value[i] = kdcom_kd_ld32(ms + KDCOM_KD_MSR_LOW) |
                       (uint64_t)kdcom_kd_ld32(ms + KDCOM_KD_MSR_HIGH) << 32;
    } else {
        kdcom_kd_st32(ms + KDCOM_KD_MSR_LOW, (uint32_t)msr_value[i]);
        kdcom_kd_st32(ms + KDCOM_KD_MSR_HIGH, (uint32_t)(msr_value[i] >> 32));
    }
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

/* QueryMemory: user, session or kernel space, always read/write/execute
 * (what the kernel says of any address); only the virtual space can be
 * asked about. */
static void do_query_memory(uint8_t *ms)
{
    uint64_t addr = kdcom_kd_ld64(ms + KDCOM_KD_QUERY_ADDRESS);

    kdcom_kd_st64(ms + KDCOM_KD_QUERY_RESERVED, 0);
    if (kdcom_kd_ld32(ms + KDCOM_KD_QUERY_ADDRESS_SPACE) !=
        KDCOM_KD_QUERY_SPACE_VIRTUAL) {
        reply_status(ms, KDCOM_KD_STATUS_INVALID_PARAMETER);
        return;
    }
    kdcom_kd_st32(ms + KDCOM_KD_QUERY_ADDRESS_SPACE,
                  addr < SIM_USER_LIMIT ? KDCOM_KD_QUERY_SPACE_PROCESS
                                        : KDCOM_KD_QUERY_SPACE_KERNEL);
    kdcom_kd_st32(ms + KDCOM_KD_QUERY_FLAGS,
                  KDCOM_KD_QUERY_MEMORY_READ | KDCOM_KD_QUERY_MEMORY_WRITE |
                      KDCOM_KD_QUERY_MEMORY_EXECUTE);
    reply_status(ms, KDCOM_KD_STATUS_SUCCESS);
}

/* Continue2 with a success status (KdpGetStateChange): the trace flag
 * goes into EFlags.TF, Dr7 into the special registers, Dr6 is cleared. */
static void continue2_state(const uint8_t *ms, int *trace)
{
    uint32_t ef = kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS);

    *trace = kdcom_kd_ld32(ms + KDCOM_KD_CONTINUE2_TRACE_FLAG) != 0;
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS,
                  *trace ? ef | SIM_EFLAGS_TF : ef & ~SIM_EFLAGS_TF);
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_DR7,
                  kdcom_kd_ld64(ms + KDCOM_KD_CONTINUE2_DR7));
    kdcom_kd_st64(special + KDCOM_KD_AMD64_KSPECIAL_DR6, 0);
}

/* Serves one manipulate request.  Returns SIM_RESUME when it resumes the
 * target (*trace set for a single step), SIM_REBOOT for a reboot,
 * SIM_RESELECT to report the state change again, else SIM_SERVED. */
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
        do_get_context(ms);
        return SIM_SERVED;
    case KDCOM_KD_SET_CONTEXT:
        do_set_context(ms, data, dlen);
        return SIM_SERVED;
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        do_context_ex(ms, data, dlen, api == KDCOM_KD_SET_CONTEXT_EX);
        return SIM_SERVED;
    case KDCOM_KD_READ_CONTROL_SPACE:
        do_read_control(ms);
        return SIM_SERVED;
    case KDCOM_KD_WRITE_CONTROL_SPACE:
        do_write_control(ms, data, dlen);
        return SIM_SERVED;
    case KDCOM_KD_WRITE_BREAKPOINT:
        do_write_bp(ms);
        return SIM_SERVED;
    case KDCOM_KD_RESTORE_BREAKPOINT:
        do_restore_bp(ms);
        return SIM_SERVED;
    case KDCOM_KD_READ_IO_SPACE:
    case KDCOM_KD_WRITE_IO_SPACE:
        do_io(ms, 0, api == KDCOM_KD_WRITE_IO_SPACE);
        return SIM_SERVED;
    case KDCOM_KD_READ_IO_SPACE_EXTENDED:
    case KDCOM_KD_WRITE_IO_SPACE_EXTENDED:
        do_io(ms, 1, api == KDCOM_KD_WRITE_IO_SPACE_EXTENDED);
        return SIM_SERVED;
    case KDCOM_KD_READ_MSR:
    case KDCOM_KD_WRITE_MSR:
        do_msr(ms, api == KDCOM_KD_WRITE_MSR);
        return SIM_SERVED;
    case KDCOM_KD_QUERY_MEMORY:
        do_query_memory(ms);
        return SIM_SERVED;
    case KDCOM_KD_CLEAR_ALL_INTERNAL_BREAKPOINTS:
        /* No internal breakpoints; the kernel sends no answer to this. */
        return SIM_SERVED;
    case KDCOM_KD_SWITCH_PROCESSOR:
        /* One processor: it is reselected, and its state change is
         * reported again. */
        return SIM_RESELECT;
    case KDCOM_KD_CONTINUE:
        /* Any status resumes (a failure leaves the exception unhandled). */
        *trace = 0;
        return SIM_RESUME;
    case KDCOM_KD_CONTINUE2:
        *trace = 0;
        if (kdcom_kd_nt_success(kdcom_kd_ld32(ms + KDCOM_KD_CONTINUE_STATUS)))
            continue2_state(ms, trace);
        return SIM_RESUME;
    case KDCOM_KD_REBOOT:
        /* Windows answers nothing: it reboots. */
        return SIM_REBOOT;
    default:
        /* What the kernel does with a request it does not know or does
         * not support (CauseBugCheck included: this kernel does not
         * crash): STATUS_UNSUCCESSFUL, no data. */
        reply_status(ms, KDCOM_KD_STATUS_UNSUCCESSFUL);
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
    /* The debugger must read the context of this stop before it sets
     * one (the kernel's KdpContextSent). */
    context_sent = 0;
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
        if (r == SIM_RESELECT)
            goto resend;
    }
}

/* A stop in DbgBreakPointWithStatus, where break-ins and the initial
 * breakpoint stop on Windows: the int 3 at SIM_BREAK_PC.  As an x64
 * kernel reports an int 3: ExceptionAddress and ProgramCounter both the
 * address of the int 3, NumberParameters 1, ExceptionInformation[0]
 * BREAKPOINT_BREAK, first chance; the instruction stream starts with cc.
 * A single step reports STATUS_SINGLE_STEP at the next instruction (one
 * byte here), without parameters. */
static int report_breakpoint(void)
{
    uint8_t sc[KDCOM_KD_SC_SIZE];
    uint64_t pc = SIM_BREAK_PC;
    int rc;

    kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RIP, pc);
    sc_header(sc, KDCOM_KD_STATE_EXCEPTION);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_CODE, KDCOM_KD_STATUS_BREAKPOINT);
    kdcom_kd_st64(sc + KDCOM_KD_EXC_ADDRESS, pc);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_NUMBER_PARAMS, 1);
    kdcom_kd_st64(sc + KDCOM_KD_EXC_INFORMATION, KDCOM_KD_BREAKPOINT_BREAK);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_FIRST_CHANCE, 1);
    while ((rc = send_wait_continue(sc, NULL, 0)) == 1) {
        /* Single step: one "instruction" is one byte here. */
        pc = kdcom_kd_ld64(ctx + KDCOM_KD_AMD64_CTX_RIP) + 1;
        kdcom_kd_st64(ctx + KDCOM_KD_AMD64_CTX_RIP, pc);
        sc_header(sc, KDCOM_KD_STATE_EXCEPTION);
        kdcom_kd_st32(sc + KDCOM_KD_EXC_CODE, KDCOM_KD_STATUS_SINGLE_STEP);
        kdcom_kd_st64(sc + KDCOM_KD_EXC_ADDRESS, pc);
        kdcom_kd_st32(sc + KDCOM_KD_EXC_FIRST_CHANCE, 1);
    }
    /* Running again: no trace flag left behind. */
    kdcom_kd_st32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS,
                  kdcom_kd_ld32(ctx + KDCOM_KD_AMD64_CTX_EFLAGS) &
                      ~SIM_EFLAGS_TF);
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

/* Every symbol table unloaded: UnloadSymbols 1, BaseOfDll -1, no path
 * (PathNameLength 0, no message data), what Windows reports when it shuts
 * down; a debugger drops all its modules. */
static int report_unload_all(void)
{
    uint8_t sc[KDCOM_KD_SC_SIZE];
    int rc;

    sc_header(sc, KDCOM_KD_STATE_LOAD_SYMBOLS);
    kdcom_kd_st32(sc + KDCOM_KD_LS_PATH_LENGTH, 0);
    kdcom_kd_st64(sc + KDCOM_KD_LS_BASE_OF_DLL, KDCOM_KD_LS_BASE_ALL);
    sc[KDCOM_KD_LS_UNLOAD] = 1;
    rc = send_wait_continue(sc, NULL, 0);
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
    int rc = 0, unloaded = 0;

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
    if (o->initial_break && (rc = report_breakpoint()) < 0)
        goto out;
    start = sim_clock_ms();
    next_beat = start + o->print_interval_ms;
    print_counted("running (resume ", resumes);
    while (!sim_stop_requested()) {
        uint64_t now = sim_clock_ms();
        if (o->run_ms && now - start >= o->run_ms)
            break;
        if (unload_after_ms != 0 && !unloaded &&
            now - start >= unload_after_ms) {
            unloaded = 1;
            note("unloading all symbol tables");
            dbg_print("simkernel: unloading modules\n");
            if ((rc = report_unload_all()) < 0)
                break;
            continue;
        }
        if (poll_breakin()) {
            note("break-in");
            if ((rc = report_breakpoint()) < 0)
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
