/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim.h - what the parts of kdcom-shim share: its options, the host
 * service and the channel file's mapping state, the debugger connection,
 * and the functions each part offers the others.
 *
 *   kdshim.c     main: start (endpoint, file, ivshmem), the loop, stop
 *   options.c    the manual (--help) and the options
 *   host.c       the host service on the mapping, its counters in total
 *   channel.c    the channel file: mapping, growing, following, SIGBUS
 *   doorbell.c   the futex doorbell both ways
 *   debugger.c   the debugger's side: accept or connect, --allow,
 *                --takeover, bytes between it and the host service
 */
#ifndef SHIM_H
#define SHIM_H

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/types.h>

#include <kdcom.h>
#include <kdcom_vm.h>

#include "../common/endpoint.h"
#include "../common/wiretrace.h"
#include "ivshmem_server.h"

#define SHM_RANGE "12K..1G, 12288..1073741824 bytes"
#define MAX_ALLOW 64
#define TAKEOVER_REPLACE 0
#define TAKEOVER_REFUSE 1

struct shim_opts {
    const char *shm_path, *ivs_path, *pcap_path;
    struct ep_spec sp; /* ENDPOINT, with --mode in sp.mode */
    uint64_t shm_size;
    uint32_t idle_ms, rx_timeout, ack_timeout, ivs_vectors;
    unsigned ivs_mode;
    int unlink_shm, trace, size_given, quiet;
    struct ep_allow allow[MAX_ALLOW];
    size_t n_allow;
    int takeover;
};

/* kdshim.c: the ivshmem server (lfd -1 unless --ivshmem-server). */
extern struct ivs_server ivs;

/* kdshim.c: log lines on stderr.  say: not with -q; warn: always
 * (warnings, and who attached to the kernel). */
extern int quiet;
void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* options.c: reads argv into *o.  -1 to go on, or the exit status (0
 * after --help or --version). */
int shim_parse_options(int argc, char **argv, struct shim_opts *o);

/* host.c: the host service and what the loop learns from it. */
extern struct kdcom_vm_host host;
extern struct kdcom_vm_config vcfg;
extern int kicked;    /* an answer went out in this round of the loop */
extern int last_poll; /* what service() saw last */
/* Starts the host service afresh, keeping what it had counted. */
void host_restart(void);
/* Polls the host service, and kicks the guest if an answer went out. */
int service(void *shm, size_t size, uint64_t now);
/* The channel and link counters, totals since the start. */
void host_print_stats(void);

/* channel.c: the mapping of the channel file. */
#define SHM_EXISTING 0 /* map_shm(): the file was there, as it is */
#define SHM_CREATED 1  /* ... it was missing: made, mode 0600 */
#define SHM_GROWN 2    /* ... it was empty: grown to the size asked for */
extern int shm_bad;   /* the file shrank under the mapping */
extern int mapped_fd; /* the file behind the mapping */
extern sigjmp_buf bus_jmp;
extern volatile sig_atomic_t bus_armed;
/* SIGBUS on the mapping jumps to bus_jmp while bus_armed. */
void shm_catch_sigbus(void);
int map_shm(const char *path, uint64_t create_size, void **base,
            size_t *size, int *how, off_t *orig);
void follow_shm(const char *path, void **shm, size_t *size);
/* Unmaps; removes the file if asked or made (how), shrinks a grown one
 * back. */
void unmap_shm(const char *path, void *shm, size_t size, int remove,
               int how, off_t orig);

/* doorbell.c */
extern uint32_t db_wait_ms;
int doorbell_start(void);
void doorbell_arm(void *shm);
void doorbell_detach(void *old_shm);
void doorbell_stop(void *shm);
void kick_guest(void *shm);
int doorbell_fd(void);
int follow_guest(void *shm);

/* debugger.c: the one debugger connection. */
struct conn {
    struct ep_spec sp;
    int lfd;                /* listening socket, or -1 */
    int fd;                 /* debugger connection / tty / pty, or -1 */
    int keep_slave;         /* pty: our slave descriptor */
    uint64_t next_connect;  /* connect mode: next attempt */
    char peer[160];         /* who fd is, for the log */
    char connect_err[256];  /* connect mode: the last failure reported */
    const struct shim_opts *o; /* --allow, --takeover */
    uint8_t in[8192];
    size_t in_len, in_off;
    uint8_t out[8192];
    size_t out_len, out_off;
};
/* Opens c->sp (listens, opens the tty or makes the pty); a connecting
 * endpoint is left to conn_try_connect().  0, or -1 with err. */
int conn_open(struct conn *c, char *err, size_t cap);
/* Closes everything conn_open() and the loop opened (a Unix socket's
 * file too). */
void conn_close(struct conn *c);
void conn_accept(struct conn *c, struct wiretrace *wt);
void conn_try_connect(struct conn *c);
/* Moves bytes between the host service and the peer.  1 if any moved. */
int conn_shuttle(struct conn *c, struct wiretrace *wt, void *shm,
                 size_t size, uint64_t now);
/* Reads what the debugger sent, if select() put it in rd.  1 if bytes
 * came. */
int conn_read(struct conn *c, struct wiretrace *wt, const fd_set *rd);
/* The descriptors to wait on; returns the highest. */
int conn_fdset(const struct conn *c, fd_set *rd, fd_set *wr, int nfds);
/* The debuggers' counters line, and the refusals not logged one by one. */
void conn_print_stats(void);
void conn_report_hidden(void);

#endif /* SHIM_H */
