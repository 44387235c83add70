/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * interactive.c - kdcom-client -i: one command a line from stdin while the
 * link is served, a prompt that tells the target's state, and Ctrl-C as
 * WinDbg's Ctrl+Break (a break-in, or the end of the running command).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/exutil.h"
#include "client.h"

/* Splits a command line into words; "double quotes" group.  Returns the
 * word count, or -1 if there are too many or a quote is open. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0')
            return n;
        if (n == max)
            return -1;
        if (*p == '"') {
            words[n++] = ++p;
            while (*p != '\0' && *p != '"')
                p++;
            if (*p != '"')
                return -1;
        } else {
            words[n++] = p;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
            if (*p == '\0')
                return n;
        }
        *p++ = '\0';
    }
}

/* Ctrl-C ends interactive mode no more: it breaks in (or interrupts a
 * command).  SIGTERM and SIGHUP still end the program. */
static void catch_ctrl_c(void)
{
    sess.intr_fd = ex_signal_to_pipe(SIGINT);
}

static void prompt(int show)
{
    if (!show)
        return;
    if (sess.stopped && sess.q_count == 0)
        printf("%u: kd> ", (unsigned)cl_cur_processor());
    else
        fputs("kd (running)> ", stdout);
    fflush(stdout);
    sess.line_open = sess.log != NULL;
}

/* Ctrl-C at the prompt: break in, as WinDbg's Ctrl+Break does. */
static int ctrl_c(const struct opts *o)
{
    int rc;

    sess.line_open = 0;
    if (sess.stopped && sess.q_count == 0) {
        printf("\n");
        fprintf(stderr, "kdcom-client: the target is stopped ('g' resumes "
                "it, 'q' leaves)\n");
        return 0;
    }
    printf("\n");
    kds_say(&sess, "break: Ctrl-C, sending break-in");
    rc = kds_break(&sess, o->timeout);
    if (rc == KDS_ERR_INTR) {
        sess.interrupted = 0;
        kds_say(&sess, "break: interrupted again; not waiting for the stop");
        return 0;
    }
    return rc != 0 ? cl_fail("break", rc) : 0;
}

/* Commands from stdin while the link is served: DbgPrint output and
 * stops show up between prompts.  A failed command is reported and
 * counted; losing the connection ends the session.  Returns 0, 1 when a
 * command failed, 3 when the connection was lost. */
int cl_interactive(const struct opts *o, int failed)
{
    static struct cmd c;
    char line[1024];
    size_t len = 0;
    int show = o->prompt || isatty(0), rc;

    sess.watch_fd = 0;
    catch_ctrl_c();
    /* The prompt must not guess: a stop may still be on its way. */
    rc = kds_settle(&sess);
    if (rc == KDS_ERR_INTR)
        sess.interrupted = 0;
    else if (rc == KDS_ERR_STOPPED)
        return failed;
    else if (rc != 0)
        return cl_fail("connection", rc);
    for (;;) {
        char *nl;
        ssize_t n;
        int was;
        prompt(show);
        was = sess.stopped && sess.q_count == 0;
        for (;;) {
            int now;
            sess.watch_ready = 0;
            rc = kds_pump(&sess, UINT64_MAX);
            if (rc == KDS_ERR_INTR) {
                sess.interrupted = 0;
                if ((rc = ctrl_c(o)) == EXIT_CONN)
                    return rc;
                if (rc != 0)
                    failed = EXIT_FAILED;
                prompt(show);
                was = sess.stopped && sess.q_count == 0;
                continue;
            }
            if (rc == KDS_ERR_STOPPED)
                return failed;
            if (rc != 0)
                return cl_fail("connection", rc);
            if (sess.watch_ready)
                break;
            now = sess.stopped && sess.q_count == 0;
            if (now != was && show) { /* the prompt would lie: a new one */
                if (sess.log == NULL || sess.line_open)
                    printf("\n");
                sess.line_open = 0;
                prompt(show);
            }
            was = now;
        }
        n = read(0, line + len, sizeof line - 1 - len);
        sess.line_open = 0;
        if (n <= 0) {
            if (show)
                printf("\n");
            return failed; /* end of input */
        }
        len += (size_t)n;
        line[len] = '\0';
        while ((nl = strchr(line, '\n')) != NULL) {
            char *words[64];
            int wc, i = 0;
            *nl = '\0';
            wc = split(line, words, 64);
            if (wc < 0) {
                fprintf(stderr, "kdcom-client: bad line (an open quote, or "
                        "more than 64 words)\n");
            } else if (wc > 0) {
                /* A line that is no command (mistyped, unsupported) is
                 * reported and does not count as a failed command. */
                rc = cl_parse_cmd(wc, words, &i, &c, 1);
                if (rc != 0) {
                    /* reported */
                } else if (c.def->op == OP_QUIT) {
                    return failed;
                } else {
                    sess.interrupted = 0;
                    rc = cl_exec(o, &c);
                    if (rc == EXIT_CONN)
                        return rc;
                    if (rc != 0)
                        failed = EXIT_FAILED;
                    sess.interrupted = 0;
                    if (ex_stop_requested())
                        return failed;
                }
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len + 1);
            if (strchr(line, '\n') != NULL)
                prompt(show);
        }
        if (len == sizeof line - 1) {
            fprintf(stderr, "kdcom-client: line too long, dropped\n");
            len = 0;
        }
    }
}
