/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_chan.c - the guest side of the VM channel mailbox
 * (include/kdcom_vm.h, docs/vm-channel.md).
 *
 * THEORY OF OPERATION
 *
 *   Opening the region writes the guest half: MAGIC 0 first (a host that
 *   polls meanwhile sees "no guest"), then ABI, SIZE, GUEST_FLAGS, a new
 *   GUEST_EPOCH, REQ_SEQ 0, and MAGIC last with release.  The epoch is a
 *   hash of the one found, the clock, the platform's KdGuestEpochSeed,
 *   the number of opens and a stack address, never 0 and never the one
 *   found: "old + 1" would repeat itself on a fresh zeroed region (every
 *   boot would pick 1), and the host would miss the restart.  Sequence
 *   numbers continue from the RSP_SEQ found, so a number the host already
 *   answered never comes back.
 *
 *   Posting is the seqlock writer of the ABI: REQ_SEQ = 0, release fence,
 *   the fields, REQ_SEQ = n with release.  Waiting spins on RSP_SEQ with
 *   acquire and calls the back end's idle step between reads.  Two clocks
 *   bound it: HOST_BEAT frozen for KdGuestHostTimeoutMs means the host is
 *   gone; KdGuestAnswerTimeoutMs caps bounded waits even if the host
 *   beats.  A waiting guest never hangs on a dead host, and once a wait
 *   found the host silent, kdg_chan_host_dead() says so until HOST_BEAT
 *   moves again: the callers then skip waits that cannot succeed (the
 *   clock-tick break-in poll, droppable packets).
 *
 *   The host is not trusted either: the answer's fields are read once into
 *   a struct kdg_answer, RSP_EPOCH must name this guest's epoch, and the
 *   callers (kd_api.c) check status, type and lengths against what they
 *   asked for before copying a byte out of the region.
 */
#include "kd_backend.h"

ULONG KdGuestHostTimeoutMs = 2000;
ULONG KdGuestEpochSeed;
ULONG KdGuestChannelFlags;
ULONG KdGuestAnswerTimeoutMs = 5000;
struct kd_guest_stats KdGuestStats;

static struct {
    uint8_t *base;
    uint32_t size;
    uint32_t epoch;
    uint32_t seq;
    uint32_t host_epoch;
    uint32_t opens;
    uint8_t dead;       /* the last wait found the host silent ... */
    uint32_t dead_beat; /* ... with HOST_BEAT at this value */
} chan;

static uint32_t le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

static uint32_t *field(uint32_t off)
{
    return (uint32_t *)(chan.base + off);
}

static uint32_t ld(uint32_t off)
{
    return le32(__atomic_load_n(field(off), __ATOMIC_RELAXED));
}

static uint32_t ld_acq(uint32_t off)
{
    return le32(__atomic_load_n(field(off), __ATOMIC_ACQUIRE));
}

static void st(uint32_t off, uint32_t v)
{
    __atomic_store_n(field(off), le32(v), __ATOMIC_RELAXED);
}

static void st_rel(uint32_t off, uint32_t v)
{
    __atomic_store_n(field(off), le32(v), __ATOMIC_RELEASE);
}

/* A 32-bit finaliser (MurmurHash3's): every input bit moves every output
 * bit, so close inputs (clock readings a millisecond apart) give unrelated
 * epochs. */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

static uint32_t new_epoch(uint32_t old)
{
    uint64_t t = KdPlatformMilliseconds();
    uint32_t e, local = 0;
    uintptr_t sp = (uintptr_t)&local;

    e = mix32(old ^ 0x9e3779b9u);
    e = mix32(e ^ (uint32_t)t);
    e = mix32(e ^ (uint32_t)(t >> 32) ^ (uint32_t)KdGuestEpochSeed);
    e = mix32(e ^ ++chan.opens ^ (uint32_t)sp);
    if (e == 0 || e == old)
        e = old + 1 != 0 ? old + 1 : 1;
    return e;
}

int kdg_chan_open(void *base, ULONG size)
{
    uint32_t off, epoch;

    chan.base = 0;
    if (base == 0 || ((uintptr_t)base & 3u) != 0 || size < KDCOM_VM_MIN_SIZE)
        return KDG_NO_CHANNEL;
    chan.base = (uint8_t *)base;
    chan.size = size;
    st_rel(KDCOM_VM_OFF_MAGIC, 0);
    epoch = new_epoch(ld(KDCOM_VM_OFF_GUEST_EPOCH));
    for (off = KDCOM_VM_OFF_ABI; off < 0x80; off += 4)
        st(off, 0);
    st(KDCOM_VM_OFF_ABI, KDCOM_VM_ABI_VERSION);
    st(KDCOM_VM_OFF_SIZE, size);
    st(KDCOM_VM_OFF_GUEST_FLAGS, KdGuestChannelFlags & KDCOM_VM_GF_DOORBELL);
    st(KDCOM_VM_OFF_GUEST_EPOCH, epoch);
    chan.epoch = epoch;
    chan.seq = ld(KDCOM_VM_OFF_RSP_SEQ);
    chan.host_epoch = ld(KDCOM_VM_OFF_HOST_EPOCH);
    st_rel(KDCOM_VM_OFF_MAGIC, KDCOM_VM_MAGIC);
    return 0;
}

