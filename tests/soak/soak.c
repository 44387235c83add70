/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * soak.c - the lossy-link simulator (tests/sim.h) at scale: a table per
 * fault setting of what reached the other side, and how.
 *
 * Settings: per-byte faults at 1e-6, 1e-5 and 1e-4 (each of drop,
 * duplicate, bit flip, noise byte, 'b' byte and leader byte at that rate,
 * on both wires), and per-write faults at 1 %, 5 % and 20 % (each of: the
 * whole write lost, duplicated, split in two with a gap).  Payloads are
 * 0..4000 bytes, drawn at random; the retry budget is unlimited.
 *
 * A setting runs until `packets` packets went each way, in simulator runs
 * of at most RUN_PACKETS with seeds derived from the setting, or until
 * its time budget is used up; the table then says how far it got.  The
 * budget is measured with the process clock and only decides when to
 * stop: it is not a test of speed.
 *
 * Exit status: 0 when every setting completed every run and had no
 * anomaly (a loss that no corrupted delivery replaced, a duplicate, a
 * reorder) other than in runs whose twin is clean; 1 otherwise.  The twin
 * of a run is the same run again with only the bit flips that land in a
 * type or id field left out: those fields are the ones no checksum covers
 * (docs/protocol.md 2.1), and what damage to them does is the protocol's
 * limit, which the table reports rather than hides.  Corrupted deliveries
 * are reported, not failed: the byte-sum checksum cannot catch them all
 * (docs/SECURITY.md "The checksum's limits").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define RUN_PACKETS 50000u

struct setting {
    const char *name;
    uint32_t byte_ppm;  /* per-byte fault rate, each kind */
    uint32_t write_ppm; /* per-write fault rate, each kind */
};

