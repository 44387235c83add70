/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dump_out.c - kdcom-dump's output: one line per item in text, or one
 * JSON object per line (--json), and the summary.
 *
 * Text line:
 *
 *   N TIME DIR TYPE id=0x........ len=N sum=ok KD-MESSAGE [flags]
 *
 * TIME is seconds since the first packet of the capture ("-" for inputs
 * without time); DIR is D>T, T>D or ? (with #N for the Nth TCP
 * connection after the first).  The KD message is its name and
 * key=value fields, as the example programs' --trace decode prints
 * them.  JSON strings are escaped per RFC 8259; 64-bit values are hex
 * strings (a JSON number cannot hold them exactly).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <kdcom_kd.h>

#include "dump_int.h"

/* Longest string shown in text output (JSON shows all of it). */
#define TEXT_STR_MAX 512

const char *dir_label(int dir)
{
    switch (dir) {
    case DUMP_D2T:
        return "D>T";
    case DUMP_T2D:
        return "T>D";
    default:
        return "?";
    }
}

static void label(const struct dstream *s, char *buf, size_t cap)
{
    if (s->link->conn > 1)
        snprintf(buf, cap, "%s#%d", dir_label(s->dir), s->link->conn);
    else
        snprintf(buf, cap, "%s", dir_label(s->dir));
}

static const char *type_name(uint32_t type, char *buf, size_t cap)
{
    const char *n = kdcom_packet_type_name(type);

    if (strcmp(n, "UNKNOWN") == 0) {
        snprintf(buf, cap, "UNKNOWN(%u)", (unsigned)type);
        return buf;
    }
    return n;
}

/* ---------------------------------------------------------------- text */

/* A string as a quoted literal: text output cuts it at TEXT_STR_MAX
 * characters and shows other bytes as \xNN; JSON shows all of it, every
 * other code point as \uNNNN (bytes as Latin-1), per RFC 8259. */
static void put_str(FILE *o, const uint8_t *s, size_t n, int utf16, int json)
{
    size_t i, step = utf16 ? 2 : 1, shown = 0;

    fputc('"', o);
    for (i = 0; i + step <= n; i += step) {
        unsigned ch = utf16 ? (unsigned)(s[i] | (s[i + 1] << 8)) : s[i];
        if (!json && shown++ >= TEXT_STR_MAX) {
            fputs("...", o);
            break;
        }
        if (ch == '"' || ch == '\\')
            fprintf(o, "\\%c", (char)ch);
        else if (ch == '\n')
            fputs("\\n", o);
        else if (ch == '\r')
            fputs("\\r", o);
        else if (ch == '\t')
            fputs("\\t", o);
        else if (ch >= 0x20 && ch < 0x7f)
            fputc((int)ch, o);
        else if (!json && ch < 0x100)
            fprintf(o, "\\x%02x", ch);
        else
            fprintf(o, "\\u%04x", ch);
    }
    fputc('"', o);
}

/* One decoded KD field: " key=value" in text, ",\"key\":value" in JSON,
 * where values that are not plain numbers (hex, pairs) are strings. */
static void put_field(FILE *o, const struct dkd_field *f, int json)
{
    const char *q = json ? "\"" : "";

    fprintf(o, json ? ",\"%s\":" : " %s=", f->key);
    switch (f->fmt) {
    case DKD_DEC:
        fprintf(o, "%" PRIu64, f->u);
        break;
    case DKD_HEX32:
        fprintf(o, "%s0x%08" PRIx64 "%s", q, f->u, q);
        break;
    case DKD_HEX4:
        fprintf(o, "%s0x%04" PRIx64 "%s", q, f->u, q);
        break;
    case DKD_HEX:
        fprintf(o, "%s0x%" PRIx64 "%s", q, f->u, q);
        break;
    case DKD_PAIR:
        fprintf(o, "%s%" PRIu64 "/%" PRIu64 "%s", q, f->u, f->u2, q);
        break;
    case DKD_STR:
    case DKD_UTF16:
        put_str(o, f->s, f->slen, f->fmt == DKD_UTF16, json);
        break;
    default:
        if (json)
            fputs("null", o);
        break;
    }
}

