/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdreplay.c - replays a recorded KD debugger session against a live
 * target and checks that every answer has the status and the size the
 * recording has.
 *
 *   kdreplay [-v] VECTOR HOST PORT
 *
 * VECTOR is a wire recording in the format of tests/vectors ("D>T 30 30
 * ...", one chunk a line).  Both directions are parsed with libkdcom's
 * parser and turned into a script, in the order of the recording:
 *
 *   - every data packet the debugger sent (STATE_MANIPULATE requests,
 *     FILE_IO and DEBUG_IO answers; a retransmission, same id and
 *     checksum as the packet before it, counts once),
 *   - every state change the target reported after the handshake (a
 *     stop the replay waits for), the reply recorded for each request,
 *   - break-ins ('b').
 *
 * The replay connects to HOST:PORT with a DEBUGGER link, synchronises,
 * and runs the script: it waits for each stop and compares it (NewState;
 * for an exception the code, address and parameter count; for LoadSymbols
 * load or unload, base and path length), sends each request and compares
 * its reply with the recorded one: ApiNumber, ReturnStatus, payload size
 * and the count the API returns (ActualBytes, BytesCopied, a breakpoint
 * handle, DataSize).  A Continue gets no reply: its ACK is waited for;
 * after a Reboot the target may close the line instead.
 * FILE_IO requests from the target are answered with the recorded
 * answer.  One line per answer; exit 0 when all match, 1 otherwise, 2 on
 * usage or connection errors.  Every wait is bounded (10 s).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "netutil.h"

#define MAX_STEPS 1024
#define WAIT_MS 10000

enum step_kind { STEP_STOP, STEP_REQUEST, STEP_BREAK };

struct pkt {
    uint32_t type;
    uint32_t len;
    uint8_t *p;
};

struct step {
    enum step_kind kind;
    struct pkt req;   /* STEP_REQUEST: what the debugger sent */
    struct pkt rep;   /* its recorded reply (len 0: none yet / none) */
    int has_rep;
    struct pkt stop;  /* STEP_STOP: the recorded state change */
    unsigned line;    /* of the recording, for messages */
};

static struct step steps[MAX_STEPS];
static unsigned nsteps;
/* Recorded FILE_IO and DEBUG_IO answers of the debugger, in order. */
static struct pkt answers[64];
static unsigned nanswers, answers_used;
static int verbose;

static struct kdcom_link dbg;
static int sock = -1;
static unsigned live_stops, live_acks;
static struct pkt live_reply;
static int live_reply_ready;
static uint32_t live_wait_api;
static uint8_t live_sc[KDCOM_MAX_PAYLOAD];
static uint32_t live_sc_len;
static unsigned failures, checked;

static struct pkt copy_pkt(uint32_t type, const uint8_t *p, uint32_t len)
{
    struct pkt k;

    k.type = type;
    k.len = len;
    k.p = malloc(len ? len : 1);
    if (k.p == NULL) {
        fprintf(stderr, "kdreplay: out of memory\n");
        exit(2);
    }
    memcpy(k.p, p, len);
    return k;
}

static struct step *add_step(enum step_kind kind, unsigned line)
{
    struct step *s;

    if (nsteps == MAX_STEPS) {
        fprintf(stderr, "kdreplay: recording too long\n");
        exit(2);
    }
    s = &steps[nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = line;
    return s;
}

/* Per direction: the last data packet taken (to drop retransmissions)
 * and whether the handshake is done (a RESET seen in that direction). */
struct side {
    struct kdcom_parser p;
    int have_last;
    uint32_t last_id, last_sum;
    int reset_seen;
};

static int is_retransmission(struct side *sd, const struct kdcom_frame *f)
{
    if (sd->have_last && sd->last_id == f->id && sd->last_sum == f->checksum)
        return 1;
    sd->have_last = 1;
    sd->last_id = f->id;
    sd->last_sum = f->checksum;
    return 0;
}

static void on_recorded(struct side *sd, int to_target,
                        const struct kdcom_frame *f, unsigned line)
{
    uint32_t api;

    if (f->kind == KDCOM_FRAME_CONTROL && f->type == KDCOM_TYPE_RESET) {
        sd->reset_seen = 1;
        sd->have_last = 0;
        return;
    }
    if (f->kind == KDCOM_FRAME_BREAKIN && to_target) {
        if (nsteps == 0 || steps[nsteps - 1].kind != STEP_BREAK)
            add_step(STEP_BREAK, line);
        return;
    }
    if (f->kind != KDCOM_FRAME_DATA || !sd->reset_seen ||
        f->payload_len < 4 || is_retransmission(sd, f))
        return;
    api = kdcom_kd_ld32(f->payload);
    if (to_target) {
        if (f->type == KDCOM_TYPE_STATE_MANIPULATE &&
            f->payload_len >= KDCOM_KD_MS_SIZE) {
            struct step *s = add_step(STEP_REQUEST, line);
            s->req = copy_pkt(f->type, f->payload, f->payload_len);
        } else if ((f->type == KDCOM_TYPE_FILE_IO ||
                    f->type == KDCOM_TYPE_DEBUG_IO) &&
                   nanswers < sizeof answers / sizeof answers[0]) {
            answers[nanswers++] = copy_pkt(f->type, f->payload,
                                           f->payload_len);
        }
        return;
    }
    if (f->type == KDCOM_TYPE_STATE_CHANGE64 &&
        f->payload_len >= KDCOM_KD_SC_SIZE) {
        struct step *s = add_step(STEP_STOP, line);
        s->stop = copy_pkt(f->type, f->payload, f->payload_len);
    } else if (f->type == KDCOM_TYPE_STATE_MANIPULATE &&
               f->payload_len >= KDCOM_KD_MS_SIZE) {
        /* The reply of the latest request of that API without one. */
        unsigned i = nsteps;
        while (i-- > 0)
            if (steps[i].kind == STEP_REQUEST && !steps[i].has_rep &&
                kdcom_kd_ld32(steps[i].req.p) == api) {
                steps[i].rep = copy_pkt(f->type, f->payload, f->payload_len);
                steps[i].has_rep = 1;
                break;
            }
    }
}

static int load(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[65536];
    struct side sd[2];
    unsigned ln = 0;

    if (fp == NULL) {
        fprintf(stderr, "kdreplay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(sd, 0, sizeof sd);
    kdcom_parser_init(&sd[0].p);
    kdcom_parser_init(&sd[1].p);
    while (fgets(line, sizeof line, fp) != NULL) {
        uint8_t bytes[sizeof line / 3 + 1];
        size_t n = 0, off = 0;
        int to_target;
        char *s = line + 3;
        ln++;
        if (strncmp(line, "D>T", 3) == 0)
            to_target = 1;
        else if (strncmp(line, "T>D", 3) == 0)
            to_target = 0;
        else
            continue; /* comments, blank lines */
        for (;;) {
            char *end;
            unsigned long v = strtoul(s, &end, 16);
            if (end == s)
                break;
            if (v > 0xff || n == sizeof bytes) {
                fprintf(stderr, "kdreplay: %s:%u: bad byte\n", path, ln);
                fclose(fp);
                return -1;
            }
            bytes[n++] = (uint8_t)v;
            s = end;
        }
        while (off < n) {
            struct kdcom_frame f;
            struct side *d = &sd[to_target ? 0 : 1];
            int used = kdcom_parse(&d->p, bytes + off, n - off, &f);
            if (used < 0)
                break;
            off += (size_t)used;
            if (f.kind != KDCOM_FRAME_NONE)
                on_recorded(d, to_target, &f, ln);
        }
    }
    fclose(fp);
    return 0;
}

/* ---- the live session ---- */

static void answer_target(const struct kdcom_event *ev)
{
    unsigned i;
    uint32_t api = kdcom_kd_ld32(ev->payload);

    for (i = answers_used; i < nanswers; i++)
        if (answers[i].type == ev->type && answers[i].len >= 4 &&
            kdcom_kd_ld32(answers[i].p) == api) {
            answers_used = i + 1;
            /* The link is free: the replay sends one thing at a time. */
            kdcom_send(&dbg, net_now_ms(), ev->type, answers[i].p,
                       answers[i].len, NULL, 0);
            if (verbose)
                printf("answered %s from the recording\n",
                       kdcom_kd_api_name(api));
            return;
        }
    printf("note: no recorded answer to %s\n", kdcom_kd_api_name(api));
}

static void take_events(void)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&dbg, &ev) > 0) {
        if (ev.kind == KDCOM_EV_ACKED) {
            live_acks++;
        } else if (ev.kind == KDCOM_EV_PACKET && ev.len >= 4) {
            if (ev.type == KDCOM_TYPE_STATE_CHANGE64 &&
                ev.len >= KDCOM_KD_SC_SIZE) {
                memcpy(live_sc, ev.payload, ev.len);
                live_sc_len = ev.len;
                live_stops++;
            } else if (ev.type == KDCOM_TYPE_STATE_MANIPULATE &&
                       ev.len >= KDCOM_KD_MS_SIZE && live_wait_api != 0 &&
                       kdcom_kd_ld32(ev.payload) == live_wait_api &&
                       !live_reply_ready) {
                memcpy(live_reply.p, ev.payload, ev.len);
                live_reply.len = ev.len;
                live_reply_ready = 1;
            } else if (ev.type == KDCOM_TYPE_FILE_IO ||
                       (ev.type == KDCOM_TYPE_DEBUG_IO &&
                        kdcom_kd_ld32(ev.payload) == KDCOM_KD_GET_STRING)) {
                answer_target(&ev);
            }
        }
    }
}

/* One round of I/O, at most until deadline.  -1 when the peer is gone. */
static int pump(uint64_t deadline)
{
    return net_pump(&dbg, sock, deadline, take_events);
}

static void mismatch(const struct step *s, const char *what, uint64_t want,
                     uint64_t got)
{
    printf("FAIL line %u: %s: %s is 0x%llx, the recording has 0x%llx\n",
           s->line, kdcom_kd_api_name(kdcom_kd_ld32(
                        s->kind == STEP_STOP ? s->stop.p : s->req.p)),
           what, (unsigned long long)got, (unsigned long long)want);
    failures++;
}

/* The count field a reply of api fills in, or -1. */
static int count_offset(uint32_t api)
{
    if (kdcom_kd_is_memory_api(api))
        return KDCOM_KD_MEM_ACTUAL;
    switch (api) {
    case KDCOM_KD_GET_CONTEXT_EX:
    case KDCOM_KD_SET_CONTEXT_EX:
        return KDCOM_KD_CONTEXT_EX_COPIED;
    case KDCOM_KD_WRITE_BREAKPOINT:
        return KDCOM_KD_BP_HANDLE;
    case KDCOM_KD_READ_IO_SPACE:
    case KDCOM_KD_WRITE_IO_SPACE:
        return KDCOM_KD_IO_SIZE;
    default:
        return -1;
    }
}

static int run_stop(const struct step *s, unsigned *stops)
{
    uint64_t end = net_now_ms() + WAIT_MS;
    const uint8_t *w = s->stop.p, *g = live_sc;
    uint32_t st = kdcom_kd_ld32(w);

    (*stops)++;
    while (live_stops < *stops) {
        if (net_now_ms() >= end) {
            printf("FAIL line %u: no state change (%s) within %d ms\n",
                   s->line, kdcom_kd_api_name(st), WAIT_MS);
            failures++;
            return -1;
        }
        if (pump(end) != 0)
            return -1;
    }
    checked++;
    if (kdcom_kd_ld32(g) != st) {
        mismatch(s, "NewState", st, kdcom_kd_ld32(g));
        return 0;
    }
    if (st == KDCOM_KD_STATE_EXCEPTION) {
        if (kdcom_kd_ld32(g + KDCOM_KD_EXC_CODE) !=
            kdcom_kd_ld32(w + KDCOM_KD_EXC_CODE))
            mismatch(s, "ExceptionCode", kdcom_kd_ld32(w + KDCOM_KD_EXC_CODE),
                     kdcom_kd_ld32(g + KDCOM_KD_EXC_CODE));
        if (kdcom_kd_ld64(g + KDCOM_KD_EXC_ADDRESS) !=
            kdcom_kd_ld64(w + KDCOM_KD_EXC_ADDRESS))
            mismatch(s, "ExceptionAddress",
                     kdcom_kd_ld64(w + KDCOM_KD_EXC_ADDRESS),
                     kdcom_kd_ld64(g + KDCOM_KD_EXC_ADDRESS));
        if (kdcom_kd_ld32(g + KDCOM_KD_EXC_NUMBER_PARAMS) !=
            kdcom_kd_ld32(w + KDCOM_KD_EXC_NUMBER_PARAMS))
            mismatch(s, "NumberParameters",
                     kdcom_kd_ld32(w + KDCOM_KD_EXC_NUMBER_PARAMS),
                     kdcom_kd_ld32(g + KDCOM_KD_EXC_NUMBER_PARAMS));
    } else if (st == KDCOM_KD_STATE_LOAD_SYMBOLS) {
        if (g[KDCOM_KD_LS_UNLOAD] != w[KDCOM_KD_LS_UNLOAD])
            mismatch(s, "UnloadSymbols", w[KDCOM_KD_LS_UNLOAD],
                     g[KDCOM_KD_LS_UNLOAD]);
        if (kdcom_kd_ld64(g + KDCOM_KD_LS_BASE_OF_DLL) !=
            kdcom_kd_ld64(w + KDCOM_KD_LS_BASE_OF_DLL))
            mismatch(s, "BaseOfDll", kdcom_kd_ld64(w + KDCOM_KD_LS_BASE_OF_DLL),
                     kdcom_kd_ld64(g + KDCOM_KD_LS_BASE_OF_DLL));
        if (kdcom_kd_ld32(g + KDCOM_KD_LS_PATH_LENGTH) !=
            kdcom_kd_ld32(w + KDCOM_KD_LS_PATH_LENGTH))
            mismatch(s, "PathNameLength",
                     kdcom_kd_ld32(w + KDCOM_KD_LS_PATH_LENGTH),
                     kdcom_kd_ld32(g + KDCOM_KD_LS_PATH_LENGTH));
    }
    if (live_sc_len != s->stop.len)
        mismatch(s, "state change size", s->stop.len, live_sc_len);
    if (verbose)
        printf("stop %s (%u bytes)\n", kdcom_kd_api_name(st), live_sc_len);
    return 0;
}

static int run_request(const struct step *s)
{
    uint64_t end = net_now_ms() + WAIT_MS;
    uint32_t api = kdcom_kd_ld32(s->req.p);
    unsigned acks, before = failures;
    const uint8_t *g, *w;
    int off;

    while (kdcom_can_send(&dbg) != 1) {
        if (net_now_ms() >= end || pump(end) != 0) {
            printf("FAIL line %u: link busy\n", s->line);
            failures++;
            return -1;
        }
    }
    live_reply_ready = 0;
    live_wait_api = s->has_rep ? api : 0;
    acks = live_acks;
    if (kdcom_send(&dbg, net_now_ms(), KDCOM_TYPE_STATE_MANIPULATE, s->req.p,
                   s->req.len, NULL, 0) != 0) {
        printf("FAIL line %u: send refused\n", s->line);
        failures++;
        return -1;
    }
    while (s->has_rep ? !live_reply_ready : live_acks == acks) {
        if (net_now_ms() >= end) {
            printf("FAIL line %u: %s: no %s within %d ms\n", s->line,
                   kdcom_kd_api_name(api), s->has_rep ? "reply" : "ACK",
                   WAIT_MS);
            failures++;
            return -1;
        }
        if (pump(end) != 0) {
            if (api == KDCOM_KD_REBOOT && !s->has_rep) {
                /* A rebooting target may close the line before its ACK
                 * is read. */
                printf("ok %s (the target closed the line)\n",
                       kdcom_kd_api_name(api));
                return 1;
            }
            printf("FAIL line %u: %s: connection lost\n", s->line,
                   kdcom_kd_api_name(api));
            failures++;
            return -1;
        }
    }
    live_wait_api = 0;
    if (!s->has_rep) {
        if (verbose)
            printf("ok %s (no reply, acknowledged)\n", kdcom_kd_api_name(api));
        return 0;
    }
    checked++;
    g = live_reply.p;
    w = s->rep.p;
    if (kdcom_kd_ld32(g + KDCOM_KD_MS_RETURN_STATUS) !=
        kdcom_kd_ld32(w + KDCOM_KD_MS_RETURN_STATUS))
        mismatch(s, "ReturnStatus", kdcom_kd_ld32(w + KDCOM_KD_MS_RETURN_STATUS),
                 kdcom_kd_ld32(g + KDCOM_KD_MS_RETURN_STATUS));
    if (live_reply.len != s->rep.len)
        mismatch(s, "reply size", s->rep.len, live_reply.len);
    off = count_offset(api);
    if (off >= 0 && kdcom_kd_ld32(g + off) != kdcom_kd_ld32(w + off))
        mismatch(s, "returned count", kdcom_kd_ld32(w + off),
                 kdcom_kd_ld32(g + off));
    printf("%s %s status=0x%08x size=%u\n",
           failures != before ? "mismatch" : "ok", kdcom_kd_api_name(api),
           (unsigned)kdcom_kd_ld32(g + KDCOM_KD_MS_RETURN_STATUS),
           (unsigned)live_reply.len);
    return 0;
}

int main(int argc, char **argv)
{
    struct kdcom_config cfg;
    uint64_t end;
    unsigned i, stops = 0, requests = 0, breaks = 0;
    int a = 1;
    uint64_t next_b = 0;
    int breaking = 0;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        a++;
    }
    if (argc - a != 3) {
        fprintf(stderr, "usage: kdreplay [-v] VECTOR HOST PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (load(argv[a]) != 0)
        return 2;
    for (i = 0; i < nsteps; i++)
        if (steps[i].kind == STEP_REQUEST)
            requests++;
    if (requests == 0) {
        fprintf(stderr, "kdreplay: %s holds no request\n", argv[a]);
        return 2;
    }
    live_reply.p = malloc(KDCOM_MAX_PAYLOAD);
    sock = net_connect(argv[a + 1], argv[a + 2], NET_NODELAY);
    if (sock < 0 || live_reply.p == NULL) {
        fprintf(stderr, "kdreplay: cannot connect to %s:%s\n", argv[a + 1],
                argv[a + 2]);
        return 2;
    }
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    kdcom_link_init(&dbg, &cfg);
    end = net_now_ms() + WAIT_MS;
    while (!kdcom_is_synced(&dbg)) {
        if (net_now_ms() >= end || pump(end) != 0) {
            fprintf(stderr, "kdreplay: no RESET handshake\n");
            return 2;
        }
    }
    for (i = 0; i < nsteps; i++) {
        const struct step *s = &steps[i];
        int rc = 0;
        switch (s->kind) {
        case STEP_BREAK:
            breaking = 1;
            breaks++;
            next_b = 0;
            break;
        case STEP_STOP:
            if (breaking) {
                /* 'b' every second until the target stops. */
                uint64_t until = net_now_ms() + WAIT_MS;
                while (live_stops <= stops && net_now_ms() < until) {
                    if (net_now_ms() >= next_b) {
                        kdcom_send_breakin(&dbg);
                        next_b = net_now_ms() + 1000;
                    }
                    if (pump(next_b < until ? next_b : until) != 0)
                        break;
                }
                breaking = 0;
            }
            rc = run_stop(s, &stops);
            break;
        case STEP_REQUEST:
            rc = run_request(s);
            break;
        }
        if (rc != 0)
            break;
    }
    if (i < nsteps && !(i + 1 == nsteps && steps[i].kind == STEP_REQUEST &&
                        kdcom_kd_ld32(steps[i].req.p) == KDCOM_KD_REBOOT)) {
        printf("FAIL kdreplay: stopped at step %u of %u\n", i + 1, nsteps);
        failures++;
    }
    printf("%s: %u requests, %u stops, %u break-ins replayed; %u answers "
           "checked, %u mismatches\n", failures ? "FAIL kdreplay" : "PASS kdreplay",
           requests, stops, breaks, checked, failures);
    close(sock);
    return failures ? 1 : 0;
}
