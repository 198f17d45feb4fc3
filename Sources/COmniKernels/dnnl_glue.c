// oneDNN glue: one CPU engine, a stream per thread, and a cache of primitives keyed by everything
// that determines them (creating a primitive costs far more than running a small one).
#include "internal.h"
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static dnnl_engine_t g_engine;
static pthread_once_t g_engine_once = PTHREAD_ONCE_INIT;
static __thread dnnl_stream_t t_stream;
static __thread char t_error[512];

static void engine_init(void) { dnnl_engine_create(&g_engine, dnnl_cpu, 0); }
static dnnl_engine_t engine(void) { pthread_once(&g_engine_once, engine_init); return g_engine; }
static dnnl_stream_t stream(void) {
    if (!t_stream) dnnl_stream_create(&t_stream, engine(), dnnl_stream_default_flags);
    return t_stream;
}

const char *omni_dnnl_last_error(void) { return t_error; }

static int fail(dnnl_status_t st, const char *what) {
    snprintf(t_error, sizeof t_error, "oneDNN %s failed (status %d)", what, (int)st);
    return st == dnnl_success ? -1 : (int)st;
}
#define CHECK(call, what) do { dnnl_status_t st_ = (call); if (st_ != dnnl_success) return fail(st_, what); } while (0)

const char *omni_dnnl_isa_name(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
    }
}

int omni_dnnl_int8_exact(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_vnni || isa == dnnl_cpu_isa_avx512_core_bf16 ||
           isa == dnnl_cpu_isa_avx512_core_amx || isa == dnnl_cpu_isa_avx2_vnni;
}

// ---- primitive cache ------------------------------------------------------------------------
#define KEY_WORDS 32
#define CACHE_CAP 256
// A primitive is created for a thread count (oneDNN sizes scratchpads and work splits by it), so
// the count is part of the key, and every lookup first makes this thread's OpenMP count Omni's.
// A cached primitive and the number of executions using it right now. A primitive evicted while
// another thread executes it is destroyed by the last release; evicting used to leak it instead,
// which with varying batch shapes (training batches split by modality) came to gigabytes of JIT
// kernels in a long run.
typedef struct { dnnl_primitive_t prim; dnnl_primitive_desc_t pd; int refs; int evicted; } cached_prim;
typedef struct { int64_t key[KEY_WORDS]; int nthr; cached_prim *p; uint64_t used; } cache_entry;
static cache_entry g_cache[CACHE_CAP];
static int g_cache_n = 0;
static uint64_t g_tick = 0;
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t omni_dnnl_cache_size(void) {
    pthread_mutex_lock(&g_cache_lock);
    int n = g_cache_n;
    pthread_mutex_unlock(&g_cache_lock);
    return n;
}

static void cached_destroy(cached_prim *p) {
    dnnl_primitive_destroy(p->prim);
    dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

// The primitive cached under `key` for this thread count, held for one execution (give it back
// with cache_release), or NULL.
static cached_prim *cache_get(const int64_t *key) {
    int nthr = omni_sync_omp_threads();
    pthread_mutex_lock(&g_cache_lock);
    for (int i = 0; i < g_cache_n; i++)
        if (g_cache[i].nthr == nthr && memcmp(g_cache[i].key, key, sizeof(int64_t) * KEY_WORDS) == 0) {
            g_cache[i].used = ++g_tick;
            cached_prim *p = g_cache[i].p;
            p->refs++;
            pthread_mutex_unlock(&g_cache_lock);
            return p;
        }
    pthread_mutex_unlock(&g_cache_lock);
    return NULL;
}

// Takes ownership of prim/pd and returns the cached primitive for `key`, held for one execution
// (another thread may have cached the same key first: then the new pair is destroyed and that
// one returned). The least recently used entry makes room when the cache is full. NULL when out
// of memory (prim/pd destroyed).
static cached_prim *cache_put(const int64_t *key, dnnl_primitive_t prim, dnnl_primitive_desc_t pd) {
    int nthr = omni_sync_omp_threads();
    cached_prim *fresh = malloc(sizeof *fresh), *evicted = NULL;
    pthread_mutex_lock(&g_cache_lock);
    for (int i = 0; i < g_cache_n; i++)
        if (g_cache[i].nthr == nthr && memcmp(g_cache[i].key, key, sizeof(int64_t) * KEY_WORDS) == 0) {
            cached_prim *p = g_cache[i].p;
            p->refs++;
            pthread_mutex_unlock(&g_cache_lock);
            free(fresh);
            dnnl_primitive_destroy(prim);
            dnnl_primitive_desc_destroy(pd);
            return p;
        }
    if (!fresh) {
        pthread_mutex_unlock(&g_cache_lock);
        dnnl_primitive_destroy(prim);
        dnnl_primitive_desc_destroy(pd);
        return NULL;
    }
    *fresh = (cached_prim){ prim, pd, 1, 0 };
    int slot;
    if (g_cache_n < CACHE_CAP) slot = g_cache_n++;
    else {
        slot = 0;
        for (int i = 1; i < CACHE_CAP; i++) if (g_cache[i].used < g_cache[slot].used) slot = i;
        cached_prim *old = g_cache[slot].p;
        old->evicted = 1;
        if (old->refs == 0) evicted = old;
    }
    memcpy(g_cache[slot].key, key, sizeof(int64_t) * KEY_WORDS);
    g_cache[slot].nthr = nthr;
    g_cache[slot].p = fresh;
    g_cache[slot].used = ++g_tick;
    pthread_mutex_unlock(&g_cache_lock);
    if (evicted) cached_destroy(evicted);
    return fresh;
}

// Gives back a primitive from cache_get/cache_put after its execution.
static void cache_release(cached_prim *p) {
    pthread_mutex_lock(&g_cache_lock);
    int gone = --p->refs == 0 && p->evicted;
    pthread_mutex_unlock(&g_cache_lock);
    if (gone) cached_destroy(p);
}

static int make_mem(dnnl_memory_t *m, const dnnl_memory_desc_t *md, const void *ptr) {
    CHECK(dnnl_memory_create(m, md, engine(), (void *)ptr), "memory_create");
    return 0;
}

// Every primitive is created with a user-managed scratchpad, passed here from a buffer of the
// executing thread. The library-managed one of this oneDNN build (DNNL_ENABLE_CONCURRENT_EXEC off)
// belongs to the thread that created the primitive, and the cache hands primitives to any thread:
// two threads running cached primitives at once overwrote each other's temporaries (wrong results
// in concurrent matmuls). Executions are synchronous, so one buffer per thread suffices.
static __thread void *t_scratch;
static __thread size_t t_scratch_size;
static pthread_key_t g_scratch_key;  // frees a thread's buffer when the thread exits
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static void scratch_key_init(void) { pthread_key_create(&g_scratch_key, free); }

static int scratchpad_for(dnnl_primitive_t prim, const dnnl_memory_desc_t **md, void **ptr) {
    const_dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_get_primitive_desc(prim, &pd), "primitive_get_primitive_desc");
    *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = *md ? dnnl_memory_desc_get_size(*md) : 0;
    *ptr = NULL;
    if (size == 0) { *md = NULL; return 0; }
    if (size > t_scratch_size) {
        pthread_once(&g_scratch_once, scratch_key_init);
        free(t_scratch);
        t_scratch = NULL; t_scratch_size = 0;
        pthread_setspecific(g_scratch_key, NULL);
        size_t rounded = (size + 63) / 64 * 64;
        if (posix_memalign(&t_scratch, 64, rounded) != 0) { t_scratch = NULL; return fail(dnnl_out_of_memory, "scratchpad allocation"); }
        t_scratch_size = rounded;
        pthread_setspecific(g_scratch_key, t_scratch);
    }
    *ptr = t_scratch;
    return 0;
}

