/* SPDX-License-Identifier: BSD-2-Clause */
/* vmh.c - the single-threaded VM channel host harness (see vmh.h). */
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

struct vmh *V;

int vmh_dbg_init(struct vmh *v)
{
    struct kdcom_config dc;

    kdcom_config_init(&dc, KDCOM_ROLE_DEBUGGER);
    dc.ack_timeout_ms = 100;
    dc.reset_interval_ms = 50;
    return kdcom_link_init(&v->dbg, &dc);
}

int vmh_init(struct vmh *v, const struct kdcom_vm_config *cfg)
{
    int rc;

    memset(v, 0, sizeof(*v));
    v->mem = v->shm;
    v->size = VMH_REGION;
    v->now = 1000;
    rc = kdcom_vm_host_init(&v->host, cfg);
    if (rc != KDCOM_OK)
        return rc;
    return vmh_dbg_init(v);
}

struct vmh *vmh_new(uint32_t receive_timeout_ms)
{
    struct kdcom_vm_config cfg;
    struct vmh *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    kdcom_vm_config_init(&cfg);
    cfg.ack_timeout_ms = 20;
    cfg.receive_timeout_ms = receive_timeout_ms;
    if (vmh_init(v, &cfg) != KDCOM_OK) {
        free(v);
        return NULL;
    }
    return v;
}

int vmh_setup(struct vmh **vp)
{
    *vp = vmh_new(200);
    if (*vp == NULL)
        return -1;
    vmh_guest_init(*vp, 1);
    return 0;
}

int vmh_fixture_setup(void **state)
{
    (void)state;
    return vmh_setup(&V);
}

int vmh_fixture_teardown(void **state)
{
    (void)state;
    if (V != NULL && V->mem != V->shm)
        free(V->mem);
    free(V);
    V = NULL;
    return 0;
}

const struct kdcom_vm_stats *vmh_stats(const struct vmh *v)
{
    return kdcom_vm_host_stats(&v->host);
}

const struct kdcom_stats *vmh_link_stats(const struct vmh *v)
{
    return kdcom_get_stats(kdcom_vm_host_link(&v->host));
}

uint32_t vmh_ld(const struct vmh *v, uint32_t off)
{
    const uint8_t *p = v->mem + off;

    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

void vmh_st(struct vmh *v, uint32_t off, uint32_t val)
{
    uint8_t *p = v->mem + off;

    p[0] = (uint8_t)val;
    p[1] = (uint8_t)(val >> 8);
    p[2] = (uint8_t)(val >> 16);
    p[3] = (uint8_t)(val >> 24);
}

void vmh_guest_init(struct vmh *v, uint32_t epoch)
{
    vmh_st(v, KDCOM_VM_OFF_MAGIC, 0);
    vmh_st(v, KDCOM_VM_OFF_ABI, KDCOM_VM_ABI_VERSION);
    vmh_st(v, KDCOM_VM_OFF_SIZE, VMH_REGION);
    vmh_st(v, KDCOM_VM_OFF_GUEST_EPOCH, epoch);
    vmh_st(v, KDCOM_VM_OFF_REQ_SEQ, 0);
    v->guest_seq = vmh_ld(v, KDCOM_VM_OFF_RSP_SEQ);
    vmh_st(v, KDCOM_VM_OFF_MAGIC, KDCOM_VM_MAGIC);
}

uint32_t vmh_post(struct vmh *v, uint32_t op, uint32_t type, uint32_t hoff,
                  uint32_t hlen, uint32_t doff, uint32_t dlen, uint32_t arg)
{
    vmh_st(v, KDCOM_VM_OFF_REQ_SEQ, 0);
    vmh_st(v, KDCOM_VM_OFF_REQ_OP, op);
    vmh_st(v, KDCOM_VM_OFF_REQ_TYPE, type);
    vmh_st(v, KDCOM_VM_OFF_REQ_HEAD_OFF, hoff);
    vmh_st(v, KDCOM_VM_OFF_REQ_HEAD_LEN, hlen);
    vmh_st(v, KDCOM_VM_OFF_REQ_DATA_OFF, doff);
    vmh_st(v, KDCOM_VM_OFF_REQ_DATA_LEN, dlen);
    vmh_st(v, KDCOM_VM_OFF_REQ_ARG, arg);
    vmh_st(v, KDCOM_VM_OFF_REQ_RESERVED, 0);
    if (++v->guest_seq == 0)
        v->guest_seq = 1;
    vmh_st(v, KDCOM_VM_OFF_REQ_SEQ, v->guest_seq);
    return v->guest_seq;
}

uint32_t vmh_hello(struct vmh *v)
{
    return vmh_post(v, KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0,
                    KDCOM_VM_ABI_VERSION);
}

static void dbg_events(struct vmh *v)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&v->dbg, &ev) > 0) {
        if (ev.kind == KDCOM_EV_PACKET && v->n_rx < VMH_MAX_RX) {
            struct vmh_rx *r = &v->rx[v->n_rx++];
            r->type = ev.type;
            r->len = ev.len;
            memcpy(r->payload, ev.payload, ev.len);
        } else if (ev.kind == KDCOM_EV_SYNCED) {
            v->n_synced++;
        } else if (ev.kind == KDCOM_EV_RESET) {
            v->n_reset_ev++;
        }
    }
}

