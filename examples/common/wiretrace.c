/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wiretrace.c - hex and decoded traces of KDCOM traffic (see wiretrace.h).
 * Decoding runs libkdcom's own streaming parser on each direction, so the
 * trace shows exactly the frames a link would see, damaged ones included.
 */
#include "wiretrace.h"
#include "pcapng.h"

#include <stdarg.h>
#include <string.h>

#include <kdcom_kd.h>

int wt_parse_mode(const char *s)
{
    if (strcmp(s, "hex") == 0)
        return WT_HEX;
    if (strcmp(s, "decode") == 0 || strcmp(s, "decoded") == 0)
        return WT_DECODE;
    if (strcmp(s, "off") == 0 || strcmp(s, "none") == 0)
        return WT_OFF;
    return -1;
}

void wt_init(struct wiretrace *wt, int mode, FILE *out)
{
    wt->mode = mode;
    wt->out = out;
    wt->pcap = NULL;
    wt_reset(wt);
}

void wt_reset(struct wiretrace *wt)
{
    kdcom_parser_init(&wt->p[0]);
    kdcom_parser_init(&wt->p[1]);
}

/* Text appended to a description, cut silently at the end of buf. */
struct desc {
    char *buf;
    size_t cap, len;
};

static void add(struct desc *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add(struct desc *d, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (d->len + 1 >= d->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->len += (size_t)n < d->cap - d->len ? (size_t)n
                                              : d->cap - d->len - 1;
}

static void add_status(struct desc *d, uint32_t st)
{
    const char *n = kdcom_kd_status_name(st);

    if (n != NULL)
        add(d, " status=0x%08x (%s)", (unsigned)st, n);
    else
        add(d, " status=0x%08x", (unsigned)st);
}

/* Printable text of n bytes (ASCII, or UTF-16LE when wide), up to a NUL,
 * at most 60 characters, quoted. */
static void add_text(struct desc *d, const uint8_t *p, size_t n, int wide)
{
    size_t i, o = 0, step = wide ? 2 : 1;
    char text[64];

    for (i = 0; i + step <= n && o + 3 < sizeof text; i += step) {
        uint8_t c = p[i];
        if (c == 0 && (!wide || p[i + 1] == 0))
            break;
        if (c == '\n') {
            text[o++] = '\\';
            text[o++] = 'n';
        } else {
            text[o++] = (c >= 0x20 && c < 0x7f && (!wide || p[i + 1] == 0))
                            ? (char)c : '.';
        }
    }
    text[o] = '\0';
    add(d, "\"%s%s\"", text, i + step <= n && p[i] != 0 ? "..." : "");
}

static int is_memory_api(uint32_t api)
{
    return api == KDCOM_KD_READ_VIRTUAL_MEMORY ||
           api == KDCOM_KD_WRITE_VIRTUAL_MEMORY ||
           api == KDCOM_KD_READ_PHYSICAL_MEMORY ||
           api == KDCOM_KD_WRITE_PHYSICAL_MEMORY ||
           api == KDCOM_KD_READ_CONTROL_SPACE ||
           api == KDCOM_KD_WRITE_CONTROL_SPACE;
}

/* DBGKD_MANIPULATE_STATE64.  A request (debugger to target) carries the
 * request's fields; a reply (target to debugger) the status and what the
 * target filled in.  Direction unknown (dir < 0): the fields both have. */
static void describe_manipulate(struct desc *d, const uint8_t *p, size_t len,
                                int dir)
{
    uint32_t api = kdcom_kd_ld32(p);
    uint32_t st = kdcom_kd_ld32(p + KDCOM_KD_MS_RETURN_STATUS);
    size_t data = len - KDCOM_KD_MS_SIZE;
    int req = dir > 0, rep = dir == 0;

    add(d, "%s", kdcom_kd_api_name(api));
    if (kdcom_kd_manipulate_name(api) == NULL)
        add(d, " (0x%04x)", (unsigned)api);
    add(d, "%s", req ? " request" : rep ? " reply" : "");
    if (!req)
        add_status(d, st);
    if (is_memory_api(api)) {
        int write = api == KDCOM_KD_WRITE_VIRTUAL_MEMORY ||
                    api == KDCOM_KD_WRITE_PHYSICAL_MEMORY ||
                    api == KDCOM_KD_WRITE_CONTROL_SPACE;
        add(d, " addr=0x%llx count=%u",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_MEM_ADDRESS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_MEM_COUNT));
        if (!req)
            add(d, " actual=%u", (unsigned)kdcom_kd_ld32(p +
                                                     KDCOM_KD_MEM_ACTUAL));
        if (data != 0 || (req && write) || (rep && !write))
            add(d, " data=%zu", data);
        return;
    }
    switch (api) {
    case KDCOM_KD_GET_VERSION: {
        uint16_t major = kdcom_kd_ld16(p + KDCOM_KD_VERSION_MAJOR);
        unsigned bt = major & 0xFFu;
        if (req)
            return;
        /* MajorVersion: the debugger type (high byte) by name, then the
         * build type (low byte). */
        add(d, " major=0x%x (%s debugger, %s build) build=%u protocol=%u "
            "flags=0x%x machine=0x%04x kernbase=0x%llx", (unsigned)major,
            kdcom_kd_major_type_name(major),
            bt == KDCOM_KD_BUILD_FREE      ? "free"
            : bt == KDCOM_KD_BUILD_CHECKED ? "checked"
                                           : "unknown",
            (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_MINOR),
            (unsigned)p[KDCOM_KD_VERSION_PROTOCOL],
            (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_FLAGS),
            (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_MACHINE),
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_VERSION_KERN_BASE));
        return;
    }
    case KDCOM_KD_CONTINUE:
        add(d, " continue_status=0x%08x",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS));
        return;
    case KDCOM_KD_CONTINUE2:
        add(d, " continue_status=0x%08x trace=%u dr7=0x%llx",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTINUE2_TRACE_FLAG),
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_CONTINUE2_DR7));
        return;
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        add(d, " offset=%u count=%u",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_OFFSET),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_COUNT));
        if (!req)
            add(d, " copied=%u",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_COPIED));
        break;
    case KDCOM_KD_WRITE_BREAKPOINT:
        add(d, " addr=0x%llx",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_BP_ADDRESS));
        if (!req)
            add(d, " handle=%u",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_BP_HANDLE));
        return;
    case KDCOM_KD_RESTORE_BREAKPOINT:
        add(d, " handle=%u",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_BP_RESTORE_HANDLE));
        return;
    case KDCOM_KD_READ_IO_SPACE:
    case KDCOM_KD_WRITE_IO_SPACE:
        add(d, " addr=0x%llx size=%u",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_IO_ADDRESS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IO_SIZE));
        if (api == KDCOM_KD_WRITE_IO_SPACE || !req)
            add(d, " value=0x%x",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IO_VALUE));
        return;
    case KDCOM_KD_READ_IO_SPACE_EXTENDED:
    case KDCOM_KD_WRITE_IO_SPACE_EXTENDED:
        add(d, " interface=%u bus=%u space=%u addr=0x%llx size=%u",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IOX_INTERFACE_TYPE),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IOX_BUS_NUMBER),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IOX_ADDRESS_SPACE),
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_IOX_ADDRESS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IOX_SIZE));
        if (api == KDCOM_KD_WRITE_IO_SPACE_EXTENDED || !req)
            add(d, " value=0x%x",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_IOX_VALUE));
        return;
    case KDCOM_KD_READ_MSR:
    case KDCOM_KD_WRITE_MSR:
        add(d, " msr=0x%x", (unsigned)kdcom_kd_ld32(p + KDCOM_KD_MSR_INDEX));
        if (api == KDCOM_KD_WRITE_MSR || !req)
            add(d, " value=0x%llx",
                (unsigned long long)kdcom_kd_ld32(p + KDCOM_KD_MSR_LOW) |
                    (unsigned long long)kdcom_kd_ld32(p + KDCOM_KD_MSR_HIGH)
                        << 32);
        return;
    case KDCOM_KD_QUERY_MEMORY:
        add(d, " addr=0x%llx space=%u",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_QUERY_ADDRESS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_QUERY_ADDRESS_SPACE));
        if (!req)
            add(d, " flags=0x%x",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_QUERY_FLAGS));
        return;
    case KDCOM_KD_GET_CONTEXT:
    case KDCOM_KD_SET_CONTEXT:
    case KDCOM_KD_SWITCH_PROCESSOR:
        add(d, " cpu=%u", (unsigned)kdcom_kd_ld16(p + KDCOM_KD_MS_PROCESSOR));
        break;
    default:
        break;
    }
    if (data != 0)
        add(d, " data=%zu", data);
}