static int shows_data_len(uint32_t type)
{
    return type == KDCOM_TYPE_STATE_MANIPULATE ||
           type == KDCOM_TYPE_FILE_IO || type == KDCOM_TYPE_TRACE_IO ||
           type == KDCOM_TYPE_CONTROL_REQUEST;
}

static void text_kd(FILE *o, const struct kdcom_frame *f)
{
    struct dkd d;
    int i;

    dkd_decode(f->type, f->payload, f->payload_len, &d);
    if (!d.have_api) {
        fprintf(o, " bytes=%u", (unsigned)f->payload_len);
        return;
    }
    if (strcmp(d.name, "unknown") == 0)
        fprintf(o, " unknown(0x%04x)", (unsigned)d.api);
    else
        fprintf(o, " %s", d.name);
    if (d.short_header) {
        fprintf(o, " short=%u/%u", (unsigned)f->payload_len,
                (unsigned)d.header_size);
        return;
    }
    for (i = 0; i < d.nf; i++)
        put_field(o, &d.f[i], 0);
    if (shows_data_len(f->type))
        fprintf(o, " data=%zu", d.data_len);
}

static void text_time(struct dump_ctx *c, const struct when *w, char *buf,
                      size_t cap)
{
    if (w->has_ts) {
        uint64_t rel = c->have_t0 && w->ts_us >= c->t0 ? w->ts_us - c->t0 : 0;
        snprintf(buf, cap, "%" PRIu64 ".%06" PRIu64, rel / 1000000u,
                 rel % 1000000u);
    } else {
        snprintf(buf, cap, "-");
    }
}

static void text_record(struct dump_ctx *c, struct dstream *s,
                        const struct rec *r, const struct when *w)
{
    FILE *o = c->out;
    const struct kdcom_frame *f = r->f;
    char t[32], lab[24], tn[24];

    text_time(c, w, t, sizeof t);
    label(s, lab, sizeof lab);
    fprintf(o, "%6" PRIu64 " %s %s", c->nrec, t, lab);
    switch (r->kind) {
    case REC_DATA:
    case REC_BAD_CHECKSUM:
    case REC_BAD_TRAILER:
        fprintf(o, " %s id=0x%08x len=%u", type_name(f->type, tn, sizeof tn),
                (unsigned)f->id, (unsigned)f->byte_count);
        if (f->checksum == f->computed_checksum)
            fputs(" sum=ok", o);
        else
            fprintf(o, " sum=BAD(wire=0x%08x,computed=0x%08x)",
                    (unsigned)f->checksum, (unsigned)f->computed_checksum);
        if (r->kind == REC_BAD_TRAILER)
            fprintf(o, " trailer=BAD(0x%02x)", (unsigned)f->trailer);
        text_kd(o, f);
        break;
    case REC_BAD_SIZE:
        fprintf(o, " %s id=0x%08x len=%u BAD_SIZE(over %u, payload skipped)",
                type_name(f->type, tn, sizeof tn), (unsigned)f->id,
                (unsigned)f->byte_count, (unsigned)KDCOM_MAX_PAYLOAD);
        break;
    case REC_CONTROL:
        if (f->type == KDCOM_TYPE_ACKNOWLEDGE || f->type == KDCOM_TYPE_RESEND ||
            f->type == KDCOM_TYPE_RESET)
            fprintf(o, " %s id=0x%08x", kdcom_packet_type_name(f->type),
                    (unsigned)f->id);
        else
            fprintf(o, " CONTROL(type=%u) id=0x%08x", (unsigned)f->type,
                    (unsigned)f->id);
        if (f->byte_count != 0 || f->checksum != 0)
            fprintf(o, " len=%u sum=0x%08x", (unsigned)f->byte_count,
                    (unsigned)f->checksum);
        break;
    case REC_BREAKIN:
        fputs(" BREAKIN 'b'", o);
        break;
    case REC_NOISE:
        fprintf(o, " NOISE %" PRIu64 " bytes", r->count);
        break;
    case REC_INCOMPLETE:
        fprintf(o, " INCOMPLETE %" PRIu64 " bytes (frame cut off)", r->count);
        break;
    case REC_GAP:
        fprintf(o, " GAP %" PRIu64 " bytes missing from the capture",
                r->count);
        break;
    default:
        break;
    }
    if (r->duplicate)
        fputs(" [retransmission, duplicate]", o);
    else if (r->retransmission)
        fputs(" [retransmission]", o);
    fputc('\n', o);
}

