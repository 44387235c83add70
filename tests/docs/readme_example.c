/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * readme_example.c - README.md's C example (section "Using the engine"),
 * compiled as a copy-paster would use it, and run.
 *
 * tests/docs.mk extracts the block with tests/docs/rundocs.py: its
 * #include lines into readme_head.inc, the rest into readme_body.inc,
 * which becomes the body of snippet() below.  Around it are the helpers
 * the example names (monotonic_ms, write_all, read_until, handle, fd),
 * backed by a TARGET link in this process that sends DbgPrints, and a
 * hook that closes the example's link once it has received a few of
 * them: before a kdcom_drain() (mode "drain") or before a kdcom_feed()
 * (mode "feed").  The example must then stop at once: the call that
 * returned the fatal code is the last call on the link, no negative
 * count reaches write_all() or an offset, and the loop ends.
 *
 *   readme_example drain|feed     exit 0 when the example behaved
 */
#include "readme_head.inc"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>

#define PACKETS_BEFORE_CLOSE 3
#define MAX_ROUNDS 10000

static const int fd = 3;             /* the example's file descriptor */
static struct kdcom_link tgt;        /* the other end of its wire */
static uint64_t clock_ms;
static uint8_t wire[1 << 16];        /* target -> example, not read yet */
static size_t wire_len;
static int close_in_feed;            /* mode */
static int packets, rounds, closed;
static int drains_after_close, feeds_after_close;

static void fail(const char *what)
{
    fprintf(stderr, "FAIL: README example (%s mode): %s\n",
            close_in_feed ? "feed" : "drain", what);
    exit(1);
}

static uint64_t monotonic_ms(void)
{
    return clock_ms += 10;
}

/* The target's output, into wire[]. */
static void target_out(void)
{
    int n = kdcom_drain(&tgt, clock_ms, wire + wire_len,
                        sizeof(wire) - wire_len);
    if (n < 0)
        fail("the target link failed");
    wire_len += (size_t)n;
}

/* What the example writes goes to the target. */
static void write_all(int to, const uint8_t *p, size_t len)
{
    struct kdcom_event ev;
    size_t off = 0;

    if (to != fd)
        fail("write_all() on another descriptor");
    if (len > 4096) {
        fprintf(stderr, "write_all(%zu bytes): ", len);
        fail("a negative count was used as a length");
    }
    while (off < len) {
        int n = kdcom_feed(&tgt, clock_ms, p + off, len - off);
        if (n < 0)
            fail("the target link failed");
        off += (size_t)n;
        while (kdcom_next_event(&tgt, &ev) > 0)
            ;
        if (n == 0)
            target_out();      /* its control queue was full */
    }
}

/* What the example reads comes from the target, which sends a DbgPrint
 * whenever it may. */
static size_t read_until(int from, uint8_t *p, size_t cap, uint64_t deadline)
{
    static const uint8_t head[16] = { 0x30, 0x32 }; /* DbgKdPrintStringApi */
    size_t n;

    (void)deadline;
    if (from != fd)
        fail("read_until() on another descriptor");
    if (++rounds > MAX_ROUNDS)
        fail("the loop never stopped");
    if (kdcom_can_send(&tgt) > 0 &&
        kdcom_send(&tgt, clock_ms, KDCOM_TYPE_DEBUG_IO, head, sizeof(head),
                   (const uint8_t *)"hi\n", 3) != KDCOM_OK)
        fail("the target could not send");
    target_out();
    n = wire_len < cap ? wire_len : cap;
    memcpy(p, wire, n);
    memmove(wire, wire + n, wire_len - n);
    wire_len -= n;
    return n;
}

static void handle(uint32_t type, const uint8_t *payload, uint32_t len)
{
    if (type != KDCOM_TYPE_DEBUG_IO || len != 19 ||
        memcmp(payload + 16, "hi\n", 3) != 0)
        fail("handle() got another packet than the target sent");
    packets++;
}

/* The example's calls, seen on their way in. */
static int drain_hook(struct kdcom_link *l, uint64_t now, uint8_t *out,
                      size_t cap)
{
    if (closed)
        drains_after_close++;
    else if (!close_in_feed && packets >= PACKETS_BEFORE_CLOSE) {
        kdcom_link_close(l);
        closed = 1;
        drains_after_close++;
    }
    return kdcom_drain(l, now, out, cap);
}

static int feed_hook(struct kdcom_link *l, uint64_t now, const uint8_t *in,
                     size_t len)
{
    if (closed)
        feeds_after_close++;
    else if (close_in_feed && packets >= PACKETS_BEFORE_CLOSE) {
        kdcom_link_close(l);
        closed = 1;
        feeds_after_close++;
    }
    return kdcom_feed(l, now, in, len);
}

static void snippet(void)
{
#define kdcom_drain(l, now, out, cap) drain_hook(l, now, out, cap)
#define kdcom_feed(l, now, in, len) feed_hook(l, now, in, len)
#include "readme_body.inc"
#undef kdcom_drain
#undef kdcom_feed
}

int main(int argc, char **argv)
{
    struct kdcom_config cfg;

    if (argc != 2 || (strcmp(argv[1], "drain") && strcmp(argv[1], "feed"))) {
        fprintf(stderr, "usage: readme_example drain|feed\n");
        return 2;
    }
    close_in_feed = strcmp(argv[1], "feed") == 0;
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    if (kdcom_link_init(&tgt, &cfg) != KDCOM_OK)
        fail("cannot set up the target");

    snippet();

    if (!closed)
        fail("the example left its loop before its link was closed");
    if (close_in_feed ? feeds_after_close != 1 || drains_after_close != 0
                      : drains_after_close != 1 || feeds_after_close != 0) {
        fprintf(stderr, "calls after the fatal code: %d drain, %d feed; ",
                drains_after_close - !close_in_feed,
                feeds_after_close - close_in_feed);
        fail("the example went on using a dead link");
    }
    printf("PASS: README example (%s mode): %d packets handled, stopped at "
           "the fatal code of kdcom_%s()\n", argv[1], packets, argv[1]);
    return 0;
}