static void describe_state_change(struct desc *d, const uint8_t *p,
                                  size_t len)
{
    uint32_t api = kdcom_kd_ld32(p);
    size_t data = len - KDCOM_KD_SC_SIZE;

    if (api == KDCOM_KD_STATE_EXCEPTION) {
        uint32_t code = kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE);
        const char *cn = kdcom_kd_status_name(code);
        add(d, "%s code=0x%08x%s%s%s exception_addr=0x%llx pc=0x%llx "
            "cpu=%u/%u first_chance=%u",
            kdcom_kd_api_name(api), (unsigned)code, cn ? " (" : "",
            cn ? cn : "", cn ? ")" : "",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_EXC_ADDRESS),
            (unsigned long long)kdcom_kd_ld64(p +
                                              KDCOM_KD_SC_PROGRAM_COUNTER),
            (unsigned)kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_EXC_FIRST_CHANCE));
    } else if (api == KDCOM_KD_STATE_LOAD_SYMBOLS) {
        uint64_t base = kdcom_kd_ld64(p + KDCOM_KD_LS_BASE_OF_DLL);
        if (p[KDCOM_KD_LS_UNLOAD]) {
            add(d, "%s unload base=0x%llx%s", kdcom_kd_api_name(api),
                (unsigned long long)base,
                base == KDCOM_KD_LS_BASE_ALL ? " (all modules)" : "");
        } else {
            add(d, "%s load base=0x%llx size=0x%x", kdcom_kd_api_name(api),
                (unsigned long long)base,
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_LS_SIZE_OF_IMAGE));
        }
        if (data != 0 || kdcom_kd_ld32(p + KDCOM_KD_LS_PATH_LENGTH) != 0) {
            add(d, " path=");
            add_text(d, p + KDCOM_KD_SC_SIZE, data, 0);
        }
    } else {
        add(d, "%s (0x%04x) data=%zu", kdcom_kd_api_name(api),
            (unsigned)api, data);
    }
}

