/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link.c - the KDCOM link: set-up, the calls that hand off to both sides
 * (kdcom_tick(), kdcom_drain(), kdcom_next_deadline()), and accessors
 * (docs/protocol.md "Link engine").
 *
 * THEORY OF OPERATION
 *
 *   A link is one end of a KDCOM conversation, in the TARGET or the
 *   DEBUGGER role.  It is split in four files, each calling only the
 *   ones below it (internal.h draws it):
 *
 *     link.c         set-up, timers and output handed to both sides;
 *     link_rx.c      kdcom_feed(): what each received frame means (ids,
 *                    ACK matching, duplicates, RESET/RESEND, break-in),
 *                    and the byte timer;
 *     link_tx.c      the transmit state machine (send, cancel, ACK,
 *                    retransmission, the ACK and RESET timers), the
 *                    control queue and writing frames out;
 *     link_events.c  the event queue.
 *
 *   Time only moves forward: l->now is the largest `now` seen.  Timers are
 *   absolute deadlines compared with it: the ACK deadline and the RESET
 *   repeat (link_tx.c), and the byte timeout (link_rx.c).
 *
 *   Nothing here blocks or loops on input: every call is bounded by the
 *   bytes it is given or asked for, and the queues are bounded by the
 *   feed pausing (see KDCOM_CTLQ_HIGH / KDCOM_EVQ_HIGH in internal.h).
 */
#include "internal.h"

KDCOM_API int kdcom_config_init(struct kdcom_config *cfg, uint32_t role)
{
    if (cfg == NULL)
        return KDCOM_ERR_INVAL;
    if (role != KDCOM_ROLE_TARGET && role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_ROLE;
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = role;
    cfg->ack_timeout_ms = KDCOM_DEFAULT_TIMEOUT_MS;
    cfg->retry_limit = KDCOM_DEFAULT_RETRIES; /* as Windows and ReactOS */
    cfg->reset_interval_ms = KDCOM_DEFAULT_TIMEOUT_MS; /* WinDbg: about 1/s */
    cfg->byte_timeout_ms = KDCOM_DEFAULT_TIMEOUT_MS;
    return KDCOM_OK;
}

static int timeout_ok(uint32_t ms)
{
    return ms >= 1 && ms <= KDCOM_MAX_TIMEOUT_MS;
}

KDCOM_API int kdcom_link_init(struct kdcom_link *l,
                              const struct kdcom_config *cfg)
{
    struct kdcom_config def;
    const uint32_t known = KDCOM_CFG_BREAKIN_ON_SYNC | KDCOM_CFG_PASSIVE |
                           KDCOM_CFG_NO_IMPLICIT_ACK | KDCOM_CFG_HOLD_PACKETS |
                           KDCOM_CFG_REPORT_RESTARTS;

    if (l == NULL)
        return KDCOM_ERR_INVAL;
    if (cfg == NULL) {
        kdcom_config_init(&def, KDCOM_ROLE_TARGET);
        cfg = &def;
    }
    if (cfg->role != KDCOM_ROLE_TARGET && cfg->role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_ROLE;
    if ((cfg->flags & ~known) != 0 || !timeout_ok(cfg->ack_timeout_ms) ||
        !timeout_ok(cfg->reset_interval_ms) ||
        !timeout_ok(cfg->byte_timeout_ms))
        return KDCOM_ERR_CONFIG;

    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->role = cfg->role;
    /* A target never holds data back; a debugger does until the RESET
     * handshake completes, unless it attaches passively. */
    l->synced = l->role == KDCOM_ROLE_TARGET ||
                (cfg->flags & KDCOM_CFG_PASSIVE) != 0;
    kdcom_rx_init(l);
    kdcom_tx_init(l);
    l->magic = KDCOM_LINK_MAGIC;
    return KDCOM_OK;
}

KDCOM_API int kdcom_link_restart(struct kdcom_link *l)
{
    struct kdcom_config cfg;
    struct kdcom_stats keep;
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK && rc != KDCOM_ERR_CLOSED)
        return rc;
    cfg = l->cfg;
    keep = l->stats;
    rc = kdcom_link_init(l, &cfg); /* accepted once: cannot fail */
    l->stats = keep;
    /* noise_bytes and partial_leaders mirror the parser's own counters:
     * carry those over too, or the next feed would make them go down. */
    l->rx.noise_bytes = keep.noise_bytes;
    l->rx.partial_leaders = keep.partial_leaders;
    return rc;
}

KDCOM_API int kdcom_link_close(struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    l->magic = KDCOM_LINK_CLOSED;
    return KDCOM_OK;
}

static void run_timers(struct kdcom_link *l)
{
    kdcom_tx_timers(l);
    kdcom_rx_timers(l);
}

KDCOM_API int kdcom_tick(struct kdcom_link *l, uint64_t now)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    kdcom_link_advance(l, now);
    run_timers(l);
    return KDCOM_OK;
}

KDCOM_API uint64_t kdcom_next_deadline(const struct kdcom_link *l)
{
    uint64_t d, rx;

    if (kdcom_link_check(l) != KDCOM_OK)
        return 0;
    d = kdcom_tx_deadline(l);
    rx = kdcom_rx_deadline(l);
    return rx < d ? rx : d;
}

KDCOM_API int kdcom_drain(struct kdcom_link *l, uint64_t now, uint8_t *out,
                          size_t cap)
{
    int rc = kdcom_link_enter(l, now, out, cap);

    if (rc != KDCOM_OK)
        return rc;
    run_timers(l);
    cap = kdcom_clamp_len(cap);
    return (int)kdcom_tx_write(l, out, cap);
}

KDCOM_API int kdcom_want_write(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    /* The transmit timers (an ACK timeout, a RESET repeat) always write
     * when they expire; the byte timer only once synced (a RESEND). */
    return kdcom_tx_want_write(l) || kdcom_tx_deadline(l) <= l->now ||
           (l->synced && kdcom_rx_deadline(l) <= l->now);
}

KDCOM_API int kdcom_expect_header(struct kdcom_link *l, uint32_t len)

{
    int rc = kdcom_link_check_role(l, KDCOM_ROLE_TARGET);

    if (rc != KDCOM_OK)
        return rc;
    /* PROTOCOL-FACTS §3.5 step 1, §3.6 and §7: the receiver's header
     * buffer is the minimum a data packet must fill (link_rx.c). */
    l->rx_min_len = len;
    return KDCOM_OK;
}

KDCOM_API int kdcom_take_breakin(struct kdcom_link *l)
{
    int rc = kdcom_link_check_role(l, KDCOM_ROLE_TARGET);

    if (rc == KDCOM_OK && l->breakin_pending) {
        l->breakin_pending = 0;
        return 1;
    }
    return rc; /* KDCOM_OK (0): none pending, or why the call failed */
}

KDCOM_API int kdcom_is_synced(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role == KDCOM_ROLE_TARGET)
        return (l->tx_id & KDCOM_SYNC_BIT) == 0;
    return l->synced;
}

/* Open or closed: its contents were initialised. */
static int initialised(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    return rc == KDCOM_OK || rc == KDCOM_ERR_CLOSED;
}

KDCOM_API const struct kdcom_stats *kdcom_get_stats(
    const struct kdcom_link *l)
{
    return initialised(l) ? &l->stats : NULL;
}

KDCOM_API uint32_t kdcom_tx_id(const struct kdcom_link *l)
{
    return initialised(l) ? l->tx_id : 0;
}