static dnnl_primitive_attr_t user_scratchpad_attr(void) {
    dnnl_primitive_attr_t attr;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    if (dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return NULL;
    }
    return attr;
}

#define MAX_ARGS 9
static int execute(dnnl_primitive_t prim, int nargs, const int *kinds, const dnnl_memory_desc_t *mds, void *const *ptrs) {
    dnnl_exec_arg_t args[MAX_ARGS];
    dnnl_memory_t mems[MAX_ARGS];
    const dnnl_memory_desc_t *scratch_md;
    void *scratch;
    int made = 0, rc = scratchpad_for(prim, &scratch_md, &scratch);
    for (int i = 0; rc == 0 && i < nargs; i++) {
        if ((rc = make_mem(&mems[i], &mds[i], ptrs[i])) != 0) break;
        made++;
        args[i].arg = kinds[i];
        args[i].memory = mems[i];
    }
    int total = nargs;
    if (rc == 0 && scratch_md) {
        if ((rc = make_mem(&mems[made], scratch_md, scratch)) == 0) {
            args[made].arg = DNNL_ARG_SCRATCHPAD;
            args[made].memory = mems[made];
            made++;
            total++;
        }
    }
    if (rc == 0) {
        dnnl_status_t st = dnnl_primitive_execute(prim, stream(), total, args);
        if (st == dnnl_success) st = dnnl_stream_wait(stream());
        if (st != dnnl_success) rc = fail(st, "primitive_execute");
    }
    for (int i = 0; i < made; i++) dnnl_memory_destroy(mems[i]);
    return rc;
}

// ---- matmul ---------------------------------------------------------------------------------
static dnnl_data_type_t dt_of(int omni_dt) {
    switch (omni_dt) {
    case OMNI_BF16: return dnnl_bf16;
    case OMNI_F16: return dnnl_f16;
    case OMNI_I8: return dnnl_s8;
    case OMNI_U8: return dnnl_u8;
    case OMNI_I32: return dnnl_s32;
    default: return dnnl_f32;
    }
}

// [b, r, c] with element strides; `two_d` drops the batch axis (every operand has batch 1):
// oneDNN's brgemm matmul runs ~2% faster on 2-D descriptors than on the same 1×r×c in 3-D.
static int md3(dnnl_memory_desc_t *md, int two_d, int64_t b, int64_t r, int64_t c, const int64_t *strides,
               dnnl_data_type_t dt) {
    dnnl_dims_t dims = { b, r, c };
    dnnl_dims_t st = { strides[0], strides[1], strides[2] };
    if (b == 1) st[0] = r * c;  // a broadcast batch of 1: any stride is fine, keep it canonical
    if (two_d) {
        dnnl_dims_t d2 = { r, c }, s2 = { st[1], st[2] };
        CHECK(dnnl_memory_desc_init_by_strides(md, 2, d2, dt, s2), "memory_desc_init (matmul)");
        return 0;
    }
    CHECK(dnnl_memory_desc_init_by_strides(md, 3, dims, dt, st), "memory_desc_init (matmul)");
    return 0;
}

enum { K_MATMUL = 1, K_MATMUL_Q = 2, K_CONV_FWD = 3, K_CONV_BWD_D = 4, K_CONV_BWD_W = 5 };

