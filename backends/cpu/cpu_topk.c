/* TOP_K: indices of the k largest values of each row, best first. A heap whose root is the worst
 * of the k best seen so far takes the candidates, most elements costing one comparison; the heap
 * is then sorted. In long rows without NaN (an SAE's pre-activations: k = 64 of 16384) a first
 * vector pass finds a lower bound of the k-th largest, the smallest of k block maxima, and only
 * elements reaching it go to the heap. Ranking as torch.topk and the reference: NaN largest,
 * equal values by lower index. Rows are divided between threads. */
#include <math.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

struct sg_cpu_topk_item {
    float v;
    int32_t i;
};

static inline bool sg_cpu_topk_before(struct sg_cpu_topk_item a, struct sg_cpu_topk_item b) {
    bool an = a.v != a.v, bn = b.v != b.v;
    if (an != bn) return an;
    if (!an && a.v != b.v) return a.v > b.v;
    return a.i < b.i;
}

/* Restores the heap below position `at` (the root is the item every other ranks before). */
static void sg_cpu_topk_sift(struct sg_cpu_topk_item *h, int64_t n, int64_t at) {
    for (;;) {
        int64_t l = 2 * at + 1, r = l + 1, worst = at;
        if (l < n && sg_cpu_topk_before(h[worst], h[l])) worst = l;
        if (r < n && sg_cpu_topk_before(h[worst], h[r])) worst = r;
        if (worst == at) return;
        struct sg_cpu_topk_item t = h[at];
        h[at]                     = h[worst];
        h[worst]                  = t;
        at                        = worst;
    }
}

size_t sg_cpu_top_k_work_size(const struct sg_tensor *node, int nth) {
    size_t row  = (size_t)node->src[0]->ne[0] * sizeof(float);
    size_t heap = (size_t)node->ne[0] * sizeof(struct sg_cpu_topk_item);
    size_t cand = (size_t)node->src[0]->ne[0] * sizeof(struct sg_cpu_topk_item);
    return (size_t)nth * (sg_cpu_align_up(row) + sg_cpu_align_up(heap) + sg_cpu_align_up(cand));
}

/* Offers x[i] = v to the heap of the k best so far. */
static inline void sg_cpu_topk_offer(struct sg_cpu_topk_item *h, int64_t k, float v, int64_t i) {
    /* a later index never wins a tie, so only larger values (or a NaN) can enter */
    if (!(v > h[0].v) && v == v) return;
    struct sg_cpu_topk_item it = {v, (int32_t)i};
    if (!sg_cpu_topk_before(it, h[0])) return;
    h[0] = it;
    sg_cpu_topk_sift(h, k, 0);
}

/* Could any of x[0..16) enter a heap whose worst value is `worst` (larger, or NaN)? */
static inline bool sg_cpu_topk_block_may_enter(const float *x, float worst) {
    int any = 0;
    for (int q = 0; q < 16; q++) any |= (x[q] > worst) | (x[q] != x[q]);
    return any != 0;
}

/* The k best of n items (in increasing index order) into the heap h, best first. */
static void sg_cpu_topk_items(const struct sg_cpu_topk_item *c, int64_t n, int64_t k, struct sg_cpu_topk_item *h) {
    for (int64_t i = 0; i < k; i++) {
        h[i] = c[i];
        /* sift up: keep the worst at the root */
        for (int64_t q = i; q > 0 && sg_cpu_topk_before(h[(q - 1) / 2], h[q]); q = (q - 1) / 2) {
            struct sg_cpu_topk_item t = h[q];
            h[q]                      = h[(q - 1) / 2];
            h[(q - 1) / 2]            = t;
        }
    }
    for (int64_t i = k; i < n; i++) sg_cpu_topk_offer(h, k, c[i].v, c[i].i);
}

/* 16 floats as one value: GCC lowers the arithmetic below to AVX-512, AVX2 or SSE per clone. */
typedef float sg_cpu_topk_v16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t sg_cpu_topk_m16 __attribute__((vector_size(64), aligned(4)));

/* The k-th largest of n floats without NaN (n > k; reorders v): a quickselect. */
static float sg_cpu_topk_kth(float *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, want = k - 1; /* descending order: position k - 1 */
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] > pivot) i++;
            while (v[j] < pivot) j--;
            if (i <= j) {
                float t = v[i];
                v[i++]  = v[j];
                v[j--]  = t;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    return v[want];
}

/* A value no larger than the k-th largest of x: the k-th largest of the maxima of 2k blocks (k
 * distinct elements are at least that large), which few other elements reach. Sets *nan when x
 * holds a NaN (the bound is then meaningless). bm holds 2k floats. */
