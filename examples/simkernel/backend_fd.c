/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_fd.c - kdcom-simkernel's serial build: KDCOM on an endpoint.
 *
 * The kernel's transport is guest/'s stream back end, the code of the
 * uart back end without the 16550: kd_api.c's exports, served by a
 * libkdcom host service in the process whose TARGET link is wired to the
 * endpoint (transport_fd.c) through the byte port below.  So the rules a
 * debugger meets here are the ones it meets on kdcom-simkernel-uart, on a
 * bare-metal kernel and, through kdcom-shim, on kdcom-simkernel-vm.
 *
 * The port is polled: the transport calls it in a loop while the kernel
 * waits for an answer.  When a step moved nothing, the transport lets it
 * wait (KdStreamPlatformWait): poll() on the endpoint until input comes,
 * a debugger knocks or the line takes the bytes it refused, so that loop
 * sleeps instead of spinning, and never past the transport's next
 * timer.  A newly accepted debugger is passed on as KD_STREAM_NEW_PEER:
 * the host service then drops what the last one left, its break-in
 * included, and starts the link over.
 */
#include "../common/exutil.h"
#include "backend.h"
#include "kdguest.h"
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

int KdStreamPlatformOpen(void)
{
    return 0; /* backend_setup() opened the endpoint */
}

int KdStreamPlatformRead(uint8_t *Buffer, ULONG Size)
{
    long n = fdtr_read(Buffer, Size);

    if (n == FDTR_NEW_PEER)
        return KD_STREAM_NEW_PEER;
    return (int)n;
}

ULONG KdStreamPlatformWrite(const uint8_t *Buffer, ULONG Size)
{
    return (ULONG)fdtr_write(Buffer, Size);
}

void KdStreamPlatformWait(ULONG Ms, int Output)
{
    fdtr_wait((int)Ms, Output);
}

uint64_t KdPlatformMilliseconds(void)
{
    return ex_now_ms();
}
