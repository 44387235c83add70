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

const char *backend_summary(void)
{
    return "a simulated Windows kernel, KDCOM on a socket, tty or pty";
}

const char *backend_transport(void)
{
    return "  Its serial port is ENDPOINT: libkdcom's TARGET role speaks KDCOM on\n"
           "  it directly, as a kernel's kdcom.dll does on a COM port, so a\n"
           "  debugger attaches to it without kdcom-shim.\n";
}

const char *backend_help(void)
{
    return "ENDPOINT\n"
           "  tcp-listen:[HOST:]PORT  wait for debuggers, one after the other (HOST\n"
           "                          127.0.0.1 if left out; PORT 0: any free port)\n"
           "  unix-listen:PATH        the same on a Unix socket, created with mode 0600\n"
           "  tcp:HOST:PORT           connect to a debugger that listens\n"
           "  unix:PATH               the same on a Unix socket\n"
           "  tty:DEVICE[,BAUD]       a serial line, in raw mode\n"
           "  pty                     a new pty for the debugger to open\n";
}

const char *backend_stdout(void)
{
    return "  stdout gets one line for scripts: KDCOM_SIM_PORT=PORT (tcp-listen, the\n"
           "  port actually bound) or KDCOM_SIM_PTY=/dev/pts/N (pty).\n";
}

const char *backend_examples(void)
{
    return "  kdcom-simkernel tcp-listen:127.0.0.1:5800\n"
           "      then: kdcom-client tcp:127.0.0.1:5800 wait-stop 5000 version go\n"
           "      or:   windbg -k com:ipport=5800,port=127.0.0.1\n"
           "  kdcom-simkernel pty\n"
           "      then: kdcom-client tty:/dev/pts/N version go\n";
}

int backend_has_wire(void)
{
    return 1;
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
