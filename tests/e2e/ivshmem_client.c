/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ivshmem_client.c - plays QEMU's ivshmem-doorbell device, and the guest
 * behind it, against `kdcom-shim --ivshmem-server` (t_ivshmem_*.sh).
 *
 *   ivshmem_client serve SOCK FILE ID ROUNDS WAIT_MS [HOLD_S]
 *       Connects and checks every handshake message: version 0, peer id ID
 *       ("-": any id from 1 up), -1 with a descriptor that maps the same
 *       bytes as FILE, peer 0 with an eventfd, ID with an eventfd.  Then,
 *       as the guest on the memory it was sent, initialises the mailbox
 *       with GUEST_FLAGS.DOORBELL and does ROUNDS rounds (below).  With
 *       HOLD_S it then stays connected for up to HOLD_S seconds, printing
 *       HOLDING; SIGUSR1 runs ROUNDS more rounds, SIGTERM ends it (status
 *       0), the shim closing the connection fails it.
 *   ivshmem_client refused SOCK WAIT_MS
 *       Expects the refusal: version -1, then end of file.
 *   ivshmem_client garbage SOCK WAIT_MS
 *       Sends 16 bytes and a descriptor, then expects end of file.
 *   ivshmem_client close SOCK       connects and closes at once
 *   ivshmem_client half SOCK        reads the version message, closes
 *   ivshmem_client qtest QTSOCK FILE ID ROUNDS WAIT_MS
 *       Listens on QTSOCK for a QEMU started with -qtest unix:QTSOCK and
 *       an ivshmem-doorbell device, and drives that device as a guest
 *       kernel would (the vCPU stays stopped, -S): finds it on PCI bus 0,
 *       programs BAR 0 and BAR 2, checks IVPosition = ID and that BAR 2 is
 *       FILE, then the same rounds through BAR 2 and the Doorbell register.
 *   ivshmem_client guest FILE FLAGS
 *       Initialises the mailbox as a guest with GUEST_FLAGS = FLAGS that
 *       then sits idle, and exits (for measuring an idle shim).
 *
 * A round: wait until HOST_BEAT has not moved for QUIET_MS (the shim is
 * asleep; if it never gets quiet within WAIT_MS, that fails), post a HELLO
 * with no futex wake, ring peer 0 vector 0, and wait up to WAIT_MS for the
 * answer.  Started with an --idle-poll far longer than WAIT_MS, the shim
 * has no reason but the ring to look at the mailbox within WAIT_MS, so an
 * answer within that bound is the ring's doing; no time is measured.
 *
 * Exit status: 0 success, 1 failure (with a message), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <kdcom_vm.h>

#define QUIET_MS 200
#define NO_ID (-2)

static const char *mode = "?";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                      noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ivshmem_client %s: ", mode);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long num(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
        fprintf(stderr, "ivshmem_client: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_usr1 = 1;
    else
        got_term = 1;
}

/* ---- the guest's view of the mailbox, through one of two back ends ---- */

/* A qtest connection: commands written to fd, answers read through in. */
struct qt {
    int fd;
    FILE *in;
};

struct mem {
    volatile uint32_t *w;   /* a mapping, or NULL */
    struct qt *qt;          /* qtest: BAR 2 through QEMU */
    uint64_t bar2;
    uint64_t doorbell;      /* qtest: Doorbell register address */
    int efd;                /* mapping: peer 0's eventfd */
    uint32_t size;
};

static uint32_t qt_readl(struct qt *qt, uint64_t addr);
static void qt_writel(struct qt *qt, uint64_t addr, uint32_t v);

static uint32_t ld(const struct mem *m, uint32_t off)
{
    if (m->w != NULL)
        return __atomic_load_n(&m->w[off / 4], __ATOMIC_ACQUIRE);
    return qt_readl(m->qt, m->bar2 + off);
}

static void st(const struct mem *m, uint32_t off, uint32_t v)
{
    if (m->w != NULL)
        __atomic_store_n(&m->w[off / 4], v, __ATOMIC_RELEASE);
    else
        qt_writel(m->qt, m->bar2 + off, v);
}

