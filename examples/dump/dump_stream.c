/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_stream.c - one KDCOM byte stream per direction, read with
 * libkdcom's streaming parser (kdcom_parse()), so kdcom-dump sees exactly
 * the items a link would see, damaged ones and noise included.
 *
 * What a capture can tell about the two ends, and how it is counted
 * (the link's own counters are the reference, include/kdcom.h):
 *
 *   retransmission  a data packet with the type, ByteCount and Checksum
 *                   of the previous data packet in that direction, and
 *                   its id (or any id once a RESET went by: the sender
 *                   renumbers its outstanding packet).  The sender's
 *                   stats.retransmits.
 *   duplicate       a retransmission of a packet the receiver had
 *                   acknowledged already (its ACK lost or late): the
 *                   receiver's stats.duplicates.
 *   noise           bytes outside any packet, as the parser counts them:
 *                   the receiver's stats.noise_bytes.
 *
 * For a TCP connection the ends are decided on the first item (a break-in
 * or a RESET comes from the debugger, a state change, DbgPrint, trace or
 * file request from the target, a manipulate request from the debugger),
 * or else by the rule that the listening side is the target.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_int.h"

struct dlink *dlink_new(struct dump_ctx *c, int nstreams)
{
    struct dlink *l = calloc(1, sizeof *l);
    int i;

    if (l == NULL) {
        dump_fail(c, "out of memory");
        return NULL;
    }
    l->nstreams = nstreams;
    l->decided = 1;
    for (i = 0; i < 2; i++) {
        kdcom_parser_init(&l->s[i].p);
        l->s[i].link = l;
        l->s[i].idx = i;
        l->s[i].dir = DUMP_UNKNOWN;
    }
    l->next = c->links;
    c->links = l;
    return l;
}

void dstream_set_dir(struct dstream *s, int dir)
{
    s->dir = dir;
}

static struct dstream *other(struct dstream *s)
{
    struct dlink *l = s->link;

    if (l->nstreams < 2)
        return NULL;
    return &l->s[s->idx ^ 1];
}

static int target_only_type(uint32_t type)
{
    return type == KDCOM_TYPE_STATE_CHANGE32 ||
           type == KDCOM_TYPE_STATE_CHANGE64;
}

/* TCP: which stream the target sends, from what stream s sent first. */
static void decide(struct dump_ctx *c, struct dstream *s,
                   const struct kdcom_frame *f)
{
    struct dlink *l = s->link;
    int s_is_target = -1;
    int target_idx;

    if (l->decided)
        return;
    if (f != NULL) {
        switch (f->kind) {
        case KDCOM_FRAME_BREAKIN:
            s_is_target = 0;
            break;
        case KDCOM_FRAME_CONTROL:
            /* A target only ever echoes a RESET. */
            if (f->type == KDCOM_TYPE_RESET)
                s_is_target = 0;
            break;
        case KDCOM_FRAME_DATA:
        case KDCOM_FRAME_BAD_CHECKSUM:
        case KDCOM_FRAME_BAD_TRAILER:
            if (target_only_type(f->type) ||
                f->type == KDCOM_TYPE_DEBUG_IO ||
                f->type == KDCOM_TYPE_TRACE_IO ||
                f->type == KDCOM_TYPE_FILE_IO)
                s_is_target = 1; /* the target speaks first in these */
            else if (f->type == KDCOM_TYPE_STATE_MANIPULATE)
                s_is_target = 0; /* requests come before replies */
            break;
        default:
            break;
        }
    }
    if (c->o->target_side == DUMP_SIDE_SERVER) {
        target_idx = l->server_idx;
    } else if (c->o->target_side == DUMP_SIDE_CLIENT) {
        target_idx = l->server_idx ^ 1;
    } else if (s_is_target >= 0) {
        target_idx = s_is_target ? s->idx : s->idx ^ 1;
    } else {
        target_idx = l->server_idx;
        l->fallback = 1;
    }
    l->s[target_idx].dir = DUMP_T2D;
    l->s[target_idx ^ 1].dir = DUMP_D2T;
    l->decided = 1;
}

/* Noise and broken leader runs the parser counted since last time. */
static void account_noise(struct dump_ctx *c, struct dstream *s,
                          const struct when *w)
{
    uint64_t noise = s->p.noise_bytes - s->noise_seen;
    uint64_t part = s->p.partial_leaders - s->partial_seen;

    s->noise_seen = s->p.noise_bytes;
    s->partial_seen = s->p.partial_leaders;
    s->st.partial_leaders += part;
    if (noise > 0) {
        struct rec r;
        memset(&r, 0, sizeof r);
        r.kind = REC_NOISE;
        r.count = noise;
        s->st.noise_bytes += noise;
        decide(c, s, NULL);
        out_record(c, s, &r, w);
    }
}

static void data_analysis(struct dstream *s, const struct kdcom_frame *f,
                          struct rec *r)
{
    int same = s->have_last && f->type == s->last_type &&
               f->byte_count == s->last_count && f->checksum == s->last_sum;

    if (same && (f->id == s->last_id || s->reset_since)) {
        r->retransmission = 1;
        s->st.retransmissions++;
        if (s->last_acked && f->kind == KDCOM_FRAME_DATA) {
            r->duplicate = 1;
            s->st.duplicates++;
        }
    } else {
        s->last_acked = 0;
    }
    s->have_last = 1;
    s->last_type = f->type;
    s->last_count = f->byte_count;
    s->last_id = f->id;
    s->last_sum = f->checksum;
    s->reset_since = 0;
}

static void item(struct dump_ctx *c, struct dstream *s,
                 const struct kdcom_frame *f, const struct when *w)
{
    struct dstream *o = other(s);
    struct rec r;

    memset(&r, 0, sizeof r);
    r.f = f;
    decide(c, s, f);
    switch (f->kind) {
    case KDCOM_FRAME_DATA:
    case KDCOM_FRAME_BAD_CHECKSUM:
    case KDCOM_FRAME_BAD_TRAILER:
        if (f->kind == KDCOM_FRAME_DATA) {
            r.kind = REC_DATA;
            s->st.data++;
        } else if (f->kind == KDCOM_FRAME_BAD_CHECKSUM) {
            r.kind = REC_BAD_CHECKSUM;
            s->st.bad_checksum++;
        } else {
            r.kind = REC_BAD_TRAILER;
            s->st.bad_trailer++;
        }
        s->item_bytes += KDCOM_HEADER_SIZE + (uint64_t)f->payload_len + 1;
        data_analysis(s, f, &r);
        if (target_only_type(f->type))
            s->evidence_target++;
        break;
    case KDCOM_FRAME_BAD_SIZE:
        r.kind = REC_BAD_SIZE;
        s->st.bad_size++;
        s->item_bytes += KDCOM_HEADER_SIZE;
        break;
    case KDCOM_FRAME_CONTROL:
        r.kind = REC_CONTROL;
        s->item_bytes += KDCOM_HEADER_SIZE;
        switch (f->type) {
        case KDCOM_TYPE_ACKNOWLEDGE:
            s->st.acks++;
            if (o != NULL && o->have_last &&
                ((f->id ^ o->last_id) & ~KDCOM_SYNC_BIT) == 0)
                o->last_acked = 1;
            break;
        case KDCOM_TYPE_RESEND:
            s->st.resends++;
            break;
        case KDCOM_TYPE_RESET:
            s->st.resets++;
            s->reset_since = 1;
            if (o != NULL)
                o->reset_since = 1;
            break;
        default:
            s->st.unknown_control++;
            break;
        }
        break;
    case KDCOM_FRAME_BREAKIN:
        r.kind = REC_BREAKIN;
        s->st.breakins++;
        s->evidence_debugger++;
        s->item_bytes += 1;
        break;
    default:
        return;
    }
    s->st.items++;
    out_record(c, s, &r, w);
}

void dstream_feed(struct dump_ctx *c, struct dstream *s, const uint8_t *b,
                  size_t n, const struct when *w)
{
    int stalls = 0;

    s->st.bytes += n;
    while (n > 0 && !c->failed) {
        struct kdcom_frame f;
        int used = kdcom_parse(&s->p, b, n, &f);

        if (used < 0)
            return;
        b += used;
        n -= (size_t)used;
        account_noise(c, s, w);
        if (f.kind != KDCOM_FRAME_NONE)
            item(c, s, &f, w);
        /* Every item consumes at least its last byte; never spin. */
        if (used == 0 && ++stalls > 2)
            return;
        if (used > 0)
            stalls = 0;
    }
}

/* Bytes the parser holds that are in no item yet. */
static uint64_t pending(const struct dstream *s)
{
    uint64_t done = s->item_bytes + s->p.noise_bytes;

    return s->p.bytes_in > done ? s->p.bytes_in - done : 0;
}

/* Reports what the parser holds that is in no item yet (a frame cut off
 * by the end of the stream or by a gap) and drops it, so that it is
 * reported once and never counted as noise. */
static void cut_off(struct dump_ctx *c, struct dstream *s,
                    const struct when *w)
{
    uint64_t left = pending(s);

    if (left > 0) {
        struct rec r;
        memset(&r, 0, sizeof r);
        r.kind = REC_INCOMPLETE;
        r.count = left;
        s->st.incomplete++;
        decide(c, s, NULL);
        out_record(c, s, &r, w);
    }
    kdcom_parser_reset(&s->p);
    s->dropped += s->p.noise_bytes - s->noise_seen;
    s->noise_seen = s->p.noise_bytes;
    s->partial_seen = s->p.partial_leaders;
}

void dstream_end(struct dump_ctx *c, struct dstream *s, const struct when *w)
{
    cut_off(c, s, w);
}

void dstream_gap(struct dump_ctx *c, struct dstream *s, uint64_t missing,
                 const struct when *w)
{
    struct rec r;

    cut_off(c, s, w);
    memset(&r, 0, sizeof r);
    r.kind = REC_GAP;
    r.count = missing;
    decide(c, s, NULL);
    out_record(c, s, &r, w);
}

void dlinks_end(struct dump_ctx *c, const struct when *w)
{
    struct dlink *l;
    int i;

    for (l = c->links; l != NULL; l = l->next)
        for (i = 0; i < l->nstreams; i++)
            dstream_end(c, &l->s[i], w);
}

void dlink_retire(struct dump_ctx *c, struct dlink *l)
{
    struct dlink **pp;
    char note[DUMP_NOTE_LEN];
    int i;

    for (pp = &c->links; *pp != NULL && *pp != l; pp = &(*pp)->next)
        ;
    if (*pp == NULL)
        return;
    *pp = l->next;
    for (i = 0; i < l->nstreams; i++) {
        int d = l->s[i].dir >= 0 && l->s[i].dir <= 2 ? l->s[i].dir
                                                      : DUMP_UNKNOWN;
        out_add_stats(&c->retired[d], &l->s[i].st);
        c->retired_present[d] = 1;
    }
    if (out_link_note(c, l, note, sizeof note)) {
        if (c->nlnotes < DUMP_MAX_NOTES)
            memcpy(c->lnotes[c->nlnotes++], note, sizeof note);
        else
            c->lnotes_more++;
    }
    free(l);
}

void dlinks_free(struct dump_ctx *c)
{
    while (c->links != NULL) {
        struct dlink *l = c->links;
        c->links = l->next;
        free(l);
    }
}