int kdg_chan_ready(void)
{
    return chan.base != 0;
}

uint8_t *kdg_chan_head_buf(void)
{
    return chan.base + KDCOM_VM_DEF_HEAD_OFF;
}

uint8_t *kdg_chan_data_buf(void)
{
    return chan.base + KDCOM_VM_DEF_DATA_OFF;
}

int kdg_chan_host_dead(void)
{
    if (chan.base == 0)
        return 1;
    if (chan.dead && ld(KDCOM_VM_OFF_HOST_BEAT) != chan.dead_beat)
        chan.dead = 0; /* it is back */
    return chan.dead;
}

uint32_t kdg_chan_host_flags(void)
{
    return chan.base != 0 ? ld_acq(KDCOM_VM_OFF_HOST_FLAGS) : 0;
}

uint32_t kdg_chan_post(uint32_t op, uint32_t type, uint32_t head_len,
                       uint32_t data_len, uint32_t arg)
{
    /* Never 0 (the "being written" mark) and never the last number. */
    if (++chan.seq == 0)
        chan.seq = 1;
    st(KDCOM_VM_OFF_REQ_SEQ, 0);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    st(KDCOM_VM_OFF_REQ_OP, op);
    st(KDCOM_VM_OFF_REQ_TYPE, type);
    st(KDCOM_VM_OFF_REQ_HEAD_OFF, KDCOM_VM_DEF_HEAD_OFF);
    st(KDCOM_VM_OFF_REQ_HEAD_LEN, head_len);
    st(KDCOM_VM_OFF_REQ_DATA_OFF, KDCOM_VM_DEF_DATA_OFF);
    st(KDCOM_VM_OFF_REQ_DATA_LEN, data_len);
    st(KDCOM_VM_OFF_REQ_ARG, arg);
    st(KDCOM_VM_OFF_REQ_RESERVED, 0);
    st_rel(KDCOM_VM_OFF_REQ_SEQ, chan.seq);
    KdgBackendNotify();
    return chan.seq;
}

static void watch_host_epoch(void)
{
    uint32_t e = ld(KDCOM_VM_OFF_HOST_EPOCH);

    if (e != chan.host_epoch) {
        if (chan.host_epoch != 0)
            KdGuestStats.host_restarts++;
        chan.host_epoch = e;
    }
}

int kdg_chan_wait(uint32_t seq, int mode, struct kdg_answer *ans)
{
    uint64_t start = KdPlatformMilliseconds(), beat_at = start, t;
    uint32_t beat = ld(KDCOM_VM_OFF_HOST_BEAT), b, r;
    ULONG round = 0;

    for (;;) {
        r = ld_acq(KDCOM_VM_OFF_RSP_SEQ);
        if (r == seq) {
            ans->status = ld(KDCOM_VM_OFF_RSP_STATUS);
            ans->type = ld(KDCOM_VM_OFF_RSP_TYPE);
            ans->head_len = ld(KDCOM_VM_OFF_RSP_HEAD_LEN);
            ans->data_len = ld(KDCOM_VM_OFF_RSP_DATA_LEN);
            ans->flags = ld(KDCOM_VM_OFF_RSP_FLAGS);
            watch_host_epoch();
            chan.dead = 0;
            if (ld(KDCOM_VM_OFF_RSP_EPOCH) != chan.epoch) {
                KdGuestStats.bad_answers++;
                return KDG_BAD_ANSWER;
            }
            return KDG_ANSWERED;
        }
        KdgBackendIdle(field(KDCOM_VM_OFF_RSP_SEQ), le32(r), round++);
        t = KdPlatformMilliseconds();
        b = ld(KDCOM_VM_OFF_HOST_BEAT);
        if (b != beat) {
            beat = b;
            beat_at = t;
        }
        /* Unsigned differences: a clock that jumps back only makes the
         * wait end early, never hang. */
        if (t - beat_at >= KdGuestHostTimeoutMs ||
            (mode == KDG_WAIT_BOUNDED && t - start >= KdGuestAnswerTimeoutMs)) {
            watch_host_epoch();
            KdGuestStats.host_timeouts++;
            if (t - beat_at >= KdGuestHostTimeoutMs) {
                chan.dead = 1;
                chan.dead_beat = b;
            }
            return KDG_HOST_TIMEOUT;
        }
    }
}
