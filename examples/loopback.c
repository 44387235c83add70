/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loopback.c - the smallest complete libkdcom program: a DEBUGGER link and
 * a TARGET link in one process, wired back to back.  The debugger
 * synchronises (RESET handshake), the target sends a DbgPrint-style
 * DEBUG_IO packet, the debugger answers with a STATE_MANIPULATE packet,
 * and both sides print what they saw.  Built against the *installed*
 * library through `pkg-config kdcom` by `make check`.
 *
 *   cc loopback.c $(pkg-config --cflags --libs kdcom) -o loopback
 *   ./loopback            # exit 0 when the exchange completed
 */
#include <stdio.h>
#include <string.h>

#include <kdcom.h>

/* Moves every byte one link wants to send into the other. */
static void shuttle(struct kdcom_link *from, struct kdcom_link *to,
                    uint64_t now)
{
    uint8_t buf[512];
    int n;

    while ((n = kdcom_drain(from, now, buf, sizeof buf)) > 0) {
        int off = 0;
        while (off < n) {
            int used = kdcom_feed(to, now, buf + off, (size_t)(n - off));
            struct kdcom_event ev;
            if (used < 0) {
                fprintf(stderr, "feed: %s\n", kdcom_strerror(used));
                return;
            }
            off += used;
            /* Feeding pauses while an event holds a payload: take them. */
            while (used == 0 && kdcom_next_event(to, &ev) > 0)
                fprintf(stderr, "  (dropped event %u)\n", (unsigned)ev.kind);
        }
    }
}

int main(void)
{
    struct kdcom_config cfg;
    struct kdcom_link dbg, tgt;
    struct kdcom_event ev;
    const char text[] = "hello from the target\n";
    uint8_t head[16] = {0x30, 0x32}; /* DbgKdPrintStringApi, little-endian */
    const uint8_t reply[56] = {0x3c, 0x31}; /* DbgKdContinueApi */
    int got_print = 0, got_reply = 0, synced = 0;
    uint64_t now;

    printf("libkdcom %s\n", kdcom_version_string());
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    kdcom_link_init(&dbg, &cfg);
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    kdcom_link_init(&tgt, &cfg);

    head[8] = sizeof text - 1; /* LengthOfString */
    kdcom_send(&tgt, 0, KDCOM_TYPE_DEBUG_IO, head, sizeof head,
               (const uint8_t *)text, sizeof text - 1);

    for (now = 0; now < 100 && !(got_print && got_reply); now++) {
        shuttle(&dbg, &tgt, now);
        shuttle(&tgt, &dbg, now);
        while (kdcom_next_event(&dbg, &ev) > 0) {
            if (ev.kind == KDCOM_EV_SYNCED) {
                printf("debugger: link synced\n");
                synced = 1;
            } else if (ev.kind == KDCOM_EV_PACKET &&
                       ev.type == KDCOM_TYPE_DEBUG_IO && ev.len >= 16) {
                printf("debugger: DEBUG_IO id 0x%08x: %.*s", (unsigned)ev.id,
                       (int)(ev.len - 16), (const char *)ev.payload + 16);
                got_print = 1;
                kdcom_send(&dbg, now, KDCOM_TYPE_STATE_MANIPULATE, reply,
                           sizeof reply, NULL, 0);
            }
        }
        while (kdcom_next_event(&tgt, &ev) > 0) {
            if (ev.kind == KDCOM_EV_ACKED)
                printf("target: packet 0x%08x acknowledged\n",
                       (unsigned)ev.id);
            else if (ev.kind == KDCOM_EV_RESET)
                printf("target: debugger reset the link\n");
            else if (ev.kind == KDCOM_EV_PACKET) {
                printf("target: %s packet id 0x%08x, %u bytes\n",
                       kdcom_packet_type_name(ev.type), (unsigned)ev.id,
                       (unsigned)ev.len);
                got_reply = 1;
            }
        }
    }
    printf("target sent %llu bytes, debugger sent %llu bytes\n",
           (unsigned long long)kdcom_get_stats(&tgt)->bytes_out,
           (unsigned long long)kdcom_get_stats(&dbg)->bytes_out);
    if (!(synced && got_print && got_reply)) {
        fprintf(stderr, "loopback: exchange did not complete\n");
        return 1;
    }
    return 0;
}
