/* Exact streaming top-k: a min-heap whose root is the worst of the k best entries seen so far,
 * so each offer costs O(log k) and the result does not depend on the order of the offers. */
#include <stdlib.h>

#include "pipeline/extract_priv.h"

/* a ranks below b: lower score, or the same score and a higher id */
static int worse(const struct sg_topk_entry *a, const struct sg_topk_entry *b) {
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

static void sift_down(struct sg_topk_entry *e, int32_t n, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&e[l], &e[m])) m = l;
        if (r < n && worse(&e[r], &e[m])) m = r;
        if (m == i) return;
        struct sg_topk_entry t = e[i];
        e[i]                   = e[m];
        e[m]                   = t;
        i                      = m;
    }
}

void sg_topk_push(struct sg_topk *h, double score, int64_t id, float extra) {
    if (h->cap <= 0) return;
    struct sg_topk_entry x = {.score = score, .id = id, .extra = extra};
    if (h->n < h->cap) {
        int32_t i = h->n++;
        while (i > 0) {
            int32_t parent = (i - 1) / 2;
            if (!worse(&x, &h->e[parent])) break;
            h->e[i] = h->e[parent];
            i       = parent;
        }
        h->e[i] = x;
        return;
    }
    if (!worse(&h->e[0], &x)) return;
    h->e[0] = x;
    sift_down(h->e, h->n, 0);
}

static int best_first(const void *pa, const void *pb) {
    const struct sg_topk_entry *a = pa, *b = pb;
    return worse(b, a) ? -1 : worse(a, b) ? 1 : 0;
}

void sg_topk_sort(struct sg_topk *h) {
    if (h->n > 1) qsort(h->e, (size_t)h->n, sizeof *h->e, best_first);
}