int vmh_step(struct vmh *v, uint64_t dt)
{
    uint8_t buf[8192];
    int rc, n, k;

    rc = kdcom_vm_host_poll(&v->host, v->mem, v->size, v->now);
    /* host -> debugger */
    while ((n = kdcom_vm_host_drain(&v->host, v->now, buf, sizeof buf)) > 0) {
        int off = 0;
        if (v->wire_to_dbg_down)
            continue;
        while (off < n) {
            k = kdcom_feed(&v->dbg, v->now, buf + off, (size_t)(n - off));
            if (k < 0)
                return k;
            off += k;
            dbg_events(v);
        }
    }
    dbg_events(v);
    /* debugger -> host, keeping what the host does not take yet */
    while ((n = kdcom_drain(&v->dbg, v->now, buf,
                            sizeof buf)) > 0 &&
           v->to_host_len + (size_t)n <= VMH_WIRE) {
        memcpy(v->to_host + v->to_host_len, buf, (size_t)n);
        v->to_host_len += (size_t)n;
    }
    if (v->to_host_len > 0) {
        k = kdcom_vm_host_feed(&v->host, v->now, v->to_host, v->to_host_len);
        if (k < 0)
            return k;
        memmove(v->to_host, v->to_host + k, v->to_host_len - (size_t)k);
        v->to_host_len -= (size_t)k;
    }
    rc = kdcom_vm_host_poll(&v->host, v->mem, v->size, v->now);
    v->now += dt;
    return rc;
}

void vmh_steps(struct vmh *v, unsigned n, uint64_t dt)
{
    while (n-- > 0)
        vmh_step(v, dt);
}

int vmh_wait(struct vmh *v, uint32_t seq, unsigned max, uint64_t dt)
{
    unsigned i;

    for (i = 0; i < max; i++) {
        if (vmh_ld(v, KDCOM_VM_OFF_RSP_SEQ) == seq)
            return (int)vmh_ld(v, KDCOM_VM_OFF_RSP_STATUS);
        if (vmh_step(v, dt) < 0)
            return -1;
    }
    return vmh_ld(v, KDCOM_VM_OFF_RSP_SEQ) == seq
               ? (int)vmh_ld(v, KDCOM_VM_OFF_RSP_STATUS)
               : -1;
}

int vmh_sync(struct vmh *v)
{
    unsigned i;

    for (i = 0; i < 100 && kdcom_is_synced(&v->dbg) != 1; i++)
        vmh_step(v, 10);
    return kdcom_is_synced(&v->dbg) == 1 ? 0 : -1;
}

int vmh_sync_poll(struct vmh *v)
{
    uint32_t seq;

    if (vmh_sync(v) != 0)
        return -1;
    seq = vmh_post(v, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    return vmh_wait(v, seq, 5, 1);
}
