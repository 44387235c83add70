/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport_fd.h - a kdcom.dll stand-in for a process: the kdapi.h
 * exports over libkdcom's TARGET role on a socket, tty or pty, the way a
 * kernel's serial port would carry them.
 */
#ifndef TRANSPORT_FD_H
#define TRANSPORT_FD_H

#include "../common/endpoint.h"
#include "../common/wiretrace.h"

/* Opens the endpoint (a listening one accepts debuggers one after the
 * other, as QEMU's `-serial tcp:...,server` does).  Prints the port or pty
 * path on stdout.  Returns 0 or -1 with a message on stderr. */
int fdtr_setup(const struct ep_spec *sp, struct wiretrace *wt);
void fdtr_close(void);

#endif /* TRANSPORT_FD_H */
