/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * error.c - names for error codes and packet types, and the version.
 *
 * One table per enum, so that adding a code means adding one line.
 */
#include "internal.h"

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

KDCOM_API const char *kdcom_strerror(int err)
{
    switch (err) {
#define KDCOM_ERROR_CASE(code, text)                                          \
    case code:                                                                \
        return text;
        KDCOM_ERROR_TABLE(KDCOM_ERROR_CASE)
#undef KDCOM_ERROR_CASE
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
