/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdsession.c - the KD debugger session (see kdsession.h).
 *
 * The target's KD core runs a loop: send a state change, then serve
 * manipulate requests until a Continue.  Every exchange here follows from
 * that loop:
 *
 *   - a STATE_CHANGE64 means "stopped, waiting for requests".  A second one
 *     while a request is in flight means the target restarted its loop (a
 *     RESET or RESEND made it send the state change again) and may never
 *     have seen the request: it is sent again.
 *   - LoadSymbols stops are continued at once (what WinDbg does unless
 *     asked to break on module loads).
 *   - FILE_IO CreateFile is answered STATUS_NO_SUCH_FILE (we map no
 *     .kdfiles) and DbgPrompt with an empty line, or the target would wait
 *     for an answer forever.
 *   - A Continue gets no reply: the target's ACK is the confirmation.
 *   - Any other request gets one.  A request the target acknowledged but
 *     never answered was lost after the link delivered it: a target ACKs
 *     a packet whose type was damaged into another data type and then
 *     ignores it (docs/protocol.md 5.3), and a reply can be lost on the
 *     way back.  After reply_timeout_ms of silence the same request goes
 *     out again as a new packet (the link gives it the next id),
 *     request_retries times, then the link is resynchronised: what the
 *     protocol fact sheet's section 7 asks of a debugger, and how WinDbg
 *     recovers a request over a damaged line.
 */
#define _POSIX_C_SOURCE 200809L
#include "kdsession.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../common/exutil.h"

const char *kds_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case KDS_ERR_TIMEOUT:
        return "timed out waiting for the target";
    case KDS_ERR_GONE:
        return "connection to the target lost";
    case KDS_ERR_STOPPED:
        return "interrupted";
    case KDS_ERR_STATUS:
        return "the target reported a failure";
    case KDS_ERR_PROTO:
        return "malformed answer from the target";
    case KDS_ERR_INTR:
        return "interrupted (Ctrl-C)";
    default:
        return "error";
    }
}

void kds_say(struct kds *s, const char *fmt, ...)
{
    va_list ap;

    if (s->log == NULL)
        return;
    if (s->line_open) {
        fputc('\n', s->log);
        s->line_open = 0;
    }
    fprintf(s->log, "[%6.3f] ", (double)(ex_now_ms() - s->t0) / 1000.0);
    va_start(ap, fmt);
    vfprintf(s->log, fmt, ap);
    va_end(ap);
    fputc('\n', s->log);
    fflush(s->log);
}

int kds_init(struct kds *s, int fd, int sigfd, struct wiretrace *wt,
             FILE *log, uint32_t flags)
{
    struct kdcom_config cfg;

    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->sigfd = sigfd;
    s->watch_fd = -1;
    s->intr_fd = -1;
    s->wt = wt;
    s->log = log;
    s->t0 = ex_now_ms();
    s->auto_continue_loads = 1;
    s->reply_timeout_ms = KDS_REPLY_TIMEOUT_MS;
    s->request_retries = KDS_REQUEST_RETRIES;
    s->settle_ms = KDS_SETTLE_MS;
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    /* The target's restarts come as an event (take_events()). */
    cfg.flags = flags | KDCOM_CFG_REPORT_RESTARTS;
    return kdcom_link_init(&s->link, &cfg);
}

void kds_close(struct kds *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    kdcom_link_close(&s->link);
}

/* Queues a packet to send once the link is free. */
static int enqueue(struct kds *s, uint32_t type, const uint8_t *head,
                   size_t hlen, const uint8_t *data, size_t dlen)
{
    struct kds_pkt *p;

    if (s->q_count >= KDS_SENDQ || hlen + dlen > KDCOM_MAX_PAYLOAD)
        return -1;
    p = &s->q[(s->q_head + s->q_count) % KDS_SENDQ];
    p->type = type;
    p->len = (uint32_t)(hlen + dlen);
    memcpy(p->buf, head, hlen);
    if (dlen != 0)
        memcpy(p->buf + hlen, data, dlen);
    s->q_count++;
    return 0;
}

