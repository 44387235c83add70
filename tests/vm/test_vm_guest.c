/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_guest.c - the guest transport's vm back end end to end: a
 * simulated kernel -> the mailbox in a shared file (mapped twice) -> the
 * host service -> TARGET link <-> DEBUGGER link (vmt_scenario.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    vmt_std_run(v, s);
    hs = kdcom_vm_host_stats(&v->host);
    assert_int_equal(hs->sends_dropped, 1);
    assert_int_equal(hs->errors, 0);
    vmt_close(v);
    free(s);
    free(v);
}

/* The other process: host service + debugger, on its own mapping of the
 * file it inherited (run as "test_vm_guest --host FD"). */
static int host_process(int fd)
{
    struct vmt *v = calloc(1, sizeof(*v));
    struct vmt_std *s = calloc(1, sizeof(*s));
    uint64_t end = vmt_ms() + 20000, linger = 0;
    int rc = 4;

    if (v == NULL || s == NULL || vmt_attach_host(v, fd, VMT_REGION) != 0) {
        rc = 2;
        goto out;
    }
    v->user = s;
    v->script = vmt_std_debugger;
    vmt_set(&v->phase, 2);
    vmt_set(&v->phase_ack, 2);
    while (vmt_ms() < end) {
        uint64_t now = vmt_ms();

        if (!vmt_step(v, now)) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        vmt_std_debugger(v, NULL);
        if (s->bad != 0) {
            rc = 3;
            break;
        }
        if (linger == 0 && s->rounds_done == 1 && s->prints == 3)
            linger = now + 300; /* let the last ACK go out */
        if (linger != 0 && now >= linger) {
            rc = 0;
            break;
        }
    }
out:
    if (v != NULL)
        vmt_close(v);
    free(v);
    free(s);
    return rc;
}

static KD_CONTEXT pctx;
static const char *self = "/proc/self/exe";

static void pprint(const char *text)
{
    uint8_t h[16] = {0x30, 0x32};
    STRING hs = {16, 16, (CHAR *)h};
    STRING ds = {(USHORT)strlen(text), (USHORT)strlen(text),
                 (CHAR *)(uintptr_t)text};

    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &hs, &ds, &pctx);
}

/* The two sides in two processes: the parent is the kernel, the child the
 * host service and the debugger, sharing only the file. */
static void test_two_processes(void **state)
{
    struct vmt *v = calloc(1, sizeof(*v));
    struct vmt_std *s = calloc(1, sizeof(*s));
    uint8_t sc[0xF0] = {0x30, 0x30}, mh[56] = {0}, md[4000] = {0};
    STRING scs = {sizeof sc, sizeof sc, (CHAR *)sc};
    int status = -1, rounds = 0, guard = 0, reaped = 0;
    pid_t pid;

    (void)state;
    assert_non_null(v);
    assert_non_null(s);
    assert_int_equal(vmt_open(v, VMT_VM), 0);
    v->user = s;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char fd[16];
        snprintf(fd, sizeof fd, "%d", v->fd);
        /* argv[0], not /proc/self/exe: under valgrind the latter is the
         * tool, not this program. */
        execl(self, self, "--host", fd, (char *)NULL);
        _exit(127);
    }
    /* If the other process dies, every wait below ends within about
     * 5 x 500 ms and the loop gives up when it sees the exit. */
    pctx.KdpDefaultRetries = 5;
    KdGuestHostTimeoutMs = 500;
    assert_int_equal(KdDebuggerInitialize0(NULL), KDAPI_STATUS_SUCCESS);
    KdSendPacket(KDCOM_TYPE_STATE_CHANGE64, &scs, NULL, &pctx);
    while (rounds == 0 && guard++ < 500) {
        STRING hs = {0, sizeof mh, (CHAR *)mh}, ds = {0, sizeof md, (CHAR *)md};
        ULONG dl;
        KDP_STATUS st = KdReceivePacket(KDCOM_TYPE_STATE_MANIPULATE, &hs, &ds,
                                        &dl, &pctx);
        uint32_t api = mh[0] | (uint32_t)mh[1] << 8, len, i;

        if (waitpid(pid, &status, WNOHANG) == pid) {
            reaped = 1;
            break;
        }
        if (st == KdPacketNeedsResend)
            KdSendPacket(KDCOM_TYPE_STATE_CHANGE64, &scs, NULL, &pctx);
        if (st != KdPacketReceived)
            continue;
        switch (api) {
        case 0x3130: /* read: answer with the pattern the script checks */
            len = mh[8] | (uint32_t)mh[9] << 8;
            for (i = 0; i < len && i < sizeof md; i++)
                md[i] = (uint8_t)(i * 31u + (i >> 8));
            ds.Length = (USHORT)len;
            KdSendPacket(KDCOM_TYPE_STATE_MANIPULATE, &hs, &ds, &pctx);
            break;
        case 0x3131: { /* write: answer with the hash of the data */
            uint32_t h = 2166136261u;
            for (i = 0; i < dl; i++)
                h = (h ^ md[i]) * 16777619u;
            mh[12] = (uint8_t)h;
            mh[13] = (uint8_t)(h >> 8);
            mh[14] = (uint8_t)(h >> 16);
            mh[15] = (uint8_t)(h >> 24);
            KdSendPacket(KDCOM_TYPE_STATE_MANIPULATE, &hs, NULL, &pctx);
            break;
        }
        case 0x313C:
            rounds = 1;
            break;
        default:
            break;
        }
    }
    if (rounds == 1) {
        pprint("hello 1\n");
        pprint("hello 2\n");
        pprint("hello 3\n");
    }
    if (!reaped) {
        if (rounds != 1)
            kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
    }
    assert_int_equal(rounds, 1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(rounds, 1);
    assert_true(KdGuestDebuggerPresent());
    vmt_close(v);
    free(s);
    free(v);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_scenario),
        cmocka_unit_test(test_two_processes),
    };
    if (argc >= 1 && strchr(argv[0], '/') != NULL)
        self = argv[0];
    if (argc == 3 && strcmp(argv[1], "--host") == 0)
        return host_process(atoi(argv[2]));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