static void ring(const struct mem *m)
{
    uint64_t one = 1;

    if (m->w != NULL) {
        if (write(m->efd, &one, sizeof one) != (ssize_t)sizeof one)
            die("ring: write to peer 0's eventfd: %s", strerror(errno));
    } else {
        qt_writel(m->qt, m->doorbell, (0u << 16) | 0u); /* peer 0, vector 0 */
    }
}

static uint32_t epoch, seq;

/* Guest initialisation, docs/vm-channel.md section 3. */
static void guest_init(const struct mem *m, uint32_t flags)
{
    uint32_t old = ld(m, KDCOM_VM_OFF_GUEST_EPOCH), off;

    st(m, KDCOM_VM_OFF_MAGIC, 0);
    epoch = (uint32_t)(now_ms() * 2654435761u) ^ (uint32_t)getpid();
    if (epoch == 0 || epoch == old)
        epoch = old + 0x9E3779B9u;
    if (epoch == 0)
        epoch = 1;
    for (off = 0x04; off < 0x80; off += 4)
        st(m, off, 0);
    st(m, KDCOM_VM_OFF_ABI, KDCOM_VM_ABI_VERSION);
    st(m, KDCOM_VM_OFF_SIZE, m->size);
    st(m, KDCOM_VM_OFF_GUEST_FLAGS, flags);
    st(m, KDCOM_VM_OFF_GUEST_EPOCH, epoch);
    seq = ld(m, KDCOM_VM_OFF_RSP_SEQ);
    st(m, KDCOM_VM_OFF_MAGIC, KDCOM_VM_MAGIC);
}

/* Waits until HOST_BEAT stays put for QUIET_MS: the shim sleeps. */
static void wait_quiet(const struct mem *m, unsigned wait_ms)
{
    uint64_t end = now_ms() + wait_ms, since = now_ms();
    uint32_t beat = ld(m, KDCOM_VM_OFF_HOST_BEAT), b;
    unsigned moves = 0;

    for (;;) {
        nap_ms(10);
        b = ld(m, KDCOM_VM_OFF_HOST_BEAT);
        if (b != beat) {
            beat = b;
            since = now_ms();
            moves++;
        } else if (now_ms() - since >= QUIET_MS) {
            return;
        }
        if (now_ms() > end)
            die("the shim never went quiet: HOST_BEAT moved %u times in "
                "%u ms while nothing was asked of it", moves, wait_ms);
    }
}

/* One round: post a HELLO (no futex wake), ring, wait for the answer. */
static void round_trip(const struct mem *m, unsigned wait_ms, int k)
{
    uint32_t beat0, status, n;
    uint64_t end;

    wait_quiet(m, wait_ms);
    beat0 = ld(m, KDCOM_VM_OFF_HOST_BEAT);
    n = seq + 1 == 0 ? 1 : seq + 1;
    st(m, KDCOM_VM_OFF_REQ_SEQ, 0);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    st(m, KDCOM_VM_OFF_REQ_OP, KDCOM_VM_OP_HELLO);
    st(m, KDCOM_VM_OFF_REQ_TYPE, 0);
    st(m, KDCOM_VM_OFF_REQ_HEAD_OFF, 0);
    st(m, KDCOM_VM_OFF_REQ_HEAD_LEN, 0);
    st(m, KDCOM_VM_OFF_REQ_DATA_OFF, 0);
    st(m, KDCOM_VM_OFF_REQ_DATA_LEN, 0);
    st(m, KDCOM_VM_OFF_REQ_ARG, KDCOM_VM_ABI_VERSION);
    st(m, KDCOM_VM_OFF_REQ_RESERVED, 0);
    st(m, KDCOM_VM_OFF_REQ_SEQ, n);
    ring(m);
    end = now_ms() + wait_ms;
    while (ld(m, KDCOM_VM_OFF_RSP_SEQ) != n) {
        if (now_ms() > end)
            die("round %d: no answer to request %u within %u ms of the ring "
                "(HOST_BEAT %u -> %u)", k, (unsigned)n, wait_ms,
                (unsigned)beat0, (unsigned)ld(m, KDCOM_VM_OFF_HOST_BEAT));
        nap_ms(1);
    }
    status = ld(m, KDCOM_VM_OFF_RSP_STATUS);
    if (status != KDCOM_VM_ST_OK)
        die("round %d: status %s", k, kdcom_vm_status_name(status));
    if (ld(m, KDCOM_VM_OFF_RSP_EPOCH) != epoch)
        die("round %d: answer for epoch %#x, ours is %#x", k,
            (unsigned)ld(m, KDCOM_VM_OFF_RSP_EPOCH), (unsigned)epoch);
    seq = n;
    printf("round %d: request %u answered after the ring (HOST_BEAT %u -> "
           "%u)\n", k, (unsigned)n, (unsigned)beat0,
           (unsigned)ld(m, KDCOM_VM_OFF_HOST_BEAT));
    fflush(stdout);
}

