/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom-dump.c - decodes recorded KDCOM traffic: the --pcap captures of
 * the example programs, pcap/pcapng captures of TCP sessions
 * (com:ipport), raw byte streams and the --trace hex logs.  One line per
 * packet, or JSON lines, then a summary.  The decoding is in dump_*.c;
 * this file is the command line.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>

#include "dump.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

static const char usage[] =
"usage: kdcom-dump [options] FILE|-\n"
"\n"
"Decodes recorded KDCOM traffic (Windows kernel debugging over a serial\n"
"line, a pipe or TCP) with libkdcom's frame parser: one line per packet\n"
"with time, direction, type, id, length, checksum verdict and the KD\n"
"message inside (API, address, length, status, state change, DbgPrint\n"
"text, file I/O), then a summary of retransmissions, RESENDs, RESETs,\n"
"duplicates, checksum failures and noise for each direction.\n"
"\n"
"FILE (- for standard input), recognised by its contents:\n"
"  pcapng    kdcom-shim/-client --pcap captures (link type USER0, one\n"
"            interface per end), or any pcapng capture of TCP traffic\n"
"  pcap      classic libpcap captures (Ethernet, Linux cooked, loopback,\n"
"            raw IP) of TCP traffic\n"
"  hex       --trace hex logs (\"D>T 30 30 ...\" lines; other lines skipped)\n"
"  raw       anything else: the bytes of one direction (a serial log)\n"
"\n"
"options:\n"
"  -f, --format auto|pcapng|pcap|hex|raw   do not guess (raw: needed for a\n"
"                           live stream on stdin, which is otherwise read\n"
"                           up to 64 KiB before the first line comes)\n"
"  -j, --json               one JSON object per line; the summary is the\n"
"                           last object ({\"summary\": ...})\n"
"  -p, --port PORT|any      TCP port(s) carrying KDCOM (repeatable;\n"
"                           default 5800, as in docs/integrating.md)\n"
"      --target-side auto|server|client   which TCP end is the target\n"
"                           (default auto: from what each end sends first,\n"
"                           else the listening end)\n"
"      --from debugger|target   raw input: who sent the bytes (default\n"
"                           unknown, printed as ?)\n"
"      --capture-end debugger|target   captures on a KDCOM link type whose\n"
"                           interfaces are not named debugger/target: which\n"
"                           end wrote the file (then inbound/outbound flags\n"
"                           give the direction)\n"
"      --no-summary         packets only\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 decoded, 1 bad or unreadable input (the message says what\n"
"and where; everything before the fault is printed), 2 usage.\n";

static int bad_arg(const char *opt, const char *val)
{
    fprintf(stderr, "kdcom-dump: bad value '%s' for %s (see --help)\n",
            val != NULL ? val : "", opt);
    return EXIT_USAGE;
}

static int parse_port(const char *v, uint16_t *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n == 0 || n > 65535)
        return -1;
    *out = (uint16_t)n;
    return 0;
}

static int end_value(const char *v)
{
    if (strcmp(v, "debugger") == 0)
        return DUMP_END_DEBUGGER;
    if (strcmp(v, "target") == 0)
        return DUMP_END_TARGET;
    return -1;
}

int main(int argc, char **argv)
{
    struct dump_opts o;
    struct dump_source src;
    const char *path = NULL;
    char err[512];
    int i, rc;

    dump_opts_init(&o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (path != NULL) {
                fprintf(stderr, "kdcom-dump: one input only ('%s' and "
                        "'%s')\n", path, a);
                return EXIT_USAGE;
            }
            path = a;
        } else if (strcmp(a, "--") == 0) {
            if (i + 1 < argc && path == NULL)
                path = argv[++i];
            if (i + 1 < argc) {
                fprintf(stderr, "kdcom-dump: one input only\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("kdcom-dump (libkdcom) %s, KDCOM protocol revision %d\n",
                   kdcom_version_string(), KDCOM_PROTOCOL_REVISION);
            return 0;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
            o.json = 1;
        } else if (strcmp(a, "--no-summary") == 0) {
            o.no_summary = 1;
        } else if ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) &&
                   v != NULL) {
            static const char *const names[] = {"auto", "pcapng", "pcap",
                                                "hex", "raw"};
            int k;
            for (k = 0; k < 5 && strcmp(v, names[k]) != 0; k++)
                ;
            if (k == 5)
                return bad_arg(a, v);
            o.format = k;
            i++;
        } else if ((strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) &&
                   v != NULL) {
            if (strcmp(v, "any") == 0) {
                o.any_port = 1;
            } else {
                if (o.nports >= DUMP_MAX_PORTS)
                    return bad_arg(a, "(too many ports)");
                if (parse_port(v, &o.ports[o.nports]) != 0)
                    return bad_arg(a, v);
                o.nports++;
            }
            i++;
        } else if (strcmp(a, "--target-side") == 0 && v != NULL) {
            if (strcmp(v, "auto") == 0)
                o.target_side = DUMP_SIDE_AUTO;
            else if (strcmp(v, "server") == 0)
                o.target_side = DUMP_SIDE_SERVER;
            else if (strcmp(v, "client") == 0)
                o.target_side = DUMP_SIDE_CLIENT;
            else
                return bad_arg(a, v);
            i++;
        } else if (strcmp(a, "--from") == 0 && v != NULL) {
            int e = end_value(v);
            if (e < 0)
                return bad_arg(a, v);
            o.raw_dir = e == DUMP_END_DEBUGGER ? DUMP_D2T : DUMP_T2D;
            i++;
        } else if (strcmp(a, "--capture-end") == 0 && v != NULL) {
            int e = end_value(v);
            if (e < 0)
                return bad_arg(a, v);
            o.capture_end = e;
            i++;
        } else {
            fprintf(stderr, "kdcom-dump: unknown option '%s' or missing "
                    "value (see --help)\n", a);
            return EXIT_USAGE;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "kdcom-dump: missing FILE (- for standard input; "
                "see --help)\n");
        return EXIT_USAGE;
    }
    memset(&src, 0, sizeof src);
    src.name = path;
    if (strcmp(path, "-") == 0) {
        src.fd = STDIN_FILENO;
        src.name = "standard input";
    } else {
        src.fd = open(path, O_RDONLY | O_CLOEXEC);
        if (src.fd < 0) {
            fprintf(stderr, "kdcom-dump: cannot open %s: %s\n", path,
                    strerror(errno));
            return EXIT_BAD_INPUT;
        }
    }
    rc = dump_run(&o, &src, stdout, err, sizeof err);
    if (src.fd != STDIN_FILENO)
        close(src.fd);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "kdcom-dump: writing the output failed: %s\n",
                strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (rc != 0) {
        fprintf(stderr, "kdcom-dump: %s: %s\n", src.name, err);
        return EXIT_BAD_INPUT;
    }
    return 0;
}