/* DBGKD_DEBUG_IO: PrintString and GetString's prompt come from the target,
 * GetString's answer from the debugger. */
static void describe_debug_io(struct desc *d, const uint8_t *p, size_t len,
                              int dir)
{
    uint32_t api = kdcom_kd_ld32(p);
    size_t data = len - KDCOM_KD_DIO_SIZE;

    add(d, "%s", kdcom_kd_api_name(api));
    if (api == KDCOM_KD_GET_STRING) {
        /* The prompt's length, and the length of the answer: the most the
         * target takes (prompt) or what the debugger gives (reply). */
        add(d, "%s", dir > 0 ? " reply" : dir == 0 ? " prompt" : "");
        if (dir <= 0)
            add(d, " len=%u", (unsigned)kdcom_kd_ld32(p + KDCOM_KD_DIO_LENGTH));
        add(d, " read=%u",
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_DIO_STRING_READ));
    } else {
        add(d, " len=%u", (unsigned)kdcom_kd_ld32(p + KDCOM_KD_DIO_LENGTH));
    }
    if (data != 0) {
        add(d, " ");
        add_text(d, p + KDCOM_KD_DIO_SIZE, data, 0);
    }
}

/* DBGKD_FILE_IO: the target asks (target to debugger), the debugger
 * answers with the status and what it filled in. */
static void describe_file_io(struct desc *d, const uint8_t *p, size_t len,
                             int dir)
{
    uint32_t api = kdcom_kd_ld32(p);
    size_t data = len - KDCOM_KD_FIO_SIZE;
    int req = dir == 0, rep = dir > 0;

    add(d, "%s%s", kdcom_kd_api_name(api),
        req ? " request" : rep ? " reply" : "");
    if (!req)
        add_status(d, kdcom_kd_ld32(p + KDCOM_KD_FIO_STATUS));
    switch (api) {
    case KDCOM_KD_CREATE_FILE:
        if (!rep) {
            add(d, " access=0x%x disposition=%u file=",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_ACCESS),
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_DISPOSITION));
            add_text(d, p + KDCOM_KD_FIO_SIZE, data, 1);
        }
        if (!req)
            add(d, " handle=0x%llx file_size=%llu",
                (unsigned long long)kdcom_kd_ld64(p +
                                                  KDCOM_KD_FIO_CREATE_HANDLE),
                (unsigned long long)kdcom_kd_ld64(p +
                                                  KDCOM_KD_FIO_CREATE_LENGTH));
        return;
    case KDCOM_KD_READ_FILE:
    case KDCOM_KD_WRITE_FILE:
        add(d, " handle=0x%llx offset=0x%llx length=%u",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_FIO_HANDLE),
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_FIO_OFFSET),
            (unsigned)kdcom_kd_ld32(p + KDCOM_KD_FIO_LENGTH));
        break;
    case KDCOM_KD_CLOSE_FILE:
        add(d, " handle=0x%llx",
            (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_FIO_HANDLE));
        break;
    default:
        add(d, " (0x%04x)", (unsigned)api);
        break;
    }
    if (data != 0)
        add(d, " data=%zu", data);
}