static void push_queue(struct kds *s, uint64_t now)
{
    while (s->q_count != 0 && kdcom_can_send(&s->link) == 1) {
        struct kds_pkt *p = &s->q[s->q_head];
        if (kdcom_send(&s->link, now, p->type, p->buf, p->len, NULL, 0) != 0)
            break;
        s->in_link_is_manip = p->type == KDCOM_TYPE_STATE_MANIPULATE;
        s->q_head = (s->q_head + 1) % KDS_SENDQ;
        s->q_count--;
    }
}

/* Copies at most cap-1 bytes of target text for a terminal: control
 * characters (escape sequences included) become '.', except newline and
 * tab.  A target must not be able to drive the user's terminal. */
static void printable(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    size_t i;

    if (n > cap - 1)
        n = cap - 1;
    for (i = 0; i < n; i++) {
        uint8_t c = src[i];
        dst[i] = (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t'
                     ? (char)c : '.';
    }
    dst[n] = '\0';
}

/* Continues a stop nobody needs to see (LoadSymbols, command strings),
 * unless a request is in flight (then the stop is served as it is). */
static void auto_continue(struct kds *s)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};

    if (!s->auto_continue_loads || s->wait_api != 0)
        return;
    kdcom_kd_st32(req, KDCOM_KD_CONTINUE2);
    kdcom_kd_st32(req + KDCOM_KD_CONTINUE_STATUS, KDCOM_KD_DBG_CONTINUE);
    if (enqueue(s, KDCOM_TYPE_STATE_MANIPULATE, req, sizeof req, NULL, 0) ==
        0)
        s->stopped = 0;
}

static void on_state_change(struct kds *s, const uint8_t *p, size_t len)
{
    uint32_t st;

    if (len < KDCOM_KD_SC_SIZE) {
        s->ignored_packets++;
        kds_say(s, "warning: short state change (%zu bytes) ignored", len);
        return;
    }
    memcpy(s->sc, p, KDCOM_KD_SC_SIZE);
    s->sc_seq++;
    s->stopped = 1;
    s->activity_ms = ex_now_ms();
    st = kdcom_kd_ld32(p);
    if (st == KDCOM_KD_STATE_LOAD_SYMBOLS) {
        size_t n = len - KDCOM_KD_SC_SIZE;
        char path[257];
        n = strnlen((const char *)p + KDCOM_KD_SC_SIZE, n);
        printable(path, sizeof path, p + KDCOM_KD_SC_SIZE, n);
        kds_say(s, "target: %s symbols for \"%s\" at 0x%llx",
                p[KDCOM_KD_LS_UNLOAD] ? "unload" : "load", path,
                (unsigned long long)kdcom_kd_ld64(p + KDCOM_KD_LS_BASE_OF_DLL));
        auto_continue(s);
    } else if (st == KDCOM_KD_STATE_COMMAND_STRING) {
        /* DbgCommandString: a debugger command from the target.  We run
         * no commands; show it and go on, as after a module load. */
        size_t n = len - KDCOM_KD_SC_SIZE;
        char cmd[201];
        n = strnlen((const char *)p + KDCOM_KD_SC_SIZE, n);
        printable(cmd, sizeof cmd, p + KDCOM_KD_SC_SIZE, n);
        kds_say(s, "target: command string \"%s\" (not executed)", cmd);
        auto_continue(s);
    } else if (st == KDCOM_KD_STATE_EXCEPTION) {
        kds_say(s, "target: stopped, exception 0x%08x at 0x%llx "
                "(cpu %u of %u, %s chance)",
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_EXC_CODE),
                (unsigned long long)kdcom_kd_ld64(
                    p + KDCOM_KD_SC_PROGRAM_COUNTER),
                (unsigned)kdcom_kd_ld16(p + KDCOM_KD_SC_PROCESSOR),
                (unsigned)kdcom_kd_ld32(p + KDCOM_KD_SC_NUMBER_PROCESSORS),
                kdcom_kd_ld32(p + KDCOM_KD_EXC_FIRST_CHANCE) ? "first"
                                                             : "second");
    } else {
        kds_say(s, "target: stopped, %s (0x%04x)", kdcom_kd_api_name(st),
                (unsigned)st);
    }
}

