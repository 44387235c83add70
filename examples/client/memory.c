/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * memory.c - kdcom-client's memory commands: virtual and physical reads
 * (read, verify against kdcom-simkernel's pattern, bench-read, physical),
 * WinDbg's d* and e*, writes and read-backs, control space and address
 * queries; and the dumps they print, as hex lines or in WinDbg's layout.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/exutil.h"
#include "../common/simpattern.h"
#include "client.h"

void cl_hexdump(uint64_t addr, const uint8_t *b, size_t n)
{
    size_t i, j;

    for (i = 0; i < n; i += 16) {
        printf("%016llx ", (unsigned long long)(addr + i));
        for (j = i; j < i + 16; j++) {
            if (j < n)
                printf(" %02x", b[j]);
            else
                printf("   ");
        }
        printf("  ");
        for (j = i; j < i + 16 && j < n; j++)
            putchar(b[j] >= 0x20 && b[j] < 0x7f ? b[j] : '.');
        putchar('\n');
    }
}

const char *cl_wd_addr(uint64_t a, char *buf)
{
    sprintf(buf, "%08lx`%08lx", (unsigned long)(a >> 32),
            (unsigned long)(a & 0xffffffffu));
    return buf;
}

/* WinDbg's d* layout: 16 bytes a line; got of len bytes were read, the
 * rest shows as question marks. */
static void wd_dump(uint64_t addr, const uint8_t *b, size_t got, size_t len,
                    unsigned unit)
{
    size_t i, j;
    unsigned k;
    char ab[24];

    for (i = 0; i < len; i += 16) {
        printf("%s ", cl_wd_addr(addr + i, ab));
        for (j = i; j < i + 16 && j < len; j += unit) {
            if (unit == 1)
                putchar(j % 16 == 8 ? '-' : ' ');
            else
                putchar(' ');
            if (j + unit > got) {
                for (k = 0; k < 2 * unit + (unit == 8); k++)
                    putchar('?');
                continue;
            }
            for (k = unit; k-- > 0;) {
                printf("%02x", b[j + k]);
                if (unit == 8 && k == 4)
                    putchar('`');
            }
        }
        if (unit == 1) {
            for (; j < i + 16; j++)
                printf("   ");
            printf("  ");
            for (j = i; j < i + 16 && j < len; j++)
                putchar(j >= got ? '?'
                        : b[j] >= 0x20 && b[j] < 0x7f ? b[j] : '.');
        }
        putchar('\n');
    }
    fflush(stdout);
}

static int do_read(const struct opts *o, uint32_t api, uint64_t addr,
                   uint64_t len, uint8_t **out, size_t *got, double *secs,
                   size_t *reads, const char *what)
{
    uint8_t *buf;
    size_t done = 0;
    uint64_t t0;
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    buf = malloc((size_t)len);
    if (buf == NULL) {
        fprintf(stderr, "kdcom-client: %s: out of memory\n", what);
        return EXIT_FAILED;
    }
    t0 = ex_now_us();
    rc = kds_read(&sess, api, addr, buf, (size_t)len, o->chunk, &done,
                  o->timeout);
    *secs = (double)(ex_now_us() - t0) / 1e6;
    *reads = ((size_t)len + (o->chunk - 1)) / o->chunk;
    *got = done;
    *out = buf;
    if (rc != 0) {
        fprintf(stderr, "kdcom-client: %s: %s at 0x%llx: %s after %zu of "
                "%llu bytes\n", what, api == KDCOM_KD_READ_PHYSICAL_MEMORY
                                          ? "physical read" : "read",
                (unsigned long long)(addr + done), kds_strerror(rc), done,
                (unsigned long long)len);
        return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
    }
    return 0;
}

static int cmd_read(const struct opts *o, const struct cmd *c)
{
    uint32_t api = c->def->op == OP_PHYSICAL ? KDCOM_KD_READ_PHYSICAL_MEMORY
                                             : KDCOM_KD_READ_VIRTUAL_MEMORY;
    uint8_t *buf = NULL;
    double secs = 0, mbs; /* do_read() sets them unless it fails */
    size_t reads = 0, got = 0, i;
    uint64_t addr = c->addr, len = c->len;
    int rc = do_read(o, api, addr, len, &buf, &got, &secs, &reads,
                     c->def->name);

    if (rc != 0) {
        free(buf);
        return rc;
    }
    mbs = secs > 0 ? (double)len / secs / 1e6 : 0.0;
    if (c->def->op == OP_READ || c->def->op == OP_PHYSICAL) {
        cl_hexdump(addr, buf, (size_t)len);
    } else if (c->def->op == OP_VERIFY) {
        for (i = 0; i < len; i++)
            if (addr + i < SIM_KERN_BASE ||
                buf[i] != sim_pattern(addr + i - SIM_KERN_BASE))
                break;
        if (i != len) {
            fprintf(stderr, "kdcom-client: verify: byte at 0x%llx is 0x%02x, "
                    "pattern says 0x%02x\n", (unsigned long long)(addr + i),
                    buf[i], addr + i >= SIM_KERN_BASE
                        ? sim_pattern(addr + i - SIM_KERN_BASE) : 0);
            free(buf);
            return EXIT_FAILED;
        }
        kds_say(&sess, "verify: %llu bytes at 0x%llx match the pattern "
                "(%zu reads, %.3f s, %.2f MB/s)", (unsigned long long)len,
                (unsigned long long)addr, reads, secs, mbs);
    } else {
        printf("bench-read bytes=%llu reads=%zu seconds=%.6f reads_per_s=%.1f "
               "MB_per_s=%.3f\n", (unsigned long long)len, reads, secs,
               secs > 0 ? (double)reads / secs : 0.0, mbs);
        fflush(stdout);
    }
    free(buf);
    return 0;
}

/* db dw dd dq: what was readable, then question marks. */
static int cmd_dump(const struct opts *o, const struct cmd *c)
{
    uint8_t *buf = NULL;
    size_t done = 0;
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    buf = malloc((size_t)c->len);
    if (buf == NULL) {
        fprintf(stderr, "kdcom-client: %s: out of memory\n", c->def->name);
        return EXIT_FAILED;
    }
    rc = kds_read(&sess, KDCOM_KD_READ_VIRTUAL_MEMORY, c->addr, buf,
                  (size_t)c->len, o->chunk, &done, o->timeout);
    if (rc == 0 || rc == KDS_ERR_STATUS)
        wd_dump(c->addr, buf, done, (size_t)c->len, c->def->unit);
    free(buf);
    if (rc != 0) {
        char ab[24];
        if (rc == KDS_ERR_STATUS)
            fprintf(stderr, "kdcom-client: %s: memory at %s is not "
                    "readable\n", c->def->name,
                    cl_wd_addr(c->addr + done, ab));
        else
            fprintf(stderr, "kdcom-client: %s: read at %s: %s\n",
                    c->def->name, cl_wd_addr(c->addr + done, ab),
                    kds_strerror(rc));
        return rc == KDS_ERR_GONE ? EXIT_CONN : EXIT_FAILED;
    }
    return 0;
}

/* control INDEX LEN: one DbgKdReadControlSpaceApi.  INDEX names a block
 * of the processor's control space (x64: KPCR, KPRCB, special registers,
 * KTHREAD), not an address: the bytes come back at offset 0. */
static int cmd_control(const struct opts *o, const struct cmd *c)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    char what[96];
    uint32_t got;
    int rc;

    snprintf(what, sizeof what, "control: control-space read of index %llu "
             "(%llu bytes)", (unsigned long long)c->addr,
             (unsigned long long)c->len);
    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    kdcom_kd_st32(req, KDCOM_KD_READ_CONTROL_SPACE);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cl_cur_processor());
    kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, c->addr);
    kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)c->len);
    if ((rc = kds_manipulate(&sess, req, NULL, 0, o->timeout)) != 0)
        return cl_fail(what, rc);
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(sess.reply + KDCOM_KD_MS_RETURN_STATUS)))
        return cl_failed_status(what);
    got = kdcom_kd_ld32(sess.reply + KDCOM_KD_MEM_ACTUAL);
    if (got > c->len || got > sess.reply_len - KDCOM_KD_MS_SIZE)
        return cl_fail(what, KDS_ERR_PROTO);
    kds_say(&sess, "control: index %llu of processor %u: %u of %llu bytes",
            (unsigned long long)c->addr, (unsigned)cl_cur_processor(),
            (unsigned)got, (unsigned long long)c->len);
    cl_hexdump(0, sess.reply + KDCOM_KD_MS_SIZE, got);
    return 0;
}

