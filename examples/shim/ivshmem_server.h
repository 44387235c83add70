/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ivshmem_server.h - the server side of QEMU's ivshmem protocol, so that
 * an ivshmem-doorbell device gets the channel file as its BAR 2 and its
 * guest can ring the shim (docs/vm-channel.md section 8.4).  The theory
 * of operation is at the top of ivshmem_server.c.
 *
 * The server lives in the caller's select() loop: ivs_fdset() before the
 * wait, ivs_handle() after it.  Nothing blocks; a client that misbehaves
 * is logged and dropped.  Linux only (eventfd); elsewhere ivs_open()
 * fails with a message.
 */
#ifndef IVSHMEM_SERVER_H
#define IVSHMEM_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#define IVS_HOST_ID 0       /* our peer id: the guest rings (0 << 16) | V */
#define IVS_MAX_VECTORS 16  /* --ivshmem-vectors upper bound */
#define IVS_REFUSED (-1)    /* the "version" that refuses a client */

struct ivs_stats {
    uint64_t clients;   /* clients that got the whole handshake */
    uint64_t refused;   /* a second client, or no usable shared memory */
    uint64_t dropped;   /* clients dropped for sending anything, or for a
                           failed send */
    uint64_t rings;     /* doorbell rings taken from our eventfds */
};

struct ivs_server {
    /* PRIVATE: use the functions. */
    int lfd;                         /* listening socket */
    char path[108];
    unsigned vectors;
    int cfd;                         /* the client (a QEMU), or -1 */
    uint32_t cid;                    /* its peer id */
    long cpid;                       /* its pid (SO_PEERCRED), or -1 */
    uint32_t next_id;
    int host_efd[IVS_MAX_VECTORS];   /* peer 0 (us): the guest rings these */
    int peer_efd[IVS_MAX_VECTORS];   /* the client's own vectors */
    void (*log)(const char *msg);
    struct ivs_stats stats;
};

/* Listens on the Unix stream socket path (a stale socket file nobody
 * listens on is replaced; a live one or another file is an error) for
 * clients with `vectors` interrupt vectors (1..IVS_MAX_VECTORS).  The
 * socket file gets permissions `mode` (0: 0600, owner only): a client
 * gets the channel file and can ring the shim, i.e. play the guest.  log
 * (may be NULL) gets one line per event: clients, refusals, drops.
 * Returns 0, or -1 with a message in err. */
int ivs_open(struct ivs_server *s, const char *path, unsigned vectors,
             unsigned mode, void (*log)(const char *msg), char *err,
             size_t errlen);

/* Adds the server's descriptors to rd; returns the new highest
 * descriptor (at least maxfd). */
int ivs_fdset(const struct ivs_server *s, fd_set *rd, int maxfd);

/* After the wait: takes rings, a disconnect or bad input of the client,
 * then new connections, in that order (a VM restart whose old QEMU is
 * gone is never refused).  shm_fd is the shared-memory file to hand to a
 * new client, or -1 to refuse clients for now.  Returns 1 if the guest
 * rang (it posted a request: poll the mailbox now), else 0. */
int ivs_handle(struct ivs_server *s, const fd_set *rd, int shm_fd);

/* 1 if a client is waiting to be accepted (rd as after the wait): the
 * caller may want to bring the shared-memory file up to date first. */
int ivs_accept_pending(const struct ivs_server *s, const fd_set *rd);

/* 1 while a client is connected (its guest can ring us). */
int ivs_connected(const struct ivs_server *s);

/* The counters. */
const struct ivs_stats *ivs_get_stats(const struct ivs_server *s);

/* 1 if a file of `size` bytes can be BAR 2 of an ivshmem device: QEMU
 * maps exactly the file's size as a PCI BAR, and a BAR's size is a power
 * of two. */
int ivs_size_ok(uint64_t size);

/* Drops the client, closes everything and removes the socket file. */
void ivs_close(struct ivs_server *s);

#endif /* IVSHMEM_SERVER_H */
