/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.h - what the parts of kdcom-client share: its options, the
 * command table's types, a checked command, the session they all serve,
 * and the functions each part offers the others.
 *
 *   kdclient.c     main: check everything, connect, run, leave
 *   options.c      the manual (--help) and the options
 *   cmdparse.c     the command table and the checks of a command's words
 *   commands.c     running a checked command against the target
 *   memory.c       the memory commands and their dumps
 *   interactive.c  -i: commands typed on stdin, Ctrl-C as break-in
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <kdcom_kd.h>

#include "kdsession.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONN 3

#define MAX_READ (256u << 20) /* read, verify, bench-read, physical, d* */
#define MAX_WAIT_MS 86400000u /* wait-stop, wait-print, monitor, sleep */

struct opts {
    int breakin;
    int keep_going;
    uint32_t timeout;
    uint32_t reply_timeout;
    uint32_t retries;
    uint32_t settle;
    uint32_t sync_timeout;
    uint32_t connect_timeout;
    uint32_t chunk;
    int trace;
    const char *pcap;
    int stay_stopped;
    int quiet;
    int verbose;
    int interactive;
    int prompt;
    uint64_t bench_size;
};

enum op {
    OP_VERSION, OP_VERTARGET, OP_READ, OP_VERIFY, OP_BENCH, OP_PHYSICAL,
    OP_CONTROL, OP_WRITE, OP_EXPECT, OP_WRITE_CONTROL, OP_CONTEXT, OP_REG,
    OP_CONTEXT_EX, OP_BP, OP_BC, OP_RDMSR, OP_QUERY, OP_BREAK, OP_GO,
    OP_REBOOT, OP_WAIT_STOP, OP_WAIT_PRINT, OP_MONITOR, OP_SLEEP,
    OP_RESYNC, OP_STATS, OP_DUMP, OP_ENTER, OP_HELP, OP_QUIT
};

struct cmddef {
    const char *name;
    enum op op;
    int nargs;      /* fixed arguments; -1: the parser decides */
    unsigned unit;  /* d* and e*: bytes per element */
    const char *syntax;
};

/* A command with its arguments checked and converted. */
struct cmd {
    const struct cmddef *def;
    uint64_t addr; /* ADDR, INDEX */
    uint64_t len;  /* LEN, COUNT * unit */
    uint32_t u32;  /* HANDLE, MSR, MS, OFFSET */
    int reg;       /* r REG: index in cl_regs[], -1 all */
    const char *text;
    size_t nbytes; /* write, expect, write-control, e* */
    uint8_t bytes[KDCOM_KD_MAX_TRANSFER];
};

/* r's registers: the x64 CONTEXT offsets and sizes. */
struct cl_reg {
    const char *name;
    unsigned off, size;
};

/* The one debugger session (kdclient.c). */
extern struct kds sess;

/* options.c: reads the options before ENDPOINT into *o; *next gets the
 * index of the first other argument.  -1 to go on, or the exit status
 * (0 after --help or --version). */
int cl_parse_options(int argc, char **argv, struct opts *o, int *next);
/* The COMMANDS part of the manual, on stdout (interactive help). */
void cl_help(void);

/* cmdparse.c: parses the command at argv[*pi] (argc words in all) into c;
 * *pi moves past it.  line: the words are one line typed in interactive
 * mode (a command may take the rest of it).  0, or EXIT_USAGE with a
 * message. */
int cl_parse_cmd(int argc, char **argv, int *pi, struct cmd *c, int line);
extern const struct cl_reg cl_regs[];
extern const size_t cl_nregs;

/* commands.c: runs a parsed command: 0, EXIT_FAILED or EXIT_CONN. */
int cl_exec(const struct opts *o, const struct cmd *c);
/* Commands that talk to the KD core need it stopped: 0 once it is, or a
 * KDS_ERR_*. */
int cl_ensure_stopped(const struct opts *o);
/* One request answered with a 56-byte header (and maybe data): 0 when
 * the target answered with a success status, else what cl_fail() or
 * cl_failed_status() returned. */
int cl_simple_request(const struct opts *o, const char *what, uint8_t *req,
                      const uint8_t *data, size_t dlen);
/* The reply's ReturnStatus is a failure: says which; EXIT_FAILED. */
int cl_failed_status(const char *what);
/* --bench-read: o->bench_size bytes from the kernel base GetVersion
 * reports.  0, EXIT_FAILED or EXIT_CONN. */
int cl_bench_kernel(const struct opts *o);
/* Serves the link for ms milliseconds (0: until a signal or Ctrl-C). */
int cl_serve(uint32_t ms);
/* Says what failed; the exit status for it. */
int cl_fail(const char *what, int rc);
/* The processor the target stopped on, for requests about "this" one. */
uint16_t cl_cur_processor(void);

/* memory.c: runs a memory command (read, verify, bench-read, physical,
 * d*, control, write, expect, e*, write-control, query). */
int cl_memory(const struct opts *o, const struct cmd *c);
/* Hex and characters, 16 bytes a line, from address addr. */
void cl_hexdump(uint64_t addr, const uint8_t *b, size_t n);
/* fffff800`00001000, as WinDbg writes a 64-bit address; buf: 18 bytes. */
const char *cl_wd_addr(uint64_t a, char *buf);

/* interactive.c: commands from stdin until quit or the end of input.
 * failed: the status so far.  Returns 0, EXIT_FAILED or EXIT_CONN. */
int cl_interactive(const struct opts *o, int failed);

#endif /* CLIENT_H */