static void rounds(const struct mem *m, int count, unsigned wait_ms)
{
    static int done;
    int i;

    for (i = 0; i < count; i++)
        round_trip(m, wait_ms, ++done);
    printf("rounds ok %d\n", done);
    fflush(stdout);
}

/* ---- the socket side ---- */

static int connect_to(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die("socket: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        die("path too long");
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect %s: %s", path, strerror(errno));
    return fd;
}

/* Reads one message within wait_ms: returns 1 with *v and *fd (-1 if none
 * came along), 0 at end of file (or a reset). */
static int recv_msg(int sock, int64_t *v, int *fd, unsigned wait_ms)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    uint8_t b[8];
    size_t got = 0;
    uint64_t u = 0;
    int i;

    *fd = -1;
    while (got < sizeof b) {
        struct pollfd p = {sock, POLLIN, 0};
        struct msghdr m;
        struct iovec iov;
        struct cmsghdr *c;
        ssize_t n;

        if (poll(&p, 1, (int)wait_ms) <= 0)
            die("no message from the shim within %u ms", wait_ms);
        iov.iov_base = b + got;
        iov.iov_len = sizeof b - got;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof ctl.buf;
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            if (got != 0)
                die("end of file inside a message");
            return 0;
        }
        if (n < 0)
            die("recvmsg: %s", strerror(errno));
        if (m.msg_flags & MSG_CTRUNC)
            die("descriptors truncated");
        for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            size_t k, nfd;
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                die("unexpected control message");
            nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (k = 0; k < nfd; k++) {
                int x;
                memcpy(&x, CMSG_DATA(c) + k * sizeof(int), sizeof x);
                if (*fd >= 0)
                    die("more than one descriptor with a message");
                *fd = x;
            }
        }
        got += (size_t)n;
    }
    for (i = 7; i >= 0; i--)
        u = (u << 8) | b[i];
    *v = (int64_t)u;
    return 1;
}