static const struct setting settings[] = {
    {"per-byte 1e-6", 1, 0},       {"per-byte 1e-5", 10, 0},
    {"per-byte 1e-4", 100, 0},     {"per-write 1%", 0, 10000},
    {"per-write 5%", 0, 50000},    {"per-write 20%", 0, 200000},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

struct total {
    struct sim_dir_results t2d, d2t;
    uint64_t runs, incomplete, errors;
    uint64_t retransmissions, resets, target_resets, syncs, resends, stalls, bad_frames,
        bad_type_t2d, bad_type_d2t, bad_id_t2d, bad_id_d2t, resets_ignored,
        duplicates_dropped, breakins;
    uint64_t wire_bytes, virtual_ms;
    uint64_t flips, drops, dups, noise, writes_hit;
    uint64_t uncovered_flips; /* flips that landed in a type or id field */
    uint64_t uncovered_protected; /* ... and were left out (-H) */
    uint64_t track_lost;      /* bytes the frame tracker could not place */
    /* Runs with a loss, duplicate or reorder that a corrupted delivery
     * does not explain, and how many of them were clean when re-run with
     * only the flips in the type and id fields left out. */
    uint64_t anomalous_runs, twins_clean;
    double seconds;
};

static struct sim sim; /* about 330 KiB: not on the stack */

static void add_dir(struct sim_dir_results *a, const struct sim_dir_results *b)
{
    a->sent += b->sent;
    a->delivered += b->delivered;
    a->lost += b->lost;
    a->replaced += b->replaced;
    a->duplicated += b->duplicated;
    a->reordered += b->reordered;
    a->corrupted += b->corrupted;
    a->payload_bytes += b->payload_bytes;
}

static void faults(struct sim_faults *f, const struct setting *st)
{
    memset(f, 0, sizeof(*f));
    f->drop_ppm = f->dup_ppm = f->flip_ppm = st->byte_ppm;
    f->noise_ppm = f->breakin_ppm = f->leader_ppm = st->byte_ppm;
    f->chunk_drop_ppm = f->chunk_dup_ppm = st->write_ppm;
    f->chunk_split_ppm = st->write_ppm;
}

static void add_run(struct total *t, const struct sim_results *r)
{
    const struct sim_wire_stats *w[2] = {&r->wire_t2d, &r->wire_d2t};
    const struct kdcom_stats *k[2] = {&r->target, &r->debugger};
    int i;

    add_dir(&t->t2d, &r->t2d);
    add_dir(&t->d2t, &r->d2t);
    t->runs++;
    t->incomplete += !r->completed;
    t->errors += r->error != 0;
    t->retransmissions += r->retransmissions;
    t->resets += r->resets_target + r->resets_debugger;
    /* Beyond the handshake of each run (the debugger of the simulator
     * never resyncs on its own), a RESET at the target was made by the
     * wire: an ACK (4) is one bit flip from a RESET (6), and control
     * packets carry no checksum. */
    t->target_resets += r->resets_target;
    t->syncs += r->syncs;
    t->resends += r->resends;
    t->breakins += r->breakins;
    t->bad_type_t2d += r->debugger.bad_type; /* receiver of target->dbg */
    t->bad_type_d2t += r->target.bad_type;
    t->bad_id_t2d += r->debugger.bad_id;
    t->bad_id_d2t += r->target.bad_id;
    t->resets_ignored += r->debugger.resets_ignored;
    t->wire_bytes += r->wire_bytes;
    t->virtual_ms += r->virtual_ms;
    for (i = 0; i < 2; i++) {
        t->flips += w[i]->flipped;
        t->drops += w[i]->dropped;
        t->dups += w[i]->duplicated;
        t->noise += w[i]->noise + w[i]->breakins + w[i]->leaders;
        t->writes_hit += w[i]->writes_dropped + w[i]->writes_duplicated +
                         w[i]->writes_split;
        t->uncovered_flips += w[i]->uncovered_flips;
        t->uncovered_protected += w[i]->uncovered_protected;
        t->track_lost += w[i]->track_lost;
        t->stalls += k[i]->rx_stalls;
        t->bad_frames +=
            k[i]->bad_checksum + k[i]->bad_trailer + k[i]->bad_size;
        t->duplicates_dropped += k[i]->duplicates;
    }
}

/* Lost packets that no corrupted delivery replaced. */
static uint64_t unexplained(const struct sim_dir_results *d)
{
    return d->lost - d->replaced;
}

/* Losses not explained by a corrupted delivery, duplicates and reorders,
 * both directions: of one run, or of a setting's totals. */
static uint64_t anomalies(const struct sim_dir_results *t2d,
                          const struct sim_dir_results *d2t)
{
    return unexplained(t2d) + unexplained(d2t) + t2d->duplicated +
           d2t->duplicated + t2d->reordered + d2t->reordered;
}

/* One simulator run of n packets each way; NULL if the configuration is
 * refused.  Virtual time is generous: a timeout costs a second. */
static const struct sim_results *simulate(const struct sim_config *cfg,
                                          uint32_t n)
{
    if (sim_init(&sim, cfg) != 0) {
        fprintf(stderr, "soak: sim_init failed\n");
        return NULL;
    }
    sim_run(&sim, n, (uint64_t)n * 60000u + 3600000u);
    return sim_results(&sim);
}

static void row(const char *what, uint64_t a, uint64_t b)
{
    printf("  %-34s %14llu %14llu\n", what, (unsigned long long)a,
           (unsigned long long)b);
}

static int report(const struct setting *st, const struct total *t,
                  uint32_t goal)
{
    /* A corrupted delivery is ACKed in place of the packet it damaged,
     * which is lost: the checker marks the packet it expected at that
     * moment as replaced.  (A packet whose type was damaged into a
     * non-data type, or whose id into an invalid one, is refused with
     * RESEND, docs/protocol.md 5.3 and 5.5, and costs nothing.)  Any other
     * loss, and any duplicate or reorder, is an anomaly. */
    uint64_t unexpl_t2d = unexplained(&t->t2d);
    uint64_t unexpl_d2t = unexplained(&t->d2t);
    uint64_t bad = anomalies(&t->t2d, &t->d2t);
    uint64_t payload = t->t2d.payload_bytes + t->d2t.payload_bytes;
    /* An anomaly is tolerated only in a run that, re-run with the same
     * seed and only the flips that landed in a type or id field left out,
     * had none: those fields are the ones no checksum covers
     * (docs/protocol.md section 2), and what their damage does is the
     * protocol's limit, not the engine's. */
    int header_only = bad != 0 && t->twins_clean == t->anomalous_runs;
    /* The tracker places every fault in its frame; should it ever lose
     * step, "landed in a type or id field" would mean nothing. */
    int ok = (bad == 0 || header_only) && t->incomplete == 0 &&
             t->errors == 0 && t->track_lost == 0;

    printf("\n== %s: %llu of %u packets each way, %llu runs, %.1f s\n",
           st->name, (unsigned long long)t->t2d.sent, goal,
           (unsigned long long)t->runs, t->seconds);
    printf("  %-34s %14s %14s\n", "", "target->dbg", "dbg->target");
    row("packets sent", t->t2d.sent, t->d2t.sent);
    row("delivered (intact, once, in order)", t->t2d.delivered,
        t->d2t.delivered);
    row("lost", t->t2d.lost, t->d2t.lost);
    row("  replaced by a corrupted delivery", t->t2d.replaced,
        t->d2t.replaced);
    row("  other", unexpl_t2d, unexpl_d2t);
    row("duplicated", t->t2d.duplicated, t->d2t.duplicated);
    row("reordered", t->t2d.reordered, t->d2t.reordered);
    row("delivered corrupted", t->t2d.corrupted, t->d2t.corrupted);
    printf("  %-34s %14llu  (both links)\n", "retransmissions",
           (unsigned long long)t->retransmissions);
    printf("  %-34s %14llu  (RESET events %llu, SYNCED %llu)\n", "resyncs",
           (unsigned long long)(t->resets + t->syncs),
           (unsigned long long)t->resets, (unsigned long long)t->syncs);
    printf("  %-34s %14llu  (each run's handshake makes >= 1)\n",
           "RESETs seen by the target", (unsigned long long)t->target_resets);
    printf("  %-34s %14llu  (bad checksum/trailer/size)\n", "frames refused",
           (unsigned long long)t->bad_frames);
    row("data type damaged, refused", t->bad_type_t2d, t->bad_type_d2t);
    row("data id damaged, refused", t->bad_id_t2d, t->bad_id_d2t);
    printf("  %-34s %14llu  (a damaged ACK, at the debugger)\n",
           "RESETs with a packet id, ignored",
           (unsigned long long)t->resets_ignored);
    printf("  %-34s %14llu  (stalled packets %llu)\n", "RESEND events",
           (unsigned long long)t->resends, (unsigned long long)t->stalls);
    printf("  %-34s %14llu\n", "duplicates filtered",
           (unsigned long long)t->duplicates_dropped);
    printf("  %-34s %13.2f%%  (%llu payload bytes / %llu wire bytes)\n",
           "goodput", t->wire_bytes ? 100.0 * (double)payload /
                                          (double)t->wire_bytes
                                    : 0.0,
           (unsigned long long)payload, (unsigned long long)t->wire_bytes);
    printf("  %-34s %14llu  (%.1f h of virtual time)\n", "virtual ms",
           (unsigned long long)t->virtual_ms,
           (double)t->virtual_ms / 3600000.0);
    printf("  %-34s flips %llu, drops %llu, dups %llu, inserted %llu, "
           "writes hit %llu\n", "faults injected",
           (unsigned long long)t->flips, (unsigned long long)t->drops,
           (unsigned long long)t->dups, (unsigned long long)t->noise,
           (unsigned long long)t->writes_hit);
    printf("  %-34s %14llu  (of %llu flips; %llu more left out)\n",
           "flips in a type or id field",
           (unsigned long long)t->uncovered_flips,
           (unsigned long long)t->flips,
           (unsigned long long)t->uncovered_protected);
    if (bad != 0)
        printf("  %-34s %14llu  (%llu of them clean without the flips in "
               "type and id fields)\n", "runs with an anomaly",
               (unsigned long long)t->anomalous_runs,
               (unsigned long long)t->twins_clean);
    if (t->track_lost)
        printf("  the frame tracker lost step on %llu bytes\n",
               (unsigned long long)t->track_lost);
    if (t->incomplete || t->errors)
        printf("  %llu runs did not complete, %llu stopped on an error\n",
               (unsigned long long)t->incomplete,
               (unsigned long long)t->errors);
    if (!ok)
        printf("  verdict: FAIL\n");
    else if (bad == 0)
        printf("  verdict: PASS (no loss, duplicate or reorder)\n");
    else
        printf("  verdict: PASS (%llu losses, duplicates or reorders, all "
               "from damage to the\n           type and id fields, which "
               "no checksum covers)\n", (unsigned long long)bad);
    return ok;
}

int main(int argc, char **argv)
{
    uint32_t goal = 1000000;
    double budget = 300.0;
    uint64_t seed = 1;
    int only = -1, ok = 1, no_flips = 0, protect = 0, trace = 0;
    uint32_t first_run = 0;
    size_t i;

    setvbuf(stdout, NULL, _IOLBF, 0); /* a table per setting as it ends */
    for (i = 1; i < (size_t)argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < (size_t)argc)
            goal = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-t") && i + 1 < (size_t)argc)
            budget = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "-s") && i + 1 < (size_t)argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-o") && i + 1 < (size_t)argc)
            only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-F"))
            no_flips = 1; /* diagnosis: every fault but bit flips */
        else if (!strcmp(argv[i], "-H"))
            protect = 1; /* diagnosis: no flips in type and id fields */
        else if (!strcmp(argv[i], "-R") && i + 1 < (size_t)argc)
            first_run = (uint32_t)strtoul(argv[++i], NULL, 0); /* diagnosis:
                                            start at this run's seed */
        else if (!strcmp(argv[i], "-T"))
            trace = 1; /* diagnosis: anomalies to stderr */
        else {
            fprintf(stderr, "usage: %s [-n packets] [-t seconds per setting]"
                            " [-s seed] [-o setting] [-R first run] [-F] [-H] [-T]\n", argv[0]);
            return 2;
        }
    }
    printf("soak: %u packets each way per setting (budget %.0f s each), "
           "payloads 0..%d bytes, unlimited retries, seed %llu\n", goal,
           budget, KDCOM_MAX_PAYLOAD, (unsigned long long)seed);
    for (i = 0; i < NSETTINGS; i++) {
        const struct setting *st = &settings[i];
        struct total t;
        clock_t start = clock();
        uint32_t run = first_run;

        if (only >= 0 && (size_t)only != i)
            continue;
        memset(&t, 0, sizeof t);
        while (t.t2d.sent < goal && t.seconds < budget) {
            struct sim_config cfg;
            const struct sim_results *r;
            uint32_t n = goal - (uint32_t)t.t2d.sent;

            if (n > RUN_PACKETS)
                n = RUN_PACKETS;
            sim_config_init(&cfg, seed * 1000003u + i * 7919u + run++);
            faults(&cfg.t2d, st);
            faults(&cfg.d2t, st);
            if (no_flips)
                cfg.t2d.flip_ppm = cfg.d2t.flip_ppm = 0;
            cfg.t2d.protect_uncovered = cfg.d2t.protect_uncovered = protect;
            if (trace) {
                cfg.trace = stderr;
                fprintf(stderr, "run %u seed %llu\n", run - 1,
                        (unsigned long long)cfg.seed);
            }
            if ((r = simulate(&cfg, n)) == NULL)
                return 1;
            add_run(&t, r);
            if (anomalies(&r->t2d, &r->d2t) != 0 && !protect) {
                /* The twin: the same run, all faults drawn alike, except
                 * that flips landing in a type or id field are left out. */
                t.anomalous_runs++;
                cfg.t2d.protect_uncovered = cfg.d2t.protect_uncovered = 1;
                cfg.trace = NULL;
                if ((r = simulate(&cfg, n)) == NULL)
                    return 1;
                t.twins_clean += anomalies(&r->t2d, &r->d2t) == 0 &&
                                 r->completed && r->error == 0;
            }
            t.seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
            if (r->t2d.sent == 0)
                break; /* no progress at all: do not spin */
        }
        ok &= report(st, &t, goal);
    }
    printf("\nsoak: %s\n", ok ? "all settings passed" : "FAILED");
    return ok ? 0 : 1;
}
