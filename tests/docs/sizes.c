/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sizes.c - the sizes of the public structures and of the size constants
 * the documentation quotes, as this compiler lays them out: one
 * "NAME BYTES" line each.  `tests/docs/rundocs.py sizes` compares every
 * size README.md and the docs give (`struct kdcom_vm_host kd; ~17 KiB`,
 * "`KDCOM_VM_MIN_SIZE` (12 KiB)", "A link is N bytes") with these, so the
 * numbers in the text are measured ones; `make sizes` prints them.
 */
#include <stdio.h>

#include <kdcom.h>
#include <kdcom_vm.h>

#define STRUCT(name) printf("struct %s %zu\n", #name, sizeof(struct name))
#define CONSTANT(name) printf("%s %lu\n", #name, (unsigned long)(name))

int main(void)
{
    STRUCT(kdcom_link);
    STRUCT(kdcom_parser);
    STRUCT(kdcom_frame);
    STRUCT(kdcom_config);
    STRUCT(kdcom_event);
    STRUCT(kdcom_stats);
    STRUCT(kdcom_vm_host);
    STRUCT(kdcom_vm_config);
    STRUCT(kdcom_vm_stats);
    CONSTANT(KDCOM_MAX_PAYLOAD);
    CONSTANT(KDCOM_MAX_FRAME);
    CONSTANT(KDCOM_VM_MIN_SIZE);
    return 0;
}
