/* SPDX-License-Identifier: BSD-2-Clause */
/* test_checksum.c - the KDCOM checksum against known values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kdcom.h"

/* docs/protocol.md: the DbgPrint packet recorded from ReactOS kddll has
 * checksum 0x0C65 over its 16-byte DEBUG_IO header and 33 text bytes. */
static void test_reactos_dbgprint(void **state)
{
    const uint8_t head[16] = {0x30, 0x32, 0, 0, 0, 0, 0, 0,
                              0x21, 0, 0, 0, 0, 0, 0, 0};
    const char *text = "hello from ReactOS kddll harness\n";
    uint32_t sum;

    (void)state;
    sum = kdcom_checksum(head, sizeof head);
    sum = kdcom_checksum_update(sum, (const uint8_t *)text, strlen(text));
    assert_int_equal(sum, 0x0C65);
}

static void test_wraps_modulo_2_32(void **state)
{
    uint8_t ff[256];

    (void)state;
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(kdcom_checksum_update(0xFFFFFF00u, ff, 1), 0xFFFFFFFFu);
    assert_int_equal(kdcom_checksum_update(0xFFFFFFFFu, ff, 2), 0x1FDu);
    assert_int_equal(kdcom_checksum(ff, sizeof ff), 256u * 255u);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    assert_int_equal(kdcom_checksum(NULL, 0), 0);
    assert_int_equal(kdcom_checksum(NULL, 5), 0);
    assert_int_equal(kdcom_checksum_update(7, NULL, 0), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reactos_dbgprint),
        cmocka_unit_test(test_wraps_modulo_2_32),
        cmocka_unit_test(test_empty_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
