/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * error.c - names for error codes, packet types, VM channel statuses and
 * statistics counters, and the version.
 *
 * One table per enum, so that adding a code means adding one line.  The
 * counters' tables come from the X-macro lists in the public headers
 * (KDCOM_STATS_FIELDS, KDCOM_VM_STATS_FIELDS).
 */
#include "internal.h"
#include "kdcom_vm.h"

#define KDCOM_ERROR_TABLE(X)                                                  \
    X(KDCOM_OK, "success")                                                    \
    X(KDCOM_ERR_INVAL, "invalid argument (NULL pointer or length without "   \
                       "buffer)")                                             \
    X(KDCOM_ERR_ROLE, "unknown link role")                                    \
    X(KDCOM_ERR_TOO_BIG, "payload larger than 4000 bytes")                    \
    X(KDCOM_ERR_BAD_TYPE, "packet type not valid for this call")              \
    X(KDCOM_ERR_NOBUFS, "output buffer too small")                            \
    X(KDCOM_ERR_CONFIG, "configuration value out of range")                   \
    X(KDCOM_ERR_WRONG_ROLE, "operation not available in this role")           \
    X(KDCOM_ERR_BUSY, "a data packet is still outstanding")                   \
    X(KDCOM_ERR_NO_PACKET, "no data packet outstanding")                      \
    X(KDCOM_ERR_NOT_INIT, "link not initialised (or its memory was "         \
                          "overwritten)")                                     \
    X(KDCOM_ERR_CLOSED, "link closed")

/* One case of a name table's switch. */
#define NAME_CASE(code, text)                                                 \
    case code:                                                                \
        return text;

KDCOM_API const char *kdcom_strerror(int err)
{
    switch (err) {
        KDCOM_ERROR_TABLE(NAME_CASE)
    default:
        return "unknown error code";
    }
}

KDCOM_API int kdcom_is_fatal(int err)
{
    return err <= KDCOM_ERR_FATAL;
}

KDCOM_API uint32_t kdcom_version(void)
{
    return KDCOM_VERSION_NUM;
}

KDCOM_API const char *kdcom_version_string(void)
{
    return KDCOM_VERSION_STRING;
}

KDCOM_API const char *kdcom_packet_type_name(uint32_t type)
{
    static const char *const names[KDCOM_TYPE_MAX] = {
        "UNUSED",       "STATE_CHANGE32", "STATE_MANIPULATE",
        "DEBUG_IO",     "ACKNOWLEDGE",    "RESEND",
        "RESET",        "STATE_CHANGE64", "POLL_BREAKIN",
        "TRACE_IO",     "CONTROL_REQUEST", "FILE_IO"};

    return type < KDCOM_TYPE_MAX ? names[type] : "UNKNOWN";
}

KDCOM_API int kdcom_is_data_type(uint32_t type)
{
    switch (type) {
    case KDCOM_TYPE_STATE_CHANGE32:
    case KDCOM_TYPE_STATE_MANIPULATE:
    case KDCOM_TYPE_DEBUG_IO:
    case KDCOM_TYPE_STATE_CHANGE64:
    case KDCOM_TYPE_TRACE_IO:
    case KDCOM_TYPE_CONTROL_REQUEST:
    case KDCOM_TYPE_FILE_IO:
        return 1;
    default:
        return 0;
    }
}

#define KDCOM_VM_STATUS_TABLE(X)                                              \
    X(KDCOM_VM_ST_NONE, "NONE")                                               \
    X(KDCOM_VM_ST_OK, "OK")                                                   \
    X(KDCOM_VM_ST_DROPPED, "DROPPED")                                         \
    X(KDCOM_VM_ST_RECEIVED, "RECEIVED")                                       \
    X(KDCOM_VM_ST_TIMEOUT, "TIMEOUT")                                         \
    X(KDCOM_VM_ST_RESEND, "RESEND")                                           \
    X(KDCOM_VM_ST_ERR_OP, "ERR_OP")                                           \
    X(KDCOM_VM_ST_ERR_TYPE, "ERR_TYPE")                                       \
    X(KDCOM_VM_ST_ERR_LENGTH, "ERR_LENGTH")                                   \
    X(KDCOM_VM_ST_ERR_BUFFER, "ERR_BUFFER")                                   \
    X(KDCOM_VM_ST_ERR_VERSION, "ERR_VERSION")                                 \
    X(KDCOM_VM_ST_ERR_RESERVED, "ERR_RESERVED")                               \
    X(KDCOM_VM_ST_ERR_HOST, "ERR_HOST")

KDCOM_API const char *kdcom_vm_status_name(uint32_t status)
{
    switch (status) {
        KDCOM_VM_STATUS_TABLE(NAME_CASE)
    default:
        return "UNKNOWN";
    }
}

/* ---- counters by index ---- */

#define STAT_NAME(n) #n,
#define STAT_OFFSET(n) offsetof(struct kdcom_stats, n),
#define VM_STAT_OFFSET(n) offsetof(struct kdcom_vm_stats, n),

static const char *const stats_names[] = {KDCOM_STATS_FIELDS(STAT_NAME)};
static const uint16_t stats_offsets[] = {KDCOM_STATS_FIELDS(STAT_OFFSET)};
static const char *const vm_stats_names[] = {
    KDCOM_VM_STATS_FIELDS(STAT_NAME)};
static const uint16_t vm_stats_offsets[] = {
    KDCOM_VM_STATS_FIELDS(VM_STAT_OFFSET)};

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Counter `index` of a structure of counters laid out by `offsets`. */
static uint64_t counter(const void *s, const uint16_t *offsets, uint32_t n,
                        uint32_t index)
{
    const uint64_t *p;

    if (s == NULL || index >= n)
        return 0;
    p = (const uint64_t *)(const void *)((const uint8_t *)s + offsets[index]);
    return *p;
}

KDCOM_API const char *kdcom_stats_name(uint32_t index)
{
    return index < COUNT(stats_names) ? stats_names[index] : NULL;
}

KDCOM_API uint64_t kdcom_stats_value(const struct kdcom_stats *s,
                                     uint32_t index)
{
    return counter(s, stats_offsets, COUNT(stats_offsets), index);
}

KDCOM_API const char *kdcom_vm_stats_name(uint32_t index)
{
    return index < COUNT(vm_stats_names) ? vm_stats_names[index] : NULL;
}

KDCOM_API uint64_t kdcom_vm_stats_value(const struct kdcom_vm_stats *s,
                                        uint32_t index)
{
    return counter(s, vm_stats_offsets, COUNT(vm_stats_offsets), index);
}
