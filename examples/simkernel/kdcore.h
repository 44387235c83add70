/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcore.h - the simulated kernel's debugger core: what ntoskrnl's KD
 * does on top of the transport's KdSendPacket / KdReceivePacket.
 *
 * The core is freestanding C (the compiler's <stddef.h> and <stdint.h>,
 * memcpy/memset): the same object runs in a Linux process
 * (kdcom-simkernel*, simkernel.c) and in ring 0 of a virtual machine
 * (guest/baremetal/).  What it needs from the program around it is the
 * SIM PLATFORM below and a memory image it does not allocate itself.
 */
#ifndef KDCORE_H
#define KDCORE_H

#include <stddef.h>
#include <stdint.h>

struct sim_options {
    int initial_break;      /* report a breakpoint after boot */
    unsigned print_interval_ms; /* heartbeat DbgPrint while running, 0 off */
    unsigned run_ms;        /* stop the simulation after this long, 0 never */
    int quiet;              /* no sim_note() calls */
    const char *image_path; /* LoadSymbols path */
    const char *pull_file;  /* ask the debugger for this file at boot */
    uint8_t *mem;           /* SIM_MEM_SIZE bytes (simpattern.h), owned
                               by the caller; the core fills it */
};

/* How sim_run() ended. */
enum sim_end {
    SIM_END_STOPPED = 0,  /* sim_stop_requested() or run_ms */
    SIM_END_FAILED = 1,   /* the transport did not initialise */
    SIM_END_REBOOT = 2    /* the debugger sent DbgKdRebootApi (.reboot) */
};

/* Boots the simulated kernel (transport initialisation included) and
 * runs it until it stops, the debugger reboots it, or run_ms. */
enum sim_end sim_run(const struct sim_options *o);

/* A simulated module unload: ms milliseconds after the kernel starts
 * running (after boot and the initial breakpoint), it reports the unload
 * of every symbol table, the LoadSymbols state change Windows sends at
 * shutdown (UnloadSymbols 1, BaseOfDll -1, no path), once, and runs on.
 * 0 (the default) never.  Call before sim_run(); kept outside struct
 * sim_options so that programs filling the structure field by field need
 * no change. */
void sim_set_unload_after(unsigned ms);

/*
 * SIM PLATFORM: provided by the program that links the core.
 *
 *   sim_clock_ms()        a monotonic millisecond clock (any origin)
 *   sim_idle()            one clock tick of a running kernel (about
 *                         5 ms: sleep, or spin); may return early
 *   sim_stop_requested()  non-zero to end the simulation (a signal, a
 *                         halt request); checked between requests
 *   sim_note(text)        one progress line for the operator (no '\n');
 *                         only called when o->quiet is 0
 */
uint64_t sim_clock_ms(void);
void sim_idle(void);
int sim_stop_requested(void);
void sim_note(const char *text);

#endif /* KDCORE_H */
