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

/* A fixed-size field of a message header: its key and format, its width
 * in bytes (1, 2, 4 or 8, little-endian) and its offset. */
struct kd_field {
    const char *key;
    unsigned char fmt, width;
    unsigned short off;
};

static uint64_t load(const uint8_t *p, unsigned width)
{
    switch (width) {
    case 1:
        return p[0];
    case 2:
        return kdcom_kd_ld16(p);
    case 4:
        return kdcom_kd_ld32(p);
    default:
        return kdcom_kd_ld64(p);
    }
}

static void add_fields(struct dkd *d, const uint8_t *p,
                       const struct kd_field *f)
{
    for (; f->key != NULL; f++)
        add(d, f->key, f->fmt, load(p + f->off, f->width));
}

#define END {NULL, 0, 0, 0}
#define STATUS {"status", DKD_HEX32, 4, KDCOM_KD_MS_RETURN_STATUS}

/* DBGKD_MANIPULATE_STATE64's union, per request (the reply has the same
 * layout; ReturnStatus and Processor are common). */
static const struct kd_field mem_fields[] = {
    {"addr", DKD_HEX, 8, KDCOM_KD_MEM_ADDRESS},
    {"count", DKD_DEC, 4, KDCOM_KD_MEM_COUNT},
    {"actual", DKD_DEC, 4, KDCOM_KD_MEM_ACTUAL}, STATUS, END};
static const struct kd_field continue_fields[] = {
    {"continue_status", DKD_HEX32, 4, KDCOM_KD_CONTINUE_STATUS}, END};
static const struct kd_field continue2_fields[] = {
    {"continue_status", DKD_HEX32, 4, KDCOM_KD_CONTINUE_STATUS},
    {"trace", DKD_DEC, 4, KDCOM_KD_CONTINUE2_TRACE_FLAG},
    {"dr7", DKD_HEX, 4, KDCOM_KD_CONTINUE2_DR7}, END};
static const struct kd_field version_fields[] = {
    STATUS,
    {"major", DKD_HEX, 2, KDCOM_KD_VERSION_MAJOR},
    {"build", DKD_DEC, 2, KDCOM_KD_VERSION_MINOR},
    {"machine", DKD_HEX4, 2, KDCOM_KD_VERSION_MACHINE},
    {"kernbase", DKD_HEX, 8, KDCOM_KD_VERSION_KERN_BASE},
    {"protocol", DKD_DEC, 1, KDCOM_KD_VERSION_PROTOCOL},
    {"flags", DKD_HEX, 2, KDCOM_KD_VERSION_FLAGS},
    {"modules", DKD_HEX, 8, KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST},
    {"debugger_data", DKD_HEX, 8, KDCOM_KD_VERSION_DEBUGGER_DATA_LIST},
    END};
static const struct kd_field bp_fields[] = {
    {"addr", DKD_HEX, 8, KDCOM_KD_BP_ADDRESS},
    {"handle", DKD_DEC, 4, KDCOM_KD_BP_HANDLE}, STATUS, END};
static const struct kd_field bp_restore_fields[] = {
    {"handle", DKD_DEC, 4, KDCOM_KD_BP_RESTORE_HANDLE}, STATUS, END};
static const struct kd_field io_fields[] = {
    {"addr", DKD_HEX, 8, KDCOM_KD_IO_ADDRESS},
    {"size", DKD_DEC, 4, KDCOM_KD_IO_SIZE},
    {"value", DKD_HEX, 4, KDCOM_KD_IO_VALUE}, STATUS, END};
static const struct kd_field iox_fields[] = {
    {"addr", DKD_HEX, 8, KDCOM_KD_IOX_ADDRESS},
    {"size", DKD_DEC, 4, KDCOM_KD_IOX_SIZE},
    {"value", DKD_HEX, 4, KDCOM_KD_IOX_VALUE},
    {"interface", DKD_DEC, 4, KDCOM_KD_IOX_INTERFACE_TYPE},
    {"bus", DKD_DEC, 4, KDCOM_KD_IOX_BUS_NUMBER},
    {"space", DKD_DEC, 4, KDCOM_KD_IOX_ADDRESS_SPACE}, STATUS, END};
