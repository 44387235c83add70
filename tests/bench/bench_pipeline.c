/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_pipeline.c - row 4: end-to-end paths set against a 115200-baud
 * line carrying the same wire bytes.
 *
 * The line's rate is computed, not simulated: 11,520 bytes/s (8N1) divided
 * by the wire bytes one memory read was counted to take in row 3c (the
 * 56-byte request, the 4000-byte answer holding 3944 bytes of memory, both
 * ACKs, as the link engines wrote them).  The end-to-end rows come from
 * the result file pipeline.sh writes; MB/s in row 4 are of memory read.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define LINE_BYTES_PER_S 11520.0 /* 115200 baud, 10 bits per byte */
#define READ_DATA 3944.0         /* memory bytes one 4000-byte answer holds */

static void ratio_row(const char *id, const char *name, double reads_per_s,
                      double line_reads_per_s, const char *note)
{
    char v[32], mb[16], r[16];

    snprintf(v, sizeof v, "%.0f reads/s", reads_per_s);
    snprintf(mb, sizeof mb, "%.2f", reads_per_s * READ_DATA / 1e6);
    snprintf(r, sizeof r, "%.0f", reads_per_s / line_reads_per_s);
    bench_static(id, name, v, mb, r, "4a 115200-baud line", note);
}

/* A row from pipeline.sh's results: measured, failed, or not built. */
static void path_row(const char *path, const char *id, const char *key,
                     const char *name, double line, const char *note)
{
    char k[48], buf[160];

    snprintf(k, sizeof k, "%s_reads_per_s", key);
    if (path != NULL && bench_read_key(path, k, buf, sizeof buf)) {
        ratio_row(id, name, atof(buf), line, note);
        return;
    }
    snprintf(k, sizeof k, "%s_failed", key);
    if (path != NULL && bench_read_key(path, k, buf, sizeof buf)) {
        bench_static(id, name, "failed", "", "", "", buf);
        return;
    }
    bench_static(id, name, "pending", "", "", "",
                 "programs not built (make examples)");
}

void bench_pipeline_rows(const char *path)
{
    char v[32], mb[16], note[64];
    double wire = bench_link_read_wire_bytes(), line, t3c, vm = 0, uart = 0;
    char buf[64];

    if (wire <= 0) {
        bench_static("4a", "115200-baud line", "unknown", "", "", "",
                     "row 3c did not run");
        return;
    }
    line = LINE_BYTES_PER_S / wire;
    snprintf(v, sizeof v, "%.3f reads/s", line);
    snprintf(mb, sizeof mb, "%.4f", line * READ_DATA / 1e6);
    snprintf(note, sizeof note, "%.0f wire B per read (row 3c)", wire);
    bench_static("4a", "115200-baud line, 3944 B reads", v, mb, "1",
                 "(reference)", note);
    t3c = bench_median_of("3c");
    if (t3c > 0)
        ratio_row("4b", "link engines alone (row 3c)", 1e9 / t3c, line,
                  "no I/O: the protocol's ceiling");
    if (path != NULL && bench_read_key(path, "vm_reads_per_s", buf,
                                       sizeof buf))
        vm = atof(buf);
    if (path != NULL && bench_read_key(path, "uart_reads_per_s", buf,
                                       sizeof buf))
        uart = atof(buf);
    note[0] = 0;
    if (vm > 0)
        snprintf(note, sizeof note, "target >= 1000 and > 4d: %s",
                 vm / line >= 1000 && vm > uart ? "met" : "MISSED");
    path_row(path, "4c", "vm", "VM channel>shim>TCP>client", line, note);
    path_row(path, "4d", "uart", "guest UART>TARGET>TCP>client", line,
             "classic path");
    path_row(path, "4e", "serial", "TARGET on TCP>client", line,
             "kdcom-simkernel, no UART");
}