static int cmd_write(const struct opts *o, const struct cmd *c)
{
    uint8_t got[KDCOM_KD_MAX_TRANSFER];
    size_t n = c->nbytes, done;
    int rc;

    if ((rc = cl_ensure_stopped(o)) != 0)
        return cl_fail("break", rc);
    if (c->def->op != OP_EXPECT) {
        if ((rc = kds_write(&sess, c->addr, c->bytes, n, o->timeout)) != 0)
            return cl_fail(c->def->name, rc);
        kds_say(&sess, "%s: %zu bytes at 0x%llx", c->def->name, n,
                (unsigned long long)c->addr);
        return 0;
    }
    rc = kds_read(&sess, KDCOM_KD_READ_VIRTUAL_MEMORY, c->addr, got, n,
                  o->chunk, &done, o->timeout);
    if (rc != 0)
        return cl_fail("expect: read back", rc);
    if (memcmp(got, c->bytes, n) != 0) {
        fprintf(stderr, "kdcom-client: expect: memory at 0x%llx differs\n",
                (unsigned long long)c->addr);
        cl_hexdump(c->addr, got, n);
        return EXIT_FAILED;
    }
    kds_say(&sess, "expect: %zu bytes at 0x%llx read back as written", n,
            (unsigned long long)c->addr);
    return 0;
}

