/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * alloc_count.c - counts every heap allocation made in the bench process.
 *
 * The bench binary defines malloc, calloc, realloc, free and the aligned
 * variants itself, which the C library allows (glibc documents replacing
 * its allocator this way); every call, from the bench, from libc or from
 * libkdcom, lands here.  Memory comes from a static bump arena and is
 * never reused: the bench allocates only a little at start-up (stdio
 * buffers), and the point is the counters, not the memory.  The bench
 * samples the counters around steady-state library work and reports the
 * difference, which must be 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ARENA_SIZE (8u << 20)
#define ALIGN 16u

static unsigned char arena[ARENA_SIZE] __attribute__((aligned(64)));
static size_t arena_used;
static struct bench_allocs counts;

/* Each block carries its size just before the pointer, for realloc. */
static void *arena_take(size_t size, size_t align)
{
    size_t start, p;

    if (align < ALIGN)
        align = ALIGN;
    if (size > ARENA_SIZE)
        return NULL;
    start = arena_used + ALIGN; /* room for the size word */
    p = (start + align - 1) & ~(align - 1);
    if (p + size > ARENA_SIZE || p + size < p)
        return NULL;
    memcpy(arena + p - sizeof(size_t), &size, sizeof(size_t));
    arena_used = p + size;
    return arena + p;
}

static size_t block_size(const void *ptr)
{
    size_t size;

    memcpy(&size, (const unsigned char *)ptr - sizeof(size_t), sizeof size);
    return size;
}

void *malloc(size_t size)
{
    void *p;

    counts.malloc_calls++;
    p = arena_take(size, ALIGN);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

void *calloc(size_t nmemb, size_t size)
{
    void *p;

    counts.calloc_calls++;
    if (size != 0 && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    /* The arena is static and never reused, so it is still zero. */
    p = arena_take(nmemb * size, ALIGN);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

void *realloc(void *ptr, size_t size)
{
    void *p;
    size_t old;

    counts.realloc_calls++;
    if (ptr == NULL)
        return arena_take(size, ALIGN);
    old = block_size(ptr);
    if (size <= old)
        return ptr;
    p = arena_take(size, ALIGN);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(p, ptr, old);
    return p;
}

void free(void *ptr)
{
    counts.free_calls++;
    (void)ptr;
}

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p;

    counts.other_calls++;
    p = arena_take(size, align);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size)
{
    counts.other_calls++;
    return arena_take(size, align);
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size)
{
    counts.other_calls++;
    return arena_take(size, align);
}

size_t malloc_usable_size(void *ptr);
size_t malloc_usable_size(void *ptr)
{
    return ptr ? block_size(ptr) : 0;
}

void bench_allocs_get(struct bench_allocs *a)
{
    *a = counts;
}
