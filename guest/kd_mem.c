/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_mem.c - memcpy, memset, memmove and memcmp for a guest built without
 * a C library.  GCC and Clang may emit calls to these four from any
 * freestanding code (structure copies, loops they recognise), so a bare
 * metal or kernel program links this object; a user-space program uses
 * its libc instead and must not link it.
 *
 * THEORY OF OPERATION
 *
 *   Byte loops through volatile pointers: the volatile accesses keep the
 *   compiler from recognising the loops as memcpy/memset and calling the
 *   very function being defined.  Payloads are at most 4000 bytes, so
 *   speed does not matter here.
 */
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = (volatile unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;

    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    volatile unsigned char *d = (volatile unsigned char *)dst;

    while (n-- > 0)
        *d++ = (unsigned char)c;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = (volatile unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;

    if (d < s) {
        while (n-- > 0)
            *d++ = *s++;
    } else {
        while (n-- > 0)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    for (; n > 0; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}