static int matmul_generic(int quant, int dtype, int64_t bs, int64_t bw, int64_t M, int64_t N, int64_t K,
                          const void *src, const int64_t *ss, const void *wei, const int64_t *ws,
                          const float *bias, float *dst,
                          const int32_t *zp, const float *scales, int64_t nscales) {
    int64_t B = bs > bw ? bs : bw;
    if (B == 0 || M == 0 || N == 0) return 0;
    dnnl_data_type_t sdt = quant ? dnnl_u8 : dt_of(dtype), wdt = quant ? dnnl_s8 : dt_of(dtype);
    int64_t key[KEY_WORDS] = {0};
    key[0] = quant ? K_MATMUL_Q : K_MATMUL; key[1] = dtype; key[2] = bs; key[3] = bw;
    key[4] = M; key[5] = N; key[6] = K;
    for (int i = 0; i < 3; i++) { key[7 + i] = ss[i]; key[10 + i] = ws[i]; }
    key[13] = bias != NULL; key[14] = nscales; key[15] = zp != NULL;
    if (bs == 1) key[7] = 0;
    if (bw == 1) key[10] = 0;

    dnnl_memory_desc_t smd, wmd, bmd, dmd, scmd, zpmd;
    int rc, two_d = B == 1;
    if ((rc = md3(&smd, two_d, bs, M, K, ss, sdt))) return rc;
    if ((rc = md3(&wmd, two_d, bw, K, N, ws, wdt))) return rc;
    int64_t dst_st[3] = { M * N, N, 1 };
    if ((rc = md3(&dmd, two_d, B, M, N, dst_st, dnnl_f32))) return rc;
    int64_t bias_st[3] = { N, N, 1 };
    if (bias && (rc = md3(&bmd, two_d, 1, 1, N, bias_st, dnnl_f32))) return rc;

    cached_prim *cached = cache_get(key);
    if (!cached) {
        dnnl_primitive_t prim;
        dnnl_matmul_desc_t desc;
        CHECK(dnnl_matmul_desc_init(&desc, &smd, &wmd, bias && !quant ? &bmd : NULL, &dmd), "matmul_desc_init");
        dnnl_primitive_attr_t attr = user_scratchpad_attr();
        if (!attr) return fail(dnnl_out_of_memory, "matmul attributes");
        if (quant && bias) {
            // oneDNN 2.x adds an int8 matmul's bias to the accumulator *before* the output scale
            // (dst = scale · (acc + bias)); a float bias must come after it, as a binary post-op.
            dnnl_post_ops_t post;
            dnnl_status_t s0 = dnnl_post_ops_create(&post);
            if (s0 == dnnl_success) s0 = dnnl_post_ops_append_binary(post, dnnl_binary_add, &bmd);
            if (s0 == dnnl_success) s0 = dnnl_primitive_attr_set_post_ops(attr, post);
            dnnl_post_ops_destroy(post);
            if (s0 != dnnl_success) { dnnl_primitive_attr_destroy(attr); return fail(s0, "matmul int8 bias post-op"); }
        }
        if (quant) {
            float rt = DNNL_RUNTIME_F32_VAL;
            int32_t rtz = DNNL_RUNTIME_S32_VAL;
            // Scales (and the zero point) are runtime arguments, so one primitive serves every
            // calibration of the same shape.
            dnnl_status_t s1 = dnnl_primitive_attr_set_output_scales(attr, 1, nscales > 1 ? (1 << (two_d ? 1 : 2)) : 0, &rt);  // mask: the N axis
            dnnl_status_t s2 = zp ? dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &rtz) : dnnl_success;
            if (s1 != dnnl_success || s2 != dnnl_success) {
                dnnl_primitive_attr_destroy(attr);
                return fail(s1 != dnnl_success ? s1 : s2, "matmul int8 attributes");
            }
        }
        dnnl_primitive_desc_t npd;
        dnnl_status_t st = dnnl_primitive_desc_create(&npd, &desc, attr, engine(), NULL);
        dnnl_primitive_attr_destroy(attr);
        if (st != dnnl_success) return fail(st, "matmul primitive_desc_create");
        CHECK(dnnl_primitive_create(&prim, npd), "matmul primitive_create");
        if (!(cached = cache_put(key, prim, npd))) return fail(dnnl_out_of_memory, "matmul primitive cache");
    }
    int kinds[MAX_ARGS]; dnnl_memory_desc_t mds[MAX_ARGS]; void *ptrs[MAX_ARGS]; int n = 0;
    kinds[n] = DNNL_ARG_SRC; mds[n] = smd; ptrs[n++] = (void *)src;
    kinds[n] = DNNL_ARG_WEIGHTS; mds[n] = wmd; ptrs[n++] = (void *)wei;
    kinds[n] = DNNL_ARG_DST; mds[n] = dmd; ptrs[n++] = dst;
    if (bias) {
        kinds[n] = quant ? (DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1) : DNNL_ARG_BIAS;
        mds[n] = bmd; ptrs[n++] = (void *)bias;
    }
    if (quant) {
        dnnl_dims_t sd = { nscales };
        dnnl_memory_desc_init_by_tag(&scmd, 1, sd, dnnl_f32, dnnl_a);
        kinds[n] = DNNL_ARG_ATTR_OUTPUT_SCALES; mds[n] = scmd; ptrs[n++] = (void *)scales;
        if (zp) {
            dnnl_dims_t zd = { 1 };
            dnnl_memory_desc_init_by_tag(&zpmd, 1, zd, dnnl_s32, dnnl_a);
            kinds[n] = DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC; mds[n] = zpmd; ptrs[n++] = (void *)zp;
        }
    }
    rc = execute(cached->prim, n, kinds, mds, ptrs);
    cache_release(cached);
    return rc;
}

int omni_matmul(int dtype, int64_t bs, int64_t bw, int64_t M, int64_t N, int64_t K,
                const void *src, const int64_t *ss, const void *wei, const int64_t *ws,
                const float *bias, float *dst) {
    return matmul_generic(0, dtype, bs, bw, M, N, K, src, ss, wei, ws, bias, dst, NULL, NULL, 0);
}

int omni_matmul_u8s8(int64_t bs, int64_t bw, int64_t M, int64_t N, int64_t K,
                     const uint8_t *a, const int64_t *as, int32_t a_zero, float a_scale,
                     const int8_t *b, const int64_t *bstr, const float *b_scales, int64_t nscales,
                     const float *bias, float *dst) {
    float stack_scales[64];
    float *scales = nscales <= 64 ? stack_scales : (float *)malloc(sizeof(float) * (size_t)nscales);
    if (!scales) return fail(dnnl_out_of_memory, "scales allocation");
    for (int64_t i = 0; i < nscales; i++) scales[i] = a_scale * b_scales[i];
    int32_t zp = a_zero;
    // The float bias goes in as a binary post-op after the output scale (see matmul_generic).
    int rc = matmul_generic(1, OMNI_U8, bs, bw, M, N, K, a, as, b, bstr, bias, dst,
                            a_zero ? &zp : NULL, scales, nscales);
    if (scales != stack_scales) free(scales);
    return rc;
}