/* ---------------------------------------------------------------- JSON */

static void json_cstr(FILE *o, const char *s)
{
    put_str(o, (const uint8_t *)s, strlen(s), 0, 1);
}

static void json_kd(FILE *o, const struct kdcom_frame *f)
{
    struct dkd d;
    int i;

    dkd_decode(f->type, f->payload, f->payload_len, &d);
    fputs(",\"kd\":{", o);
    if (!d.have_api) {
        fprintf(o, "\"bytes\":%u}", (unsigned)f->payload_len);
        return;
    }
    fprintf(o, "\"api\":\"0x%04x\",\"name\":", (unsigned)d.api);
    json_cstr(o, d.name);
    fprintf(o, ",\"header_size\":%zu,\"short\":%s", d.header_size,
            d.short_header ? "true" : "false");
    if (!d.short_header) {
        fprintf(o, ",\"data_len\":%zu", d.data_len);
        for (i = 0; i < d.nf; i++)
            put_field(o, &d.f[i], 1);
    }
    fputc('}', o);
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {
        "data", "bad_checksum", "bad_trailer", "bad_size", "control",
        "breakin", "noise", "incomplete", "gap"};

    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0])
               ? names[kind] : "unknown";
}

static void json_record(struct dump_ctx *c, struct dstream *s,
                        const struct rec *r, const struct when *w)
{
    FILE *o = c->out;
    const struct kdcom_frame *f = r->f;
    char tn[24];

    fprintf(o, "{\"n\":%" PRIu64, c->nrec);
    if (w->frame)
        fprintf(o, ",\"frame\":%" PRIu64, w->frame);
    if (w->line)
        fprintf(o, ",\"line\":%" PRIu64, w->line);
    if (w->has_ts) {
        uint64_t rel = c->have_t0 && w->ts_us >= c->t0 ? w->ts_us - c->t0 : 0;
        fprintf(o, ",\"ts_us\":%" PRIu64 ",\"time\":%" PRIu64 ".%06" PRIu64,
                w->ts_us, rel / 1000000u, rel % 1000000u);
    }
    fprintf(o, ",\"dir\":\"%s\"", dir_label(s->dir));
    if (s->link->conn)
        fprintf(o, ",\"conn\":%d", s->link->conn);
    fprintf(o, ",\"kind\":\"%s\"", kind_name(r->kind));
    switch (r->kind) {
    case REC_DATA:
    case REC_BAD_CHECKSUM:
    case REC_BAD_TRAILER:
    case REC_BAD_SIZE:
    case REC_CONTROL:
        fprintf(o, ",\"type\":%u,\"type_name\":", (unsigned)f->type);
        json_cstr(o, r->kind == REC_CONTROL &&
                             f->type != KDCOM_TYPE_ACKNOWLEDGE &&
                             f->type != KDCOM_TYPE_RESEND &&
                             f->type != KDCOM_TYPE_RESET
                         ? "CONTROL"
                         : type_name(f->type, tn, sizeof tn));
        fprintf(o, ",\"id\":\"0x%08x\",\"len\":%u,\"checksum\":\"0x%08x\"",
                (unsigned)f->id, (unsigned)f->byte_count,
                (unsigned)f->checksum);
        if (r->kind == REC_CONTROL || r->kind == REC_BAD_SIZE)
            break;
        fprintf(o, ",\"computed_checksum\":\"0x%08x\",\"checksum_ok\":%s,"
                   "\"trailer\":\"0x%02x\",\"retransmission\":%s,"
                   "\"duplicate\":%s",
                (unsigned)f->computed_checksum,
                f->checksum == f->computed_checksum ? "true" : "false",
                (unsigned)f->trailer, r->retransmission ? "true" : "false",
                r->duplicate ? "true" : "false");
        json_kd(o, f);
        break;
    case REC_NOISE:
    case REC_INCOMPLETE:
    case REC_GAP:
        fprintf(o, ",\"bytes\":%" PRIu64, r->count);
        break;
    default:
        break;
    }
    fputs("}\n", o);
}

