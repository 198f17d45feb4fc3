// Tensor storage: 64-byte aligned buffers, with a bounded cache of freed large blocks.
//
// Why: every op writes a new output, and glibc serves large blocks (above its mmap threshold,
// at most 32 MiB) with fresh mmaps that the kernel zero-fills one 4 KiB page fault at a time.
// Measured on the 2-core KVM machines: producing a 64 MiB output into fresh pages took 33-52 ms
// against 8-14 ms into memory already mapped, so page faults, not the kernels, dominated
// `a + b` on 16M floats. Reusing freed blocks of the same size class removes those faults.
// Small blocks go straight to malloc, whose heap already reuses them.
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define CACHE_MIN_BYTES ((size_t)1 << 20)  // blocks below this are not cached
#define CACHE_SLOTS 64

typedef struct { void *ptr; size_t bytes; uint64_t tick; } cached_block;
static cached_block g_blocks[CACHE_SLOTS];
static int g_nblocks = 0;
static size_t g_cached_bytes = 0;
static uint64_t g_tick = 0;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_cap_once = PTHREAD_ONCE_INIT;
static size_t g_cap = 0;

// Default cap: 1 GiB or 1/8 of physical memory, whichever is less; OMNI_STORAGE_CACHE_MB overrides
// (0 turns the cache off).
static void cap_init(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t phys = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : ((size_t)8 << 30);
    size_t cap = (size_t)1 << 30;
    if (phys / 8 < cap) cap = phys / 8;
    const char *env = getenv("OMNI_STORAGE_CACHE_MB");
    if (env && *env) {
        char *end;
        long long mb = strtoll(env, &end, 10);
        if (*end == 0 && mb >= 0) cap = (size_t)mb << 20;
    }
    g_cap = cap;
}

// Rounds large sizes up to a multiple of 1/8 of their power of two (at most 12.5% slack), so
// that nearby sizes share a class and reuse each other's blocks.
static size_t size_class(size_t bytes) {
    if (bytes < CACHE_MIN_BYTES) return bytes;
    size_t p = (size_t)1 << (63 - __builtin_clzll((unsigned long long)bytes));
    size_t step = p / 8;
    return (bytes + step - 1) / step * step;
}

static void release_all_locked(void) {
    for (int i = 0; i < g_nblocks; i++) free(g_blocks[i].ptr);
    g_nblocks = 0;
    g_cached_bytes = 0;
}

void *omni_storage_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t cls = size_class(bytes);
    if (cls >= CACHE_MIN_BYTES) {
        pthread_mutex_lock(&g_lock);
        int best = -1;
        for (int i = 0; i < g_nblocks; i++)
            if (g_blocks[i].bytes == cls && (best < 0 || g_blocks[i].tick > g_blocks[best].tick)) best = i;
        if (best >= 0) {
            void *p = g_blocks[best].ptr;
            g_cached_bytes -= cls;
            g_blocks[best] = g_blocks[--g_nblocks];
            pthread_mutex_unlock(&g_lock);
            return p;
        }
        pthread_mutex_unlock(&g_lock);
    }
    void *p = NULL;
    if (posix_memalign(&p, 64, cls) != 0) {
        // Out of memory: give the cached blocks back and try once more.
        pthread_mutex_lock(&g_lock);
        release_all_locked();
        pthread_mutex_unlock(&g_lock);
        if (posix_memalign(&p, 64, cls) != 0) return NULL;
    }
    return p;
}

void omni_storage_free(void *ptr, size_t bytes) {
    if (!ptr) return;
    if (bytes == 0) bytes = 1;
    size_t cls = size_class(bytes);
    if (cls < CACHE_MIN_BYTES) { free(ptr); return; }
    pthread_once(&g_cap_once, cap_init);
    if (cls > g_cap) { free(ptr); return; }
    pthread_mutex_lock(&g_lock);
    // Evict the least recently freed blocks until this one fits.
    while (g_nblocks > 0 && (g_nblocks == CACHE_SLOTS || g_cached_bytes + cls > g_cap)) {
        int oldest = 0;
        for (int i = 1; i < g_nblocks; i++) if (g_blocks[i].tick < g_blocks[oldest].tick) oldest = i;
        free(g_blocks[oldest].ptr);
        g_cached_bytes -= g_blocks[oldest].bytes;
        g_blocks[oldest] = g_blocks[--g_nblocks];
    }
    g_blocks[g_nblocks++] = (cached_block){ ptr, cls, ++g_tick };
    g_cached_bytes += cls;
    pthread_mutex_unlock(&g_lock);
}

size_t omni_storage_cached_bytes(void) {
    pthread_mutex_lock(&g_lock);
    size_t n = g_cached_bytes;
    pthread_mutex_unlock(&g_lock);
    return n;
}

void omni_storage_release_cache(void) {
    pthread_mutex_lock(&g_lock);
    release_all_locked();
    pthread_mutex_unlock(&g_lock);
}