// ---- convolution (2-D; 1-D is 2-D with height 1) -----------------------------------------------
static void conv_key(int kind, const omni_conv2d_shape *s, int has_bias, int64_t *key) {
    memset(key, 0, sizeof(int64_t) * KEY_WORDS);
    key[0] = kind;
    const int64_t *f = &s->n;
    for (int i = 0; i < (int)(sizeof(omni_conv2d_shape) / sizeof(int64_t)); i++) key[1 + i] = f[i];
    key[KEY_WORDS - 1] = has_bias;
}

static int conv_mds(const omni_conv2d_shape *s, dnnl_memory_desc_t *x, dnnl_memory_desc_t *w,
                    dnnl_memory_desc_t *b, dnnl_memory_desc_t *y) {
    dnnl_dims_t xd = { s->n, s->c, s->h, s->w }, yd = { s->n, s->oc, s->oh, s->ow }, bd = { s->oc };
    CHECK(dnnl_memory_desc_init_by_tag(x, 4, xd, dnnl_f32, dnnl_nchw), "memory_desc (conv src)");
    CHECK(dnnl_memory_desc_init_by_tag(y, 4, yd, dnnl_f32, dnnl_nchw), "memory_desc (conv dst)");
    CHECK(dnnl_memory_desc_init_by_tag(b, 1, bd, dnnl_f32, dnnl_a), "memory_desc (conv bias)");
    if (s->groups > 1) {
        dnnl_dims_t wd = { s->groups, s->oc / s->groups, s->c / s->groups, s->kh, s->kw };
        CHECK(dnnl_memory_desc_init_by_tag(w, 5, wd, dnnl_f32, dnnl_goihw), "memory_desc (conv weights)");
    } else {
        dnnl_dims_t wd = { s->oc, s->c, s->kh, s->kw };
        CHECK(dnnl_memory_desc_init_by_tag(w, 4, wd, dnnl_f32, dnnl_oihw), "memory_desc (conv weights)");
    }
    return 0;
}

static int conv_fwd_desc(const omni_conv2d_shape *s, int has_bias, dnnl_convolution_desc_t *d,
                         dnnl_memory_desc_t *x, dnnl_memory_desc_t *w, dnnl_memory_desc_t *b, dnnl_memory_desc_t *y) {
    int rc = conv_mds(s, x, w, b, y);
    if (rc) return rc;
    dnnl_dims_t st = { s->stride_h, s->stride_w }, dil = { s->dil_h - 1, s->dil_w - 1 };
    dnnl_dims_t pl = { s->pad_h, s->pad_w };
    // right padding so that the output size the caller computed is exactly produced
    dnnl_dims_t pr = {
        (s->oh - 1) * s->stride_h + (s->kh - 1) * s->dil_h + 1 - s->h - s->pad_h,
        (s->ow - 1) * s->stride_w + (s->kw - 1) * s->dil_w + 1 - s->w - s->pad_w };
    CHECK(dnnl_dilated_convolution_forward_desc_init(d, dnnl_forward_training, dnnl_convolution_direct,
          x, w, has_bias ? b : NULL, y, st, dil, pl, pr), "convolution_forward_desc_init");
    return 0;
}

static int conv_fwd_pd(const omni_conv2d_shape *s, int has_bias, dnnl_primitive_desc_t *pd) {
    dnnl_convolution_desc_t d; dnnl_memory_desc_t x, w, b, y;
    int rc = conv_fwd_desc(s, has_bias, &d, &x, &w, &b, &y);
    if (rc) return rc;
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    if (!attr) return fail(dnnl_out_of_memory, "convolution attributes");
    dnnl_status_t st = dnnl_primitive_desc_create(pd, &d, attr, engine(), NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return fail(st, "convolution forward primitive_desc_create");
    return 0;
}

int omni_conv2d_forward(const omni_conv2d_shape *s, const float *x, const float *w, const float *bias, float *y) {
    if (s->n == 0 || s->oc == 0 || s->oh == 0 || s->ow == 0) return 0;
    int64_t key[KEY_WORDS]; conv_key(K_CONV_FWD, s, bias != NULL, key);
    dnnl_memory_desc_t xm, wm, bm, ym;
    int rc = conv_mds(s, &xm, &wm, &bm, &ym);
    if (rc) return rc;
    cached_prim *cached = cache_get(key);
    if (!cached) {
        dnnl_primitive_t prim;
        dnnl_primitive_desc_t npd;
        if ((rc = conv_fwd_pd(s, bias != NULL, &npd))) return rc;
        CHECK(dnnl_primitive_create(&prim, npd), "convolution forward primitive_create");
        if (!(cached = cache_put(key, prim, npd))) return fail(dnnl_out_of_memory, "convolution forward primitive cache");
    }
    int kinds[4] = { DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_BIAS };
    dnnl_memory_desc_t mds[4] = { xm, wm, ym, bm };
    void *ptrs[4] = { (void *)x, (void *)w, y, (void *)bias };
    rc = execute(cached->prim, bias ? 4 : 3, kinds, mds, ptrs);
    cache_release(cached);
    return rc;
}

int omni_conv2d_backward_data(const omni_conv2d_shape *s, const float *w, const float *dy, float *dx) {
    if (s->n == 0 || s->c == 0) return 0;
    if (s->oc == 0 || s->oh == 0 || s->ow == 0) { memset(dx, 0, sizeof(float) * (size_t)(s->n * s->c * s->h * s->w)); return 0; }
    int64_t key[KEY_WORDS]; conv_key(K_CONV_BWD_D, s, 0, key);
    dnnl_memory_desc_t xm, wm, bm, ym;
    int rc = conv_mds(s, &xm, &wm, &bm, &ym);
    if (rc) return rc;
    cached_prim *cached = cache_get(key);
    if (!cached) {
        dnnl_primitive_t prim;
        dnnl_primitive_desc_t hint;
        if ((rc = conv_fwd_pd(s, 0, &hint))) return rc;
        dnnl_convolution_desc_t d;
        dnnl_dims_t st = { s->stride_h, s->stride_w }, dil = { s->dil_h - 1, s->dil_w - 1 }, pl = { s->pad_h, s->pad_w };
        dnnl_dims_t pr = { (s->oh - 1) * s->stride_h + (s->kh - 1) * s->dil_h + 1 - s->h - s->pad_h,
                           (s->ow - 1) * s->stride_w + (s->kw - 1) * s->dil_w + 1 - s->w - s->pad_w };
        CHECK(dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &xm, &wm, &ym, st, dil, pl, pr),
              "convolution_backward_data_desc_init");
        dnnl_primitive_desc_t npd;
        dnnl_primitive_attr_t attr = user_scratchpad_attr();
        if (!attr) { dnnl_primitive_desc_destroy(hint); return fail(dnnl_out_of_memory, "convolution backward data attributes"); }
        dnnl_status_t stt = dnnl_primitive_desc_create(&npd, &d, attr, engine(), hint);
        dnnl_primitive_attr_destroy(attr);
        dnnl_primitive_desc_destroy(hint);
        if (stt != dnnl_success) return fail(stt, "convolution backward data primitive_desc_create");
        CHECK(dnnl_primitive_create(&prim, npd), "convolution backward data primitive_create");
        if (!(cached = cache_put(key, prim, npd))) return fail(dnnl_out_of_memory, "convolution backward data primitive cache");
    }
    int kinds[3] = { DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC };
    dnnl_memory_desc_t mds[3] = { ym, wm, xm };
    void *ptrs[3] = { (void *)dy, (void *)w, dx };
    rc = execute(cached->prim, 3, kinds, mds, ptrs);
    cache_release(cached);
    return rc;
}

