/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * simep.h - the simulated kernel's wire end: opens the endpoint a
 * socket/pty transport talks over, and closes it.  Shared by the fd
 * transport (kdcom-simkernel) and the emulated 16550 (kdcom-simkernel-uart).
 */
#ifndef SIMEP_H
#define SIMEP_H

#include <stddef.h>

#include "../common/endpoint.h"

/* Opens sp: a new pty (prints KDCOM_SIM_PTY=PATH; *cfd is the master,
 * *keep_slave keeps it readable), a listener (*lfd; a TCP one prints
 * KDCOM_SIM_PORT=N) or a connection (*cfd).  Flushes stdout.  Returns 0,
 * or -1 with a message in err. */
int simep_open(const struct ep_spec *sp, int *lfd, int *cfd, int *keep_slave,
               char *err, size_t errlen);

/* Closes whichever of the three is open and sets all three to -1. */
void simep_close(int *lfd, int *cfd, int *keep_slave);

#endif /* SIMEP_H */
