/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapng.h - capturing the KDCOM byte stream of a link into a pcapng file
 * that Wireshark/tshark (with examples/wireshark/kdcom.lua) and
 * kdcom-dump read.
 *
 * FILE LAYOUT
 *
 *   Section Header Block   shb_userappl "PROGRAM (libkdcom VERSION)" and a
 *                          comment naming the layout below
 *   Interface 0 (IDB)      if_name "debugger": the debugger's end of the
 *                          link; its packets are bytes the debugger sent
 *                          (D>T)
 *   Interface 1 (IDB)      if_name "target": the target's end; bytes the
 *                          target sent (T>D)
 *   Enhanced Packet Blocks one per read or write, exactly the bytes that
 *                          crossed the wire, on the interface of the end
 *                          that sent them
 *
 *   Both interfaces use link type PCAPNG_KDCOM_LINKTYPE (LINKTYPE_USER0,
 *   147: user link types 147..162 are reserved for private use) and
 *   microsecond timestamps (if_tsresol 6) since 1970.  Each block carries
 *   the epb_flags option with the direction bits as the capturing program
 *   saw the bytes: outbound (2) for bytes it wrote, inbound (1) for bytes
 *   it read, 0 when it is neither end (a proxy or a tap).
 *
 *   A read or write longer than PCAPNG_MAX_CHUNK bytes is split into
 *   several blocks with the same timestamp, so every reader's packet size
 *   limit holds.  The section is written little-endian.
 *
 * DURABILITY
 *
 *   Every block goes to the kernel with one writev(2) as soon as it is
 *   made (no user-space buffering), so a program that crashes loses at
 *   most the block it was writing; the file up to there stays readable.
 *
 * USE
 *
 *   struct pcapng_writer pc;
 *   pcapng_init(&pc);                                  // capture off
 *   if (pcapng_open(&pc, path, "kdcom-shim", PCAPNG_SIDE_TARGET,
 *                   err, sizeof err) != 0) { print err; exit; }
 *   ...
 *   pcapng_bytes(&pc, to_target, buf, n);              // where the wire
 *                                                      // is read/written
 *   ...
 *   pcapng_close(&pc);
 *
 *   pcapng_bytes() takes the same (to_target, bytes, length) as
 *   wt_bytes() in wiretrace.h and stamps the block with the current time;
 *   pcapng_write() takes the time.  Both do nothing on a writer that is
 *   not open, so a program calls them unconditionally.  When a write
 *   fails (a full disk) the writer prints one line on stderr ("PROGRAM:
 *   --pcap FILE: write failed: REASON; capture stopped"), cuts the file
 *   back to its last complete block, closes it and ignores later calls;
 *   the program itself carries on.
 */
#ifndef PCAPNG_H
#define PCAPNG_H

#include <stddef.h>
#include <stdint.h>

/* LINKTYPE_USER0, the one written.  kdcom-dump reads every user link
 * type (147..162), kdcom.lua the one its preference names (USER0 by
 * default). */
#define PCAPNG_KDCOM_LINKTYPE 147
#define PCAPNG_LINKTYPE_USER_FIRST 147
#define PCAPNG_LINKTYPE_USER_LAST 162

/* Interface ids, and their if_name values. */
#define PCAPNG_IF_DEBUGGER 0 /* bytes the debugger sent (D>T) */
#define PCAPNG_IF_TARGET 1   /* bytes the target sent (T>D) */
#define PCAPNG_IFNAME_DEBUGGER "debugger"
#define PCAPNG_IFNAME_TARGET "target"

/* epb_flags direction bits (pcapng: bits 0-1). */
#define PCAPNG_DIR_UNKNOWN 0u
#define PCAPNG_DIR_INBOUND 1u
#define PCAPNG_DIR_OUTBOUND 2u

/* Largest packet data in one block. */
#define PCAPNG_MAX_CHUNK 65536u

/* Which end of the link the capturing program is. */
enum pcapng_side {
    PCAPNG_SIDE_NONE = 0,     /* neither: a proxy or a tap */
    PCAPNG_SIDE_DEBUGGER = 1, /* D>T bytes are outbound, T>D inbound */
    PCAPNG_SIDE_TARGET = 2    /* D>T bytes are inbound, T>D outbound */
};

/* A zeroed structure (static storage, memset) is a writer that is off,
 * like one passed to pcapng_init(). */
struct pcapng_writer {
    int on;                /* capturing */
    int fd;
    int side;              /* enum pcapng_side */
    int owns_fd;           /* 0 for stdout ("-") */
    char prog[48];         /* for the one error line */
    char path[208];
    uint64_t size;         /* bytes in the file: whole blocks only */
    uint64_t blocks;       /* packet blocks written */
    uint64_t bytes;        /* KDCOM bytes captured */
};

/* Marks the writer off: every other call is then a no-op. */
void pcapng_init(struct pcapng_writer *pc);

/* Creates (or truncates) path ("-": standard output, for a program that
 * writes nothing else there) and writes the section header and both
 * interface descriptions.  prog names the program in the file and in
 * error messages.  Returns 0, or -1 with a message in err ("cannot create
 * PATH: REASON"); the writer is then off. */
int pcapng_open(struct pcapng_writer *pc, const char *path, const char *prog,
                int side, char *err, size_t errcap);

/* 1 if the writer is capturing. */
int pcapng_active(const struct pcapng_writer *pc);

/* Records n bytes that crossed the wire: to_target 1 for D>T (sent by the
 * debugger), 0 for T>D.  t_us is microseconds since 1970 (see
 * pcapng_now_us()).  Returns 0, or -1 if the writer is off or the write
 * failed (reported once on stderr; capture stops). */
int pcapng_write(struct pcapng_writer *pc, int to_target, const uint8_t *b,
                 size_t n, uint64_t t_us);

/* pcapng_write() stamped with pcapng_now_us(). */
int pcapng_bytes(struct pcapng_writer *pc, int to_target, const uint8_t *b,
                 size_t n);

/* Microseconds since 1970 (CLOCK_REALTIME). */
uint64_t pcapng_now_us(void);

/* Closes the file.  Returns 0, or -1 if closing failed (reported on
 * stderr).  The writer is off afterwards. */
int pcapng_close(struct pcapng_writer *pc);

#endif /* PCAPNG_H */