int omni_conv2d_backward_weights(const omni_conv2d_shape *s, const float *x, const float *dy, float *dw, float *dbias) {
    int64_t wcount = s->oc * (s->groups > 0 ? s->c / s->groups : s->c) * s->kh * s->kw;
    if (s->n == 0 || s->oh == 0 || s->ow == 0) {
        memset(dw, 0, sizeof(float) * (size_t)wcount);
        if (dbias) memset(dbias, 0, sizeof(float) * (size_t)s->oc);
        return 0;
    }
    if (wcount == 0) return 0;
    int64_t key[KEY_WORDS]; conv_key(K_CONV_BWD_W, s, dbias != NULL, key);
    dnnl_memory_desc_t xm, wm, bm, ym;
    int rc = conv_mds(s, &xm, &wm, &bm, &ym);
    if (rc) return rc;
    cached_prim *cached = cache_get(key);
    if (!cached) {
        dnnl_primitive_t prim;
        dnnl_primitive_desc_t hint;
        if ((rc = conv_fwd_pd(s, dbias != NULL, &hint))) return rc;
        dnnl_convolution_desc_t d;
        dnnl_dims_t st = { s->stride_h, s->stride_w }, dil = { s->dil_h - 1, s->dil_w - 1 }, pl = { s->pad_h, s->pad_w };
        dnnl_dims_t pr = { (s->oh - 1) * s->stride_h + (s->kh - 1) * s->dil_h + 1 - s->h - s->pad_h,
                           (s->ow - 1) * s->stride_w + (s->kw - 1) * s->dil_w + 1 - s->w - s->pad_w };
        CHECK(dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &xm, &wm,
              dbias ? &bm : NULL, &ym, st, dil, pl, pr), "convolution_backward_weights_desc_init");
        dnnl_primitive_desc_t npd;
        dnnl_primitive_attr_t attr = user_scratchpad_attr();
        if (!attr) { dnnl_primitive_desc_destroy(hint); return fail(dnnl_out_of_memory, "convolution backward weights attributes"); }
        dnnl_status_t stt = dnnl_primitive_desc_create(&npd, &d, attr, engine(), hint);
        dnnl_primitive_attr_destroy(attr);
        dnnl_primitive_desc_destroy(hint);
        if (stt != dnnl_success) return fail(stt, "convolution backward weights primitive_desc_create");
        CHECK(dnnl_primitive_create(&prim, npd), "convolution backward weights primitive_create");
        if (!(cached = cache_put(key, prim, npd))) return fail(dnnl_out_of_memory, "convolution backward weights primitive cache");
    }
    int kinds[4] = { DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS };
    dnnl_memory_desc_t mds[4] = { xm, ym, wm, bm };
    void *ptrs[4] = { (void *)x, (void *)dy, dw, dbias };
    rc = execute(cached->prim, dbias ? 4 : 3, kinds, mds, ptrs);
    cache_release(cached);
    return rc;
}

// ---- packed inference convolution ---------------------------------------------------------------
// Inference networks call the same convolution with the same weights over and over. oneDNN's fast
// kernels (brgconv, jit 1x1, depthwise) need channels-last or blocked activations and weights in
// their own blocked layout; with plain NCHW/OIHW it falls back to im2col + GEMM (depthwise: one
// tiny GEMM per channel), several times slower. A packed convolution reorders its weights once
// (`format_tag any`) and runs NHWC activations, with bias, a clip (ReLU6) and a residual sum fused
// as post-ops. Primitives are made per (batch, thread count) and kept with the weights.
typedef struct {
    int64_t n; int nthr;
    dnnl_primitive_t prim; dnnl_primitive_desc_t pd;
    dnnl_memory_desc_t x, w, b, y;
    void *weights;  // == packed->weights, or a copy in this primitive's own layout
} packed_entry;

