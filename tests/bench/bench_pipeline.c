/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_pipeline.c - row 4: the end-to-end paths, from the result file
 * pipeline.sh wrote, set against a 115200-baud line carrying the same
 * wire bytes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

void bench_pipeline_rows(const char *path)
{
    char buf[160];

    if (path == NULL || !bench_read_key(path, "status", buf, sizeof buf)) {
        bench_static("4", "pipeline rows", "pending", "", "", "",
                     "no pipeline results");
        return;
    }
    bench_static("4", "pipeline rows", "pending", "", "", "", buf);
}
