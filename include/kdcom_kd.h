/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom_kd.h - the KD messages that travel inside KDCOM packets: API
 *              numbers, payload layouts as byte offsets, little-endian
 *              load/store helpers and names for decoding.
 *
 * SUMMARY
 *
 *   libkdcom itself never looks inside a payload.  Tools do: a debugger
 *   client builds DBGKD_MANIPULATE_STATE64 requests, a simulated kernel
 *   answers them, a tracer names what it sees.  This header gives them the
 *   numbers and the layouts of the 64-bit KD protocol (protocol version 6,
 *   what every Windows since XP speaks, for x86 and x64 targets alike).
 *
 * CONVENTIONS
 *
 *   - Layouts are byte offsets into the payload, never structures: a
 *     payload is a byte array read with kdcom_kd_ld*() and written with
 *     kdcom_kd_st*(), whatever the host's byte order and alignment.
 *   - Offsets are absolute from the start of the message header (the first
 *     payload byte), so `kdcom_kd_ld64(p + KDCOM_KD_MEM_ADDRESS)` is all a
 *     caller writes.  Every offset names its width in the comment.
 *   - A message header is followed, in the same packet, by message data
 *     (memory contents, a context, a string).  The receiver splits the two
 *     at the header size (kdcom_kd_header_size()).
 *   - Everything here is a macro or a static inline function: nothing to
 *     link.  The header compiles as C99 and as C++.
 *
 * CONFORMS TO
 *
 *   The KD structures as public debugger implementations use them
 *   (DBGKD_MANIPULATE_STATE64, DBGKD_WAIT_STATE_CHANGE64, DBGKD_DEBUG_IO,
 *   DBGKD_FILE_IO, DBGKD_GET_VERSION64) and the sizes docs/protocol.md
 *   cites: 56-byte manipulate header, 0xF0-byte state-change header,
 *   16-byte debug I/O header, 64-byte file I/O header.
 */
#ifndef KDCOM_KD_H
#define KDCOM_KD_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Little-endian access
 * ------------------------------------------------------------------------ */

static inline uint16_t kdcom_kd_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t kdcom_kd_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t kdcom_kd_ld64(const uint8_t *p)
{
    return (uint64_t)kdcom_kd_ld32(p) | ((uint64_t)kdcom_kd_ld32(p + 4) << 32);
}