static inline float sg_cpu_topk_floor(const float *x, int64_t N, int64_t k, bool *nan, float *bm) {
    const int64_t nb = 2 * k, bs = N / nb;
    sg_cpu_topk_m16 bad = {0};
    for (int64_t b = 0; b < nb; b++) {
        const float *p    = x + b * bs;
        const int64_t n   = b == nb - 1 ? N - b * bs : bs;
        sg_cpu_topk_v16 m = {0};
        for (int q = 0; q < 16; q++) m[q] = -INFINITY;
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            sg_cpu_topk_v16 v;
            memcpy(&v, p + i, sizeof v);
            sg_cpu_topk_m16 gt = v > m;
            m                  = (sg_cpu_topk_v16)(((sg_cpu_topk_m16)v & gt) | ((sg_cpu_topk_m16)m & ~gt));
            bad |= v != v; /* NOLINT(misc-redundant-expression): the NaN test */
        }
        float mb = m[0];
        for (int q = 1; q < 16; q++) mb = m[q] > mb ? m[q] : mb;
        for (; i < n; i++) {
            mb = p[i] > mb ? p[i] : mb;
            bad[0] |= p[i] != p[i]; /* NOLINT(misc-redundant-expression): the NaN test */
        }
        bm[b] = mb;
    }
    int32_t any = 0;
    for (int q = 0; q < 16; q++) any |= bad[q];
    *nan = any != 0;
    return *nan ? 0.0f : sg_cpu_topk_kth(bm, nb, k);
}

/* The elements of x reaching lo, in index order, into cand; returns how many. With AVX2 a
 * vector compare gives an 8-bit mask and only its set bits are visited. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static int64_t sg_cpu_topk_collect_avx2(const float *x, int64_t N, float lo,
                                                                        struct sg_cpu_topk_item *cand) {
    const __m256 l = _mm256_set1_ps(lo);
    int64_t n = 0, i = 0;
    for (; i + 8 <= N; i += 8) {
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), l, _CMP_GE_OQ));
        while (m) {
            int j     = __builtin_ctz(m);
            cand[n++] = (struct sg_cpu_topk_item){x[i + j], (int32_t)(i + j)};
            m &= m - 1;
        }
    }
    for (; i < N; i++)
        if (x[i] >= lo) cand[n++] = (struct sg_cpu_topk_item){x[i], (int32_t)i};
    return n;
}
#endif

static int64_t sg_cpu_topk_collect(const float *x, int64_t N, float lo, struct sg_cpu_topk_item *cand) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) return sg_cpu_topk_collect_avx2(x, N, lo, cand);
#endif
    int64_t n = 0;
    for (int64_t i = 0; i < N; i++)
        if (x[i] >= lo) cand[n++] = (struct sg_cpu_topk_item){x[i], (int32_t)i};
    return n;
}

/* Cloned per instruction set so that the vector scans above inline into it. */
SG_CPU_CLONES static void sg_cpu_topk_row(const float *x, int64_t N, int64_t k, struct sg_cpu_topk_item *h,
                                          struct sg_cpu_topk_item *cand) {
    /* long rows without NaN: only elements at or above a lower bound of the k-th largest can be
     * chosen; collecting them first (in index order) leaves the heap a few hundred items */
    bool nan = false, long_row = N >= 32 * k;
    float lo = long_row ? sg_cpu_topk_floor(x, N, k, &nan, (float *)cand) : 0.0f;
    if (long_row && !nan) {
        int64_t n = sg_cpu_topk_collect(x, N, lo, cand);
        sg_cpu_topk_items(cand, n, k, h);
    } else {
        for (int64_t i = 0; i < k; i++) cand[i] = (struct sg_cpu_topk_item){x[i], (int32_t)i};
        sg_cpu_topk_items(cand, k, k, h);
        int64_t i = k;
        /* blocks of 16 where nothing can enter are skipped with one vector compare: most of a long
         * row once the heap holds good candidates */
        for (; i + 16 <= N; i += 16) {
            if (!sg_cpu_topk_block_may_enter(x + i, h[0].v)) continue;
            for (int64_t q = i; q < i + 16; q++) sg_cpu_topk_offer(h, k, x[q], q);
        }
        for (; i < N; i++) sg_cpu_topk_offer(h, k, x[i], i);
    }
    /* heap sort: moving the worst to the back leaves the best first */
    for (int64_t n = k - 1; n > 0; n--) {
        struct sg_cpu_topk_item t = h[0];
        h[0]                      = h[n];
        h[n]                      = t;
        sg_cpu_topk_sift(h, n, 0);
    }
}

void sg_cpu_top_k_compute(const struct sg_cpu_params *p, struct sg_tensor *dst) {
    const struct sg_tensor *x = dst->src[0];
    int64_t N = x->ne[0], k = dst->ne[0];
    char *w                       = sg_cpu_thread_scratch(p, sg_cpu_top_k_work_size(dst, 1));
    float *xrow                   = (float *)w;
    struct sg_cpu_topk_item *heap = (struct sg_cpu_topk_item *)(w + sg_cpu_align_up((size_t)N * sizeof(float)));
    struct sg_cpu_topk_item *cand =
        (struct sg_cpu_topk_item *)((char *)heap + sg_cpu_align_up((size_t)k * sizeof(struct sg_cpu_topk_item)));
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *xp  = sg_cpu_row_ptr(x, r);
        const float *xr = (const float *)xp;
        if (x->nb[0] != sizeof(float)) {
            sg_cpu_gather_f32(xp, x->nb[0], N, xrow);
            xr = xrow;
        }
        sg_cpu_topk_row(xr, N, k, heap, cand);
        char *orow = sg_cpu_row_ptr(dst, r);
        for (int64_t j = 0; j < k; j++) memcpy(orow + (size_t)j * dst->nb[0], &heap[j].i, sizeof(int32_t));
    }
}
