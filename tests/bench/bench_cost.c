/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_cost.c - row 5: what the library costs besides time.
 *
 *   - heap allocations while the codec and both link roles run in steady
 *     state, counted by the interposed allocator (alloc_count.c): the
 *     library never allocates, and this shows it in a real process;
 *   - the size of the structures a user embeds;
 *   - instructions per operation from callgrind (callgrind.sh), which are
 *     stable on a noisy machine where times are not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>
#ifdef BENCH_HAVE_VM
#include <kdcom_vm.h>
#endif

#include "bench.h"

static void alloc_row(void)
{
    struct bench_allocs a, b;
    static uint8_t buf[KDCOM_MAX_FRAME], payload[KDCOM_MAX_PAYLOAD];
    static struct kdcom_parser p;
    struct kdcom_frame f;
    unsigned long total;
    char value[32], note[48];
    int i, len;

    bench_allocs_get(&a);
    for (i = 0; i < 1000; i++) {
        len = kdcom_encode_data(buf, sizeof buf, KDCOM_TYPE_STATE_MANIPULATE,
                                KDCOM_INITIAL_ID, payload, 56, payload + 56,
                                sizeof payload - 56);
        kdcom_parser_init(&p);
        bench_sink += (uint32_t)kdcom_parse(&p, buf, (size_t)len, &f);
        bench_sink += kdcom_checksum(payload, sizeof payload);
    }
    bench_link_exchange(56, 1000);
    bench_link_exchange(KDCOM_MAX_PAYLOAD, 1000);
    bench_allocs_get(&b);
    total = (b.malloc_calls - a.malloc_calls) +
            (b.calloc_calls - a.calloc_calls) +
            (b.realloc_calls - a.realloc_calls) +
            (b.free_calls - a.free_calls) + (b.other_calls - a.other_calls);
    snprintf(value, sizeof value, "%lu calls", total);
    snprintf(note, sizeof note, "target 0: %s", total == 0 ? "met" : "MISSED");
    bench_static("5a", "heap calls, 2000 pkts + codec", value, "", "", "",
                 note);
}

static void size_rows(void)
{
    char v[32];

    snprintf(v, sizeof v, "%zu B", sizeof(struct kdcom_link));
    bench_static("5b", "sizeof(struct kdcom_link)", v, "", "", "", "");
    snprintf(v, sizeof v, "%zu B", sizeof(struct kdcom_parser));
    bench_static("5c", "sizeof(struct kdcom_parser)", v, "", "", "", "");
#ifdef BENCH_HAVE_VM
    snprintf(v, sizeof v, "%zu B", sizeof(struct kdcom_vm_host));
    bench_static("5d", "sizeof(struct kdcom_vm_host)", v, "", "", "",
                 "host service, embeds a link");
#else
    bench_static("5d", "sizeof host-service struct", "pending", "", "", "",
                 "include/kdcom_vm.h not in the tree yet");
#endif
}

struct cg_row {
    const char *id, *key, *name, *against;
    long target;
};

static const struct cg_row cg_rows[] = {
    {"5e", "memcpy", "callgrind: memcpy 4000 B", "", 0},
    {"5f", "sum", "callgrind: ref sum 4000 B", "5e", 0},
    {"5g", "encode", "callgrind: encode 4000 B", "5e", 0},
    {"5h", "decode", "callgrind: decode 4000 B", "5e", 0},
    {"5i", "send", "callgrind: send 4000 B, take ACK", "5e", 6900},
    {"5j", "recv", "callgrind: receive 4000 B, ACK it", "5e", 10500},
};

static void callgrind_rows(const char *path)
{
    char buf[128], v[32], r[16], against[40], note[48];
    double base = 0;
    size_t i;

    if (bench_read_key(path, "valgrind skipped:", buf, sizeof buf) ||
        path == NULL) {
        bench_static("5e", "callgrind instructions/packet", "skipped", "",
                     "", "", path ? buf : "no callgrind results given");
        return;
    }
    for (i = 0; i < sizeof cg_rows / sizeof cg_rows[0]; i++) {
        const struct cg_row *c = &cg_rows[i];
        double ir;

        if (!bench_read_key(path, c->key, buf, sizeof buf)) {
            bench_static(c->id, c->name, "missing", "", "", "", "");
            continue;
        }
        ir = atof(buf);
        if (c->against[0] == 0)
            base = ir;
        snprintf(v, sizeof v, "%.0f Ir/op", ir);
        r[0] = against[0] = note[0] = 0;
        if (c->against[0] && base > 0) {
            snprintf(r, sizeof r, "%.2fx", ir / base);
            snprintf(against, sizeof against, "%s %s", c->against,
                     "memcpy 4000 B");
        }
        if (c->target > 0)
            snprintf(note, sizeof note, "target <= %ld: %s", c->target,
                     ir <= (double)c->target ? "met" : "MISSED");
        bench_static(c->id, c->name, v, "", r, against, note);
    }
}

void bench_cost_rows(const char *cg_path)
{
    alloc_row();
    size_rows();
    callgrind_rows(cg_path);
}
