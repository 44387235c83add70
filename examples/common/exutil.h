/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exutil.h - small OS helpers shared by the example programs: a monotonic
 * millisecond clock, signal-to-pipe bridges so poll() loops wake up on
 * SIGINT/SIGTERM (or on Ctrl-C as a command), strict number parsing and
 * non-blocking descriptors.
 */
#ifndef EXUTIL_H
#define EXUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds from CLOCK_MONOTONIC. */
uint64_t ex_now_ms(void);
/* Microseconds from CLOCK_MONOTONIC (for measuring, not for deadlines). */
uint64_t ex_now_us(void);

/* Installs SIGINT/SIGTERM/SIGHUP handlers that set a flag and write one
 * byte into a pipe; ignores SIGPIPE.  Returns the pipe's read end (put it
 * in every poll set) or -1. */
int ex_signals_init(void);
/* The signal that asked us to stop, or 0. */
int ex_stop_requested(void);
/* Drains the signal pipe (after poll reported it readable). */
void ex_signals_drain(void);
/* Turns sig (SIGINT: Ctrl-C as a command rather than a way out) into a
 * byte in a pipe of its own, no stop request.  Returns the pipe's read
 * end (drain it with ex_drain()) or -1.  One such pipe for the program. */
int ex_signal_to_pipe(int sig);
/* Installs handler (or SIG_IGN, SIG_DFL) for sig, no signal blocked. */
void ex_on_signal(int sig, void (*handler)(int));
/* Reads a non-blocking descriptor empty (a wake-up pipe). */
void ex_drain(int fd);

/* Strict parsers: the whole string must be a number in range.  Accept
 * decimal, 0x hex and 0 octal, as strtoull does.  Return 0 or -1. */
int ex_parse_u64(const char *s, uint64_t *out);
int ex_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* Like ex_parse_u64 with an optional K/M/G suffix (powers of 1024). */
int ex_parse_size(const char *s, uint64_t *out);

/* Sets O_NONBLOCK and FD_CLOEXEC.  Returns 0 or -1. */
int ex_set_nonblock(int fd);

/* Poll timeout in ms until deadline (UINT64_MAX: -1 = infinite), capped
 * at cap_ms. */
int ex_poll_timeout(uint64_t now, uint64_t deadline, int cap_ms);

/* *ts = ms milliseconds (pselect(), FUTEX_WAIT). */
struct timespec;
void ex_ms_timespec(struct timespec *ts, uint64_t ms);

/* Sleeps ms milliseconds, waking early if a stop signal arrives. */
void ex_sleep_ms(unsigned ms);

#endif /* EXUTIL_H */