static int is_eventfd(int fd)
{
    char link[64], target[64];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = '\0';
    return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/* Maps FILE itself and the memory descriptor; they must be the same file,
 * and a byte written through one must be read through the other. */
static volatile uint32_t *check_memory(int memfd, const char *file,
                                       uint32_t *size)
{
    struct stat a, b;
    volatile uint32_t *via_fd, *via_file;
    int ffd = open(file, O_RDWR | O_CLOEXEC);
    uint32_t mark = 0x4B44564Du ^ (uint32_t)getpid(), last;

    if (ffd < 0 || fstat(ffd, &a) != 0 || fstat(memfd, &b) != 0)
        die("%s: %s", file, strerror(errno));
    if (!S_ISREG(b.st_mode) || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        die("the memory descriptor is not %s", file);
    if (b.st_size < KDCOM_VM_MIN_SIZE || (b.st_size & (b.st_size - 1)) != 0)
        die("memory of %lld bytes: not a power of two >= %u",
            (long long)b.st_size, (unsigned)KDCOM_VM_MIN_SIZE);
    *size = (uint32_t)b.st_size;
    via_fd = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    via_file = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
    if (via_fd == MAP_FAILED || via_file == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    close(ffd);
    /* The last word: past every buffer the mailbox uses. */
    last = *size / 4 - 1;
    via_fd[last] = mark;
    if (via_file[last] != mark)
        die("a word written through the descriptor is not in %s", file);
    via_file[last] = ~mark;
    if (via_fd[last] != ~mark)
        die("a word written to %s is not behind the descriptor", file);
    via_fd[last] = 0;
    munmap((void *)(uintptr_t)via_file, *size);
    return via_fd;
}

static void expect(int sock, int64_t want, int want_fd, unsigned wait_ms,
                   const char *what, int *fd_out)
{
    int64_t v;
    int fd;

    if (!recv_msg(sock, &v, &fd, wait_ms))
        die("end of file; expected %s", what);
    if (v != want)
        die("%s: got %lld, want %lld", what, (long long)v, (long long)want);
    if (want_fd && fd < 0)
        die("%s: no descriptor", what);
    if (!want_fd && fd >= 0)
        die("%s: unexpected descriptor", what);
    if (fd_out != NULL)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
}

static int serve(char **av, int ac)
{
    const char *sock_path = av[0], *file = av[1];
    long id = strcmp(av[2], "-") == 0 ? NO_ID : num(av[2], 1, 65535, "ID");
    int count = (int)num(av[3], 0, 1000, "ROUNDS");
    unsigned wait_ms = (unsigned)num(av[4], 1, 600000, "WAIT_MS");
    long hold = ac > 5 ? num(av[5], 0, 3600, "HOLD_S") : 0;
    int sock = connect_to(sock_path), memfd, host_efd, own_efd;
    struct mem m;
    int64_t v;
    uint64_t end;

    memset(&m, 0, sizeof m);
    expect(sock, 0, 0, wait_ms, "version", NULL);
    if (!recv_msg(sock, &v, &memfd, wait_ms))
        die("end of file; expected the peer id");
    if (memfd >= 0)
        die("peer id message with a descriptor");
    if (id == NO_ID ? v < 1 || v > 65535 : v != id)
        die("peer id %lld, want %s", (long long)v, av[2]);
    id = (long)v;
    expect(sock, -1, 1, wait_ms, "shared memory", &memfd);
    m.w = check_memory(memfd, file, &m.size);
    close(memfd);
    expect(sock, 0, 1, wait_ms, "peer 0's vector 0", &host_efd);
    if (!is_eventfd(host_efd))
        die("peer 0's descriptor is not an eventfd");
    expect(sock, id, 1, wait_ms, "our vector 0", &own_efd);
    if (!is_eventfd(own_efd) || own_efd == host_efd)
        die("our descriptor is not an eventfd of its own");
    m.efd = host_efd;
    printf("handshake ok: peer id %ld, memory %u bytes = %s, eventfds for "
           "peer 0 and for us\n", id, (unsigned)m.size, file);
    fflush(stdout);
    guest_init(&m, KDCOM_VM_GF_DOORBELL);
    rounds(&m, count, wait_ms);
    if (hold == 0)
        return 0;
    printf("HOLDING\n");
    fflush(stdout);
    end = now_ms() + (uint64_t)hold * 1000u;
    while (!got_term && now_ms() < end) {
        struct pollfd p = {sock, POLLIN, 0};
        if (got_usr1) {
            got_usr1 = 0;
            rounds(&m, count, wait_ms);
        }
        if (poll(&p, 1, 50) > 0) {
            int fd;
            if (!recv_msg(sock, &v, &fd, wait_ms))
                die("the shim closed the connection");
            die("unexpected message %lld", (long long)v);
        }
    }
    return 0;
}

/* Reads and discards messages until end of file, within wait_ms. */
static void until_eof(int sock, unsigned wait_ms, int64_t *first)
{
    uint64_t end = now_ms() + wait_ms;
    int64_t v;
    int fd, n = 0;

    for (;;) {
        uint64_t t = now_ms();
        if (t >= end)
            die("still connected after %u ms", wait_ms);
        if (!recv_msg(sock, &v, &fd, (unsigned)(end - t)))
            return;
        if (fd >= 0)
            close(fd);
        if (n++ == 0 && first != NULL)
            *first = v;
    }
}

static int refused(char **av)
{
    int sock = connect_to(av[0]);
    unsigned wait_ms = (unsigned)num(av[1], 1, 600000, "WAIT_MS");
    int64_t v;
    int fd;

    if (!recv_msg(sock, &v, &fd, wait_ms))
        die("end of file before the refusal");
    if (v != -1 || fd >= 0)
        die("got %lld%s, want the refusal (version -1)", (long long)v,
            fd >= 0 ? " with a descriptor" : "");
    until_eof(sock, wait_ms, NULL);
    printf("refused\n");
    return 0;
}

static int garbage(char **av)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    int sock = connect_to(av[0]), devnull = open("/dev/null", O_RDONLY);
    unsigned wait_ms = (unsigned)num(av[1], 1, 600000, "WAIT_MS");
    char junk[16] = "GET / HTTP/1.0\r\n";
    struct msghdr m;
    struct iovec iov;
    struct cmsghdr *c;

    iov.iov_base = junk;
    iov.iov_len = sizeof junk;
    memset(&m, 0, sizeof m);
    memset(&ctl, 0, sizeof ctl);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &devnull, sizeof devnull);
    if (sendmsg(sock, &m, MSG_NOSIGNAL) != (ssize_t)sizeof junk)
        die("sendmsg: %s", strerror(errno));
    until_eof(sock, wait_ms, NULL);
    printf("dropped\n");
    return 0;
}

/* ---- qtest: QEMU's test protocol, one text line each way ---- */

static char qt_line[256];

static const char *qt_cmd(struct qt *qt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *qt_cmd(struct qt *qt, const char *fmt, ...)
{
    char cmd[128];
    va_list ap;
    size_t len, off = 0;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd - 1, fmt, ap);
    va_end(ap);
    len = strlen(cmd);
    cmd[len++] = '\n';
    while (off < len) {
        ssize_t n = write(qt->fd, cmd + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("qtest: write: %s", strerror(errno));
        off += (size_t)n;
    }
    for (;;) {
        if (fgets(qt_line, sizeof qt_line, qt->in) == NULL)
            die("qtest: QEMU closed the connection");
        if (strncmp(qt_line, "IRQ", 3) == 0)
            continue; /* an interrupt notice, not our answer */
        if (strncmp(qt_line, "OK", 2) != 0)
            die("qtest: QEMU answered '%s'", qt_line);
        return qt_line + 2;
    }
}

static uint64_t qt_value(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);

    if (end == s)
        die("qtest: no value in '%s'", qt_line);
    return (uint64_t)v;
}

static uint32_t qt_readl(struct qt *qt, uint64_t addr)
{
    return (uint32_t)qt_value(qt_cmd(qt, "readl 0x%llx",
                                     (unsigned long long)addr));
}

static void qt_writel(struct qt *qt, uint64_t addr, uint32_t v)
{
    qt_cmd(qt, "writel 0x%llx 0x%x", (unsigned long long)addr, (unsigned)v);
}

/* PCI configuration mechanism #1: ports 0xCF8 / 0xCFC, bus 0. */
static uint32_t cfg_read(struct qt *qt, unsigned dev, unsigned reg)
{
    qt_cmd(qt, "outl 0xcf8 0x%x", 0x80000000u | dev << 11 | reg);
    return (uint32_t)qt_value(qt_cmd(qt, "inl 0xcfc"));
}

static void cfg_write(struct qt *qt, unsigned dev, unsigned reg, uint32_t v)
{
    qt_cmd(qt, "outl 0xcf8 0x%x", 0x80000000u | dev << 11 | reg);
    qt_cmd(qt, "outl 0xcfc 0x%x", (unsigned)v);
}

#define QT_BAR0 0xC0000000u /* in q35's 32-bit PCI hole */
#define QT_BAR2 0xD0000000u

static int qtest(char **av)
{
    const char *qt_path = av[0], *file = av[1];
    long id = num(av[2], 1, 65535, "ID");
    int count = (int)num(av[3], 0, 1000, "ROUNDS");
    unsigned wait_ms = (unsigned)num(av[4], 1, 600000, "WAIT_MS");
    struct sockaddr_un sa;
    struct pollfd p;
    struct mem m;
    struct stat fst;
    struct qt qt;
    int lfd, ffd;
    unsigned dev;
    uint32_t mark = 0x51544B44u ^ (uint32_t)getpid(), got;

    memset(&m, 0, sizeof m);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(qt_path) >= sizeof sa.sun_path)
        die("path too long");
    memcpy(sa.sun_path, qt_path, strlen(qt_path) + 1);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(qt_path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(lfd, 1) != 0)
        die("listen on %s: %s", qt_path, strerror(errno));
    printf("QTEST_LISTENING\n");
    fflush(stdout);
    p.fd = lfd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, (int)wait_ms) <= 0)
        die("QEMU did not connect within %u ms", wait_ms);
    qt.fd = accept(lfd, NULL, NULL);
    if (qt.fd < 0 || (qt.in = fdopen(dup(qt.fd), "r")) == NULL)
        die("accept: %s", strerror(errno));
    m.qt = &qt;
    close(lfd);
    unlink(qt_path);

    for (dev = 0; dev < 32; dev++)
        if (cfg_read(m.qt, dev, 0) == 0x11101AF4u) /* 1af4:1110 */
            break;
    if (dev == 32)
        die("no ivshmem device on PCI bus 0");
    ffd = open(file, O_RDWR | O_CLOEXEC);
    if (ffd < 0 || fstat(ffd, &fst) != 0)
        die("%s: %s", file, strerror(errno));
    m.size = (uint32_t)fst.st_size;
    cfg_write(m.qt, dev, 0x10, QT_BAR0);          /* BAR 0: registers */
    cfg_write(m.qt, dev, 0x18, QT_BAR2);          /* BAR 2: 64-bit memory */
    cfg_write(m.qt, dev, 0x1C, 0);
    cfg_write(m.qt, dev, 0x04, 0x0006);           /* memory space, master */
    m.bar2 = QT_BAR2;
    m.doorbell = QT_BAR0 + 12;
    got = qt_readl(m.qt, QT_BAR0 + 8);            /* IVPosition */
    if (got != (uint32_t)id)
        die("IVPosition %u, want peer id %ld", (unsigned)got, id);
    /* BAR 2 is the file: a word written through QEMU is in the file. */
    qt_writel(m.qt, m.bar2 + m.size - 4, mark);
    if (pread(ffd, &got, sizeof got, (off_t)m.size - 4) != (ssize_t)sizeof got
        || got != mark)
        die("a word written to BAR 2 is not in %s", file);
    qt_writel(m.qt, m.bar2 + m.size - 4, 0);
    close(ffd);
    printf("device ok: slot %u, IVPosition %ld, BAR 2 = %s (%u bytes)\n", dev,
           id, file, (unsigned)m.size);
    fflush(stdout);
    guest_init(&m, KDCOM_VM_GF_DOORBELL);
    rounds(&m, count, wait_ms);
    fclose(qt.in);
    close(qt.fd);
    return 0;
}

