/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kddescribe.c - the decoded-trace lines (examples/common/wiretrace.c's
 * kd_describe()) for the messages whose decoding matters: a request is
 * decoded as a request and a reply as a reply (a GetVersion request
 * carries no version, whatever its union holds), GetVersion names the
 * debugger type from MajorVersion's high byte, an unload shows as an
 * unload, memory and FILE_IO operations show address, length and status.
 * Short payloads are named as short and never read past their end.
 *
 *   kddescribe        exit 0 when every line is as expected
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../../examples/common/wiretrace.h"

static int failures;

/* Describes p (copied into a buffer of exactly len bytes, so a read past
 * the end is a sanitizer error) and checks the line contains want and,
 * if not NULL, not bad. */
static void check(const char *what, uint32_t type, const uint8_t *p,
                  size_t len, int to_target, const char *want,
                  const char *bad)
{
    char line[400];
    uint8_t *copy = malloc(len ? len : 1);

    if (copy == NULL)
        exit(2);
    memcpy(copy, p, len);
    kd_describe(type, copy, len, to_target, line, sizeof line);
    free(copy);
    if (strstr(line, want) == NULL || (bad != NULL && strstr(line, bad))) {
        printf("FAIL kddescribe: %s\n  got:  %s\n  want: %s%s%s\n", what,
               line, want, bad ? "\n  not:  " : "", bad ? bad : "");
        failures++;
    }
}

