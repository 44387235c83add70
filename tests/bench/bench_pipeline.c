/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_pipeline.c - row 4: end-to-end paths set against a 115200-baud
 * line carrying the same wire bytes.
 *
 * The line's rate is computed, not simulated: 11,520 bytes/s (8N1) divided
 * by the wire bytes one 4000-byte memory read was counted to take in
 * row 3c (request, answer and both ACKs, as the link engines wrote them).
 * The end-to-end rows (VM channel pipeline, classic UART path) come from
 * the result file pipeline.sh writes, when the programs it drives exist.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define LINE_BYTES_PER_S 11520.0 /* 115200 baud, 10 bits per byte */
#define READ_PAYLOAD 4000.0

static void ratio_row(const char *id, const char *name, double reads_per_s,
                      double line_reads_per_s, const char *note)
{
    char v[32], mb[16], r[16];

    snprintf(v, sizeof v, "%.0f reads/s", reads_per_s);
    snprintf(mb, sizeof mb, "%.2f", reads_per_s * READ_PAYLOAD / 1e6);
    snprintf(r, sizeof r, "%.0f", reads_per_s / line_reads_per_s);
    bench_static(id, name, v, mb, r, "4a 115200-baud line", note);
}

void bench_pipeline_rows(const char *path)
{
    char v[32], mb[16], note[64], buf[64];
    double wire = bench_link_read_wire_bytes(), line, t3c;

    if (wire <= 0) {
        bench_static("4a", "115200-baud line", "unknown", "", "", "",
                     "row 3c did not run");
        return;
    }
    line = LINE_BYTES_PER_S / wire;
    snprintf(v, sizeof v, "%.3f reads/s", line);
    snprintf(mb, sizeof mb, "%.4f", line * READ_PAYLOAD / 1e6);
    snprintf(note, sizeof note, "%.0f wire B per 4000 B read", wire);
    bench_static("4a", "115200-baud line, 4000 B reads", v, mb, "1",
                 "(reference)", note);
    t3c = bench_median_of("3c");
    if (t3c > 0)
        ratio_row("4b", "link engines alone (row 3c)", 1e9 / t3c, line,
                  "no I/O: the protocol's own ceiling");
    if (path != NULL && bench_read_key(path, "vm_reads_per_s", buf,
                                       sizeof buf))
        ratio_row("4c", "VM channel -> shim -> TCP -> client", atof(buf),
                  line, "target >= 1000");
    else
        bench_static("4c", "VM channel -> shim -> TCP -> client", "pending",
                     "", "", "", "needs the shim and make demo programs");
    if (path != NULL && bench_read_key(path, "uart_reads_per_s", buf,
                                       sizeof buf))
        ratio_row("4d", "guest UART -> TARGET link -> client", atof(buf),
                  line, "");
    else
        bench_static("4d", "guest UART -> TARGET link -> client", "pending",
                     "", "", "", "needs the guest UART back end");
}
