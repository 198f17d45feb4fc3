// The one thread pool: libgomp's, which oneDNN (built with OpenMP on Debian) also uses, so Omni's
// kernels and oneDNN's never compete for the cores.
#include "internal.h"
#include <stdlib.h>

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

static int g_threads = 0;

void omni_set_num_threads(int n) {
    if (n < 1) n = 1;
    __atomic_store_n(&g_threads, n, __ATOMIC_RELAXED);
    omp_set_num_threads(n);
}

int omni_get_num_threads(void) {
    int t = __atomic_load_n(&g_threads, __ATOMIC_RELAXED);
    return t > 0 ? t : 1;
}

// omp_set_num_threads sets the calling thread's ICV only, while oneDNN sizes its parallel regions
// (and its primitives, at creation) by omp_get_max_threads() on whichever thread calls it: a
// Swift task may run there with the OpenMP default instead of Omni's count.
int omni_sync_omp_threads(void) {
    int t = omni_get_num_threads();
    if (omp_get_max_threads() != t) omp_set_num_threads(t);
    return t;
}

int omni_omp_threads_here(void) { return omp_get_max_threads(); }

struct omni_par_ctx { omni_task_fn fn; void *ctx; int n; int next; };

static void omni_trampoline(void *p) {
    struct omni_par_ctx *c = (struct omni_par_ctx *)p;
    // Logical tasks are fixed by the caller; threads claim them one at a time, so a thread that the
    // OS deschedules (a busy machine) holds up only its current task, not a fixed share. What a
    // task computes depends on its index alone, never on the thread that runs it.
    for (;;) {
        int t = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
        if (t >= c->n) break;
        c->fn(c->ctx, t, c->n);
    }
}

void omni_parallel(int ntasks, omni_task_fn fn, void *ctx) {
    if (ntasks <= 1) { fn(ctx, 0, 1); return; }
    int team = omni_get_num_threads();
    if (team > ntasks) team = ntasks;
    struct omni_par_ctx c = { fn, ctx, ntasks, 0 };
    if (team <= 1) { omni_trampoline(&c); return; }
    GOMP_parallel(omni_trampoline, &c, (unsigned)team, 0);
}

void omni_nd_for(int ndim, const int64_t *shape, int nin, const int64_t *const *strides,
                 int64_t start, int64_t end, omni_run_fn fn, void *ctx) {
    int64_t offs[4] = {0, 0, 0, 0}, inner[4] = {0, 0, 0, 0};
    if (start >= end) return;
    if (ndim == 0) { fn(ctx, 0, 1, offs, inner); return; }
    int64_t idx[OMNI_MAX_DIMS];
    int64_t rem = start;
    for (int d = ndim - 1; d >= 0; d--) { idx[d] = rem % shape[d]; rem /= shape[d]; }
    for (int k = 0; k < nin; k++) {
        int64_t o = 0;
        for (int d = 0; d < ndim; d++) o += idx[d] * strides[k][d];
        offs[k] = o;
        inner[k] = strides[k][ndim - 1];
    }
    int64_t n_inner = shape[ndim - 1];
    int64_t pos = start;
    while (pos < end) {
        int64_t len = n_inner - idx[ndim - 1];
        if (len > end - pos) len = end - pos;
        fn(ctx, pos, len, offs, inner);
        pos += len;
        if (pos >= end) break;
        idx[ndim - 1] += len;
        for (int k = 0; k < nin; k++) offs[k] += len * inner[k];
        for (int d = ndim - 1; d > 0 && idx[d] == shape[d]; d--) {
            idx[d] = 0;
            idx[d - 1]++;
            for (int k = 0; k < nin; k++) offs[k] += strides[k][d - 1] - shape[d] * strides[k][d];
        }
    }
}

struct nd_par { int ndim; const int64_t *shape; int nin; const int64_t *const *strides;
                int64_t total; omni_run_fn fn; void *ctx; };

static void nd_par_task(void *p, int tid, int n) {
    struct nd_par *c = (struct nd_par *)p;
    int64_t lo, hi;
    omni_split(c->total, tid, n, &lo, &hi);
    omni_nd_for(c->ndim, c->shape, c->nin, c->strides, lo, hi, c->fn, c->ctx);
}

void omni_nd_parallel(int ndim, const int64_t *shape, int nin, const int64_t *const *strides,
                      omni_run_fn fn, void *ctx) {
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) total *= shape[d];
    if (total == 0) return;
    struct nd_par c = { ndim, shape, nin, strides, total, fn, ctx };
    // Elementwise results do not depend on the split, so large ones get 4 tasks per thread,
    // which balances the work when the machine is busy.
    int chunks = omni_chunks(total);
    if (chunks > 1 && total >= (int64_t)chunks * 4 * OMNI_PAR_MIN) chunks *= 4;
    omni_parallel(chunks, nd_par_task, &c);
}
