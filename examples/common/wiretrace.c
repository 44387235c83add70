/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wiretrace.c - hex and decoded traces of KDCOM traffic (see wiretrace.h).
 * Decoding runs libkdcom's own streaming parser on each direction, so the
 * trace shows exactly the frames a link would see, damaged ones included.
 */
#include "wiretrace.h"

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
    wt_reset(wt);
}

void wt_reset(struct wiretrace *wt)
{
    kdcom_parser_init(&wt->p[0]);
    kdcom_parser_init(&wt->p[1]);
}

void kd_describe(uint32_t type, const uint8_t *p, size_t len, char *buf,
                 size_t cap)
{
    uint32_t api;
    size_t hs = kdcom_kd_header_size(type);

    if (hs == 0 || len < 4) {
        snprintf(buf, cap, "%zu bytes", len);
        return;
    }
    api = kdcom_kd_ld32(p);
    if (len < hs) {
        snprintf(buf, cap, "%s (short: %zu of %zu header bytes)",
                 kdcom_kd_api_name(api), len, hs);
        return;
    }
    switch (type) {
    case KDCOM_TYPE_STATE_MANIPULATE: {
        uint32_t st = kdcom_kd_ld32(p + KDCOM_KD_MS_RETURN_STATUS);
        switch (api) {
        case KDCOM_KD_READ_VIRTUAL_MEMORY:
        case KDCOM_KD_WRITE_VIRTUAL_MEMORY:
        case KDCOM_KD_READ_PHYSICAL_MEMORY:
        case KDCOM_KD_WRITE_PHYSICAL_MEMORY:
        case KDCOM_KD_READ_CONTROL_SPACE:
        case KDCOM_KD_WRITE_CONTROL_SPACE:
            snprintf(buf, cap, "%s addr=0x%llx count=%u actual=%u "
                     "status=0x%08x data=%zu", kdcom_kd_api_name(api),
                     (unsigned long long)kdcom_kd_ld64(
                         p + KDCOM_KD_MEM_ADDRESS),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_MEM_COUNT),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_MEM_ACTUAL),
                     (unsigned)st, len - hs);
            return;
        case KDCOM_KD_CONTINUE:
        case KDCOM_KD_CONTINUE2:
            snprintf(buf, cap, "%s continue_status=0x%08x",
                     kdcom_kd_api_name(api),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS));
            return;
        case KDCOM_KD_GET_VERSION:
            snprintf(buf, cap, "%s status=0x%08x major=0x%x build=%u "
                     "machine=0x%04x kernbase=0x%llx", kdcom_kd_api_name(api),
                     (unsigned)st,
                     (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_MAJOR),
                     (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_MINOR),
                     (unsigned)kdcom_kd_ld16(p + KDCOM_KD_VERSION_MACHINE),
                     (unsigned long long)kdcom_kd_ld64(
                         p + KDCOM_KD_VERSION_KERN_BASE));
            return;
        default:
            snprintf(buf, cap, "%s (0x%04x) status=0x%08x data=%zu",
                     kdcom_kd_api_name(api), (unsigned)api, (unsigned)st,
                     len - hs);
            return;
        }
    }
    case KDCOM_TYPE_STATE_CHANGE64:
        if (api == KDCOM_KD_STATE_EXCEPTION)
            snprintf(buf, cap, "%s code=0x%08x pc=0x%llx cpu=%u/%u "
                     "first_chance=%u", kdcom_kd_api_name(api),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE),
                     (unsigned long long)kdcom_kd_ld64(
                         p + KDCOM_KD_SC_PROGRAM_COUNTER),
                     (unsigned)kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_EXC_FIRST_CHANCE));
        else if (api == KDCOM_KD_STATE_LOAD_SYMBOLS) {
            char path[121];
            size_t i, n = len - hs > 120 ? 120 : len - hs;
            for (i = 0; i < n && p[hs + i] != 0; i++)
                path[i] = p[hs + i] >= 0x20 && p[hs + i] < 0x7f
                              ? (char)p[hs + i] : '.';
            path[i] = '\0';
            snprintf(buf, cap, "%s base=0x%llx size=0x%x path=\"%s\"",
                     kdcom_kd_api_name(api),
                     (unsigned long long)kdcom_kd_ld64(
                         p + KDCOM_KD_LS_BASE_OF_DLL),
                     (unsigned)kdcom_kd_ld32(p + KDCOM_KD_LS_SIZE_OF_IMAGE),
                     path);
        }
        else
            snprintf(buf, cap, "%s (0x%04x)", kdcom_kd_api_name(api),
                     (unsigned)api);
        return;
    case KDCOM_TYPE_DEBUG_IO: {
        size_t n = len - hs, i, o = 0;
        char text[80];
        for (i = 0; i < n && o + 4 < sizeof text; i++) {
            uint8_t c = p[hs + i];
            if (c == '\n') {
                text[o++] = '\\';
                text[o++] = 'n';
            } else {
                text[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
            }
        }
        text[o] = '\0';
        snprintf(buf, cap, "%s len=%u \"%s%s\"", kdcom_kd_api_name(api),
                 (unsigned)kdcom_kd_ld32(p + KDCOM_KD_DIO_LENGTH), text,
                 i < n ? "..." : "");
        return;
    }
    case KDCOM_TYPE_FILE_IO:
        snprintf(buf, cap, "%s status=0x%08x data=%zu", kdcom_kd_api_name(api),
                 (unsigned)kdcom_kd_ld32(p + KDCOM_KD_FIO_STATUS), len - hs);
        return;
    default:
        snprintf(buf, cap, "%s (0x%04x) data=%zu", kdcom_kd_api_name(api),
                 (unsigned)api, len - hs);
        return;
    }
}

static void decode(struct wiretrace *wt, int to_target, const uint8_t *b,
                   size_t n)
{
    const char *dir = to_target ? "D>T" : "T>D";
    struct kdcom_parser *p = &wt->p[to_target ? 0 : 1];
    char desc[320];

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
            kd_describe(f.type, f.payload, f.payload_len, desc, sizeof desc);
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
