/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdlayout.c - checks include/kdcom_kd.h's offsets against KD payloads
 * recorded from real peers (tests/vectors/reactos-target_radare2-
 * debugger.txt): every field read through the header must give the value
 * the peers put on the wire.
 *
 *   kdlayout VECTOR-FILE      exit 0 when every check passed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>
#include <kdcom_kd.h>

static int failures, checks;

#define CHECK(what, got, want)                                              \
    do {                                                                    \
        unsigned long long g_ = (unsigned long long)(got);                  \
        unsigned long long w_ = (unsigned long long)(want);                 \
        checks++;                                                           \
        if (g_ != w_) {                                                     \
            printf("FAIL %s: 0x%llx, want 0x%llx\n", what, g_, w_);          \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static unsigned seen_sc, seen_ver_req, seen_ver, seen_read, seen_read_rsp,
    seen_print, seen_cont;

static void frame(int to_target, const struct kdcom_frame *f)
{
    const uint8_t *p = f->payload;
    uint32_t api;

    if (f->kind != KDCOM_FRAME_DATA || f->payload_len < 4)
        return;
    api = kdcom_kd_ld32(p);
    if (f->type == KDCOM_TYPE_STATE_CHANGE64 && !seen_sc++) {
        CHECK("state change header size", f->payload_len,
              kdcom_kd_header_size(f->type));
        CHECK("NewState", api, KDCOM_KD_STATE_EXCEPTION);
        CHECK("ProcessorLevel", kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR_LEVEL),
              6);
        CHECK("NumberProcessors",
              kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS), 1);
        CHECK("Thread", kdcom_kd_ld64(p + KDCOM_KD_SC_THREAD),
              0xfffff80000123000ull);
        CHECK("ProgramCounter", kdcom_kd_ld64(p + KDCOM_KD_SC_PROGRAM_COUNTER),
              0xfffff80000001000ull);
        CHECK("ExceptionCode", kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE),
              KDCOM_KD_STATUS_BREAKPOINT);
    } else if (f->type == KDCOM_TYPE_STATE_MANIPULATE) {
        CHECK("manipulate header fits", f->payload_len >= KDCOM_KD_MS_SIZE, 1);
        if (f->payload_len < KDCOM_KD_MS_SIZE)
            return;
        if (api == KDCOM_KD_GET_VERSION && to_target) {
            seen_ver_req++;
            CHECK("GetVersion request size", f->payload_len,
                  KDCOM_KD_MS_SIZE);
        } else if (api == KDCOM_KD_GET_VERSION && !seen_ver++) {
            CHECK("MajorVersion", kdcom_kd_ld16(p + KDCOM_KD_VERSION_MAJOR),
                  0xF);
            CHECK("MinorVersion", kdcom_kd_ld16(p + KDCOM_KD_VERSION_MINOR),
                  0x4a61);
            CHECK("ProtocolVersion", p[KDCOM_KD_VERSION_PROTOCOL],
                  KDCOM_KD_PROTOCOL_VERSION);
            CHECK("MachineType", kdcom_kd_ld16(p + KDCOM_KD_VERSION_MACHINE),
                  KDCOM_KD_MACHINE_AMD64);
            CHECK("MaxPacketType", p[KDCOM_KD_VERSION_MAX_PACKET_TYPE],
                  KDCOM_TYPE_MAX);
            CHECK("KernBase", kdcom_kd_ld64(p + KDCOM_KD_VERSION_KERN_BASE),
                  0xfffff80000000000ull);
            CHECK("PsLoadedModuleList",
                  kdcom_kd_ld64(p + KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST),
                  0xfffff80000400000ull);
            CHECK("DebuggerDataList",
                  kdcom_kd_ld64(p + KDCOM_KD_VERSION_DEBUGGER_DATA_LIST),
                  0xfffff80000500000ull);
        } else if (api == KDCOM_KD_READ_VIRTUAL_MEMORY && to_target &&
                   !seen_read++) {
            CHECK("read TargetBaseAddress",
                  kdcom_kd_ld64(p + KDCOM_KD_MEM_ADDRESS),
                  0xfffff80000500000ull);
            CHECK("read TransferCount", kdcom_kd_ld32(p + KDCOM_KD_MEM_COUNT),
                  8);
        } else if (api == KDCOM_KD_READ_VIRTUAL_MEMORY && !to_target &&
                   !seen_read_rsp++) {
            CHECK("read ActualBytesRead",
                  kdcom_kd_ld32(p + KDCOM_KD_MEM_ACTUAL),
                  f->payload_len - KDCOM_KD_MS_SIZE);
            CHECK("read ReturnStatus",
                  kdcom_kd_ld32(p + KDCOM_KD_MS_RETURN_STATUS),
                  KDCOM_KD_STATUS_SUCCESS);
        } else if (api == KDCOM_KD_CONTINUE2 && !seen_cont++) {
            CHECK("ContinueStatus",
                  kdcom_kd_ld32(p + KDCOM_KD_CONTINUE_STATUS),
                  KDCOM_KD_DBG_EXCEPTION_HANDLED);
        }
    } else if (f->type == KDCOM_TYPE_DEBUG_IO && !seen_print++) {
        CHECK("debug I/O api", api, KDCOM_KD_PRINT_STRING);
        CHECK("LengthOfString", kdcom_kd_ld32(p + KDCOM_KD_DIO_LENGTH),
              f->payload_len - KDCOM_KD_DIO_SIZE);
        CHECK("droppable DbgPrint",
              kdcom_kd_droppable(f->type, p, f->payload_len), 1);
    }
}

