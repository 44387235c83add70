/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_guest.c - the guest transport's vm back end end to end: a
 * simulated kernel -> the mailbox in a shared file (mapped twice) -> the
 * host service -> TARGET link <-> DEBUGGER link (vmt_scenario.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmt.h"

static void test_std_scenario(void **state)
{
    struct vmt *v = calloc(1, sizeof(*v));
    struct vmt_std *s = calloc(1, sizeof(*s));
    const struct kdcom_vm_stats *hs;

    (void)state;
    assert_non_null(v);
    assert_non_null(s);
    assert_int_equal(vmt_open(v, VMT_VM), 0);
    v->user = s;
    v->silent = 1;
    assert_int_equal(vmt_run(v, vmt_std_kernel, vmt_std_debugger, 60000), 0);
    if (v->fail[0] != '\0')
        fail_msg("kernel: %s", v->fail);
    assert_int_equal(s->bad, 0);
    assert_int_equal(s->rounds_done, 8);
    assert_int_equal(s->reads_ok, 8);
    assert_int_equal(s->writes_ok, 8);
    assert_int_equal(s->prints, 3);
    assert_int_equal(s->storm_resets, 3);
    assert_true(s->state_changes[3] >= 2); /* re-sent after the storm */
    assert_true(s->k_resends >= 1);
    assert_int_equal(s->k_ccp, 1);
    assert_int_equal(s->silence_checked, 1);
    assert_int_equal(s->state_changes[7], 1);
    hs = kdcom_vm_host_stats(&v->host);
    assert_int_equal(hs->sends_dropped, 1);
    assert_int_equal(hs->errors, 0);
    assert_int_equal(KdGuestStats.bad_answers, 0);
    assert_int_equal(KdGuestStats.host_timeouts, 0);
    vmt_close(v);
    free(s);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_scenario),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