static inline void kdcom_kd_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void kdcom_kd_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void kdcom_kd_st64(uint8_t *p, uint64_t v)
{
    kdcom_kd_st32(p, (uint32_t)v);
    kdcom_kd_st32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------------
 * Message numbers
 * ------------------------------------------------------------------------ */

/* KDCOM_TYPE_STATE_CHANGE64: NewState, the reason the target stopped. */
#define KDCOM_KD_STATE_EXCEPTION 0x3030u      /* DbgKdExceptionStateChange */
#define KDCOM_KD_STATE_LOAD_SYMBOLS 0x3031u   /* DbgKdLoadSymbolsStateChange */
#define KDCOM_KD_STATE_COMMAND_STRING 0x3032u /* DbgKdCommandString... */
#define KDCOM_KD_STATE_MIN 0x3030u
#define KDCOM_KD_STATE_MAX 0x3033u /* one past the last */

/* KDCOM_TYPE_STATE_MANIPULATE: ApiNumber of a request and of its reply. */
#define KDCOM_KD_READ_VIRTUAL_MEMORY 0x3130u
#define KDCOM_KD_WRITE_VIRTUAL_MEMORY 0x3131u
#define KDCOM_KD_GET_CONTEXT 0x3132u
#define KDCOM_KD_SET_CONTEXT 0x3133u
#define KDCOM_KD_WRITE_BREAKPOINT 0x3134u
#define KDCOM_KD_RESTORE_BREAKPOINT 0x3135u
#define KDCOM_KD_CONTINUE 0x3136u
#define KDCOM_KD_READ_CONTROL_SPACE 0x3137u
#define KDCOM_KD_WRITE_CONTROL_SPACE 0x3138u
#define KDCOM_KD_READ_IO_SPACE 0x3139u
#define KDCOM_KD_WRITE_IO_SPACE 0x313Au
#define KDCOM_KD_REBOOT 0x313Bu
#define KDCOM_KD_CONTINUE2 0x313Cu
#define KDCOM_KD_READ_PHYSICAL_MEMORY 0x313Du
#define KDCOM_KD_WRITE_PHYSICAL_MEMORY 0x313Eu
#define KDCOM_KD_QUERY_SPECIAL_CALLS 0x313Fu
#define KDCOM_KD_SET_SPECIAL_CALL 0x3140u
#define KDCOM_KD_CLEAR_SPECIAL_CALLS 0x3141u
#define KDCOM_KD_SET_INTERNAL_BREAKPOINT 0x3142u
#define KDCOM_KD_GET_INTERNAL_BREAKPOINT 0x3143u
#define KDCOM_KD_READ_IO_SPACE_EXTENDED 0x3144u
#define KDCOM_KD_WRITE_IO_SPACE_EXTENDED 0x3145u
#define KDCOM_KD_GET_VERSION 0x3146u
#define KDCOM_KD_WRITE_BREAKPOINT_EX 0x3147u
#define KDCOM_KD_RESTORE_BREAKPOINT_EX 0x3148u
#define KDCOM_KD_CAUSE_BUGCHECK 0x3149u
#define KDCOM_KD_SWITCH_PROCESSOR 0x3150u
#define KDCOM_KD_PAGE_IN 0x3151u
#define KDCOM_KD_READ_MSR 0x3152u
#define KDCOM_KD_WRITE_MSR 0x3153u
#define KDCOM_KD_OLD_VLM1 0x3154u
#define KDCOM_KD_OLD_VLM2 0x3155u
#define KDCOM_KD_SEARCH_MEMORY 0x3156u
#define KDCOM_KD_GET_BUS_DATA 0x3157u
#define KDCOM_KD_SET_BUS_DATA 0x3158u
#define KDCOM_KD_CHECK_LOW_MEMORY 0x3159u
#define KDCOM_KD_CLEAR_ALL_INTERNAL_BREAKPOINTS 0x315Au
#define KDCOM_KD_FILL_MEMORY 0x315Bu
#define KDCOM_KD_QUERY_MEMORY 0x315Cu
#define KDCOM_KD_SWITCH_PARTITION 0x315Du
#define KDCOM_KD_WRITE_CUSTOM_BREAKPOINT 0x315Eu
#define KDCOM_KD_GET_CONTEXT_EX 0x315Fu
#define KDCOM_KD_SET_CONTEXT_EX 0x3160u
#define KDCOM_KD_MANIPULATE_MIN 0x3130u
#define KDCOM_KD_MANIPULATE_MAX 0x3161u /* one past the last */

/* KDCOM_TYPE_DEBUG_IO */
#define KDCOM_KD_PRINT_STRING 0x3230u /* DbgPrint output, target -> debugger */
#define KDCOM_KD_GET_STRING 0x3231u   /* DbgPrompt: prompt out, answer back */

/* KDCOM_TYPE_TRACE_IO */
#define KDCOM_KD_PRINT_TRACE 0x3330u

/* KDCOM_TYPE_FILE_IO (the target pulling files: .kdfiles) */
#define KDCOM_KD_CREATE_FILE 0x3430u
#define KDCOM_KD_READ_FILE 0x3431u
#define KDCOM_KD_WRITE_FILE 0x3432u
#define KDCOM_KD_CLOSE_FILE 0x3433u

/* ------------------------------------------------------------------------
 * Status values that appear in KD messages (NTSTATUS, 32 bits)
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_STATUS_SUCCESS 0x00000000u
#define KDCOM_KD_STATUS_UNSUCCESSFUL 0xC0000001u
#define KDCOM_KD_STATUS_NOT_IMPLEMENTED 0xC0000002u
#define KDCOM_KD_STATUS_ACCESS_VIOLATION 0xC0000005u
#define KDCOM_KD_STATUS_INVALID_PARAMETER 0xC000000Du
#define KDCOM_KD_STATUS_NO_SUCH_FILE 0xC000000Fu /* "no .kdfiles mapping" */
#define KDCOM_KD_STATUS_NO_SUCH_DEVICE 0xC000000Eu /* e.g. an unknown MSR */
#define KDCOM_KD_STATUS_DATATYPE_MISALIGNMENT 0x80000002u
#define KDCOM_KD_STATUS_BREAKPOINT 0x80000003u
#define KDCOM_KD_STATUS_SINGLE_STEP 0x80000004u
/* Continue statuses: any success value resumes the target. */
#define KDCOM_KD_DBG_EXCEPTION_HANDLED 0x00010001u
#define KDCOM_KD_DBG_CONTINUE 0x00010002u
#define KDCOM_KD_DBG_EXCEPTION_NOT_HANDLED 0x80010001u

/* Name of a status value above ("STATUS_UNSUCCESSFUL", "DBG_CONTINUE"),
 * or NULL for one this header does not list.  The strings are static. */
static inline const char *kdcom_kd_status_name(uint32_t status)
{
    switch (status) {
    case KDCOM_KD_STATUS_SUCCESS:
        return "STATUS_SUCCESS";
    case KDCOM_KD_STATUS_UNSUCCESSFUL:
        return "STATUS_UNSUCCESSFUL";
    case KDCOM_KD_STATUS_NOT_IMPLEMENTED:
        return "STATUS_NOT_IMPLEMENTED";
    case KDCOM_KD_STATUS_ACCESS_VIOLATION:
        return "STATUS_ACCESS_VIOLATION";
    case KDCOM_KD_STATUS_INVALID_PARAMETER:
        return "STATUS_INVALID_PARAMETER";
    case KDCOM_KD_STATUS_NO_SUCH_DEVICE:
        return "STATUS_NO_SUCH_DEVICE";
    case KDCOM_KD_STATUS_NO_SUCH_FILE:
        return "STATUS_NO_SUCH_FILE";
    case KDCOM_KD_STATUS_DATATYPE_MISALIGNMENT:
        return "STATUS_DATATYPE_MISALIGNMENT";
    case KDCOM_KD_STATUS_BREAKPOINT:
        return "STATUS_BREAKPOINT";
    case KDCOM_KD_STATUS_SINGLE_STEP:
        return "STATUS_SINGLE_STEP";
    case KDCOM_KD_DBG_EXCEPTION_HANDLED:
        return "DBG_EXCEPTION_HANDLED";
    case KDCOM_KD_DBG_CONTINUE:
        return "DBG_CONTINUE";
    case KDCOM_KD_DBG_EXCEPTION_NOT_HANDLED:
        return "DBG_EXCEPTION_NOT_HANDLED";
    default:
        return NULL;
    }
}

/* 1 if an NTSTATUS means success (the kernel's NT_SUCCESS). */
static inline int kdcom_kd_nt_success(uint32_t status)
{
    return (status & 0x80000000u) == 0;
}

/* ------------------------------------------------------------------------
 * DBGKD_MANIPULATE_STATE64: 56-byte header of every STATE_MANIPULATE
 * packet, request and reply alike.  The reply repeats the ApiNumber and
 * the request's fields, with ReturnStatus and the "actual" counts filled.
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_MS_SIZE 56
#define KDCOM_KD_MS_API_NUMBER 0      /* u32 */
#define KDCOM_KD_MS_PROCESSOR_LEVEL 4 /* u16 */
#define KDCOM_KD_MS_PROCESSOR 6       /* u16 */
#define KDCOM_KD_MS_RETURN_STATUS 8   /* u32 NTSTATUS, set in replies */
#define KDCOM_KD_MS_UNION 16          /* the per-API part, 40 bytes */

/* Largest memory transfer one request can carry: what fits in a packet
 * after the manipulate header. */
#define KDCOM_KD_MAX_TRANSFER 3944 /* KDCOM_MAX_PAYLOAD - KDCOM_KD_MS_SIZE */

/* DBGKD_READ_MEMORY64 / DBGKD_WRITE_MEMORY64: Read/WriteVirtualMemory,
 * Read/WritePhysicalMemory, Read/WriteControlSpace.  Read replies carry
 * the bytes as message data; write requests carry them likewise. */
#define KDCOM_KD_MEM_ADDRESS 16 /* u64 TargetBaseAddress */
#define KDCOM_KD_MEM_COUNT 24   /* u32 TransferCount */
#define KDCOM_KD_MEM_ACTUAL 28  /* u32 ActualBytesRead / ActualBytesWritten */

/* 1 if api's request and reply use the memory layout above
 * (Read/WriteVirtualMemory, Read/WritePhysicalMemory,
 * Read/WriteControlSpace), else 0. */
static inline int kdcom_kd_is_memory_api(uint32_t api)
{
    switch (api) {
    case KDCOM_KD_READ_VIRTUAL_MEMORY:
    case KDCOM_KD_WRITE_VIRTUAL_MEMORY:
    case KDCOM_KD_READ_PHYSICAL_MEMORY:
    case KDCOM_KD_WRITE_PHYSICAL_MEMORY:
    case KDCOM_KD_READ_CONTROL_SPACE:
    case KDCOM_KD_WRITE_CONTROL_SPACE:
        return 1;
    default:
        return 0;
    }
}

/* DBGKD_GET_CONTEXT / DBGKD_SET_CONTEXT: the context is the message data
 * (of the reply for Get, of the request for Set). */
#define KDCOM_KD_CONTEXT_FLAGS 16 /* u32 (Set), unused (Get) */

/* DBGKD_CONTEXT_EX: Get/SetContextEx move a window of the context. */
#define KDCOM_KD_CONTEXT_EX_OFFSET 16 /* u32 */
#define KDCOM_KD_CONTEXT_EX_COUNT 20  /* u32 ByteCount */
#define KDCOM_KD_CONTEXT_EX_COPIED 24 /* u32 BytesCopied */

/* DBGKD_CONTINUE / DBGKD_CONTINUE2. */
#define KDCOM_KD_CONTINUE_STATUS 16 /* u32 NTSTATUS */
#define KDCOM_KD_CONTINUE2_TRACE_FLAG 20 /* u32: 1 = single-step */
#define KDCOM_KD_CONTINUE2_DR7 24        /* debug register 7 */

/* DBGKD_WRITE_BREAKPOINT64 / DBGKD_RESTORE_BREAKPOINT. */
#define KDCOM_KD_BP_ADDRESS 16        /* u64 BreakPointAddress (write) */
#define KDCOM_KD_BP_HANDLE 24         /* u32 BreakPointHandle (write reply) */
#define KDCOM_KD_BP_RESTORE_HANDLE 16 /* u32 BreakPointHandle (restore) */

/* DBGKD_READ_WRITE_IO64. */
#define KDCOM_KD_IO_ADDRESS 16 /* u64 */
#define KDCOM_KD_IO_SIZE 24    /* u32 DataSize: 1, 2 or 4 */
#define KDCOM_KD_IO_VALUE 28   /* u32 */

/* DBGKD_READ_WRITE_IO_EXTENDED64. */
#define KDCOM_KD_IOX_SIZE 16          /* u32 DataSize: 1, 2 or 4 */
#define KDCOM_KD_IOX_INTERFACE_TYPE 20 /* u32: 1 = Isa */
#define KDCOM_KD_IOX_BUS_NUMBER 24    /* u32 */
#define KDCOM_KD_IOX_ADDRESS_SPACE 28 /* u32: 1 = I/O ports */
#define KDCOM_KD_IOX_ADDRESS 32       /* u64 IoAddress */
#define KDCOM_KD_IOX_VALUE 40         /* u32 DataValue */

/* DBGKD_READ_WRITE_MSR. */
#define KDCOM_KD_MSR_INDEX 16 /* u32 */
#define KDCOM_KD_MSR_LOW 20   /* u32 */
#define KDCOM_KD_MSR_HIGH 24  /* u32 */

/* DBGKD_QUERY_MEMORY.  The request asks about AddressSpace VIRTUAL (0);
 * the reply says PROCESS (0), SESSION (1) or KERNEL (2), with Flags. */
#define KDCOM_KD_QUERY_ADDRESS 16       /* u64 */
#define KDCOM_KD_QUERY_RESERVED 24      /* u64 */
#define KDCOM_KD_QUERY_ADDRESS_SPACE 32 /* u32 */
#define KDCOM_KD_QUERY_FLAGS 36         /* u32 KDCOM_KD_QUERY_MEMORY_* */
#define KDCOM_KD_QUERY_SPACE_VIRTUAL 0
#define KDCOM_KD_QUERY_SPACE_PROCESS 0
#define KDCOM_KD_QUERY_SPACE_SESSION 1
#define KDCOM_KD_QUERY_SPACE_KERNEL 2
#define KDCOM_KD_QUERY_MEMORY_READ 0x01
#define KDCOM_KD_QUERY_MEMORY_WRITE 0x02
#define KDCOM_KD_QUERY_MEMORY_EXECUTE 0x04
#define KDCOM_KD_QUERY_MEMORY_FIXED 0x08

/* DBGKD_GET_VERSION64, inside the GetVersion reply.
 *
 * MajorVersion is two bytes of different meaning.  The low byte is the
 * build type, the top nibble of NtBuildNumber: 0xF a free build, 0xC a
 * checked one.  The high byte names the debugger stub that answers
 * (DBGKD_MAJOR_TYPES, KDCOM_KD_MAJOR_*): 0 for the kernel's own KD (what
 * every Windows kernel reports: MajorVersion 0x000F), 4 for the boot
 * debugger of the Windows boot loaders (NTBD), 5 for an EFI one, and so
 * on.  KDCOM_KD_MAJOR_TYPE() takes the high byte, kdcom_kd_major_type_name()
 * names it.  MinorVersion is the build number (19041 for Windows 10 2004). */
#define KDCOM_KD_VERSION_MAJOR 16           /* u16 debugger type << 8 | build type */
#define KDCOM_KD_VERSION_MINOR 18           /* u16 build number */
#define KDCOM_KD_VERSION_PROTOCOL 20        /* u8  KD protocol version */
#define KDCOM_KD_VERSION_SECONDARY 21       /* u8  KdSecondaryVersion */
#define KDCOM_KD_VERSION_FLAGS 22           /* u16 KDCOM_KD_VERS_FLAG_* */
#define KDCOM_KD_VERSION_MACHINE 24         /* u16 KDCOM_KD_MACHINE_* */
#define KDCOM_KD_VERSION_MAX_PACKET_TYPE 26 /* u8  */
#define KDCOM_KD_VERSION_MAX_STATE_CHANGE 27 /* u8 count from 0x3030 */
#define KDCOM_KD_VERSION_MAX_MANIPULATE 28  /* u8  count from 0x3130 */
#define KDCOM_KD_VERSION_SIMULATION 29      /* u8  */
#define KDCOM_KD_VERSION_KERN_BASE 32       /* u64 */
#define KDCOM_KD_VERSION_PS_LOADED_MODULE_LIST 40 /* u64 */
#define KDCOM_KD_VERSION_DEBUGGER_DATA_LIST 48    /* u64 */

#define KDCOM_KD_PROTOCOL_VERSION 6 /* DBGKD_64BIT_PROTOCOL_VERSION2 */

/* MajorVersion's high byte: who answers (DBGKD_MAJOR_TYPES). */
#define KDCOM_KD_MAJOR_TYPE(major) (((unsigned)(major) >> 8) & 0xFFu)
#define KDCOM_KD_MAJOR_NT 0          /* the kernel's debugger */
#define KDCOM_KD_MAJOR_XBOX 1
#define KDCOM_KD_MAJOR_BIG 2
#define KDCOM_KD_MAJOR_EXDI 3
#define KDCOM_KD_MAJOR_NTBD 4        /* the boot loaders' boot debugger */
#define KDCOM_KD_MAJOR_EFI 5
#define KDCOM_KD_MAJOR_TNT 6
#define KDCOM_KD_MAJOR_SINGULARITY 7
#define KDCOM_KD_MAJOR_HYPERVISOR 8
#define KDCOM_KD_MAJOR_MIDORI 9
#define KDCOM_KD_MAJOR_CE 10
/* MajorVersion's low byte: the build type. */
#define KDCOM_KD_BUILD_FREE 0xF
#define KDCOM_KD_BUILD_CHECKED 0xC

/* KdSecondaryVersion of an x64 kernel (the CONTEXT layout it uses). */
#define KDCOM_KD_SECONDARY_VERSION_AMD64_CONTEXT 2

#define KDCOM_KD_VERS_FLAG_MP 0x0001    /* multiprocessor kernel */
#define KDCOM_KD_VERS_FLAG_DATA 0x0002  /* DebuggerDataList is valid */
#define KDCOM_KD_VERS_FLAG_PTR64 0x0004 /* native pointers are 64 bits */
#define KDCOM_KD_VERS_FLAG_NOMM 0x0008  /* no memory management */
#define KDCOM_KD_VERS_FLAG_HSS 0x0010   /* hardware stepping support */
#define KDCOM_KD_VERS_FLAG_PARTITIONS 0x0020 /* several OS partitions */

#define KDCOM_KD_MACHINE_I386 0x014Cu
#define KDCOM_KD_MACHINE_ARMNT 0x01C4u
#define KDCOM_KD_MACHINE_AMD64 0x8664u
#define KDCOM_KD_MACHINE_ARM64 0xAA64u

/* Control space on x64 (ReadControlSpace's address is an index). */
#define KDCOM_KD_AMD64_CONTROL_KPCR 0
#define KDCOM_KD_AMD64_CONTROL_KPRCB 1
#define KDCOM_KD_AMD64_CONTROL_KSPECIAL 2
#define KDCOM_KD_AMD64_CONTROL_KTHREAD 3

/* KSPECIAL_REGISTERS on x64 (control space index KSPECIAL): Cr0 Cr2 Cr3
 * Cr4, KernelDr0-3, KernelDr6, KernelDr7 (u64 each), Gdtr, Idtr (a
 * 16-byte descriptor each: limit u16 at +6, base u64 at +8), Tr, Ldtr
 * (u16), MxCsr (u32), then MSR images. */
#define KDCOM_KD_AMD64_KSPECIAL_CR0 0x00
#define KDCOM_KD_AMD64_KSPECIAL_CR3 0x10
#define KDCOM_KD_AMD64_KSPECIAL_CR4 0x18
#define KDCOM_KD_AMD64_KSPECIAL_DR6 0x40
#define KDCOM_KD_AMD64_KSPECIAL_DR7 0x48
#define KDCOM_KD_AMD64_KSPECIAL_GDTR 0x50
#define KDCOM_KD_AMD64_KSPECIAL_IDTR 0x60
#define KDCOM_KD_AMD64_KSPECIAL_TR 0x70
#define KDCOM_KD_AMD64_KSPECIAL_MXCSR 0x74

/* ------------------------------------------------------------------------
 * DBGKD_WAIT_STATE_CHANGE64: 0xF0-byte header of every STATE_CHANGE64
 * packet.  LoadSymbols carries the image path as message data.
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_SC_SIZE 0xF0
#define KDCOM_KD_SC_NEW_STATE 0          /* u32 KDCOM_KD_STATE_* */
#define KDCOM_KD_SC_PROCESSOR_LEVEL 4    /* u16 */
#define KDCOM_KD_SC_PROCESSOR 6          /* u16 */
#define KDCOM_KD_SC_NUMBER_PROCESSORS 8  /* u32 */
#define KDCOM_KD_SC_THREAD 16            /* u64 */
#define KDCOM_KD_SC_PROGRAM_COUNTER 24   /* u64 */
#define KDCOM_KD_SC_UNION 32             /* 0xA0 bytes, per NewState */
#define KDCOM_KD_SC_CONTROL_REPORT 0xC0  /* 0x30 bytes, per machine */

/* DBGKM_EXCEPTION64 (NewState == EXCEPTION): an EXCEPTION_RECORD64. */
#define KDCOM_KD_EXC_CODE 32           /* u32 NTSTATUS */
#define KDCOM_KD_EXC_FLAGS 36          /* u32 */
#define KDCOM_KD_EXC_RECORD 40         /* u64 chained record */
#define KDCOM_KD_EXC_ADDRESS 48        /* u64 */
#define KDCOM_KD_EXC_NUMBER_PARAMS 56  /* u32 */
#define KDCOM_KD_EXC_INFORMATION 64    /* u64[15] */
#define KDCOM_KD_EXC_MAX_PARAMS 15
#define KDCOM_KD_EXC_FIRST_CHANCE 0xB8 /* u32 */
/* ExceptionInformation[0] of a STATUS_BREAKPOINT from an int 3 (x64:
 * NumberParameters 1, ExceptionAddress = ProgramCounter = the int 3). */
#define KDCOM_KD_BREAKPOINT_BREAK 0

/* DBGKD_LOAD_SYMBOLS64 (NewState == LOAD_SYMBOLS). */
#define KDCOM_KD_LS_PATH_LENGTH 32   /* u32, includes the NUL */
#define KDCOM_KD_LS_BASE_OF_DLL 40   /* u64 */
#define KDCOM_KD_LS_PROCESS_ID 48    /* u64 */
#define KDCOM_KD_LS_CHECKSUM 56      /* u32 */
#define KDCOM_KD_LS_SIZE_OF_IMAGE 60 /* u32 */
#define KDCOM_KD_LS_UNLOAD 64        /* u8 UnloadSymbols */
/* An unload with BaseOfDll -1 and no path (PathNameLength 0) unloads
 * every symbol table: what Windows sends when it shuts down. */
#define KDCOM_KD_LS_BASE_ALL 0xFFFFFFFFFFFFFFFFull

/* AMD64_DBGKD_CONTROL_REPORT (x64 targets). */
#define KDCOM_KD_CR_AMD64_DR6 0xC0               /* u64 */
#define KDCOM_KD_CR_AMD64_DR7 0xC8               /* u64 */
#define KDCOM_KD_CR_AMD64_EFLAGS 0xD0            /* u32 */
#define KDCOM_KD_CR_AMD64_INSTRUCTION_COUNT 0xD4 /* u16 */
#define KDCOM_KD_CR_AMD64_REPORT_FLAGS 0xD6      /* u16 */
#define KDCOM_KD_CR_AMD64_INSTRUCTION_STREAM 0xD8 /* u8[16] */
#define KDCOM_KD_CR_AMD64_SEG_CS 0xE8            /* u16 */
#define KDCOM_KD_CR_AMD64_SEG_DS 0xEA            /* u16 */
#define KDCOM_KD_CR_AMD64_SEG_ES 0xEC            /* u16 */
#define KDCOM_KD_CR_AMD64_SEG_FS 0xEE            /* u16 */
#define KDCOM_KD_CR_INSTRUCTION_STREAM_SIZE 16

/* ReportFlags bits. */
#define KDCOM_KD_REPORT_INCLUDES_SEGS 0x0001
#define KDCOM_KD_REPORT_STANDARD_CS 0x0002

/* ------------------------------------------------------------------------
 * DBGKD_DEBUG_IO: 16-byte header of DEBUG_IO packets; the string follows
 * as message data (not NUL-terminated on the wire).
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_DIO_SIZE 16
#define KDCOM_KD_DIO_API_NUMBER 0      /* u32 PRINT_STRING / GET_STRING */
#define KDCOM_KD_DIO_PROCESSOR_LEVEL 4 /* u16 */
#define KDCOM_KD_DIO_PROCESSOR 6       /* u16 */
#define KDCOM_KD_DIO_LENGTH 8          /* u32 LengthOfString / of prompt */
#define KDCOM_KD_DIO_STRING_READ 12    /* u32 GET_STRING: bytes answered */

/* ------------------------------------------------------------------------
 * DBGKD_FILE_IO: 64-byte header of FILE_IO packets.  CreateFile carries
 * the UTF-16LE file name as message data; a debugger without a mapping
 * answers with Status = KDCOM_KD_STATUS_NO_SUCH_FILE.
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_FIO_SIZE 64
#define KDCOM_KD_FIO_API_NUMBER 0           /* u32 */
#define KDCOM_KD_FIO_STATUS 4               /* u32 NTSTATUS */
#define KDCOM_KD_FIO_CREATE_ACCESS 8        /* u32 DesiredAccess */
#define KDCOM_KD_FIO_CREATE_ATTRIBUTES 12   /* u32 */
#define KDCOM_KD_FIO_CREATE_SHARE 16        /* u32 */
#define KDCOM_KD_FIO_CREATE_DISPOSITION 20  /* u32 */
#define KDCOM_KD_FIO_CREATE_OPTIONS 24      /* u32 */
#define KDCOM_KD_FIO_CREATE_HANDLE 32       /* u64 */
#define KDCOM_KD_FIO_CREATE_LENGTH 40       /* u64 file size */
#define KDCOM_KD_FIO_HANDLE 8               /* u64 Read/Write/CloseFile */
#define KDCOM_KD_FIO_OFFSET 16              /* u64 Read/WriteFile */
#define KDCOM_KD_FIO_LENGTH 24              /* u32 Read/WriteFile */

/* TRACE_IO and CONTROL_REQUEST headers: an ApiNumber and 56 more bytes. */
#define KDCOM_KD_TIO_SIZE 64
#define KDCOM_KD_CTL_SIZE 64

/* ------------------------------------------------------------------------
 * CONTEXT layouts (the message data of Get/SetContext)
 * ------------------------------------------------------------------------ */

#define KDCOM_KD_AMD64_CONTEXT_SIZE 0x4D0
#define KDCOM_KD_AMD64_CTX_FLAGS 0x30  /* u32 ContextFlags */
#define KDCOM_KD_AMD64_CTX_MXCSR 0x34  /* u32 */
#define KDCOM_KD_AMD64_CTX_SEG_CS 0x38 /* u16; Ds Es Fs Gs Ss follow */
#define KDCOM_KD_AMD64_CTX_SEG_SS 0x42 /* u16 */
#define KDCOM_KD_AMD64_CTX_EFLAGS 0x44 /* u32 */
#define KDCOM_KD_AMD64_CTX_DR0 0x48    /* u64 Dr0 Dr1 Dr2 Dr3 Dr6 Dr7 */
/* Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8..R15, u64 each, in that order. */
#define KDCOM_KD_AMD64_CTX_RAX 0x78
#define KDCOM_KD_AMD64_CTX_RSP 0x98
#define KDCOM_KD_AMD64_CTX_RIP 0xF8
#define KDCOM_KD_AMD64_CTX_GPR(n) (0x78 + 8 * (n)) /* n = 0 (Rax) .. 15 */

#define KDCOM_KD_CONTEXT_AMD64 0x00100000u
#define KDCOM_KD_CONTEXT_CONTROL 0x1u /* OR-ed with the machine bit */
#define KDCOM_KD_CONTEXT_INTEGER 0x2u
#define KDCOM_KD_CONTEXT_SEGMENTS 0x4u
#define KDCOM_KD_CONTEXT_FLOATING_POINT 0x8u
#define KDCOM_KD_CONTEXT_DEBUG_REGISTERS 0x10u

#define KDCOM_KD_I386_CONTEXT_SIZE 0x2CC

/* ------------------------------------------------------------------------
 * Sizes and names
 * ------------------------------------------------------------------------ */

/* The message-header size a receiver of packet `type` (enum
 * kdcom_packet_type) splits at: 0xF0, 56, 16 or 64; 0 for types that
 * carry no KD message or whose layout is not described here. */
static inline size_t kdcom_kd_header_size(uint32_t type)
{
    switch (type) {
    case KDCOM_TYPE_STATE_CHANGE64:
        return KDCOM_KD_SC_SIZE;
    case KDCOM_TYPE_STATE_MANIPULATE:
        return KDCOM_KD_MS_SIZE;
    case KDCOM_TYPE_DEBUG_IO:
        return KDCOM_KD_DIO_SIZE;
    case KDCOM_TYPE_TRACE_IO:
        return KDCOM_KD_TIO_SIZE;
    case KDCOM_TYPE_CONTROL_REQUEST:
        return KDCOM_KD_CTL_SIZE;
    case KDCOM_TYPE_FILE_IO:
        return KDCOM_KD_FIO_SIZE;
    default:
        return 0;
    }
}

/* Name of a manipulate-state ApiNumber ("DbgKdReadVirtualMemoryApi"), or
 * NULL if unknown.  The strings are static. */
static inline const char *kdcom_kd_manipulate_name(uint32_t api)
{
    static const char *const names[KDCOM_KD_MANIPULATE_MAX -
                                    KDCOM_KD_MANIPULATE_MIN] = {
        "DbgKdReadVirtualMemoryApi",       /* 3130 */
        "DbgKdWriteVirtualMemoryApi",      /* 3131 */
        "DbgKdGetContextApi",              /* 3132 */
        "DbgKdSetContextApi",              /* 3133 */
        "DbgKdWriteBreakPointApi",         /* 3134 */
        "DbgKdRestoreBreakPointApi",       /* 3135 */
        "DbgKdContinueApi",                /* 3136 */
        "DbgKdReadControlSpaceApi",        /* 3137 */
        "DbgKdWriteControlSpaceApi",       /* 3138 */
        "DbgKdReadIoSpaceApi",             /* 3139 */
        "DbgKdWriteIoSpaceApi",            /* 313A */
        "DbgKdRebootApi",                  /* 313B */
        "DbgKdContinueApi2",               /* 313C */
        "DbgKdReadPhysicalMemoryApi",      /* 313D */
        "DbgKdWritePhysicalMemoryApi",     /* 313E */
        "DbgKdQuerySpecialCallsApi",       /* 313F */
        "DbgKdSetSpecialCallApi",          /* 3140 */
        "DbgKdClearSpecialCallsApi",       /* 3141 */
        "DbgKdSetInternalBreakPointApi",   /* 3142 */
        "DbgKdGetInternalBreakPointApi",   /* 3143 */
        "DbgKdReadIoSpaceExtendedApi",     /* 3144 */
        "DbgKdWriteIoSpaceExtendedApi",    /* 3145 */
        "DbgKdGetVersionApi",              /* 3146 */
        "DbgKdWriteBreakPointExApi",       /* 3147 */
        "DbgKdRestoreBreakPointExApi",     /* 3148 */
        "DbgKdCauseBugCheckApi",           /* 3149 */
        NULL, NULL, NULL, NULL, NULL, NULL, /* 314A-314F: unused */
        "DbgKdSwitchProcessor",            /* 3150 */
        "DbgKdPageInApi",                  /* 3151 */
        "DbgKdReadMachineSpecificRegister", /* 3152 */
        "DbgKdWriteMachineSpecificRegister", /* 3153 */
        "OldVlm1",                         /* 3154 */
        "OldVlm2",                         /* 3155 */
        "DbgKdSearchMemoryApi",            /* 3156 */
        "DbgKdGetBusDataApi",              /* 3157 */
        "DbgKdSetBusDataApi",              /* 3158 */
        "DbgKdCheckLowMemoryApi",          /* 3159 */
        "DbgKdClearAllInternalBreakpointsApi", /* 315A */
        "DbgKdFillMemoryApi",              /* 315B */
        "DbgKdQueryMemoryApi",             /* 315C */
        "DbgKdSwitchPartition",            /* 315D */
        "DbgKdWriteCustomBreakpointApi",   /* 315E */
        "DbgKdGetContextExApi",            /* 315F */
        "DbgKdSetContextExApi"             /* 3160 */
    };

    if (api < KDCOM_KD_MANIPULATE_MIN || api >= KDCOM_KD_MANIPULATE_MAX)
        return NULL;
    return names[api - KDCOM_KD_MANIPULATE_MIN];
}

/* Name of the debugger type in a GetVersion MajorVersion (its high byte):
 * "kernel", "boot", "efi", "hypervisor", ...; "unknown" for values
 * DBGKD_MAJOR_TYPES does not list.  Never NULL. */
static inline const char *kdcom_kd_major_type_name(uint32_t major)
{
    static const char *const names[] = {
        "kernel", "xbox", "big", "exdi", "boot", "efi", "tnt",
        "singularity", "hypervisor", "midori", "ce"};
    unsigned t = KDCOM_KD_MAJOR_TYPE(major);

    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Name of a state change, debug I/O, trace I/O or file I/O number, or
 * NULL if unknown.  The strings are static. */
static inline const char *kdcom_kd_other_name(uint32_t api)
{
    switch (api) {
    case KDCOM_KD_STATE_EXCEPTION:
        return "DbgKdExceptionStateChange";
    case KDCOM_KD_STATE_LOAD_SYMBOLS:
        return "DbgKdLoadSymbolsStateChange";
    case KDCOM_KD_STATE_COMMAND_STRING:
        return "DbgKdCommandStringStateChange";
    case KDCOM_KD_PRINT_STRING:
        return "DbgKdPrintStringApi";
    case KDCOM_KD_GET_STRING:
        return "DbgKdGetStringApi";
    case KDCOM_KD_PRINT_TRACE:
        return "DbgKdPrintTraceApi";
    case KDCOM_KD_CREATE_FILE:
        return "DbgKdCreateFileApi";
    case KDCOM_KD_READ_FILE:
        return "DbgKdReadFileApi";
    case KDCOM_KD_WRITE_FILE:
        return "DbgKdWriteFileApi";
    case KDCOM_KD_CLOSE_FILE:
        return "DbgKdCloseFileApi";
    default:
        return NULL;
    }
}

/* Name of any KD message number the header knows (the two functions
 * above), or "unknown".  Never NULL. */
static inline const char *kdcom_kd_api_name(uint32_t api)
{
    const char *n = kdcom_kd_manipulate_name(api);

    if (n == NULL)
        n = kdcom_kd_other_name(api);
    return n != NULL ? n : "unknown";
}

/* 1 if the target may give up on a packet of this type and first message
 * number when nobody acknowledges it (kdcom.dll drops DbgPrint,
 * LoadSymbols, from a 32- or a 64-bit kernel, and CreateFile:
 * PROTOCOL-FACTS §3.7), else 0.  head is the message header, head_len its
 * length.  The one definition of the rule: libkdcom's VM host service and
 * the guest transport use it too. */
static inline int kdcom_kd_droppable(uint32_t type, const uint8_t *head,
                                     size_t head_len)
{
    uint32_t api;

    if (head == NULL || head_len < 4)
        return 0;
    api = kdcom_kd_ld32(head);
    return (type == KDCOM_TYPE_DEBUG_IO && api == KDCOM_KD_PRINT_STRING) ||
           ((type == KDCOM_TYPE_STATE_CHANGE64 ||
             type == KDCOM_TYPE_STATE_CHANGE32) &&
            api == KDCOM_KD_STATE_LOAD_SYMBOLS) ||
           (type == KDCOM_TYPE_FILE_IO && api == KDCOM_KD_CREATE_FILE);
}

#ifdef __cplusplus
}
#endif

#endif /* KDCOM_KD_H */