static void on_debug_io(struct kds *s, const uint8_t *p, size_t len)
{
    uint32_t api;
    size_t n;

    if (len < KDCOM_KD_DIO_SIZE) {
        s->ignored_packets++;
        return;
    }
    api = kdcom_kd_ld32(p);
    n = len - KDCOM_KD_DIO_SIZE;
    if (api == KDCOM_KD_PRINT_STRING) {
        char *slot = s->print_ring[s->prints % KDS_PRINTS];
        size_t k;
        /* The text ends at the count or at a NUL, whichever is first. */
        n = strnlen((const char *)p + KDCOM_KD_DIO_SIZE, n);
        printable(slot, sizeof s->print_ring[0], p + KDCOM_KD_DIO_SIZE, n);
        k = strlen(slot);
        s->prints++;
        s->print_ms = ex_now_ms();
        if (!s->quiet_prints) {
            while (k > 0 && (slot[k - 1] == '\n' || slot[k - 1] == '\r'))
                k--;
            kds_say(s, "dbgprint: %.*s", (int)k, slot);
        }
    } else if (api == KDCOM_KD_GET_STRING) {
        uint8_t head[KDCOM_KD_DIO_SIZE];
        memcpy(head, p, sizeof head);
        kdcom_kd_st32(head + KDCOM_KD_DIO_STRING_READ, 0);
        char prompt[201];
        printable(prompt, sizeof prompt, p + KDCOM_KD_DIO_SIZE, n);
        kds_say(s, "target: DbgPrompt \"%s\" answered with an empty line",
                prompt);
        if (enqueue(s, KDCOM_TYPE_DEBUG_IO, head, sizeof head, NULL, 0) == 0)
            s->get_string_answered++;
    } else {
        s->ignored_packets++;
    }
}

static void on_file_io(struct kds *s, const uint8_t *p, size_t len)
{
    uint8_t head[KDCOM_KD_FIO_SIZE];

    if (len < KDCOM_KD_FIO_SIZE) {
        s->ignored_packets++;
        return;
    }
    memcpy(head, p, sizeof head);
    /* No .kdfiles mapping: every open fails, and so would anything else. */
    kdcom_kd_st32(head + KDCOM_KD_FIO_STATUS,
                  kdcom_kd_ld32(p) == KDCOM_KD_CREATE_FILE
                      ? KDCOM_KD_STATUS_NO_SUCH_FILE
                      : KDCOM_KD_STATUS_UNSUCCESSFUL);
    if (s->verbose)
        kds_say(s, "target: %s answered STATUS_NO_SUCH_FILE",
                kdcom_kd_api_name(kdcom_kd_ld32(p)));
    if (enqueue(s, KDCOM_TYPE_FILE_IO, head, sizeof head, NULL, 0) == 0)
        s->file_io_answered++;
}

static void on_packet(struct kds *s, const struct kdcom_event *ev)
{
    switch (ev->type) {
    case KDCOM_TYPE_STATE_CHANGE64:
        on_state_change(s, ev->payload, ev->len);
        break;
    case KDCOM_TYPE_STATE_MANIPULATE:
        if (ev->len >= KDCOM_KD_MS_SIZE && s->wait_api != 0 &&
            kdcom_kd_ld32(ev->payload) == s->wait_api && !s->reply_ready &&
            memcmp(ev->payload + KDCOM_KD_MS_UNION, s->wait_key,
                   s->wait_key_len) == 0) {
            memcpy(s->reply, ev->payload, ev->len);
            s->reply_len = ev->len;
            s->reply_ready = 1;
        } else {
            s->unexpected_replies++;
        }
        break;
    case KDCOM_TYPE_DEBUG_IO:
        on_debug_io(s, ev->payload, ev->len);
        break;
    case KDCOM_TYPE_FILE_IO:
        on_file_io(s, ev->payload, ev->len);
        break;
    default:
        s->ignored_packets++;
        break;
    }
}

