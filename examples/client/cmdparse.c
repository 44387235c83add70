/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmdparse.c - kdcom-client's commands: their table, and the checks that
 * turn a command's words into a struct cmd before anything is connected
 * (numbers, lengths, hex bytes, WinDbg's number forms and ranges, the
 * WinDbg commands it has no equivalent for).
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/exutil.h"
#include "client.h"

/* WinDbg commands a user may try that kdcom-client has no equivalent for
 * (anything starting with '.', '!', '~' or '|' is one too). */
static const char *const windbg_unsupported[] = {
    "k", "kb", "kc", "kd", "kn", "kp", "kP", "kv", "lm", "lmv", "ln", "u",
    "ub", "uf", "t", "ta", "tc", "p", "pa", "pc", "gu", "gh", "gn", "bl",
    "bd", "be", "ba", "bu", "bm", "x", "dt", "dv", "dx", "da", "du", "dc",
    "dp", "dps", "dds", "dqs", "dyb", "s", "sx", "sxe", "sxd", "sxn", "f",
    "m", "c", "ew?", "rm", "wrmsr", "ib", "iw", "id", "ob", "ow", "od",
    "qd", "qq"};

static const struct cmddef cmddefs[] = {
    {"version", OP_VERSION, 0, 0, "version"},
    {"vertarget", OP_VERTARGET, 0, 0, "vertarget"},
    {"read", OP_READ, 2, 0, "read ADDR LEN"},
    {"verify", OP_VERIFY, 2, 0, "verify ADDR LEN"},
    {"bench-read", OP_BENCH, 2, 0, "bench-read ADDR LEN"},
    {"physical", OP_PHYSICAL, 2, 0, "physical ADDR LEN"},
    {"control", OP_CONTROL, 2, 0, "control INDEX LEN"},
    {"write", OP_WRITE, 2, 0, "write ADDR HEXBYTES"},
    {"expect", OP_EXPECT, 2, 0, "expect ADDR HEXBYTES"},
    {"write-control", OP_WRITE_CONTROL, 2, 0, "write-control INDEX HEXBYTES"},
    {"context", OP_CONTEXT, 0, 0, "context"},
    {"r", OP_REG, -1, 0, "r [REG]"},
    {"context-ex", OP_CONTEXT_EX, 2, 0, "context-ex OFFSET LEN"},
    {"bp", OP_BP, 1, 0, "bp ADDR"},
    {"bc", OP_BC, 1, 0, "bc HANDLE"},
    {"rdmsr", OP_RDMSR, 1, 0, "rdmsr MSR"},
    {"query", OP_QUERY, 1, 0, "query ADDR"},
    {"break", OP_BREAK, 0, 0, "break"},
    {"go", OP_GO, 0, 0, "go"},
    {"g", OP_GO, 0, 0, "g"},
    {"reboot", OP_REBOOT, 0, 0, "reboot"},
    {".reboot", OP_REBOOT, 0, 0, ".reboot"},
    {"wait-stop", OP_WAIT_STOP, 1, 0, "wait-stop MS"},
    {"wait-print", OP_WAIT_PRINT, 2, 0, "wait-print TEXT MS"},
    {"monitor", OP_MONITOR, 1, 0, "monitor MS"},
    {"sleep", OP_SLEEP, 1, 0, "sleep MS"},
    {"resync", OP_RESYNC, 0, 0, "resync"},
    {"stats", OP_STATS, 0, 0, "stats"},
    {"db", OP_DUMP, -1, 1, "db ADDR [L COUNT]"},
    {"dw", OP_DUMP, -1, 2, "dw ADDR [L COUNT]"},
    {"dd", OP_DUMP, -1, 4, "dd ADDR [L COUNT]"},
    {"dq", OP_DUMP, -1, 8, "dq ADDR [L COUNT]"},
    {"eb", OP_ENTER, -1, 1, "eb ADDR VALUE..."},
    {"ew", OP_ENTER, -1, 2, "ew ADDR VALUE..."},
    {"ed", OP_ENTER, -1, 4, "ed ADDR VALUE..."},
    {"eq", OP_ENTER, -1, 8, "eq ADDR VALUE..."},
    {"help", OP_HELP, 0, 0, "help"},
    {"?", OP_HELP, 0, 0, "?"},
    {"quit", OP_QUIT, 0, 0, "quit"},
    {"q", OP_QUIT, 0, 0, "q"}};

