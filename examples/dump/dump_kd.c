/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_kd.c - the KD message inside a data packet, as a list of named
 * fields (include/kdcom_kd.h's layouts).  Field names and formats follow
 * the decoded trace of the example programs (--trace decode), so the two
 * read alike; kdcom-dump adds fields the trace leaves out.
 *
 * Every read is checked against the payload length first: a field is
 * only decoded when the message header is complete, and strings only
 * take bytes that are in the packet.
 */
#include <string.h>

#include <kdcom_kd.h>

#include "dump_int.h"

/* The next free field (a spare one, never printed, once all are used). */
static struct dkd_field *next_field(struct dkd *d, const char *key, int fmt)
{
    static struct dkd_field spare;
    struct dkd_field *f = d->nf < DKD_MAX ? &d->f[d->nf++] : &spare;

    memset(f, 0, sizeof *f);
    f->key = key;
    f->fmt = fmt;
    return f;
}

static void add(struct dkd *d, const char *key, int fmt, uint64_t u)
{
    next_field(d, key, fmt)->u = u;
}

static void add_pair(struct dkd *d, const char *key, uint64_t a, uint64_t b)
{
    struct dkd_field *f = next_field(d, key, DKD_PAIR);

    f->u = a;
    f->u2 = b;
}

static void add_str(struct dkd *d, const char *key, int fmt,
                    const uint8_t *s, size_t len)
{
    struct dkd_field *f = next_field(d, key, fmt);

    f->s = s;
    f->slen = len;
}

static void manipulate(const uint8_t *p, struct dkd *d)
{
    uint32_t st = kdcom_kd_ld32(p + KDCOM_KD_MS_RETURN_STATUS);

    switch (d->api) {
    case KDCOM_KD_READ_VIRTUAL_MEMORY:
    case KDCOM_KD_WRITE_VIRTUAL_MEMORY:
    case KDCOM_KD_READ_PHYSICAL_MEMORY:
    case KDCOM_KD_WRITE_PHYSICAL_MEMORY:
    case KDCOM_KD_READ_CONTROL_SPACE:
    case KDCOM_KD_WRITE_CONTROL_SPACE:
        add(d, "addr", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_MEM_ADDRESS));
        add(d, "count", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_MEM_COUNT));
        add(d, "actual", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_MEM_ACTUAL));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_CONTINUE:
        add(d, "continue_status", DKD_HEX32,
            kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS));
        break;
    case KDCOM_KD_CONTINUE2:
        add(d, "continue_status", DKD_HEX32,
            kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS));
        add(d, "trace", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_CONTINUE2_TRACE_FLAG));
        add(d, "dr7", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_CONTINUE2_DR7));
        break;
    case KDCOM_KD_GET_VERSION:
        add(d, "status", DKD_HEX32, st);
        add(d, "major", DKD_HEX, kdcom_kd_ld16(p + KDCOM_KD_VERSION_MAJOR));
        add(d, "build", DKD_DEC, kdcom_kd_ld16(p + KDCOM_KD_VERSION_MINOR));
        add(d, "machine", DKD_HEX4,
            kdcom_kd_ld16(p + KDCOM_KD_VERSION_MACHINE));
        add(d, "kernbase", DKD_HEX,
            kdcom_kd_ld64(p + KDCOM_KD_VERSION_KERN_BASE));
        add(d, "protocol", DKD_DEC, p[KDCOM_KD_VERSION_PROTOCOL]);
        add(d, "flags", DKD_HEX, kdcom_kd_ld16(p + KDCOM_KD_VERSION_FLAGS));
        add(d, "modules", DKD_HEX,
            kdcom_kd_ld64(p + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST));
        add(d, "debugger_data", DKD_HEX,
            kdcom_kd_ld64(p + KDCOM_KD_VERSION_DEBUGGER_DATA_LIST));
        break;
    case KDCOM_KD_WRITE_BREAKPOINT:
    case KDCOM_KD_WRITE_BREAKPOINT_EX:
        add(d, "addr", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_BP_ADDRESS));
        add(d, "handle", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_BP_HANDLE));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_RESTORE_BREAKPOINT:
    case KDCOM_KD_RESTORE_BREAKPOINT_EX:
        add(d, "handle", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_BP_RESTORE_HANDLE));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_READ_IO_SPACE:
    case KDCOM_KD_WRITE_IO_SPACE:
        add(d, "addr", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_IO_ADDRESS));
        add(d, "size", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_IO_SIZE));
        add(d, "value", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_IO_VALUE));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_READ_IO_SPACE_EXTENDED:
    case KDCOM_KD_WRITE_IO_SPACE_EXTENDED:
        add(d, "addr", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_IOX_ADDRESS));
        add(d, "size", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_IOX_SIZE));
        add(d, "value", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_IOX_VALUE));
        add(d, "interface", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_IOX_INTERFACE_TYPE));
        add(d, "bus", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_IOX_BUS_NUMBER));
        add(d, "space", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_IOX_ADDRESS_SPACE));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_READ_MSR:
    case KDCOM_KD_WRITE_MSR:
        add(d, "msr", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_MSR_INDEX));
        add(d, "value", DKD_HEX,
            (uint64_t)kdcom_kd_ld32(p + KDCOM_KD_MSR_LOW) |
                ((uint64_t)kdcom_kd_ld32(p + KDCOM_KD_MSR_HIGH) << 32));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_QUERY_MEMORY:
        add(d, "addr", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_QUERY_ADDRESS));
        add(d, "space", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_QUERY_ADDRESS_SPACE));
        add(d, "flags", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_QUERY_FLAGS));
        add(d, "status", DKD_HEX32, st);
        break;
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        add(d, "offset", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_OFFSET));
        add(d, "count", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_COUNT));
        add(d, "copied", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_CONTEXT_EX_COPIED));
        add(d, "status", DKD_HEX32, st);
        break;
    default:
        add(d, "status", DKD_HEX32, st);
        break;
    }
    add(d, "cpu", DKD_DEC, kdcom_kd_ld16(p + KDCOM_KD_MS_PROCESSOR));
}

