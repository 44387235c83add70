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
 *
 * Rows 4f-4p come from the same file (tests/bench/qemu.sh and hops.c
 * append to it): the guest transport in a QEMU virtual machine under TCG
 * (4f-4j) and KVM (4l-4p), set against the classic 16550 path measured
 * in the same run, the VM channel's bare round trip set against the
 * published figure of the closest existing accelerator, and (4k) row 4c
 * set against the same hops with no KD work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define LINE_BYTES_PER_S 11520.0 /* 115200 baud, 10 bits per byte */
#define READ_DATA 3944.0         /* memory bytes one 4000-byte answer holds */
/* VirtualKD's published round-trip rate (VirtualBox, 2009 hardware). */
#define VIRTUALKD_RT_PER_S 62000.0

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

static double key_value(const char *path, const char *key)
{
    char buf[64];

    if (path != NULL && bench_read_key(path, key, buf, sizeof buf))
        return atof(buf);
    return 0;
}

/* A reads/s row measured against a reference rate of the same file. */
static void vs_row(const char *path, const char *id, const char *key,
                   const char *name, double ref, const char *ref_name,
                   const char *note)
{
    char k[64], buf[160], v[32], mb[16], r[16];
    double rate;

    snprintf(k, sizeof k, "%s_reads_per_s", key);
    rate = key_value(path, k);
    if (rate > 0) {
        snprintf(v, sizeof v, "%.1f reads/s", rate);
        snprintf(mb, sizeof mb, "%.3f", rate * READ_DATA / 1e6);
        if (ref > 0)
            snprintf(r, sizeof r, ref == rate ? "1" : "%.1f", rate / ref);
        else
            snprintf(r, sizeof r, "-");
        bench_static(id, name, v, mb, r, ref == rate ? "(reference)" : ref_name,
                     note);
        return;
    }
    snprintf(k, sizeof k, "%s_failed", key);
    if (path != NULL && bench_read_key(path, k, buf, sizeof buf)) {
        bench_static(id, name, "failed", "", "", "", buf);
        return;
    }
    if (path != NULL && bench_read_key(path, "qemu_missing", buf, sizeof buf))
        bench_static(id, name, "pending", "", "", "", buf);
    else
        bench_static(id, name, "pending", "", "", "", "not measured");
}

/* Rows 4f-4j (TCG) or 4l-4p (KVM): one accelerator's QEMU rows. */
static void qemu_rows(const char *path, const char *accel, char first)
{
    char key[64], id[4] = {'4', first, 0, 0}, note[64], v[32], r[16];
    double uart, rtt;
    int have = 0;
    char accels[32];

    if (path != NULL && bench_read_key(path, "qemu_accels", accels,
                                       sizeof accels))
        have = strstr(accels, accel) != NULL;
    if (!have) {
        char why[128];
        if (path != NULL &&
            bench_read_key(path, "qemu_missing", why, sizeof why))
            bench_static(id, "QEMU rows", "pending", "", "", "", why);
        else {
            snprintf(note, sizeof note, "not run: QEMU_ACCELS=\"tcg %s\"",
                     accel);
            bench_static(id, "QEMU rows", "pending", "", "", "", note);
        }
        return;
    }
#define QK(name) (snprintf(key, sizeof key, "qemu_%s_%s", accel, name), key)
    uart = key_value(path, QK("uart_unix_reads_per_s"));
    snprintf(note, sizeof note, "%s; KDCOM in the guest", accel);
    vs_row(path, id, QK("uart_unix"), "QEMU 16550>unix sock>client", uart,
           "", note);
    id[1]++;
    snprintf(note, sizeof note, "%s; nodelay=on, as com:ipport", accel);
    vs_row(path, id, QK("uart_tcp"), "QEMU 16550>TCP>client", uart,
           "QEMU 16550 (unix)", note);
    id[1]++;
    snprintf(note, sizeof note, "%s; VM channel, shim polls", accel);
    vs_row(path, id, QK("plain"), "QEMU plain ivshmem>shim>client", uart,
           "QEMU 16550 (unix)", note);
    id[1]++;
    snprintf(note, sizeof note, "%s; VM channel, eventfd doorbell", accel);
    vs_row(path, id, QK("doorbell"), "QEMU doorbell ivshmem>shim>client",
           uart, "QEMU 16550 (unix)", note);
    id[1]++;
    rtt = key_value(path, QK("rtt_per_s"));
    if (rtt > 0) {
        snprintf(v, sizeof v, "%.0f rt/s", rtt);
        snprintf(r, sizeof r, "%.2f", rtt / VIRTUALKD_RT_PER_S);
        snprintf(note, sizeof note, "%s; no KD/KDCOM/TCP", accel);
        bench_static(id, "QEMU channel round trip 512 B", v, "", r,
                     "VirtualKD 62000 rt/s", note);
    } else {
        vs_row(path, id, QK("rtt"), "QEMU channel round trip 512 B", 0, "",
               "");
    }
#undef QK
}

/* Row 4k: row 4c set against the same hops with no KD work. */
static void hops_row(const char *path, double vm)
{
    double hops = key_value(path, "hops_reads_per_s");
    char v[32], r[16];

    if (hops > 0 && vm > 0) {
        snprintf(v, sizeof v, "%.0f reads/s", hops);
        snprintf(r, sizeof r, "%.2f", vm / hops);
        bench_static("4k", "4c's hops, no KD work (hops.c)", v, "", r,
                     "4c/4k: 4c's share", "target 4c/4k >= 0.5");
    } else {
        vs_row(path, "4k", "hops", "4c's hops, no KD work (hops.c)", 0, "",
               "");
    }
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
    qemu_rows(path, "tcg", 'f');
    hops_row(path, vm);
    qemu_rows(path, "kvm", 'l');
}