/* r's registers: the x64 CONTEXT offsets and sizes. */
const struct cl_reg cl_regs[] = {
    {"rax", KDCOM_KD_AMD64_CTX_GPR(0), 8},
    {"rbx", KDCOM_KD_AMD64_CTX_GPR(3), 8},
    {"rcx", KDCOM_KD_AMD64_CTX_GPR(1), 8},
    {"rdx", KDCOM_KD_AMD64_CTX_GPR(2), 8},
    {"rsi", KDCOM_KD_AMD64_CTX_GPR(6), 8},
    {"rdi", KDCOM_KD_AMD64_CTX_GPR(7), 8},
    {"rip", KDCOM_KD_AMD64_CTX_RIP, 8},
    {"rsp", KDCOM_KD_AMD64_CTX_GPR(4), 8},
    {"rbp", KDCOM_KD_AMD64_CTX_GPR(5), 8},
    {"r8", KDCOM_KD_AMD64_CTX_GPR(8), 8},
    {"r9", KDCOM_KD_AMD64_CTX_GPR(9), 8},
    {"r10", KDCOM_KD_AMD64_CTX_GPR(10), 8},
    {"r11", KDCOM_KD_AMD64_CTX_GPR(11), 8},
    {"r12", KDCOM_KD_AMD64_CTX_GPR(12), 8},
    {"r13", KDCOM_KD_AMD64_CTX_GPR(13), 8},
    {"r14", KDCOM_KD_AMD64_CTX_GPR(14), 8},
    {"r15", KDCOM_KD_AMD64_CTX_GPR(15), 8},
    {"cs", KDCOM_KD_AMD64_CTX_SEG_CS, 2},
    {"ss", KDCOM_KD_AMD64_CTX_SEG_SS, 2},
    {"ds", KDCOM_KD_AMD64_CTX_SEG_CS + 2, 2},
    {"es", KDCOM_KD_AMD64_CTX_SEG_CS + 4, 2},
    {"fs", KDCOM_KD_AMD64_CTX_SEG_CS + 6, 2},
    {"gs", KDCOM_KD_AMD64_CTX_SEG_CS + 8, 2},
    {"efl", KDCOM_KD_AMD64_CTX_EFLAGS, 4}};
const size_t cl_nregs = sizeof cl_regs / sizeof cl_regs[0];

