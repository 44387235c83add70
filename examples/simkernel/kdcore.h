/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcore.h - the simulated kernel's debugger core: what ntoskrnl's KD
 * does on top of the transport's KdSendPacket / KdReceivePacket.
 */
#ifndef KDCORE_H
#define KDCORE_H

#include <stddef.h>
#include <stdint.h>

struct sim_options {
    int initial_break;      /* report a breakpoint after boot */
    unsigned print_interval_ms; /* heartbeat DbgPrint while running, 0 off */
    unsigned run_ms;        /* stop the simulation after this long, 0 never */
    int quiet;
    const char *image_path; /* LoadSymbols path */
    const char *pull_file;  /* ask the debugger for this file at boot */
};

/* Boots the simulated kernel and runs it until a stop signal (or run_ms).
 * The transport must have been initialised.  Returns 0, or 1 on error. */
int sim_run(const struct sim_options *o);

#endif /* KDCORE_H */