/* Bytes of a NUL-terminated string in p[0..n), without the NUL. */
static size_t cstr_len(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] != 0)
        i++;
    return i;
}

static void state_change(const uint8_t *p, size_t len, struct dkd *d)
{
    size_t hs = KDCOM_KD_SC_SIZE;

    switch (d->api) {
    case KDCOM_KD_STATE_EXCEPTION:
        add(d, "code", DKD_HEX32, kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE));
        add(d, "pc", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER));
        add_pair(d, "cpu", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                 kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS));
        add(d, "first_chance", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_EXC_FIRST_CHANCE));
        add(d, "exception_addr", DKD_HEX,
            kdcom_kd_ld64(p + KDCOM_KD_EXC_ADDRESS));
        add(d, "thread", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_THREAD));
        break;
    case KDCOM_KD_STATE_LOAD_SYMBOLS: {
        size_t n = cstr_len(p + hs, len - hs);
        add(d, "base", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_LS_BASE_OF_DLL));
        add(d, "size", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_LS_SIZE_OF_IMAGE));
        add_str(d, "path", DKD_STR, p + hs, n);
        add(d, "unload", DKD_DEC, p[KDCOM_KD_LS_UNLOAD]);
        add(d, "pid", DKD_DEC, kdcom_kd_ld64(p + KDCOM_KD_LS_PROCESS_ID));
        add(d, "pc", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER));
        add_pair(d, "cpu", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                 kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS));
        break;
    }
    case KDCOM_KD_STATE_COMMAND_STRING: {
        size_t n = cstr_len(p + hs, len - hs);
        add_str(d, "command", DKD_STR, p + hs, n);
        add(d, "pc", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER));
        add_pair(d, "cpu", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                 kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS));
        break;
    }
    default:
        add(d, "pc", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER));
        add_pair(d, "cpu", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                 kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS));
        break;
    }
}

static void debug_io(const uint8_t *p, size_t len, struct dkd *d)
{
    size_t hs = KDCOM_KD_DIO_SIZE;
    uint32_t slen = kdcom_kd_ld32(p + KDCOM_KD_DIO_LENGTH);

    add(d, "len", DKD_DEC, slen);
    if (d->api == KDCOM_KD_GET_STRING)
        add(d, "read", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_DIO_STRING_READ));
    /* The string is the message data (LengthOfString says how long it
     * should be; the packet decides how long it is). */
    add_str(d, "text", DKD_STR, p + hs, len - hs);
    add(d, "cpu", DKD_DEC, kdcom_kd_ld16(p + KDCOM_KD_DIO_PROCESSOR));
}

static void file_io(const uint8_t *p, size_t len, struct dkd *d)
{
    size_t hs = KDCOM_KD_FIO_SIZE;

    add(d, "status", DKD_HEX32, kdcom_kd_ld32(p + KDCOM_KD_FIO_STATUS));
    switch (d->api) {
    case KDCOM_KD_CREATE_FILE: {
        size_t n = (len - hs) & ~(size_t)1, i;
        /* up to the UTF-16 NUL */
        for (i = 0; i + 1 < n; i += 2)
            if (p[hs + i] == 0 && p[hs + i + 1] == 0)
                break;
        add(d, "access", DKD_HEX,
            kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_ACCESS));
        add(d, "share", DKD_HEX, kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_SHARE));
        add(d, "disposition", DKD_DEC,
            kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_DISPOSITION));
        add(d, "options", DKD_HEX,
            kdcom_kd_ld32(p + KDCOM_KD_FIO_CREATE_OPTIONS));
        add(d, "handle", DKD_HEX,
            kdcom_kd_ld64(p + KDCOM_KD_FIO_CREATE_HANDLE));
        add(d, "file_size", DKD_DEC,
            kdcom_kd_ld64(p + KDCOM_KD_FIO_CREATE_LENGTH));
        add_str(d, "file", DKD_UTF16, p + hs, i < n ? i : n);
        break;
    }
    case KDCOM_KD_READ_FILE:
    case KDCOM_KD_WRITE_FILE:
        add(d, "handle", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_FIO_HANDLE));
        add(d, "offset", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_FIO_OFFSET));
        add(d, "length", DKD_DEC, kdcom_kd_ld32(p + KDCOM_KD_FIO_LENGTH));
        break;
    case KDCOM_KD_CLOSE_FILE:
        add(d, "handle", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_FIO_HANDLE));
        break;
    default:
        break;
    }
}

void dkd_decode(uint32_t type, const uint8_t *p, size_t len, struct dkd *d)
{
    memset(d, 0, sizeof *d);
    d->header_size = kdcom_kd_header_size(type);
    if (d->header_size == 0 || len < 4 || p == NULL) {
        d->data_len = len;
        return;
    }
    d->have_api = 1;
    d->api = kdcom_kd_ld32(p);
    d->name = kdcom_kd_api_name(d->api);
    if (len < d->header_size) {
        d->short_header = 1;
        return;
    }
    d->data_len = len - d->header_size;
    switch (type) {
    case KDCOM_TYPE_STATE_MANIPULATE:
        manipulate(p, d);
        break;
    case KDCOM_TYPE_STATE_CHANGE64:
        state_change(p, len, d);
        break;
    case KDCOM_TYPE_DEBUG_IO:
        debug_io(p, len, d);
        break;
    case KDCOM_TYPE_FILE_IO:
        file_io(p, len, d);
        break;
    default:
        break;
    }
}