static int arg_error(const struct cmddef *d, const char *what,
                     const char *value, const char *why)
{
    fprintf(stderr, "kdcom-client: %s: %s '%s' %s (usage: %s)\n", d->name,
            what, value, why, d->syntax);
    return EXIT_USAGE;
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s), i;

    if (n == 0 || n % 2 != 0 || n / 2 > cap)
        return -1;
    for (i = 0; i < n; i += 2) {
        char b[3] = {s[i], s[i + 1], 0};
        char *end;
        unsigned long v = strtoul(b, &end, 16);
        if (*end != '\0' || b[0] == '+' || b[0] == '-' || b[0] == ' ')
            return -1;
        out[i / 2] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

/* A number as WinDbg reads one: hex unless 0n (decimal), 0t (octal) or
 * 0y (binary) says otherwise, 0x allowed; a ` between digits is ignored
 * (fffff800`00001000).  0 or -1. */
static int wd_number(const char *s, uint64_t *out)
{
    unsigned base = 16, digits = 0;
    uint64_t v = 0;

    if (s[0] == '0' && s[1] != '\0' && strchr("xXnNtTyY", s[1]) != NULL) {
        base = strchr("xX", s[1]) ? 16 : strchr("nN", s[1]) ? 10
               : strchr("tT", s[1]) ? 8 : 2;
        s += 2;
    }
    for (; *s != '\0'; s++) {
        unsigned d;
        if (*s == '`' && digits != 0 && s[1] != '\0')
            continue;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
        digits++;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

static int get_u64(const struct cmddef *d, const char *what, const char *s,
                   uint64_t *v)
{
    if (ex_parse_u64(s, v) != 0)
        return arg_error(d, what, s, "is not a number (decimal or 0x hex)");
    return 0;
}

/* ADDR of the WinDbg spellings (d*, e*): a WinDbg number. */
static int get_wd_addr(const struct cmddef *d, const char *s, uint64_t *v)
{
    if (wd_number(s, v) != 0)
        return arg_error(d, "ADDR", s, "is not a number (hex, 0n decimal)");
    return 0;
}

static int get_u32(const struct cmddef *d, const char *what, const char *s,
                   uint32_t lo, uint32_t hi, uint32_t *v)
{
    uint64_t x;
    char why[80];

    if (ex_parse_u64(s, &x) != 0)
        return arg_error(d, what, s, "is not a number (decimal or 0x hex)");
    if (x < lo || x > hi) {
        snprintf(why, sizeof why, "is out of range (%lu..%lu)",
                 (unsigned long)lo, (unsigned long)hi);
        return arg_error(d, what, s, why);
    }
    *v = (uint32_t)x;
    return 0;
}

/* LEN of a read: 1..max, with K/M suffixes. */
static int get_len(const struct cmddef *d, const char *s, uint64_t max,
                   uint64_t *v)
{
    char why[80];

    if (ex_parse_size(s, v) != 0)
        return arg_error(d, "LEN", s,
                         "is not a size (decimal or 0x hex, K/M suffix)");
    if (*v == 0 || *v > max) {
        if (max >= 1024 * 1024)
            snprintf(why, sizeof why, "is out of range (1..%lluM)",
                     (unsigned long long)(max >> 20));
        else
            snprintf(why, sizeof why, "is out of range (1..%llu)",
                     (unsigned long long)max);
        return arg_error(d, "LEN", s, why);
    }
    return 0;
}

/* ADDR .. ADDR+LEN-1 must not wrap around the address space. */
static int check_span(const struct cmddef *d, const char *a, uint64_t addr,
                      uint64_t len)
{
    if (len != 0 && len - 1 > UINT64_MAX - addr)
        return arg_error(d, "ADDR", a, "plus the length passes the end of "
                         "the address space");
    return 0;
}

static int get_hex(const struct cmddef *d, const char *s, struct cmd *c)
{
    char why[96];

    if (parse_hex(s, c->bytes, sizeof c->bytes, &c->nbytes) != 0) {
        snprintf(why, sizeof why, "is not an even number of hex digits "
                 "(1 to %d bytes, no 0x)", KDCOM_KD_MAX_TRANSFER);
        return arg_error(d, "HEXBYTES", s, why);
    }
    return 0;
}

/* e*'s values: words separated by blanks or commas, each a WinDbg
 * number that fits the element size. */
static int get_values(const struct cmddef *d, char **w, int n,
                      struct cmd *c)
{
    uint64_t max = d->unit == 8 ? UINT64_MAX
                                : (1ull << (8 * d->unit)) - 1;
    int k;

    c->nbytes = 0;
    for (k = 0; k < n; k++) {
        const char *p = w[k];
        for (;;) {
            char tok[72];
            size_t t = 0;
            uint64_t v;
            unsigned b;
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            if (*p == '\0')
                break;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') {
                if (t < sizeof tok - 1)
                    tok[t++] = *p;
                p++;
            }
            tok[t] = '\0';
            if (wd_number(tok, &v) != 0)
                return arg_error(d, "VALUE", tok, "is not a number (hex, "
                                 "0n decimal)");
            if (v > max) {
                char why[64];
                snprintf(why, sizeof why, "does not fit in %u byte%s",
                         d->unit, d->unit == 1 ? "" : "s");
                return arg_error(d, "VALUE", tok, why);
            }
            if (c->nbytes + d->unit > sizeof c->bytes)
                return arg_error(d, "VALUE", tok, "is one too many (at "
                                 "most 3944 bytes)");
            for (b = 0; b < d->unit; b++)
                c->bytes[c->nbytes++] = (uint8_t)(v >> (8 * b));
        }
    }
    if (c->nbytes == 0) {
        fprintf(stderr, "kdcom-client: %s: no values to write (usage: "
                "%s)\n", d->name, d->syntax);
        return EXIT_USAGE;
    }
    return 0;
}

static int is_windbg_unsupported(const char *w)
{
    size_t k;

    if (strchr(".!~|", w[0]) != NULL)
        return 1;
    for (k = 0; k < sizeof windbg_unsupported / sizeof windbg_unsupported[0];
         k++)
        if (strcmp(w, windbg_unsupported[k]) == 0)
            return 1;
    return 0;
}

/* "L10", "l10" or "L 10": a WinDbg range length. */
static int is_l(const char *w)
{
    return (w[0] == 'L' || w[0] == 'l');
}

int cl_parse_cmd(int argc, char **argv, int *pi, struct cmd *c,
                     int line)
{
    const char *w = argv[*pi];
    const struct cmddef *d = NULL;
    char **a = argv + *pi + 1;
    int left = argc - *pi - 1, k, rc;

    for (k = 0; k < (int)(sizeof cmddefs / sizeof cmddefs[0]); k++)
        if (strcmp(w, cmddefs[k].name) == 0) {
            d = &cmddefs[k];
            break;
        }
    if (d == NULL) {
        if (is_windbg_unsupported(w))
            fprintf(stderr, "kdcom-client: '%s' is not supported by "
                    "kdcom-client (help lists what is)\n", w);
        else
            fprintf(stderr, "kdcom-client: unknown command '%s' (see "
                    "%s%s)\n", w, line ? "help" : "--help",
                    w[0] == '-' && !line ? "; options go before ENDPOINT"
                                         : "");
        return EXIT_USAGE;
    }
    memset(c, 0, offsetof(struct cmd, bytes));
    c->def = d;
    c->reg = -1;
    if (d->nargs >= 0 && left < d->nargs) {
        fprintf(stderr, "kdcom-client: '%s' needs %d argument%s (usage: "
                "%s)\n", w, d->nargs, d->nargs == 1 ? "" : "s", d->syntax);
        return EXIT_USAGE;
    }
    if (d->nargs >= 0)
        *pi += 1 + d->nargs;
    switch (d->op) {
    case OP_READ:
    case OP_VERIFY:
    case OP_BENCH:
    case OP_PHYSICAL:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0 ||
            (rc = get_len(d, a[1], MAX_READ, &c->len)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->len)) != 0)
            return rc;
        break;
    case OP_CONTROL:
        if ((rc = get_u64(d, "INDEX", a[0], &c->addr)) != 0 ||
            (rc = get_len(d, a[1], KDCOM_KD_MAX_TRANSFER, &c->len)) != 0)
            return rc;
        break;
    case OP_WRITE:
    case OP_EXPECT:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0 ||
            (rc = get_hex(d, a[1], c)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->nbytes)) != 0)
            return rc;
        break;
    case OP_WRITE_CONTROL:
        if ((rc = get_u64(d, "INDEX", a[0], &c->addr)) != 0 ||
            (rc = get_hex(d, a[1], c)) != 0)
            return rc;
        break;
    case OP_CONTEXT_EX: {
        uint32_t len;
        if ((rc = get_u32(d, "OFFSET", a[0], 0, UINT32_MAX, &c->u32)) != 0 ||
            (rc = get_u32(d, "LEN", a[1], 1, KDCOM_KD_MAX_TRANSFER,
                          &len)) != 0)
            return rc;
        c->len = len;
        break;
    }
    case OP_BP:
    case OP_QUERY:
        if ((rc = get_u64(d, "ADDR", a[0], &c->addr)) != 0)
            return rc;
        break;
    case OP_BC:
        if ((rc = get_u32(d, "HANDLE", a[0], 1, UINT32_MAX, &c->u32)) != 0)
            return rc;
        break;
    case OP_RDMSR:
        if ((rc = get_u32(d, "MSR", a[0], 0, UINT32_MAX, &c->u32)) != 0)
            return rc;
        break;
    case OP_WAIT_STOP:
        if ((rc = get_u32(d, "MS", a[0], 1, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_WAIT_PRINT:
        if (a[0][0] == '\0')
            return arg_error(d, "TEXT", a[0], "is empty");
        c->text = a[0];
        if ((rc = get_u32(d, "MS", a[1], 1, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_MONITOR:
    case OP_SLEEP:
        if ((rc = get_u32(d, "MS", a[0], 0, MAX_WAIT_MS, &c->u32)) != 0)
            return rc;
        break;
    case OP_REG:
        *pi += 1;
        if (left > 0) {
            for (k = 0; k < (int)cl_nregs; k++)
                if (strcmp(a[0], cl_regs[k].name) == 0 ||
                    (strcmp(a[0], "eflags") == 0 && k == (int)cl_nregs - 1))
                    break;
            if (k < (int)cl_nregs) {
                c->reg = k;
                *pi += 1;
            } else if (line) {
                return arg_error(d, "REG", a[0], strchr(a[0], '=')
                                 ? "(setting registers) is not supported "
                                   "by kdcom-client"
                                 : "is not an x64 register r knows (rax.."
                                   "r15, rip, efl, cs..gs)");
            }
        }
        break;
    case OP_DUMP: {
        uint64_t count = 128 / d->unit;
        char why[80];
        if (left < 1) {
            fprintf(stderr, "kdcom-client: '%s' needs an address (usage: "
                    "%s)\n", w, d->syntax);
            return EXIT_USAGE;
        }
        if ((rc = get_wd_addr(d, a[0], &c->addr)) != 0)
            return rc;
        *pi += 2;
        if (left >= 2 && is_l(a[1])) {
            const char *n = a[1][1] != '\0' ? a[1] + 1
                            : left >= 3 ? a[2] : "";
            if (wd_number(n, &count) != 0)
                return arg_error(d, "COUNT", a[1][1] != '\0' ? a[1] : n,
                                 "is not a count (L followed by a number)");
            *pi += a[1][1] != '\0' ? 1 : 2;
        }
        if (count == 0 || count > MAX_READ / d->unit) {
            snprintf(why, sizeof why, "is out of range (1..0x%llx)",
                     (unsigned long long)(MAX_READ / d->unit));
            return arg_error(d, "COUNT", left >= 2 ? argv[*pi - 1] : "0",
                             why);
        }
        c->len = count * d->unit;
        if ((rc = check_span(d, a[0], c->addr, c->len)) != 0)
            return rc;
        break;
    }
    case OP_ENTER: {
        int n = line ? left - 1 : (left >= 2 ? 1 : 0);
        if (left < 2) {
            fprintf(stderr, "kdcom-client: '%s' needs an address and values "
                    "(usage: %s)\n", w, d->syntax);
            return EXIT_USAGE;
        }
        if ((rc = get_wd_addr(d, a[0], &c->addr)) != 0)
            return rc;
        if ((rc = get_values(d, a + 1, n, c)) != 0 ||
            (rc = check_span(d, a[0], c->addr, c->nbytes)) != 0)
            return rc;
        *pi += 2 + n;
        break;
    }
    case OP_HELP:
        if (line && left > 0) {
            fprintf(stderr, "kdcom-client: '? EXPRESSION' (expression "
                    "evaluation) is not supported by kdcom-client\n");
            return EXIT_USAGE;
        }
        break;
    case OP_QUIT:
        if (!line) {
            fprintf(stderr, "kdcom-client: '%s' is for interactive mode (-i)"
                    "\n", w);
            return EXIT_USAGE;
        }
        break;
    case OP_GO:
        if (line && left > 0) {
            fprintf(stderr, "kdcom-client: '%s %s': going to an address is "
                    "not supported by kdcom-client (bp ADDR, then g)\n", w,
                    a[0]);
            return EXIT_USAGE;
        }
        break;
    default:
        break;
    }
    /* A typed line is one command: words left over are a mistake. */
    if (line && *pi < argc) {
        fprintf(stderr, "kdcom-client: %s: unexpected '%s' (usage: %s)\n",
                d->name, argv[*pi], d->syntax);
        return EXIT_USAGE;
    }
    return 0;
}