static void take_events(struct kds *s)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&s->link, &ev) > 0) {
        switch (ev.kind) {
        case KDCOM_EV_PEER_RESTARTED:
            /* The target numbers afresh.  With nothing outstanding the
             * link already moved our next id to INITIAL, as the target
             * expects; a packet still outstanding keeps its id, which the
             * target would take for a duplicate: the packet that follows
             * starts a resynchronisation instead. */
            s->peer_restarted = kdcom_tx_id(&s->link) != KDCOM_INITIAL_ID;
            break;
        case KDCOM_EV_PACKET:
            if (s->peer_restarted) {
                /* A RESET puts both sides back at the start; the target
                 * then sends its state change again, so only output is
                 * taken from this packet. */
                s->peer_restarted = 0;
                kds_say(s, "link: target restarted its numbering, "
                        "resynchronising");
                if (ev.type == KDCOM_TYPE_DEBUG_IO)
                    on_packet(s, &ev);
                s->synced = 0;
                s->resyncs++;
                kdcom_resync(&s->link, ex_now_ms());
                break;
            }
            on_packet(s, &ev);
            break;
        case KDCOM_EV_SYNCED:
            if (s->resyncs != 0)
                kds_say(s, "link: synchronised again");
            else
                kds_say(s, "sync: link synchronised (RESET answered)");
            s->synced = 1;
            s->sc_seq_at_sync = s->sc_seq;
            s->synced_ms = s->activity_ms = ex_now_ms();
            break;
        case KDCOM_EV_RESET:
            kds_say(s, "link: target reset its packet numbering");
            break;
        case KDCOM_EV_ACKED:
            if (ev.type == KDCOM_TYPE_STATE_MANIPULATE) {
                s->in_link_is_manip = 0;
                s->manip_acked_ms = ex_now_ms();
                s->continues_acked++; /* counts every acknowledged request;
                                         callers compare before/after */
            }
            break;
        case KDCOM_EV_RETRIES_EXHAUSTED:
            if (s->verbose)
                kds_say(s, "link: no ACK after %u tries, still trying",
                        (unsigned)ev.retries);
            break;
        default:
            break;
        }
    }
}

static int feed(struct kds *s, uint64_t now, const uint8_t *b, size_t n)
{
    while (n > 0) {
        int used = kdcom_feed(&s->link, now, b, n);
        if (used < 0)
            return -1;
        b += used;
        n -= (size_t)used;
        take_events(s);
    }
    return 0;
}

static int flush_out(struct kds *s, uint64_t now)
{
    for (;;) {
        ssize_t w;
        if (s->out_off == s->out_len) {
            int n;
            push_queue(s, now);
            n = kdcom_drain(&s->link, now, s->out, sizeof s->out);
            if (n <= 0)
                return 0;
            s->out_len = (size_t)n;
            s->out_off = 0;
        }
        w = write(s->fd, s->out + s->out_off, s->out_len - s->out_off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            return -1;
        }
        wt_bytes(s->wt, 1, s->out + s->out_off, (size_t)w);
        s->out_off += (size_t)w;
    }
}

int kds_pump(struct kds *s, uint64_t deadline)
{
    struct pollfd pf[4];
    uint64_t now = ex_now_ms(), d;
    int r, npf = 1, watch = -1, intr = -1;

    if (s->fd < 0)
        return KDS_ERR_GONE;
    if (ex_stop_requested())
        return KDS_ERR_STOPPED;
    if (s->interrupted)
        return KDS_ERR_INTR;
    if (flush_out(s, now) != 0)
        return KDS_ERR_GONE;
    d = kdcom_next_deadline(&s->link);
    if (deadline < d)
        d = deadline;
    pf[0].fd = s->fd;
    pf[0].events = POLLIN;
    if (s->out_off < s->out_len)
        pf[0].events |= POLLOUT;
    pf[0].revents = 0;
    if (s->sigfd >= 0) {
        pf[npf].fd = s->sigfd;
        pf[npf].events = POLLIN;
        pf[npf++].revents = 0;
    }
    if (s->watch_fd >= 0) {
        watch = npf;
        pf[npf].fd = s->watch_fd;
        pf[npf].events = POLLIN;
        pf[npf++].revents = 0;
    }
    if (s->intr_fd >= 0) {
        intr = npf;
        pf[npf].fd = s->intr_fd;
        pf[npf].events = POLLIN;
        pf[npf++].revents = 0;
    }
    r = poll(pf, (nfds_t)npf, ex_poll_timeout(now, d, 1000));
    if (r > 0 && watch >= 0 &&
        (pf[watch].revents & (POLLIN | POLLHUP | POLLERR)))
        s->watch_ready = 1;
    if (r > 0 && intr >= 0 && (pf[intr].revents & POLLIN)) {
        ex_drain(s->intr_fd);
        s->interrupted = 1;
    }
    if (r < 0 && errno != EINTR)
        return KDS_ERR_GONE;
    if (ex_stop_requested())
        return KDS_ERR_STOPPED;
    now = ex_now_ms();
    if (r > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        uint8_t buf[16384];
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n == 0)
            return KDS_ERR_GONE;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            return KDS_ERR_GONE;
        if (n > 0) {
            s->last_rx_ms = now;
            wt_bytes(s->wt, 0, buf, (size_t)n);
            if (feed(s, now, buf, (size_t)n) != 0)
                return KDS_ERR_GONE;
        }
    }
    kdcom_tick(&s->link, now);
    take_events(s);
    if (flush_out(s, now) != 0)
        return KDS_ERR_GONE;
    return s->interrupted ? KDS_ERR_INTR : 0;
}