void kd_describe(uint32_t type, const uint8_t *p, size_t len, int to_target,
                 char *buf, size_t cap)
{
    struct desc d;
    uint32_t api;
    size_t hs = kdcom_kd_header_size(type);

    if (cap == 0)
        return;
    d.buf = buf;
    d.cap = cap;
    d.len = 0;
    buf[0] = '\0';
    if (hs == 0 || len < 4) {
        add(&d, "%zu bytes", len);
        return;
    }
    api = kdcom_kd_ld32(p);
    if (len < hs) {
        add(&d, "%s (short: %zu of %zu header bytes)",
            kdcom_kd_api_name(api), len, hs);
        return;
    }
    switch (type) {
    case KDCOM_TYPE_STATE_MANIPULATE:
        describe_manipulate(&d, p, len, to_target);
        return;
    case KDCOM_TYPE_STATE_CHANGE64:
        describe_state_change(&d, p, len);
        return;
    case KDCOM_TYPE_DEBUG_IO:
        describe_debug_io(&d, p, len, to_target);
        return;
    case KDCOM_TYPE_FILE_IO:
        describe_file_io(&d, p, len, to_target);
        return;
    default:
        add(&d, "%s (0x%04x) data=%zu", kdcom_kd_api_name(api),
            (unsigned)api, len - hs);
        return;
    }
}

static void decode(struct wiretrace *wt, int to_target, const uint8_t *b,
                   size_t n)
{
    const char *dir = to_target ? "D>T" : "T>D";
    struct kdcom_parser *p = &wt->p[to_target ? 0 : 1];
    char desc[400];

    while (n > 0) {
        struct kdcom_frame f;
        int used = kdcom_parse(p, b, n, &f);
        if (used < 0)
            return;
        b += used;
        n -= (size_t)used;
        switch (f.kind) {
        case KDCOM_FRAME_NONE:
            break;
        case KDCOM_FRAME_BREAKIN:
            fprintf(wt->out, "%s BREAKIN 'b'\n", dir);
            break;
        case KDCOM_FRAME_CONTROL:
            fprintf(wt->out, "%s %s id=0x%08x\n", dir,
                    kdcom_packet_type_name(f.type), (unsigned)f.id);
            break;
        case KDCOM_FRAME_DATA:
            kd_describe(f.type, f.payload, f.payload_len, to_target, desc,
                        sizeof desc);
            fprintf(wt->out, "%s %s id=0x%08x len=%u %s\n", dir,
                    kdcom_packet_type_name(f.type), (unsigned)f.id,
                    (unsigned)f.byte_count, desc);
            break;
        case KDCOM_FRAME_BAD_SIZE:
            fprintf(wt->out, "%s BAD ByteCount=%u type=%u (skipped)\n", dir,
                    (unsigned)f.byte_count, (unsigned)f.type);
            break;
        case KDCOM_FRAME_BAD_TRAILER:
            fprintf(wt->out, "%s BAD trailer 0x%02x %s id=0x%08x\n", dir,
                    (unsigned)f.trailer, kdcom_packet_type_name(f.type),
                    (unsigned)f.id);
            break;
        case KDCOM_FRAME_BAD_CHECKSUM:
            fprintf(wt->out, "%s BAD checksum 0x%08x != 0x%08x %s id=0x%08x\n",
                    dir, (unsigned)f.checksum, (unsigned)f.computed_checksum,
                    kdcom_packet_type_name(f.type), (unsigned)f.id);
            break;
        default:
            break;
        }
    }
}

void wt_bytes(struct wiretrace *wt, int to_target, const uint8_t *b,
              size_t n)
{
    size_t i;

    if (wt != NULL && wt->pcap != NULL)
        pcapng_bytes(wt->pcap, to_target, b, n); /* whatever the mode */
    if (wt == NULL || wt->mode == WT_OFF || n == 0)
        return;
    if (wt->mode == WT_DECODE) {
        decode(wt, to_target, b, n);
    } else {
        fputs(to_target ? "D>T" : "T>D", wt->out);
        for (i = 0; i < n; i++)
            fprintf(wt->out, " %02x", b[i]);
        fputc('\n', wt->out);
    }
    fflush(wt->out);
}
