/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_uart.c - the guest transport's uart back end end to end: a
 * simulated kernel -> libkdcom TARGET role in the guest -> an emulated
 * 16550 over a socketpair, and again over a pty in raw mode -> DEBUGGER
 * link, with the same scenario as the vm back end (vmt_scenario.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmt.h"

static void run_std_scenario(int mode)
{
    struct vmt *v = calloc(1, sizeof(*v));
    struct vmt_std *s = calloc(1, sizeof(*s));

    assert_non_null(v);
    assert_non_null(s);
    memset(&KdGuestStats, 0, sizeof KdGuestStats);
    assert_int_equal(vmt_open(v, mode), 0);
    KdUartAckTimeoutMs = 50;
    KdUartReceiveTimeoutMs = 100;
    vmt_std_run(v, s);
    assert_int_equal(KdGuestStats.errors, 0);
    vmt_close(v);
    free(s);
    free(v);
}

static void test_std_scenario(void **state)
{
    (void)state;
    run_std_scenario(VMT_UART);
}

/* The same through the tty layer: a pty master as the emulated 16550's
 * backing, the slave (raw mode) as the debugger's serial port. */
static void test_std_scenario_pty(void **state)
{
    (void)state;
    run_std_scenario(VMT_UART_PTY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_scenario),
        cmocka_unit_test(test_std_scenario_pty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