struct omni_conv2d_packed {
    omni_conv2d_shape s;
    int has_clip, has_residual;
    float clip_lo, clip_hi;
    dnnl_memory_desc_t wmd;   // layout of `weights`
    void *weights;
    float *bias;
    pthread_mutex_t lock;
    packed_entry *entries; int count, capacity;
};

static void *aligned_alloc_bytes(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
    return p;
}

static int packed_pd(const struct omni_conv2d_packed *p, int64_t n, packed_entry *e) {
    omni_conv2d_shape s = p->s; s.n = n;
    dnnl_dims_t xd = { s.n, s.c, s.h, s.w }, yd = { s.n, s.oc, s.oh, s.ow }, bd = { s.oc };
    CHECK(dnnl_memory_desc_init_by_tag(&e->x, 4, xd, dnnl_f32, dnnl_nhwc), "memory_desc (packed conv src)");
    CHECK(dnnl_memory_desc_init_by_tag(&e->y, 4, yd, dnnl_f32, dnnl_nhwc), "memory_desc (packed conv dst)");
    CHECK(dnnl_memory_desc_init_by_tag(&e->b, 1, bd, dnnl_f32, dnnl_a), "memory_desc (packed conv bias)");
    dnnl_memory_desc_t wany;
    if (s.groups > 1) {
        dnnl_dims_t wd = { s.groups, s.oc / s.groups, s.c / s.groups, s.kh, s.kw };
        CHECK(dnnl_memory_desc_init_by_tag(&wany, 5, wd, dnnl_f32, dnnl_format_tag_any), "memory_desc (packed conv weights)");
    } else {
        dnnl_dims_t wd = { s.oc, s.c, s.kh, s.kw };
        CHECK(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any), "memory_desc (packed conv weights)");
    }
    dnnl_dims_t st = { s.stride_h, s.stride_w }, dil = { s.dil_h - 1, s.dil_w - 1 }, pl = { s.pad_h, s.pad_w };
    dnnl_dims_t pr = { (s.oh - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1 - s.h - s.pad_h,
                       (s.ow - 1) * s.stride_w + (s.kw - 1) * s.dil_w + 1 - s.w - s.pad_w };
    dnnl_convolution_desc_t d;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_inference, dnnl_convolution_direct,
          &e->x, &wany, &e->b, &e->y, st, dil, pl, pr), "convolution_forward_desc_init (packed)");
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    if (!attr) return fail(dnnl_out_of_memory, "packed convolution attributes");
    dnnl_post_ops_t po = NULL;
    dnnl_status_t stt = dnnl_post_ops_create(&po);
    if (stt == dnnl_success && p->has_clip) stt = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, p->clip_lo, p->clip_hi);
    if (stt == dnnl_success && p->has_residual) stt = dnnl_post_ops_append_sum(po, 1.f);
    if (stt == dnnl_success) stt = dnnl_primitive_attr_set_post_ops(attr, po);
    if (stt == dnnl_success) stt = dnnl_primitive_desc_create(&e->pd, &d, attr, engine(), NULL);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (stt != dnnl_success) return fail(stt, "packed convolution primitive_desc_create");
    e->w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
    stt = dnnl_primitive_create(&e->prim, e->pd);
    if (stt != dnnl_success) { dnnl_primitive_desc_destroy(e->pd); return fail(stt, "packed convolution primitive_create"); }
    e->n = n;
    e->nthr = omni_get_num_threads();
    return 0;
}

// Reorders `from` (layout `fmd`) into a new buffer of layout `tmd`.
static int reorder_weights(const dnnl_memory_desc_t *fmd, const void *from, const dnnl_memory_desc_t *tmd, void **to) {
    *to = aligned_alloc_bytes(dnnl_memory_desc_get_size(tmd));
    if (!*to) return fail(dnnl_out_of_memory, "packed weights allocation");
    dnnl_primitive_desc_t rpd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&rpd, fmd, engine(), tmd, engine(), NULL);
    if (st != dnnl_success) { free(*to); *to = NULL; return fail(st, "weights reorder primitive_desc_create"); }
    dnnl_primitive_t r;
    st = dnnl_primitive_create(&r, rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (st != dnnl_success) { free(*to); *to = NULL; return fail(st, "weights reorder primitive_create"); }
    int kinds[2] = { DNNL_ARG_FROM, DNNL_ARG_TO };
    dnnl_memory_desc_t mds[2] = { *fmd, *tmd };
    void *ptrs[2] = { (void *)from, *to };
    int rc = execute(r, 2, kinds, mds, ptrs);
    dnnl_primitive_destroy(r);
    if (rc) { free(*to); *to = NULL; }
    return rc;
}

omni_conv2d_packed *omni_conv2d_pack(const omni_conv2d_shape *s, const float *w, const float *bias,
                                     int has_clip, float clip_lo, float clip_hi, int has_residual) {
    omni_sync_omp_threads();
    struct omni_conv2d_packed *p = calloc(1, sizeof *p);
    if (!p) { fail(dnnl_out_of_memory, "packed convolution allocation"); return NULL; }
    p->s = *s;
    p->has_clip = has_clip; p->has_residual = has_residual;
    p->clip_lo = clip_lo; p->clip_hi = clip_hi;
    pthread_mutex_init(&p->lock, NULL);
    p->bias = aligned_alloc_bytes(sizeof(float) * (size_t)s->oc);
    p->capacity = 4;
    p->entries = calloc((size_t)p->capacity, sizeof(packed_entry));
    if (!p->bias || !p->entries) { fail(dnnl_out_of_memory, "packed convolution allocation"); omni_conv2d_packed_free(p); return NULL; }
    if (bias) memcpy(p->bias, bias, sizeof(float) * (size_t)s->oc);
    else memset(p->bias, 0, sizeof(float) * (size_t)s->oc);
    // The weights' layout is the one the batch-1 primitive asks for; other batches reuse it when
    // theirs agrees (it depends on the kernel, rarely on the batch).
    packed_entry e;
    if (packed_pd(p, s->n > 0 ? s->n : 1, &e)) { omni_conv2d_packed_free(p); return NULL; }
    dnnl_memory_desc_t x, plain, b, y;
    if (conv_mds(s, &x, &plain, &b, &y) || reorder_weights(&plain, w, &e.w, &p->weights)) {
        dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd);
        omni_conv2d_packed_free(p);
        return NULL;
    }
    p->wmd = e.w;
    e.weights = p->weights;
    p->entries[p->count++] = e;
    return p;
}