static int cmd_write_control(const struct opts *o, const struct cmd *c)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    char what[80];
    int rc;

    snprintf(what, sizeof what, "write-control: control-space write of "
             "index %llu", (unsigned long long)c->addr);
    kdcom_kd_st32(req, KDCOM_KD_WRITE_CONTROL_SPACE);
    kdcom_kd_st16(req + KDCOM_KD_MS_PROCESSOR, cl_cur_processor());
    kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, c->addr);
    kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)c->nbytes);
    if ((rc = cl_simple_request(o, what, req, c->bytes, c->nbytes)) != 0)
        return rc;
    kds_say(&sess, "write-control: %u of %zu bytes at index %llu",
            (unsigned)kdcom_kd_ld32(sess.reply + KDCOM_KD_MEM_ACTUAL),
            c->nbytes, (unsigned long long)c->addr);
    return 0;
}

static int cmd_query(const struct opts *o, uint64_t addr)
{
    static const char *const spaces[] = {"process", "session", "kernel"};
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    uint32_t space, flags;
    int rc;

    kdcom_kd_st32(req, KDCOM_KD_QUERY_MEMORY);
    kdcom_kd_st64(req + KDCOM_KD_QUERY_ADDRESS, addr);
    kdcom_kd_st32(req + KDCOM_KD_QUERY_ADDRESS_SPACE,
                  KDCOM_KD_QUERY_SPACE_VIRTUAL);
    if ((rc = cl_simple_request(o, "query", req, NULL, 0)) != 0)
        return rc;
    space = kdcom_kd_ld32(sess.reply + KDCOM_KD_QUERY_ADDRESS_SPACE);
    flags = kdcom_kd_ld32(sess.reply + KDCOM_KD_QUERY_FLAGS);
    kds_say(&sess, "query: 0x%llx is %s memory, %s%s%s%s",
            (unsigned long long)addr, space < 3 ? spaces[space] : "unknown",
            flags & KDCOM_KD_QUERY_MEMORY_READ ? "r" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_WRITE ? "w" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_EXECUTE ? "x" : "-",
            flags & KDCOM_KD_QUERY_MEMORY_FIXED ? " fixed" : "");
    return 0;
}

int cl_memory(const struct opts *o, const struct cmd *c)
{
    switch (c->def->op) {
    case OP_READ:
    case OP_VERIFY:
    case OP_BENCH:
    case OP_PHYSICAL:
        return cmd_read(o, c);
    case OP_DUMP:
        return cmd_dump(o, c);
    case OP_CONTROL:
        return cmd_control(o, c);
    case OP_WRITE:
    case OP_EXPECT:
    case OP_ENTER:
        return cmd_write(o, c);
    case OP_WRITE_CONTROL:
        return cmd_write_control(o, c);
    case OP_QUERY:
        return cmd_query(o, c->addr);
    default:
        return EXIT_FAILED;
    }
}
