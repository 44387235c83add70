/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_console.c - the bare-metal kernel's console: bytes to QEMU's debugcon
 * port (0xe9), which QEMU writes to a file or its stdio with
 * -debugcon file:PATH.  Port 0xe9 does not touch the UART that the uart
 * back end owns, and costs one exit per byte, which is fine for log lines.
 */
#include "bm.h"

static void put(char c)
{
    bm_outb(BM_CONSOLE_PORT, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned base, unsigned width, char pad)
{
    char d[20];
    unsigned n = 0;

    /* No 64-bit division on i386 without libgcc: hex by shifts, decimal
     * only for values that fit 32 bits (callers pass counts and sizes). */
    if (base == 16) {
        do {
            d[n++] = "0123456789abcdef"[v & 15u];
            v >>= 4;
        } while (v != 0);
    } else {
        uint32_t w = (uint32_t)v;
        do {
            d[n++] = (char)('0' + w % 10u);
            w /= 10u;
        } while (w != 0);
    }
    while (n < width && n < sizeof d)
        d[n++] = pad;
    while (n > 0)
        put(d[--n]);
}

void bm_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt != '\0'; fmt++) {
        unsigned width = 0;
        char pad = ' ';
        int wide = 0;

        if (*fmt != '%') {
            put(*fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10u + (unsigned)(*fmt++ - '0');
        if (fmt[0] == 'l' && fmt[1] == 'l') {
            wide = 1;
            fmt += 2;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            while (s != NULL && *s != '\0')
                put(*s++);
            break;
        }
        case 'c':
            put((char)va_arg(ap, int));
            break;
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0) {
                put('-');
                put_num((uint32_t)-(int64_t)v, 10, width, pad);
            } else {
                put_num((uint32_t)v, 10, width, pad);
            }
            break;
        }
        case 'u':
        case 'x':
            put_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned),
                    *fmt == 'x' ? 16 : 10, width, pad);
            break;
        case '%':
            put('%');
            break;
        case '\0':
            return;
        default:
            put('%');
            put(*fmt);
            break;
        }
    }
}

void bm_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bm_vprintf(fmt, ap);
    va_end(ap);
}
