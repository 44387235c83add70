/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * options.c - kdcom-shim's manual (--help) and its options: every value
 * checked and every combination that cannot apply refused before anything
 * is opened (see shim.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/exutil.h"
#include "shim.h"

/* --help, in pieces C99 compilers must accept (4095 bytes each). */
static const char *const usage[] = {
"NAME\n"
"  kdcom-shim - serve a VM's kernel debugging channel as a KDCOM serial line\n"
"\n"
"SYNOPSIS\n"
"  kdcom-shim [OPTIONS] --shm FILE ENDPOINT\n"
"  kdcom-shim --help | --version\n"
"\n"
"DESCRIPTION\n"
"  Maps FILE, the shared memory of the VM channel (the file behind QEMU's\n"
"  ivshmem memory-backend-file), answers the guest's requests in it with\n"
"  libkdcom's host service, and offers the resulting kernel debugging line\n"
"  on ENDPOINT as a Windows kernel's serial port would: WinDbg/KD,\n"
"  kdcom-client or any KDCOM debugger attaches to it.  One debugger at a\n"
"  time; guest and debugger may come and go without restarting the shim.\n"
"\n"
"  Whoever can connect to ENDPOINT can read and write the guest kernel's\n"
"  memory and stop or run it: KDCOM has no authentication and no\n"
"  encryption.  TCP listens on 127.0.0.1 and Unix sockets are owner-only\n"
"  unless told otherwise; listening on another address prints a warning\n"
"  (docs/SECURITY.md section 7).\n"
"\n",
"ENDPOINT\n"
"  tcp-listen:[HOST:]PORT  wait for debuggers on TCP (HOST 127.0.0.1 if\n"
"                          left out; 0.0.0.0 or [::] for every address;\n"
"                          PORT 0: any free port)\n"
"  unix-listen:PATH        wait for debuggers on a Unix socket, created with\n"
"                          mode 0600 (see --mode)\n"
"  tcp:HOST:PORT           connect to a debugger that listens; retried every\n"
"                          second, and each new reason it failed is printed\n"
"  unix:PATH               the same on a Unix socket\n"
"  tty:DEVICE[,BAUD]       a serial line, in raw mode\n"
"  pty                     a new pty for the debugger to open\n"
"\n"
"OPTIONS\n"
"  Values follow the option as the next argument or after '='\n"
"  (--takeover=refuse).\n"
"  --shm FILE              the channel's shared-memory file; created (mode\n"
"                          0600) if missing, grown if it exists but is empty\n"
"                          (all zeros, shorter than 12K); a shorter file with\n"
"                          data in it is refused, never changed\n"
"  --shm-size SIZE         the size of a FILE it creates or grows: 12K..1G\n"
"                          (12288..1073741824 bytes; K, M, G suffixes; default\n"
"                          1M); an existing FILE keeps its size\n"
"  --unlink                remove FILE on exit\n"
"  --allow ADDR[/BITS]     tcp-listen: accept debuggers only from this IPv4 or\n"
"                          IPv6 address or prefix (numeric; BITS defaults to\n"
"                          the whole address; repeatable).  Others are closed\n"
"                          at once and logged with their address\n"
"  --takeover replace|refuse\n"
"                          a debugger that connects while another is\n"
"                          connected: replace the old one (the default; both\n"
"                          addresses are logged), or refuse the new one as\n"
"                          long as the old connection is alive.  A TCP\n"
"                          debugger whose host vanished without closing the\n"
"                          connection counts as gone about 30 s after its\n"
"                          last sign of life (keepalive)\n"
"  --mode MODE             unix-listen: the socket file's permissions, octal\n"
"                          (default 0600; 0660 lets the file's group attach)\n",
"  --ivshmem-server PATH   also be the ivshmem server of QEMU's\n"
"                          ivshmem-doorbell on the Unix socket PATH\n"
"                          (-chardev socket,path=PATH,id=ivs -device\n"
"                          ivshmem-doorbell,chardev=ivs): QEMU gets FILE as\n"
"                          BAR 2 (its size must be a power of two), the shim\n"
"                          is peer 0, and a guest rings it by writing 0 (peer\n"
"                          0 << 16 | vector 0) to the BAR 0 Doorbell register\n"
"                          (offset 12).  One VM at a time: a second QEMU is\n"
"                          refused (it exits with \"server sent version -1\")\n"
"  --ivshmem-mode MODE     the ivshmem socket's permissions, octal (default\n"
"                          0600): QEMU's user needs write permission on it\n"
"  --ivshmem-vectors N     interrupt vectors per peer: 1..16 (default 1)\n"
"  --idle-poll MS          mailbox poll interval when idle, for guests without\n"
"                          a doorbell: 1..60000 (default 10); for a guest that\n"
"                          rings, the longer of MS and 250 ms (a safety net\n"
"                          for a lost ring)\n"
"  --receive-timeout MS    a guest RECEIVE is answered TIMEOUT after MS:\n"
"                          1..3600000 (default 1000)\n"
"  --ack-timeout MS        resend to the debugger after MS without an ACK:\n"
"                          1..3600000 (default 1000); a DbgPrint is dropped\n"
"                          after 20 of them\n"
"  --trace hex|decode      print the wire traffic on stderr\n"
"  --pcap FILE             capture the KDCOM traffic with every debugger\n"
"                          into FILE as it happens (pcapng; kdcom-dump and\n"
"                          Wireshark with examples/wireshark/kdcom.lua read\n"
"                          it; docs/wireshark.md)\n"
"  -q, --quiet             only warnings, errors and the final counters\n"
"  -h, --help              this text\n"
"  --version               the version (libkdcom's) and exit\n"
"\n",
"OUTPUT\n"
"  stdout gets one line for scripts, once the shim serves:\n"
"  KDCOM_SHIM_PORT=PORT (tcp-listen, the port actually bound) or\n"
"  KDCOM_SHIM_PTY=/dev/pts/N (pty).  Everything else goes to stderr: the\n"
"  WinDbg command line (\"attach WinDbg with: windbg -k com:ipport=...\"),\n"
"  debuggers and guests coming and going, warnings, errors and, at exit,\n"
"  the counters: channel (the mailbox) and link (the KDCOM wire), both\n"
"  totals since the start, over every debugger and guest.\n"
"\n"
"EXIT STATUS\n"
"  0  stopped by SIGINT, SIGTERM or SIGHUP\n"
"  1  could not start (FILE, ENDPOINT, the ivshmem socket) or failed while\n"
"     running; a start that fails leaves no file and no socket behind\n"
"  2  usage error (unknown option, bad value, missing argument)\n"
"\n"
"EXAMPLES\n"
"  kdcom-shim --shm /dev/shm/win10-kd tcp-listen:127.0.0.1:5800\n"
"      and on the same host: windbg -k com:ipport=5800,port=127.0.0.1\n"
"  kdcom-shim --shm /tmp/kd.shm tcp-listen:0\n"
"      any free port; read KDCOM_SHIM_PORT=N from stdout\n"
"  kdcom-shim --shm /dev/shm/win10-kd unix-listen:/run/kdcom/kd.sock\n"
"  kdcom-shim --shm /dev/shm/win10-kd --allow 192.0.2.20 --takeover refuse \\\n"
"      tcp-listen:192.0.2.10:5800\n"
"      WinDbg on the Windows machine 192.0.2.20 only, with\n"
"      windbg -k com:ipport=5800,port=192.0.2.10\n"
"  kdcom-shim --shm /dev/shm/win10-kd --ivshmem-server /run/kdcom/ivs.sock \\\n"
"      tcp-listen:127.0.0.1:5800\n"
"\n"
"SEE ALSO\n"
"  kdcom-client --help, kdcom-simkernel-vm --help; docs/integrating.md\n"
"  sections 2-4, docs/SECURITY.md section 7.\n",
NULL};

/* An option's number in lo..hi: 0, or 2 after saying what is wrong. */
static int opt_u32(const char *opt, const char *v, uint32_t lo, uint32_t hi,
                   const char *unit, uint32_t *out)
{
    uint64_t x;

    if (ex_parse_u64(v, &x) != 0) {
        fprintf(stderr, "kdcom-shim: %s '%s' is not a number (%u..%u%s)\n",
                opt, v, (unsigned)lo, (unsigned)hi, unit);
        return 2;
    }
    if (x < lo || x > hi) {
        fprintf(stderr, "kdcom-shim: %s %s is out of range: %u..%u%s\n",
                opt, v, (unsigned)lo, (unsigned)hi, unit);
        return 2;
    }
    *out = (uint32_t)x;
    return 0;
}

/* An octal file mode up to 0777: 0, or 2 after a message. */
static int opt_mode(const char *opt, const char *v, unsigned *out)
{
    size_t n = strspn(v, "01234567");
    unsigned long m;

    if (n == 0 || n > 4 || v[n] != '\0' ||
        (m = strtoul(v, NULL, 8)) > 0777) {
        fprintf(stderr, "kdcom-shim: %s '%s' is not an octal file mode "
                "(0000..0777, e.g. 0600 or 0660)\n", opt, v);
        return 2;
    }
    *out = (unsigned)m;
    return 0;
}

int shim_parse_options(int argc, char **argv, struct shim_opts *o)
{
    const char *ep_arg = NULL;
    unsigned sock_mode = 0;
    int mode_given = 0, takeover_given = 0, ivs_mode_given = 0, i;
    char err[320];

    memset(o, 0, sizeof *o);
    o->shm_size = 1u << 20;
    o->idle_ms = 10;
    o->rx_timeout = 1000;
    o->ack_timeout = 1000;
    o->ivs_vectors = 1;
    o->ivs_mode = 0600;
    o->takeover = TAKEOVER_REPLACE;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        char name[32];
        int inline_v = 0, r = 0;

        if (eq != NULL && (size_t)(eq - a) < sizeof name) {
            /* --option=value */
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            v = eq + 1;
            inline_v = 1;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 ||
            strcmp(a, "--version") == 0 || strcmp(a, "-q") == 0 ||
            strcmp(a, "--quiet") == 0 || strcmp(a, "--unlink") == 0) {
            if (inline_v) {
                fprintf(stderr, "kdcom-shim: %s takes no value\n", a);
                return 2;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                const char *const *u;
                for (u = usage; *u != NULL; u++)
                    fputs(*u, stdout);
                return 0;
            }
            if (strcmp(a, "--version") == 0) {
                printf("kdcom-shim (libkdcom) %s\n", kdcom_version_string());
                return 0;
            }
            if (strcmp(a, "--unlink") == 0)
                o->unlink_shm = 1;
            else
                o->quiet = 1;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (ep_arg == NULL) {
                ep_arg = a;
                continue;
            }
            fprintf(stderr, "kdcom-shim: unexpected argument '%s'\n", a);
            return 2;
        }
        if (v == NULL) {
            fprintf(stderr, "kdcom-shim: unknown option '%s' or missing "
                    "value (see --help)\n", a);
            return 2;
        }
        if (strcmp(a, "--shm") == 0) {
            if (v[0] == '\0')
                goto bad;
            o->shm_path = v;
        } else if (strcmp(a, "--shm-size") == 0) {
            if (ex_parse_size(v, &o->shm_size) != 0) {
                fprintf(stderr, "kdcom-shim: --shm-size '%s' is not a size "
                        "(" SHM_RANGE "; K, M, G suffixes)\n", v);
                return 2;
            }
            if (o->shm_size < KDCOM_VM_MIN_SIZE || o->shm_size > (1u << 30)) {
                fprintf(stderr, "kdcom-shim: --shm-size %s is out of range: "
                        SHM_RANGE "\n", v);
                return 2;
            }
            o->size_given = 1;
        } else if (strcmp(a, "--idle-poll") == 0) {
            r = opt_u32(a, v, 1, 60000, " ms", &o->idle_ms);
        } else if (strcmp(a, "--ivshmem-server") == 0) {
            if (v[0] == '\0')
                goto bad;
            o->ivs_path = v;
        } else if (strcmp(a, "--ivshmem-vectors") == 0) {
            r = opt_u32(a, v, 1, IVS_MAX_VECTORS, "", &o->ivs_vectors);
        } else if (strcmp(a, "--ivshmem-mode") == 0) {
            r = opt_mode(a, v, &o->ivs_mode);
            ivs_mode_given = 1;
        } else if (strcmp(a, "--receive-timeout") == 0) {
            r = opt_u32(a, v, 1, 3600000u, " ms", &o->rx_timeout);
        } else if (strcmp(a, "--ack-timeout") == 0) {
            r = opt_u32(a, v, 1, 3600000u, " ms", &o->ack_timeout);
        } else if (strcmp(a, "--mode") == 0) {
            r = opt_mode(a, v, &sock_mode);
            mode_given = 1;
        } else if (strcmp(a, "--allow") == 0) {
            if (o->n_allow == MAX_ALLOW) {
                fprintf(stderr, "kdcom-shim: more than %d --allow rules\n",
                        MAX_ALLOW);
                return 2;
            }
            if (ep_allow_parse(v, &o->allow[o->n_allow], err,
                               sizeof err) != 0) {
                fprintf(stderr, "kdcom-shim: --allow %s\n", err);
                return 2;
            }
            o->n_allow++;
        } else if (strcmp(a, "--takeover") == 0) {
            if (strcmp(v, "replace") == 0)
                o->takeover = TAKEOVER_REPLACE;
            else if (strcmp(v, "refuse") == 0)
                o->takeover = TAKEOVER_REFUSE;
            else
                goto bad;
            takeover_given = 1;
        } else if (strcmp(a, "--trace") == 0) {
            if ((o->trace = wt_parse_mode(v)) < 0)
                goto bad;
        } else if (strcmp(a, "--pcap") == 0) {
            /* stdout carries KDCOM_SHIM_PORT and the like: no "-" */
            if (v[0] == '\0' || strcmp(v, "-") == 0)
                goto bad;
            o->pcap_path = v;
        } else {
            fprintf(stderr, "kdcom-shim: unknown option '%s' (see --help)\n",
                    a);
            return 2;
        }
        if (r != 0)
            return r;
        if (!inline_v)
            i++;
        continue;
    bad:
        fprintf(stderr, "kdcom-shim: bad value for %s: '%s' (see --help)\n",
                a, v);
        return 2;
    }
    if (o->shm_path == NULL || ep_arg == NULL) {
        fprintf(stderr, "kdcom-shim: need --shm FILE and an ENDPOINT (see "
                "--help)\n");
        return 2;
    }
    if (ep_parse(ep_arg, &o->sp, err, sizeof err) != 0) {
        fprintf(stderr, "kdcom-shim: %s\n", err);
        return 2;
    }
    if (o->n_allow > 0 && !(o->sp.kind == EP_TCP && o->sp.listen)) {
        fprintf(stderr, "kdcom-shim: --allow applies to tcp-listen "
                "endpoints (a Unix socket's --mode says who may connect)\n");
        return 2;
    }
    if (mode_given && !(o->sp.kind == EP_UNIX && o->sp.listen)) {
        fprintf(stderr, "kdcom-shim: --mode applies to unix-listen "
                "endpoints\n");
        return 2;
    }
    if (takeover_given && !o->sp.listen) {
        fprintf(stderr, "kdcom-shim: --takeover applies to tcp-listen and "
                "unix-listen endpoints\n");
        return 2;
    }
    if (ivs_mode_given && o->ivs_path == NULL) {
        fprintf(stderr, "kdcom-shim: --ivshmem-mode needs "
                "--ivshmem-server\n");
        return 2;
    }
    o->sp.mode = mode_given ? sock_mode : 0600;
    return -1;
}