void omni_conv2d_packed_free(omni_conv2d_packed *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) {
        packed_entry *e = &p->entries[i];
        if (e->weights && e->weights != p->weights) free(e->weights);
        dnnl_primitive_destroy(e->prim);
        dnnl_primitive_desc_destroy(e->pd);
    }
    free(p->entries);
    free(p->weights);
    free(p->bias);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int omni_conv2d_packed_forward(omni_conv2d_packed *p, int64_t n, const float *x, const float *residual, float *y) {
    if (n == 0) return 0;
    int nthr = omni_sync_omp_threads();
    int64_t ycount = n * p->s.oc * p->s.oh * p->s.ow;
    pthread_mutex_lock(&p->lock);
    packed_entry *found = NULL;
    for (int i = 0; i < p->count; i++)
        if (p->entries[i].n == n && p->entries[i].nthr == nthr) { found = &p->entries[i]; break; }
    if (!found) {
        packed_entry e;
        int rc = packed_pd(p, n, &e);
        if (!rc) {
            e.weights = p->weights;
            if (!dnnl_memory_desc_equal(&e.w, &p->wmd)) rc = reorder_weights(&p->wmd, p->weights, &e.w, &e.weights);
            if (rc) { dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd); }
        }
        if (!rc && p->count == p->capacity) {
            packed_entry *grown = realloc(p->entries, sizeof(packed_entry) * (size_t)(2 * p->capacity));
            if (!grown) {
                if (e.weights != p->weights) free(e.weights);
                dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd);
                rc = fail(dnnl_out_of_memory, "packed convolution entries");
            } else { p->entries = grown; p->capacity *= 2; }
        }
        if (rc) { pthread_mutex_unlock(&p->lock); return rc; }
        p->entries[p->count] = e;
        found = &p->entries[p->count++];
    }
    // Entries are only appended (never moved once found: copy what execution needs).
    packed_entry e = *found;
    pthread_mutex_unlock(&p->lock);
    if (p->has_residual) memcpy(y, residual, sizeof(float) * (size_t)ycount);  // the sum post-op adds to dst
    int kinds[4] = { DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST };
    dnnl_memory_desc_t mds[4] = { e.x, e.w, e.b, e.y };
    void *ptrs[4] = { (void *)x, e.weights, p->bias, y };
    return execute(e.prim, 4, kinds, mds, ptrs);
}

// ---- packed inference linear layers ---------------------------------------------------------------
// The Transformer analogue of the packed convolution: a Linear layer's weights reordered once into
// the layout oneDNN's matmul asks for (`format_tag any`) instead of being read through a transposed
// view (which the brgemm kernel repacks on every call), with the activation (GELU, …) and the
// residual addition of a Transformer block fused as post-ops. Primitives are made per (rows,
// thread count) and kept with the weights.
typedef struct {
    int64_t m; int nthr;
    dnnl_primitive_t prim; dnnl_primitive_desc_t pd;
    dnnl_memory_desc_t x, w, b, y, r;
    void *weights;  // == packed->weights, or a copy in this primitive's own layout
} linear_entry;

struct omni_linear_packed {
    int64_t n, k;
    int activation, has_residual;
    dnnl_memory_desc_t wmd;   // layout of `weights`
    void *weights;
    float *bias;              // NULL without bias
    pthread_mutex_t lock;
    linear_entry *entries; int count, capacity;
};

static int linear_eltwise(int activation, dnnl_alg_kind_t *alg, float *alpha) {
    *alpha = 0.f;
    switch (activation) {
    case OMNI_LINEAR_RELU: *alg = dnnl_eltwise_relu; return 1;
    case OMNI_LINEAR_GELU_ERF: *alg = dnnl_eltwise_gelu_erf; return 1;
    case OMNI_LINEAR_GELU_TANH: *alg = dnnl_eltwise_gelu_tanh; return 1;
    case OMNI_LINEAR_SILU: *alg = dnnl_eltwise_swish; *alpha = 1.f; return 1;
    case OMNI_LINEAR_TANH: *alg = dnnl_eltwise_tanh; return 1;
    case OMNI_LINEAR_SIGMOID: *alg = dnnl_eltwise_logistic; return 1;
    default: return 0;
    }
}

