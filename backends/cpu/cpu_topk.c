/* TOP_K: indices of the k largest values of each row, best first. One pass over the row keeps
 * the k best seen so far in a heap whose root is the worst of them, so most elements cost one
 * comparison; the heap is then sorted. Ranking as torch.topk and the reference: NaN largest,
 * equal values by lower index. Rows are divided between threads. */
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
    return (size_t)nth * (sg_cpu_align_up(row) + sg_cpu_align_up(heap));
}

static void sg_cpu_topk_row(const float *x, int64_t N, int64_t k, struct sg_cpu_topk_item *h) {
    for (int64_t i = 0; i < k; i++) {
        h[i] = (struct sg_cpu_topk_item){x[i], (int32_t)i};
        /* sift up: keep the worst at the root */
        for (int64_t c = i; c > 0 && sg_cpu_topk_before(h[(c - 1) / 2], h[c]); c = (c - 1) / 2) {
            struct sg_cpu_topk_item t = h[c];
            h[c]                      = h[(c - 1) / 2];
            h[(c - 1) / 2]            = t;
        }
    }
    for (int64_t i = k; i < N; i++) {
        float v = x[i];
        /* a later index never wins a tie, so only larger values (or a NaN) can enter */
        if (!(v > h[0].v) && v == v) continue;
        struct sg_cpu_topk_item it = {v, (int32_t)i};
        if (!sg_cpu_topk_before(it, h[0])) continue;
        h[0] = it;
        sg_cpu_topk_sift(h, k, 0);
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
    int64_t r0, r1;
    sg_cpu_range(sg_nrows(dst), p->ith, p->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *xp  = sg_cpu_row_ptr(x, r);
        const float *xr = (const float *)xp;
        if (x->nb[0] != sizeof(float)) {
            sg_cpu_gather_f32(xp, x->nb[0], N, xrow);
            xr = xrow;
        }
        sg_cpu_topk_row(xr, N, k, heap);
        char *orow = sg_cpu_row_ptr(dst, r);
        for (int64_t j = 0; j < k; j++) memcpy(orow + (size_t)j * dst->nb[0], &heap[j].i, sizeof(int32_t));
    }
}
