/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend.h - what each kdcom-simkernel build links under the KD core:
 * how to name itself, parse its target argument and set up its transport.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include "../common/wiretrace.h"

const char *backend_program(void);
const char *backend_args(void);
/* --help: the one-line summary for NAME, the transport's paragraph for
 * DESCRIPTION, the section on the argument (headed by backend_args()),
 * what goes to stdout, and EXAMPLES. */
const char *backend_summary(void);
const char *backend_transport(void);
const char *backend_help(void);
const char *backend_stdout(void);
const char *backend_examples(void);
/* 1 if the transport has a KDCOM wire that --trace and --pcap can see;
 * 0 for the VM channel, whose KDCOM lives in the host service. */
int backend_has_wire(void);
/* 0, or -1 with a message on stderr. */
int backend_setup(const char *target, struct wiretrace *wt);

/* -q: the transports print no progress lines either (a debugger that
 * comes or goes).  Set by simkernel.c before backend_setup(). */
extern int backend_quiet;
void backend_close(void);

#endif /* BACKEND_H */