int main(void)
{
    uint8_t ms[KDCOM_KD_MS_SIZE + 16], sc[KDCOM_KD_SC_SIZE + 8];
    uint8_t fio[KDCOM_KD_FIO_SIZE + 8];
    char small[8];

    /* GetVersion request: the union holds whatever the debugger's buffer
     * held; none of it is a version. */
    memset(ms, 0xAA, sizeof ms);
    kdcom_kd_st32(ms, KDCOM_KD_GET_VERSION);
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS, 0);
    check("GetVersion request", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE, 1, "DbgKdGetVersionApi request", "=");
    /* Its reply: the fields, and the debugger type. */
    memset(ms, 0, sizeof ms);
    kdcom_kd_st32(ms, KDCOM_KD_GET_VERSION);
    kdcom_kd_st16(ms + KDCOM_KD_VERSION_MAJOR, 0x000F);
    kdcom_kd_st16(ms + KDCOM_KD_VERSION_MINOR, 19041);
    ms[KDCOM_KD_VERSION_PROTOCOL] = 6;
    check("GetVersion reply", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE, 0,
          "DbgKdGetVersionApi reply status=0x00000000 (STATUS_SUCCESS) "
          "major=0xf (kernel debugger, free build) build=19041", NULL);
    kdcom_kd_st16(ms + KDCOM_KD_VERSION_MAJOR, 0x040F);
    check("GetVersion reply of a boot debugger", KDCOM_TYPE_STATE_MANIPULATE,
          ms, KDCOM_KD_MS_SIZE, 0, "major=0x40f (boot debugger, free build)", NULL);
    kdcom_kd_st16(ms + KDCOM_KD_VERSION_MAJOR, 0x000C);
    check("GetVersion reply of a checked kernel",
          KDCOM_TYPE_STATE_MANIPULATE, ms, KDCOM_KD_MS_SIZE, 0,
          "major=0xc (kernel debugger, checked build)", NULL);

    /* Memory: the request's address and count; the reply's status and
     * actual count. */
    memset(ms, 0xAA, sizeof ms);
    kdcom_kd_st32(ms, KDCOM_KD_READ_VIRTUAL_MEMORY);
    kdcom_kd_st64(ms + KDCOM_KD_MEM_ADDRESS, 0xfffff80000400000ull);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_COUNT, 16);
    check("ReadVirtualMemory request", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE, 1,
          "DbgKdReadVirtualMemoryApi request addr=0xfffff80000400000 "
          "count=16", "status");
    kdcom_kd_st32(ms + KDCOM_KD_MS_RETURN_STATUS,
                  KDCOM_KD_STATUS_UNSUCCESSFUL);
    kdcom_kd_st32(ms + KDCOM_KD_MEM_ACTUAL, 0);
    check("ReadVirtualMemory reply", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE, 0,
          "DbgKdReadVirtualMemoryApi reply status=0xc0000001 "
          "(STATUS_UNSUCCESSFUL) addr=0xfffff80000400000 count=16 actual=0 "
          "data=0", NULL);
    kdcom_kd_st32(ms, KDCOM_KD_WRITE_VIRTUAL_MEMORY);
    check("WriteVirtualMemory request", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE + 16, 1,
          "DbgKdWriteVirtualMemoryApi request addr=0xfffff80000400000 "
          "count=16 data=16", "actual");
    kdcom_kd_st32(ms, KDCOM_KD_RESTORE_BREAKPOINT);
    kdcom_kd_st32(ms + KDCOM_KD_BP_RESTORE_HANDLE, 7);
    check("RestoreBreakPoint reply", KDCOM_TYPE_STATE_MANIPULATE, ms,
          KDCOM_KD_MS_SIZE, 0,
          "DbgKdRestoreBreakPointApi reply status=0xc0000001 "
          "(STATUS_UNSUCCESSFUL) handle=7", NULL);

    /* An unload of every module: base -1, no path. */
    memset(sc, 0, sizeof sc);
    kdcom_kd_st32(sc, KDCOM_KD_STATE_LOAD_SYMBOLS);
    kdcom_kd_st64(sc + KDCOM_KD_LS_BASE_OF_DLL, KDCOM_KD_LS_BASE_ALL);
    sc[KDCOM_KD_LS_UNLOAD] = 1;
    check("unload", KDCOM_TYPE_STATE_CHANGE64, sc, KDCOM_KD_SC_SIZE, 0,
          "DbgKdLoadSymbolsStateChange unload base=0xffffffffffffffff "
          "(all modules)", " load base");
    /* A load, with its path. */
    sc[KDCOM_KD_LS_UNLOAD] = 0;
    kdcom_kd_st64(sc + KDCOM_KD_LS_BASE_OF_DLL, 0xfffff80000000000ull);
    kdcom_kd_st32(sc + KDCOM_KD_LS_PATH_LENGTH, 8);
    memcpy(sc + KDCOM_KD_SC_SIZE, "nt.exe\0", 8);
    check("load", KDCOM_TYPE_STATE_CHANGE64, sc, KDCOM_KD_SC_SIZE + 8, 0,
          "load base=0xfffff80000000000 size=0x0 path=\"nt.exe\"", "unload");
    /* An int 3. */
    memset(sc, 0, sizeof sc);
    kdcom_kd_st32(sc, KDCOM_KD_STATE_EXCEPTION);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_CODE, KDCOM_KD_STATUS_BREAKPOINT);
    kdcom_kd_st64(sc + KDCOM_KD_EXC_ADDRESS, 0xfffff80000001000ull);
    kdcom_kd_st32(sc + KDCOM_KD_EXC_NUMBER_PARAMS, 1);
    kdcom_kd_st16(sc + KDCOM_KD_CR_AMD64_REPORT_FLAGS, 3);
    check("exception", KDCOM_TYPE_STATE_CHANGE64, sc, KDCOM_KD_SC_SIZE, 0,
          "code=0x80000003 (STATUS_BREAKPOINT) exception_addr="
          "0xfffff80000001000", NULL);

    /* FILE_IO: the target asks, the debugger answers. */
    memset(fio, 0xAA, sizeof fio);
    kdcom_kd_st32(fio, KDCOM_KD_READ_FILE);
    kdcom_kd_st64(fio + KDCOM_KD_FIO_HANDLE, 5);
    kdcom_kd_st64(fio + KDCOM_KD_FIO_OFFSET, 4096);
    kdcom_kd_st32(fio + KDCOM_KD_FIO_LENGTH, 512);
    check("ReadFile request", KDCOM_TYPE_FILE_IO, fio, KDCOM_KD_FIO_SIZE, 0,
          "DbgKdReadFileApi request handle=0x5 offset=0x1000 length=512",
          "status");
    kdcom_kd_st32(fio + KDCOM_KD_FIO_STATUS, KDCOM_KD_STATUS_SUCCESS);
    check("ReadFile reply", KDCOM_TYPE_FILE_IO, fio, KDCOM_KD_FIO_SIZE + 8,
          1, "DbgKdReadFileApi reply status=0x00000000 (STATUS_SUCCESS) "
          "handle=0x5 offset=0x1000 length=512 data=8", NULL);
    memset(fio, 0, sizeof fio);
    kdcom_kd_st32(fio, KDCOM_KD_CREATE_FILE);
    kdcom_kd_st32(fio + KDCOM_KD_FIO_STATUS, KDCOM_KD_STATUS_NO_SUCH_FILE);
    check("CreateFile reply", KDCOM_TYPE_FILE_IO, fio, KDCOM_KD_FIO_SIZE, 1,
          "DbgKdCreateFileApi reply status=0xc000000f (STATUS_NO_SUCH_FILE) "
          "handle=0x0 file_size=0", "file=");
    memcpy(fio + KDCOM_KD_FIO_SIZE, "a\0b\0", 4);
    check("CreateFile request", KDCOM_TYPE_FILE_IO, fio,
          KDCOM_KD_FIO_SIZE + 4, 0,
          "DbgKdCreateFileApi request access=0x0 disposition=0 "
          "file=\"ab\"", "status");

    /* Short payloads: named, never read past. */
    check("short manipulate", KDCOM_TYPE_STATE_MANIPULATE, ms, 20, 1,
          "(short: 20 of 56 header bytes)", NULL);
    check("short state change", KDCOM_TYPE_STATE_CHANGE64, sc, 100, 0,
          "(short: 100 of 240 header bytes)", NULL);
    check("no payload", KDCOM_TYPE_FILE_IO, fio, 0, 0, "0 bytes", NULL);
    /* A buffer too small for the line is cut, and terminated. */
    memset(small, 'x', sizeof small);
    kd_describe(KDCOM_TYPE_STATE_MANIPULATE, ms, KDCOM_KD_MS_SIZE, 0, small,
                sizeof small);
    if (small[sizeof small - 1] != '\0') {
        printf("FAIL kddescribe: a line cut at the buffer is not "
               "terminated\n");
        failures++;
    }
    if (failures == 0)
        printf("PASS kddescribe\n");
    return failures == 0 ? 0 : 1;
}
