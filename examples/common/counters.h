/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counters.h - the link's and the VM channel's counters as one line of
 * "name=value" words, from libkdcom's tables (kdcom_stats_name() and
 * kdcom_vm_stats_name()): every counter, named as in the headers, so a
 * counter added to the library shows up in every program's report.
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stddef.h>

#include <kdcom.h>
#include <kdcom_vm.h>

/* Room for every counter at its widest value. */
#define EX_COUNTERS_LEN 2048

/* "bytes_in=N bytes_out=N ...", in the order of KDCOM_STATS_FIELDS, into
 * buf (always terminated; cut short if cap is too small).  Returns buf. */
const char *ex_link_counters(char *buf, size_t cap,
                             const struct kdcom_stats *s);

/* The same for KDCOM_VM_STATS_FIELDS: "polls=N requests=N ...". */
const char *ex_vm_counters(char *buf, size_t cap,
                           const struct kdcom_vm_stats *s);

#endif /* COUNTERS_H */