int kds_sync(struct kds *s, uint32_t timeout_ms)
{
    uint64_t end = ex_now_ms() + timeout_ms;

    while (!s->synced) {
        int rc;
        if (ex_now_ms() >= end)
            return KDS_ERR_TIMEOUT;
        rc = kds_pump(s, end);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Pumps until the state change counter moves past seq and the target is
 * stopped (LoadSymbols stops continue themselves).
 *
 * A kernel that was already stopped when we attached may sit in its
 * request loop without ever sending its state change again (a RESET that
 * reached it in the middle of a send is answered there and forgotten).
 * KD's cure is Ctrl+R: a new RESET makes the loop start over and resend
 * the state change.  So when nothing came for a while, resynchronise. */
static int wait_sc(struct kds *s, unsigned seq, uint64_t end, int breakin)
{
    uint64_t next_b = 0, next_resync = ex_now_ms() + 1500;

    while (!(s->sc_seq != seq && s->stopped && s->q_count == 0)) {
        int rc;
        uint64_t now = ex_now_ms(), wake = end;
        if (now >= end)
            return KDS_ERR_TIMEOUT;
        if (breakin && now >= next_b && s->synced) {
            /* A RESET of ours that a stopped target has not answered
             * with its state change yet: a break-in now would be kept
             * by it and stop it again after the next continue. */
            uint64_t quiet = s->synced_ms + s->settle_ms;
            if (s->sc_seq == s->sc_seq_at_sync && now < quiet)
                next_b = quiet;
            else {
                kdcom_send_breakin(&s->link);
                next_b = now + 1000;
            }
        }
        if (now >= next_resync && s->synced) {
            if (s->verbose)
                kds_say(s, "no state change yet: resynchronising");
            s->synced = 0;
            s->resyncs++;
            kdcom_resync(&s->link, now);
            next_resync = now + 2000;
        }
        if (breakin && s->synced && next_b < wake)
            wake = next_b;
        if (next_resync < wake)
            wake = next_resync;
        rc = kds_pump(s, wake);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int kds_wait_stop(struct kds *s, uint32_t timeout_ms)
{
    if (s->stopped && s->q_count == 0)
        return 0;
    return wait_sc(s, s->sc_seq, ex_now_ms() + timeout_ms, 0);
}

int kds_settle(struct kds *s)
{
    uint64_t start = ex_now_ms();
    /* A target that keeps reporting stops it continues by itself (module
     * loads) holds the wait this long at most. */
    uint64_t cap = start + (uint64_t)s->settle_ms * KDS_SETTLE_CAP;

    for (;;) {
        uint64_t base = s->activity_ms, quiet;
        uint64_t p = s->print_ms < start ? s->print_ms : start;
        int rc;
        if (s->print_ms != 0 && p > base)
            base = p;
        quiet = base + s->settle_ms;
        if (quiet > cap)
            quiet = cap;
        /* Not synchronised (a resynchronisation under way): nothing to
         * wait for here; kds_break() and kds_wait_stop() wait for it. */
        if ((s->stopped && s->q_count == 0) || !s->synced ||
            ex_now_ms() >= quiet)
            return 0;
        if ((rc = kds_pump(s, quiet)) != 0)
            return rc;
    }
}

int kds_break(struct kds *s, uint32_t timeout_ms)
{
    if (s->stopped && s->q_count == 0)
        return 0;
    return wait_sc(s, s->sc_seq, ex_now_ms() + timeout_ms, 1);
}

int kds_continue(struct kds *s, uint32_t timeout_ms)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};

    kdcom_kd_st32(req, KDCOM_KD_CONTINUE2);
    kdcom_kd_st32(req + KDCOM_KD_CONTINUE_STATUS, KDCOM_KD_DBG_CONTINUE);
    return kds_send_unanswered(s, req, timeout_ms);
}

int kds_send_unanswered(struct kds *s, const uint8_t *req,
                        uint32_t timeout_ms)
{
    uint64_t end = ex_now_ms() + timeout_ms;
    unsigned acked;

    /* Wait for earlier packets to leave first, then count ACKs. */
    while (s->q_count != 0 || kdcom_can_send(&s->link) != 1) {
        int rc;
        if (ex_now_ms() >= end)
            return KDS_ERR_TIMEOUT;
        if ((rc = kds_pump(s, end)) != 0)
            return rc;
    }
    acked = s->continues_acked;
    if (enqueue(s, KDCOM_TYPE_STATE_MANIPULATE, req, KDCOM_KD_MS_SIZE, NULL,
                0))
        return KDS_ERR_PROTO;
    s->stopped = 0;
    while (s->continues_acked == acked) {
        int rc;
        if (ex_now_ms() >= end)
            return KDS_ERR_TIMEOUT;
        if ((rc = kds_pump(s, end)) != 0)
            return rc;
    }
    s->activity_ms = ex_now_ms();
    return 0;
}

int kds_manipulate(struct kds *s, const uint8_t *req, const uint8_t *data,
                   size_t dlen, uint32_t timeout_ms)
{
    uint64_t end = ex_now_ms() + timeout_ms;
    unsigned seq = s->sc_seq, acked = s->continues_acked, tries = 0;
    const char *name = kdcom_kd_api_name(kdcom_kd_ld32(req));
    int rc = 0;

    s->wait_api = kdcom_kd_ld32(req);
    s->reply_ready = 0;
    /* A late reply to an earlier request with the same ApiNumber (a
     * request sent twice across a resync) must not pass for this one's:
     * memory requests are matched on address and count too. */
    s->wait_key_len = kdcom_kd_is_memory_api(s->wait_api)
                          ? KDCOM_KD_MEM_ACTUAL - KDCOM_KD_MS_UNION
                          : 0;
    memcpy(s->wait_key, req + KDCOM_KD_MS_UNION, s->wait_key_len);
    if (enqueue(s, KDCOM_TYPE_STATE_MANIPULATE, req, KDCOM_KD_MS_SIZE, data,
                dlen) != 0) {
        s->wait_api = 0;
        return KDS_ERR_PROTO;
    }
    while (!s->reply_ready) {
        uint64_t now = ex_now_ms(), wake = end;
        if (now >= end) {
            rc = KDS_ERR_TIMEOUT;
            break;
        }
        /* Our copy was acknowledged (and is not queued again): the answer
         * is due within reply_timeout_ms of the ACK or of the last bytes
         * the target sent, whichever is later (a slow line still
         * delivering a long reply is not silent). */
        if (s->continues_acked != acked && s->q_count == 0 &&
            !s->in_link_is_manip && s->synced) {
            uint64_t due = (s->manip_acked_ms > s->last_rx_ms
                                ? s->manip_acked_ms
                                : s->last_rx_ms) +
                           s->reply_timeout_ms;
            if (now >= due) {
                s->reply_timeouts++;
                acked = s->continues_acked;
                if (tries < s->request_retries) {
                    tries++;
                    s->requests_resent++;
                    kds_say(s, "no reply to %s in %u ms: sending it again "
                            "(%u of %u)", name, (unsigned)s->reply_timeout_ms,
                            tries, s->request_retries);
                    enqueue(s, KDCOM_TYPE_STATE_MANIPULATE, req,
                            KDCOM_KD_MS_SIZE, data, dlen);
                } else {
                    /* The target does not answer a request it takes:
                     * start over.  It answers the RESET with its state
                     * change, and the request goes out after it (below). */
                    tries = 0;
                    kds_say(s, "no reply to %s after %u re-sends: "
                            "resynchronising", name, s->request_retries);
                    s->synced = 0;
                    s->resyncs++;
                    kdcom_resync(&s->link, now);
                }
                continue;
            }
            if (due < wake)
                wake = due;
        }
        if ((rc = kds_pump(s, wake)) != 0)
            break;
        if (s->sc_seq != seq && !s->reply_ready) {
            seq = s->sc_seq;
            /* The target restarted its wait loop.  If our request already
             * left the link it may be lost: send it again. */
            if (!s->in_link_is_manip && s->q_count == 0) {
                s->requests_resent++;
                acked = s->continues_acked;
                enqueue(s, KDCOM_TYPE_STATE_MANIPULATE, req,
                        KDCOM_KD_MS_SIZE, data, dlen);
            }
        }
    }
    s->wait_api = 0;
    return rc;
}

int kds_read(struct kds *s, uint32_t api, uint64_t addr, uint8_t *buf,
             size_t len, size_t chunk, size_t *done, uint32_t timeout_ms)
{
    uint8_t req[KDCOM_KD_MS_SIZE];

    *done = 0;
    if (chunk == 0 || chunk > KDCOM_KD_MAX_TRANSFER)
        chunk = KDCOM_KD_MAX_TRANSFER;
    while (*done < len) {
        size_t want = len - *done < chunk ? len - *done : chunk;
        uint32_t got;
        int rc;
        memset(req, 0, sizeof req);
        kdcom_kd_st32(req, api);
        kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, addr + *done);
        kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)want);
        rc = kds_manipulate(s, req, NULL, 0, timeout_ms);
        if (rc != 0)
            return rc;
        got = kdcom_kd_ld32(s->reply + KDCOM_KD_MEM_ACTUAL);
        if (got > want || got > s->reply_len - KDCOM_KD_MS_SIZE)
            return KDS_ERR_PROTO;
        memcpy(buf + *done, s->reply + KDCOM_KD_MS_SIZE, got);
        *done += got;
        if (!kdcom_kd_nt_success(
                kdcom_kd_ld32(s->reply + KDCOM_KD_MS_RETURN_STATUS)) ||
            got == 0)
            return KDS_ERR_STATUS;
        if (got < want)
            return KDS_ERR_STATUS;
    }
    return 0;
}

