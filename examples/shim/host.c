/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.c - kdcom-shim's host service (libkdcom's VM host) on the mapping,
 * the guest kicked after each answer, and the counters printed at exit
 * kept as totals over every guest, debugger and restart of the service.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "../common/counters.h"
#include "shim.h"

struct kdcom_vm_host host;
struct kdcom_vm_config vcfg;

int kicked; /* an answer went out in this round of the loop */
int last_poll = KDCOM_VM_POLL_NO_GUEST; /* what service() saw last */

/* The counters printed at exit are totals since the start.  The host
 * service keeps its link's counters over debugger connections, but starts
 * the link afresh for a new guest, and the shim starts the whole service
 * afresh after a truncated file: what those had counted is added here. */
static struct kdcom_stats link_done;
static struct kdcom_vm_stats chan_done;

/* dst += src, counter by counter (both structures are uint64_t only). */
static void add_counters(void *dst, const void *src, size_t size)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
        uint64_t a, b;
        memcpy(&a, (uint8_t *)dst + off, sizeof a);
        memcpy(&b, (const uint8_t *)src + off, sizeof b);
        a += b;
        memcpy((uint8_t *)dst + off, &a, sizeof a);
    }
}

void host_restart(void)
{
    add_counters(&link_done, kdcom_get_stats(kdcom_vm_host_link(&host)),
                 sizeof link_done);
    add_counters(&chan_done, kdcom_vm_host_stats(&host), sizeof chan_done);
    kdcom_vm_host_init(&host, &vcfg);
}

/* 1 if a counter of now is below the same counter of before: the
 * structure was started afresh in between. */
static int counters_restarted(const void *before, const void *now,
                              size_t size)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
        uint64_t a, b;
        memcpy(&a, (const uint8_t *)before + off, sizeof a);
        memcpy(&b, (const uint8_t *)now + off, sizeof b);
        if (b < a)
            return 1;
    }
    return 0;
}

/* Polls the host service, and kicks the guest if an answer went out. */
int service(void *shm, size_t size, uint64_t now)
{
    const struct kdcom_stats *ls = kdcom_get_stats(kdcom_vm_host_link(&host));
    struct kdcom_stats before;
    int r;

    if (ls != NULL)
        before = *ls;
    r = kdcom_vm_host_poll(&host, shm, size, now);
    /* A new guest may get a new link, its counters at zero: only the
     * poll ran in between, so what the old link counted is `before`. */
    if (ls != NULL && counters_restarted(&before, ls, sizeof before))
        add_counters(&link_done, &before, sizeof before);
    last_poll = r;
    if (kdcom_vm_host_take_kick(&host) == 1) {
        kick_guest(shm);
        kicked = 1;
    }
    return r;
}

void host_print_stats(void)
{
    struct kdcom_vm_stats vt = chan_done;
    struct kdcom_stats lt = link_done;
    char line[EX_COUNTERS_LEN];

    add_counters(&vt, kdcom_vm_host_stats(&host), sizeof vt);
    add_counters(&lt, kdcom_get_stats(kdcom_vm_host_link(&host)), sizeof lt);
    fprintf(stderr, "kdcom-shim: channel: %s\n",
            ex_vm_counters(line, sizeof line, &vt));
    fprintf(stderr, "kdcom-shim: link: %s\n",
            ex_link_counters(line, sizeof line, &lt));
}