void out_record(struct dump_ctx *c, struct dstream *s, const struct rec *r,
                const struct when *w)
{
    c->nrec++;
    if (c->o->json)
        json_record(c, s, r, w);
    else
        text_record(c, s, r, w);
}

/* ------------------------------------------------------------- summary */

/* The summary's counters, in the order printed: a name and where the
 * value lives. */
struct counter {
    const char *name;
    size_t off;
};

#define DSTAT(name, field) {name, offsetof(struct dstats, field)}
static const struct counter stat_counters[] = {
    DSTAT("bytes", bytes), DSTAT("packets", items), DSTAT("data", data),
    DSTAT("acks", acks), DSTAT("resends", resends), DSTAT("resets", resets),
    DSTAT("unknown_control", unknown_control), DSTAT("breakins", breakins),
    DSTAT("retransmissions", retransmissions),
    DSTAT("duplicates", duplicates), DSTAT("bad_checksum", bad_checksum),
    DSTAT("bad_trailer", bad_trailer), DSTAT("bad_size", bad_size),
    DSTAT("noise_bytes", noise_bytes),
    DSTAT("partial_leaders", partial_leaders),
    DSTAT("incomplete", incomplete)};

#define NSTAT(name, field) {name, offsetof(struct netstats, field)}
static const struct counter net_counters[] = {
    NSTAT("connections", connections), NSTAT("segments", tcp_segments),
    NSTAT("retransmitted_segments", tcp_retransmitted),
    NSTAT("out_of_order", tcp_out_of_order),
    NSTAT("missing_bytes", tcp_missing),
    NSTAT("truncated_segments", tcp_truncated),
    NSTAT("other_port_segments", other_ports),
    NSTAT("untracked_connections", conn_limit), NSTAT("not_tcp", not_tcp),
    NSTAT("not_ip", not_ip), NSTAT("ip_fragments", fragments),
    NSTAT("malformed", malformed)};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* " name=N ..." in text, "\"name\":N,..." in JSON. */
static void put_counters(FILE *o, const struct counter *c, size_t n,
                         const void *base, int json)
{
    size_t j;

    for (j = 0; j < n; j++) {
        uint64_t v;
        memcpy(&v, (const char *)base + c[j].off, sizeof v);
        fprintf(o, json ? "%s\"%s\":%" PRIu64 : "%s%s=%" PRIu64,
                json ? (j ? "," : "") : " ", c[j].name, v);
    }
}

void out_add_stats(struct dstats *a, const struct dstats *b)
{
    uint64_t *pa = (uint64_t *)(void *)a;
    const uint64_t *pb = (const uint64_t *)(const void *)b;
    size_t i;

    for (i = 0; i < sizeof *a / sizeof(uint64_t); i++)
        pa[i] += pb[i];
}

/* Notes about what the input may hide. */
#define MAX_NOTES 12
struct notes {
    int n;
    char text[MAX_NOTES][DUMP_NOTE_LEN];
};