int main(int argc, char **argv)
{
    static struct kdcom_parser parsers[2];
    static char line[65536];
    FILE *fp;

    if (argc != 2 || (fp = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: kdlayout VECTOR-FILE\n");
        return 2;
    }
    kdcom_parser_init(&parsers[0]);
    kdcom_parser_init(&parsers[1]);
    while (fgets(line, sizeof line, fp) != NULL) {
        int to_target;
        char *s = line + 3, *end;
        uint8_t buf[16384];
        size_t n = 0, off = 0;

        if (strncmp(line, "D>T", 3) == 0)
            to_target = 1;
        else if (strncmp(line, "T>D", 3) == 0)
            to_target = 0;
        else
            continue;
        for (;;) {
            unsigned long v = strtoul(s, &end, 16);
            if (end == s || n == sizeof buf)
                break;
            buf[n++] = (uint8_t)v;
            s = end;
        }
        while (off < n) {
            struct kdcom_frame f;
            int used = kdcom_parse(&parsers[to_target ? 0 : 1], buf + off,
                                   n - off, &f);
            if (used < 0)
                return 1;
            off += (size_t)used;
            frame(to_target, &f);
        }
    }
    fclose(fp);
    CHECK("state change seen", seen_sc > 0, 1);
    CHECK("GetVersion request seen", seen_ver_req > 0, 1);
    CHECK("GetVersion reply seen", seen_ver > 0, 1);
    CHECK("read request seen", seen_read > 0, 1);
    CHECK("read reply seen", seen_read_rsp > 0, 1);
    CHECK("DbgPrint seen", seen_print > 0, 1);
    CHECK("Continue2 seen", seen_cont > 0, 1);
    CHECK("manipulate name", strcmp(kdcom_kd_api_name(0x3146),
                                    "DbgKdGetVersionApi"), 0);
    CHECK("unknown name", strcmp(kdcom_kd_api_name(0x314A), "unknown"), 0);
    CHECK("FILE_IO header", kdcom_kd_header_size(KDCOM_TYPE_FILE_IO), 64);
    printf("kdlayout: %d checks, %d failed\n", checks, failures);
    return failures != 0;
}
