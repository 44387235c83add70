/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counters.c - counter lines from libkdcom's name/value tables (see
 * counters.h).
 */
#include "counters.h"

#include <stdio.h>

/* The two tables differ only in the structure they read. */
static uint64_t link_value(const void *s, uint32_t i)
{
    return kdcom_stats_value((const struct kdcom_stats *)s, i);
}

static uint64_t vm_value(const void *s, uint32_t i)
{
    return kdcom_vm_stats_value((const struct kdcom_vm_stats *)s, i);
}

static const char *line(char *buf, size_t cap,
                        const char *(*name)(uint32_t),
                        uint64_t (*value)(const void *, uint32_t),
                        const void *s)
{
    size_t len = 0;
    uint32_t i;
    const char *n;

    if (cap == 0)
        return buf;
    buf[0] = '\0';
    for (i = 0; (n = name(i)) != NULL && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s=%llu", i ? " " : "", n,
                         (unsigned long long)value(s, i));
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

const char *ex_link_counters(char *buf, size_t cap,
                             const struct kdcom_stats *s)
{
    return line(buf, cap, kdcom_stats_name, link_value, s);
}

const char *ex_vm_counters(char *buf, size_t cap,
                           const struct kdcom_vm_stats *s)
{
    return line(buf, cap, kdcom_vm_stats_name, vm_value, s);
}