static int linear_pd(const struct omni_linear_packed *p, int64_t m, linear_entry *e) {
    dnnl_dims_t xd = { m, p->k }, yd = { m, p->n }, bd = { 1, p->n }, wd = { p->k, p->n };
    CHECK(dnnl_memory_desc_init_by_tag(&e->x, 2, xd, dnnl_f32, dnnl_ab), "memory_desc (packed linear src)");
    CHECK(dnnl_memory_desc_init_by_tag(&e->y, 2, yd, dnnl_f32, dnnl_ab), "memory_desc (packed linear dst)");
    CHECK(dnnl_memory_desc_init_by_tag(&e->r, 2, yd, dnnl_f32, dnnl_ab), "memory_desc (packed linear residual)");
    CHECK(dnnl_memory_desc_init_by_tag(&e->b, 2, bd, dnnl_f32, dnnl_ab), "memory_desc (packed linear bias)");
    dnnl_memory_desc_t wany;
    CHECK(dnnl_memory_desc_init_by_tag(&wany, 2, wd, dnnl_f32, dnnl_format_tag_any), "memory_desc (packed linear weights)");
    dnnl_matmul_desc_t d;
    CHECK(dnnl_matmul_desc_init(&d, &e->x, &wany, p->bias ? &e->b : NULL, &e->y), "matmul_desc_init (packed linear)");
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    if (!attr) return fail(dnnl_out_of_memory, "packed linear attributes");
    dnnl_post_ops_t po = NULL;
    dnnl_alg_kind_t alg; float alpha;
    dnnl_status_t st = dnnl_post_ops_create(&po);
    if (st == dnnl_success && linear_eltwise(p->activation, &alg, &alpha)) st = dnnl_post_ops_append_eltwise(po, 1.f, alg, alpha, 0.f);
    if (st == dnnl_success && p->has_residual) st = dnnl_post_ops_append_binary(po, dnnl_binary_add, &e->r);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&e->pd, &d, attr, engine(), NULL);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) return fail(st, "packed linear primitive_desc_create");
    e->w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
    st = dnnl_primitive_create(&e->prim, e->pd);
    if (st != dnnl_success) { dnnl_primitive_desc_destroy(e->pd); return fail(st, "packed linear primitive_create"); }
    e->m = m;
    e->nthr = omni_get_num_threads();
    return 0;
}

omni_linear_packed *omni_linear_pack(int64_t n, int64_t k, const float *w, const float *bias, int activation,
                                     int has_residual, int64_t m_hint) {
    omni_sync_omp_threads();
    if (n <= 0 || k <= 0) { fail(dnnl_invalid_arguments, "packed linear (empty weight)"); return NULL; }
    struct omni_linear_packed *p = calloc(1, sizeof *p);
    if (!p) { fail(dnnl_out_of_memory, "packed linear allocation"); return NULL; }
    p->n = n; p->k = k; p->activation = activation; p->has_residual = has_residual;
    pthread_mutex_init(&p->lock, NULL);
    p->capacity = 4;
    p->entries = calloc((size_t)p->capacity, sizeof(linear_entry));
    if (bias) p->bias = aligned_alloc_bytes(sizeof(float) * (size_t)n);
    if (!p->entries || (bias && !p->bias)) { fail(dnnl_out_of_memory, "packed linear allocation"); omni_linear_packed_free(p); return NULL; }
    if (bias) memcpy(p->bias, bias, sizeof(float) * (size_t)n);
    linear_entry e;
    if (linear_pd(p, m_hint > 0 ? m_hint : 1, &e)) { omni_linear_packed_free(p); return NULL; }
    // W [N, K] row-major is the matmul's [K, N] weights in column-major ("ba") order
    dnnl_memory_desc_t plain;
    dnnl_dims_t wd = { k, n };
    if (dnnl_memory_desc_init_by_tag(&plain, 2, wd, dnnl_f32, dnnl_ba) != dnnl_success
        || reorder_weights(&plain, w, &e.w, &p->weights)) {
        if (!p->weights) fail(dnnl_runtime_error, "packed linear weights reorder");
        dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd);
        omni_linear_packed_free(p);
        return NULL;
    }
    p->wmd = e.w;
    e.weights = p->weights;
    p->entries[p->count++] = e;
    return p;
}

void omni_linear_packed_free(omni_linear_packed *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) {
        linear_entry *e = &p->entries[i];
        if (e->weights && e->weights != p->weights) free(e->weights);
        dnnl_primitive_destroy(e->prim);
        dnnl_primitive_desc_destroy(e->pd);
    }
    free(p->entries);
    free(p->weights);
    free(p->bias);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int omni_linear_packed_forward(omni_linear_packed *p, int64_t m, const float *x, const float *residual, float *y) {
    if (m == 0) return 0;
    if (p->has_residual && !residual) return fail(dnnl_invalid_arguments, "packed linear (missing residual)");
    int nthr = omni_sync_omp_threads();
    pthread_mutex_lock(&p->lock);
    linear_entry *found = NULL;
    for (int i = 0; i < p->count; i++)
        if (p->entries[i].m == m && p->entries[i].nthr == nthr) { found = &p->entries[i]; break; }
    if (!found) {
        linear_entry e;
        int rc = linear_pd(p, m, &e);
        if (!rc) {
            e.weights = p->weights;
            if (!dnnl_memory_desc_equal(&e.w, &p->wmd)) rc = reorder_weights(&p->wmd, p->weights, &e.w, &e.weights);
            if (rc) { dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd); }
        }
        if (!rc && p->count == p->capacity) {
            linear_entry *grown = realloc(p->entries, sizeof(linear_entry) * (size_t)(2 * p->capacity));
            if (!grown) {
                if (e.weights != p->weights) free(e.weights);
                dnnl_primitive_destroy(e.prim); dnnl_primitive_desc_destroy(e.pd);
                rc = fail(dnnl_out_of_memory, "packed linear entries");
            } else { p->entries = grown; p->capacity *= 2; }
        }
        if (rc) { pthread_mutex_unlock(&p->lock); return rc; }
        p->entries[p->count] = e;
        found = &p->entries[p->count++];
    }
    linear_entry e = *found;   // entries may move when the array grows: copy what execution needs
    pthread_mutex_unlock(&p->lock);
    int kinds[5] = { DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, 0, 0 };
    dnnl_memory_desc_t mds[5] = { e.x, e.w, e.y };
    void *ptrs[5] = { (void *)x, e.weights, y };
    int n = 3;
    if (p->bias) { kinds[n] = DNNL_ARG_BIAS; mds[n] = e.b; ptrs[n++] = p->bias; }
    if (p->has_residual) {
        dnnl_alg_kind_t alg; float alpha;
        int index = linear_eltwise(p->activation, &alg, &alpha) ? 1 : 0;   // the binary post-op's position
        kinds[n] = DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1; mds[n] = e.r; ptrs[n++] = (void *)residual;
    }
    return execute(e.prim, n, kinds, mds, ptrs);
}
