/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_fd.c - kdcom-simkernel's serial build: KDCOM on an endpoint
 * through transport_fd.c.
 */
#include <stdio.h>

#include "backend.h"
#include "transport_fd.h"

const char *backend_program(void)
{
    return "kdcom-simkernel";
}

const char *backend_args(void)
{
    return "ENDPOINT";
}

const char *backend_help(void)
{
    return "ENDPOINT is the kernel's serial port, speaking KDCOM:\n"
           "  tcp-listen:[HOST:]PORT  wait for debuggers, one after the other\n"
           "                          (PORT 0: any; prints KDCOM_SIM_PORT=N)\n"
           "  tcp:HOST:PORT, unix:PATH, unix-listen:PATH, tty:DEV[,BAUD]\n"
           "  pty                     new pty; prints KDCOM_SIM_PTY=/dev/pts/N\n";
}

int backend_setup(const char *target, struct wiretrace *wt)
{
    struct ep_spec sp;
    char err[256];

    if (ep_parse(target, &sp, err, sizeof err) != 0) {
        fprintf(stderr, "kdcom-simkernel: %s\n", err);
        return -1;
    }
    return fdtr_setup(&sp, wt);
}

void backend_close(void)
{
    fdtr_close();
}
