/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * encode.c - frame builders (docs/protocol.md "Wire format").
 *
 * THEORY OF OPERATION
 *
 *   A data packet is header(16) | head | data | 0xAA; a control packet is
 *   the 16-byte header alone, with ByteCount and Checksum 0 (control
 *   packets never carry a trailer).  The encoder checks everything before
 *   writing a byte, so a failed call leaves `out` untouched.
 */
#include "internal.h"

void kdcom_put_header(uint8_t *out, uint32_t leader, uint32_t type,
                      uint32_t byte_count, uint32_t id, uint32_t checksum)
{
    kdcom_kd_st32(out + KDCOM_OFF_LEADER, leader);
    /* PacketType and ByteCount, the two 16-bit fields, in one store. */
    kdcom_kd_st32(out + KDCOM_OFF_TYPE,
                  (type & 0xffffu) | (byte_count << 16));
    kdcom_kd_st32(out + KDCOM_OFF_ID, id);
    kdcom_kd_st32(out + KDCOM_OFF_CHECKSUM, checksum);
}

KDCOM_API int kdcom_encode_data(uint8_t *out, size_t cap, uint32_t type,
                                uint32_t id, const uint8_t *head,
                                size_t head_len, const uint8_t *data,
                                size_t data_len)
{
    uint32_t sum;
    size_t total;

    if (out == NULL || (head == NULL && head_len != 0) ||
        (data == NULL && data_len != 0))
        return KDCOM_ERR_INVAL;
    if (!kdcom_is_data_type(type))
        return KDCOM_ERR_BAD_TYPE;
    /* Compare one at a time so that huge lengths cannot wrap the sum. */
    if (head_len > KDCOM_MAX_PAYLOAD || data_len > KDCOM_MAX_PAYLOAD ||
        head_len + data_len > KDCOM_MAX_PAYLOAD)
        return KDCOM_ERR_TOO_BIG;
    total = KDCOM_HEADER_SIZE + head_len + data_len + 1;
    if (cap < total)
        return KDCOM_ERR_NOBUFS;

    sum = kdcom_copy_sum(out + KDCOM_HEADER_SIZE, head, head_len, 0);
    sum = kdcom_copy_sum(out + KDCOM_HEADER_SIZE + head_len, data, data_len,
                         sum);
    kdcom_put_header(out, KDCOM_LEADER_DATA, type,
                     (uint32_t)(head_len + data_len), id, sum);
    out[total - 1] = KDCOM_TRAILER_BYTE;
    return (int)total;
}

KDCOM_API int kdcom_encode_control(uint8_t *out, size_t cap, uint32_t type,
                                   uint32_t id)
{
    if (out == NULL)
        return KDCOM_ERR_INVAL;
    if (type != KDCOM_TYPE_ACKNOWLEDGE && type != KDCOM_TYPE_RESEND &&
        type != KDCOM_TYPE_RESET)
        return KDCOM_ERR_BAD_TYPE;
    if (cap < KDCOM_CONTROL_FRAME_SIZE)
        return KDCOM_ERR_NOBUFS;
    kdcom_put_header(out, KDCOM_LEADER_CONTROL, type, 0, id, 0);
    return KDCOM_CONTROL_FRAME_SIZE;
}