/* DataValueLowPart and DataValueHighPart are adjacent: one 64-bit value. */
static const struct kd_field msr_fields[] = {
    {"msr", DKD_HEX, 4, KDCOM_KD_MSR_INDEX},
    {"value", DKD_HEX, 8, KDCOM_KD_MSR_LOW}, STATUS, END};
static const struct kd_field query_fields[] = {
    {"addr", DKD_HEX, 8, KDCOM_KD_QUERY_ADDRESS},
    {"space", DKD_DEC, 4, KDCOM_KD_QUERY_ADDRESS_SPACE},
    {"flags", DKD_HEX, 4, KDCOM_KD_QUERY_FLAGS}, STATUS, END};
static const struct kd_field context_ex_fields[] = {
    {"offset", DKD_DEC, 4, KDCOM_KD_CONTEXT_EX_OFFSET},
    {"count", DKD_DEC, 4, KDCOM_KD_CONTEXT_EX_COUNT},
    {"copied", DKD_DEC, 4, KDCOM_KD_CONTEXT_EX_COPIED}, STATUS, END};
static const struct kd_field status_fields[] = {STATUS, END};

typedef char msr_halves_adjacent[KDCOM_KD_MSR_HIGH == KDCOM_KD_MSR_LOW + 4
                                     ? 1 : -1];

static const struct kd_field *manipulate_fields(uint32_t api)
{
    if (kdcom_kd_is_memory_api(api))
        return mem_fields;
    switch (api) {
    case KDCOM_KD_CONTINUE:
        return continue_fields;
    case KDCOM_KD_CONTINUE2:
        return continue2_fields;
    case KDCOM_KD_GET_VERSION:
        return version_fields;
    case KDCOM_KD_WRITE_BREAKPOINT:
    case KDCOM_KD_WRITE_BREAKPOINT_EX:
        return bp_fields;
    case KDCOM_KD_RESTORE_BREAKPOINT:
    case KDCOM_KD_RESTORE_BREAKPOINT_EX:
        return bp_restore_fields;
    case KDCOM_KD_READ_IO_SPACE:
    case KDCOM_KD_WRITE_IO_SPACE:
        return io_fields;
    case KDCOM_KD_READ_IO_SPACE_EXTENDED:
    case KDCOM_KD_WRITE_IO_SPACE_EXTENDED:
        return iox_fields;
    case KDCOM_KD_READ_MSR:
    case KDCOM_KD_WRITE_MSR:
        return msr_fields;
    case KDCOM_KD_QUERY_MEMORY:
        return query_fields;
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        return context_ex_fields;
    default:
        return status_fields;
    }
}

static void manipulate(const uint8_t *p, struct dkd *d)
{
    add_fields(d, p, manipulate_fields(d->api));
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

/* Every state change: where the processor stopped, and which one of how
 * many it is. */
static void add_pc_cpu(struct dkd *d, const uint8_t *p)
{
    add(d, "pc", DKD_HEX, kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER));
    add_pair(d, "cpu", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
             kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS));
}

static void state_change(const uint8_t *p, size_t len, struct dkd *d)
{
    size_t hs = KDCOM_KD_SC_SIZE;

    switch (d->api) {
    case KDCOM_KD_STATE_EXCEPTION:
        add(d, "code", DKD_HEX32, kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE));
        add_pc_cpu(d, p);
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
        add_pc_cpu(d, p);
        break;
    }
    case KDCOM_KD_STATE_COMMAND_STRING: {
        size_t n = cstr_len(p + hs, len - hs);
        add_str(d, "command", DKD_STR, p + hs, n);
        add_pc_cpu(d, p);
        break;
    }
    default:
        add_pc_cpu(d, p);
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