/* An idle guest: initialise the mailbox and leave. */
static int guest(char **av)
{
    long flags = num(av[1], 0, 0xFFFF, "FLAGS");
    int fd = open(av[0], O_RDWR | O_CLOEXEC);
    struct stat sb;
    struct mem m;

    memset(&m, 0, sizeof m);
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size < KDCOM_VM_MIN_SIZE)
        die("%s: %s", av[0], fd < 0 ? strerror(errno) : "too small");
    m.size = (uint32_t)sb.st_size;
    m.w = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m.w == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    guest_init(&m, (uint32_t)flags);
    printf("guest epoch %#x flags %#lx\n", (unsigned)epoch, flags);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    int ac = argc - 2;
    char **av = argv + 2;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2)
        mode = argv[1];
    if (strcmp(mode, "serve") == 0 && (ac == 5 || ac == 6))
        return serve(av, ac);
    if (strcmp(mode, "refused") == 0 && ac == 2)
        return refused(av);
    if (strcmp(mode, "garbage") == 0 && ac == 2)
        return garbage(av);
    if (strcmp(mode, "close") == 0 && ac == 1) {
        close(connect_to(av[0]));
        return 0;
    }
    if (strcmp(mode, "half") == 0 && ac == 1) {
        int sock = connect_to(av[0]), fd;
        int64_t v;
        if (!recv_msg(sock, &v, &fd, 5000) || v != 0 || fd >= 0)
            die("no version message");
        close(sock);
        return 0;
    }
    if (strcmp(mode, "qtest") == 0 && ac == 5)
        return qtest(av);
    if (strcmp(mode, "guest") == 0 && ac == 2)
        return guest(av);
    fprintf(stderr, "usage: ivshmem_client serve SOCK FILE ID ROUNDS WAIT_MS "
            "[HOLD_S] | refused SOCK WAIT_MS | garbage SOCK WAIT_MS | "
            "close SOCK | half SOCK | qtest QTSOCK FILE ID ROUNDS WAIT_MS | "
            "guest FILE FLAGS\n");
    return 2;
}
