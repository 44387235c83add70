/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * simep.c - the simulated kernel's wire end (see simep.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "simep.h"

#include <stdio.h>
#include <unistd.h>

int simep_open(const struct ep_spec *sp, int *lfd, int *cfd, int *keep_slave,
               char *err, size_t errlen)
{
    char slave[128];

    if (sp->kind == EP_PTY) {
        *cfd = ep_open_pty(slave, sizeof slave, keep_slave, err, errlen);
        if (*cfd < 0)
            return -1;
        printf("KDCOM_SIM_PTY=%s\n", slave);
    } else if (sp->listen) {
        *lfd = ep_listen(sp, err, errlen);
        if (*lfd < 0)
            return -1;
        if (sp->kind == EP_TCP)
            printf("KDCOM_SIM_PORT=%d\n", ep_local_port(*lfd));
    } else {
        *cfd = ep_open(sp, 10000, err, errlen);
        if (*cfd < 0)
            return -1;
    }
    fflush(stdout);
    return 0;
}

void simep_close(int *lfd, int *cfd, int *keep_slave)
{
    if (*cfd >= 0)
        close(*cfd);
    if (*lfd >= 0)
        close(*lfd);
    if (*keep_slave >= 0)
        close(*keep_slave);
    *cfd = *lfd = *keep_slave = -1;
}