int kds_write(struct kds *s, uint64_t addr, const uint8_t *buf, size_t len,
              uint32_t timeout_ms)
{
    uint8_t req[KDCOM_KD_MS_SIZE];
    size_t done = 0;

    while (done < len) {
        size_t want = len - done;
        int rc;
        if (want > KDCOM_KD_MAX_TRANSFER)
            want = KDCOM_KD_MAX_TRANSFER;
        memset(req, 0, sizeof req);
        kdcom_kd_st32(req, KDCOM_KD_WRITE_VIRTUAL_MEMORY);
        kdcom_kd_st64(req + KDCOM_KD_MEM_ADDRESS, addr + done);
        kdcom_kd_st32(req + KDCOM_KD_MEM_COUNT, (uint32_t)want);
        rc = kds_manipulate(s, req, buf + done, want, timeout_ms);
        if (rc != 0)
            return rc;
        if (!kdcom_kd_nt_success(
                kdcom_kd_ld32(s->reply + KDCOM_KD_MS_RETURN_STATUS)) ||
            kdcom_kd_ld32(s->reply + KDCOM_KD_MEM_ACTUAL) != want)
            return KDS_ERR_STATUS;
        done += want;
    }
    return 0;
}

int kds_wait_print(struct kds *s, const char *needle, uint32_t timeout_ms)
{
    uint64_t end = ex_now_ms() + timeout_ms;
    unsigned seen = s->prints > KDS_PRINTS ? s->prints - KDS_PRINTS : 0;

    /* Prints already matched by an earlier wait do not count again. */
    if (seen < s->prints_matched)
        seen = s->prints_matched;
    for (;;) {
        int rc;
        for (; seen < s->prints; seen++)
            if (strstr(s->print_ring[seen % KDS_PRINTS], needle) != NULL) {
                s->prints_matched = seen + 1;
                return 0;
            }
        if (ex_now_ms() >= end)
            return KDS_ERR_TIMEOUT;
        if ((rc = kds_pump(s, end)) != 0)
            return rc;
    }
}
