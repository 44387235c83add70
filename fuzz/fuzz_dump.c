/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dump.c - kdcom-dump's readers and decoders (examples/dump/): the
 * pcapng, pcap, hex trace and raw readers, the link/IP/TCP layers with
 * their reassembly, the KD message decoder and both output formats.
 *
 * Input: one selector byte, then the file.  The selector picks the format
 * (auto-detected for most values), text or JSON, the TCP port rule, which
 * end is the target, and whether the file is read in place or handed
 * over in pieces of 1..64 bytes through the buffered reading path (what
 * read(2) on a pipe would do).  Limits are small, so that the connection
 * table and the out-of-order queue fill up within a short input.
 *
 * Oracles: dump_run() returns 0 or -1, and -1 always comes with a
 * message; ASan/UBSan (or valgrind on the replayer) catch the rest: no
 * overread of the exact-size input, no leak, no undefined arithmetic.
 */
#include <stdio.h>
#include <string.h>

#include "dump.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *sink;
    struct dump_opts o;
    struct dump_source src;
    char err[512];
    uint8_t sel, sel2;
    int rc;

    if (size < 2)
        return 0;
    sel = data[0];
    sel2 = data[1];
    dump_opts_init(&o);
    o.format = (sel & 7) <= DUMP_FMT_RAW ? (sel & 7) : DUMP_FMT_AUTO;
    o.json = (sel >> 3) & 1;
    o.any_port = (sel >> 4) & 1;
    o.target_side = (sel >> 5) & 3;
    if (o.target_side > DUMP_SIDE_CLIENT)
        o.target_side = DUMP_SIDE_AUTO;
    o.capture_end = (sel2 >> 6) & 3;
    if (o.capture_end > DUMP_END_TARGET)
        o.capture_end = DUMP_END_UNKNOWN;
    o.raw_dir = (sel2 >> 4) & 3;
    if (o.raw_dir > DUMP_UNKNOWN)
        o.raw_dir = DUMP_UNKNOWN;
    o.max_record = 1u << 20;
    o.max_conns = 4;
    o.max_ooo = 4096;
    memset(&src, 0, sizeof src);
    src.fd = -1;
    src.mem = data + 2;
    src.len = size - 2;
    src.chunk = (sel2 & 15) ? (size_t)1 << ((sel2 & 15) % 7) : 0;
    src.name = "fuzz input";
    err[0] = 'x';
    /* Opened per input: nothing stays allocated between runs. */
    sink = fopen("/dev/null", "w");
    FZ_CHECK(sink != NULL, "cannot open /dev/null");
    rc = dump_run(&o, &src, sink, err, sizeof err);
    fclose(sink);
    FZ_CHECK(rc == 0 || rc == -1, "dump_run returned %d", rc);
    FZ_CHECK(rc == 0 || err[0] != '\0', "failure without a message");
    FZ_CHECK(rc != 0 || err[0] == '\0', "success with a message: %s", err);
    return 0;
}