static void note(struct notes *ns, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void note(struct notes *ns, const char *fmt, ...)
{
    va_list ap;

    if (ns->n >= MAX_NOTES)
        return;
    va_start(ap, fmt);
    vsnprintf(ns->text[ns->n++], sizeof ns->text[0], fmt, ap);
    va_end(ap);
}

int out_link_note(const struct dump_ctx *c, const struct dlink *l,
                  char *buf, size_t cap)
{
    const struct dstream *d2t = NULL, *t2d = NULL;
    int i;

    if (!l->conn)
        return 0;
    for (i = 0; i < l->nstreams; i++) {
        if (l->s[i].dir == DUMP_D2T)
            d2t = &l->s[i];
        else if (l->s[i].dir == DUMP_T2D)
            t2d = &l->s[i];
    }
    if (d2t != NULL && t2d != NULL &&
        ((d2t->evidence_target > 0 && t2d->evidence_target == 0) ||
         (t2d->evidence_debugger > 0 && d2t->evidence_debugger == 0))) {
        snprintf(buf, cap, "connection %d (%s): the side taken for the "
                 "debugger sends what targets send; try --target-side %s",
                 l->conn, l->name,
                 c->o->target_side == DUMP_SIDE_CLIENT ? "server" : "client");
        return 1;
    }
    if (l->fallback) {
        snprintf(buf, cap, "connection %d (%s): nothing showed which side "
                 "is the target; took the listening side (--target-side)",
                 l->conn, l->name);
        return 1;
    }
    return 0;
}

static void collect_notes(struct dump_ctx *c, struct notes *ns)
{
    const struct netstats *n = &c->net;
    struct dlink *l;
    char buf[DUMP_NOTE_LEN];
    int i;

    for (i = 0; i < c->nlnotes; i++)
        note(ns, "%s", c->lnotes[i]);
    if (c->lnotes_more > 0)
        note(ns, "%" PRIu64 " more connection(s) with such notes",
             c->lnotes_more);
    for (l = c->links; l != NULL; l = l->next)
        if (out_link_note(c, l, buf, sizeof buf))
            note(ns, "%s", buf);
    if (n->other_ports > 0)
        note(ns, "%" PRIu64 " TCP segment(s) with data on other ports "
                 "ignored (--port PORT, --port any)", n->other_ports);
    if (n->conn_limit > 0)
        note(ns, "%" PRIu64 " TCP connection(s) not tracked (too many at "
                 "once)", n->conn_limit);
    if (n->unsupported > 0)
        note(ns, "%" PRIu64 " packet(s) on link type %u skipped (not "
                 "understood)", n->unsupported, (unsigned)n->unsupported_type);
    if (n->tcp_missing > 0)
        note(ns, "%" PRIu64 " TCP byte(s) missing from the capture",
             n->tcp_missing);
    if (n->hex_other_lines > 0)
        note(ns, "%" PRIu64 " line(s) that are not trace lines skipped",
             n->hex_other_lines);
}

void out_summary(struct dump_ctx *c)
{
    struct dstats tot[3];
    int present[3] = {0, 0, 0};
    struct dlink *l;
    struct notes ns;
    int d, i, j;

    memset(tot, 0, sizeof tot);
    memset(&ns, 0, sizeof ns);
    for (d = 0; d < 3; d++) {
        tot[d] = c->retired[d];
        present[d] = c->retired_present[d];
    }
    for (l = c->links; l != NULL; l = l->next)
        for (i = 0; i < l->nstreams; i++) {
            d = l->s[i].dir;
            if (d < 0 || d > 2)
                d = DUMP_UNKNOWN;
            out_add_stats(&tot[d], &l->s[i].st);
            present[d] = 1;
        }
    collect_notes(c, &ns);
    if (c->o->json) {
        fprintf(c->out, "{\"summary\":{\"format\":\"%s\",\"packets\":%" PRIu64,
                c->format_name != NULL ? c->format_name : "none", c->nrec);
        for (d = 0; d < 3; d++) {
            if (!present[d])
                continue;
            fprintf(c->out, ",\"%s\":{", dir_label(d));
            put_counters(c->out, stat_counters, COUNT_OF(stat_counters),
                         &tot[d], 1);
            fputc('}', c->out);
        }
        if (c->nconn > 0 || c->net.packets > c->net.kdcom_packets) {
            fputs(",\"tcp\":{", c->out);
            put_counters(c->out, net_counters, COUNT_OF(net_counters),
                         &c->net, 1);
            fputc('}', c->out);
        }
        fputs(",\"notes\":[", c->out);
        for (j = 0; j < ns.n; j++) {
            if (j)
                fputc(',', c->out);
            json_cstr(c->out, ns.text[j]);
        }
        fputs("]}}\n", c->out);
        return;
    }
    fprintf(c->out, "-- summary: %" PRIu64 " item(s) from %s\n", c->nrec,
            c->format_name != NULL ? c->format_name : "no input");
    for (d = 0; d < 3; d++) {
        if (!present[d])
            continue;
        fprintf(c->out, "   %s ", dir_label(d));
        put_counters(c->out, stat_counters, COUNT_OF(stat_counters),
                     &tot[d], 0);
        fputc('\n', c->out);
    }
    if (c->nconn > 0 || c->net.packets > c->net.kdcom_packets) {
        fputs("   tcp ", c->out);
        put_counters(c->out, net_counters, COUNT_OF(net_counters), &c->net,
                     0);
        fputc('\n', c->out);
    }
    for (j = 0; j < ns.n; j++)
        fprintf(c->out, "   note: %s\n", ns.text[j]);
}
