/* Cells to tokens exactly as the reference collator does (tahoe_x1/data/collator.py):
 * vocabulary genes in stored order, CLS first with the pad value, per-cell quantile bins,
 * subsampling above the context, padding. The binning replicates torch's float32 arithmetic
 * bit for bit; see docs/models.md for how each step was checked against torch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "models/tahoe_x1.h"

/* torch.linspace(0, 1, n, dtype=float32) on the CPU: the kernel fills vectors of 8 lanes from a
 * base (start + step*i, or end - step*(n-1-i) past halfway, each one fused multiply-add) plus
 * lane*step, two vectors per iteration, and finishes the tail one element at a time. Checked
 * bit for bit against torch for n = 2..600 (tests/models fixtures). */
void tx1_linspace_f32(int n, float *out) {
    if (n <= 0) return;
    if (n == 1) {
        out[0] = 0.0f;
        return;
    }
    const float step = 1.0f / (float)(n - 1);
    const int half = n / 2, lanes = 8, vec_end = n / (2 * lanes) * (2 * lanes);
    for (int i = 0; i < n; i++) {
        int base_i = i < vec_end ? i / lanes * lanes : i;
        float base = base_i < half ? fmaf(step, (float)base_i, 0.0f) : fmaf(-step, (float)(n - 1 - base_i), 1.0f);
        out[i]     = i < vec_end ? base + (float)(i - base_i) * step : base;
    }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* torch.quantile(sorted, q) with linear interpolation, in float32: rank = q*(n-1), then
 * lerp(lo, hi, w) as torch's CPU kernel computes it (fused: w < 0.5 ? a + w(b-a) : b + (w-1)(b-a)). */
static float quantile_sorted(const float *s, int64_t n, float q) {
    float rank = q * (float)(n - 1);
    int64_t lo = (int64_t)rank;
    int64_t hi = (int64_t)ceilf(rank);
    float w    = rank - (float)lo;
    float a = s[lo], b = s[hi], d = b - a;
    return fabsf(w) < 0.5f ? fmaf(w, d, a) : fmaf(w - 1.0f, d, b);
}

/* torch.bucketize: right=False counts the edges < x, right=True the edges <= x. */
static int bucketize(const float *edges, int n, float x, bool right) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (right ? edges[mid] <= x : edges[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void tx1_bin_values(const float *x, int64_t n, int num_bins, bool right, float *out, float *scratch) {
    if (n <= 0) return;
    float grades[1024], edges[1024];
    const int n_edges = num_bins - 1;
    tx1_linspace_f32(n_edges, grades);

    float min = x[0];
    for (int64_t i = 1; i < n; i++) min = x[i] < min ? x[i] : min;
    /* when any value is <= 0 the quantiles use the nonzero entries only, and zeros get bin 0 */
    const bool skip_zeros = min <= 0.0f;
    int64_t m             = 0;
    for (int64_t i = 0; i < n; i++)
        if (!skip_zeros || x[i] != 0.0f) scratch[m++] = x[i];
    if (m > 0) {
        qsort(scratch, (size_t)m, sizeof(float), cmp_float);
        for (int e = 0; e < n_edges; e++) edges[e] = quantile_sorted(scratch, m, grades[e]);
    }
    const int shift = right ? 0 : 1; /* left bins start at 0; the reference adds 1 */
    for (int64_t i = 0; i < n; i++) {
        int bin = (skip_zeros && x[i] == 0.0f) || m == 0 ? 0 : bucketize(edges, n_edges, x[i], right);
        out[i]  = (float)(bin + shift);
    }
}

void tx1_tokenizer_init(struct tx1_tokenizer *tk, const struct tx1_model *m, int64_t context, uint64_t seed) {
    tk->cls_id        = m->cls_id;
    tk->pad_id        = m->cfg.pad_token_id;
    tk->pad_value     = m->cfg.pad_value;
    tk->num_bins      = m->cfg.num_bins;
    tk->right_binning = m->cfg.right_binning;
    tk->context       = context;
    tk->seed          = seed;
}

int64_t tx1_tokenizer_count(const struct tx1_tokenizer *tk, int64_t n_genes) {
    return 1 + n_genes < tk->context ? 1 + n_genes : tk->context;
}

/* ---- batches ---------------------------------------------------------------------------- */

struct tx1_batch *tx1_batch_new(int64_t cap_batch, int64_t cap_seq) {
    struct tx1_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size_t n     = (size_t)(cap_batch * cap_seq);
    b->cap_batch = cap_batch;
    b->cap_seq   = cap_seq;
    b->ids       = malloc(n * sizeof *b->ids);
    b->values    = malloc(n * sizeof *b->values);
    b->key_mask  = malloc(n * sizeof *b->key_mask);
    b->gen       = calloc(n, sizeof *b->gen);
    b->cell      = calloc((size_t)cap_batch, sizeof *b->cell);
    b->len       = calloc((size_t)cap_batch, sizeof *b->len);
    b->entry     = malloc(n * sizeof *b->entry);
    if (!b->ids || !b->values || !b->key_mask || !b->gen || !b->cell || !b->len || !b->entry) {
        tx1_batch_free(b);
        return NULL;
    }
    return b;
}

void tx1_batch_free(struct tx1_batch *b) {
    if (!b) return;
    free(b->ids);
    free(b->values);
    free(b->key_mask);
    free(b->gen);
    free(b->cell);
    free(b->len);
    free(b->entry);
    free(b->scratch);
    free(b->pick);
    free(b);
}

void tx1_batch_clear(struct tx1_batch *b) {
    b->n_cells = 0;
    b->seq     = 0;
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Chooses k of n positions, seeded by (seed, cell) so a cell gets the same genes whatever batch
 * it lands in; the chosen genes keep their stored order (order does not matter to the model,
 * which has no positions). */
static void pick_genes(uint64_t seed, int64_t cell, int64_t n, int64_t k, int64_t *idx) {
    uint64_t s = seed ^ (0xd1b54a32d192ed03ull * (uint64_t)(cell + 1));
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    for (int64_t i = 0; i < k; i++) {
        int64_t j = i + (int64_t)(splitmix64(&s) % (uint64_t)(n - i));
        int64_t t = idx[i];
        idx[i]    = idx[j];
        idx[j]    = t;
    }
    qsort(idx, (size_t)k, sizeof *idx, cmp_i64);
}

static sg_status reserve(struct tx1_batch *b, int64_t n) {
    /* scratch: gene values, their bins, and binning's sort buffer (2n); picks, genes, entries */
    size_t need = (size_t)n * 4 + 1;
    float *s    = realloc(b->scratch, need * sizeof *s);
    if (!s) return sg_error(SG_ERR_NO_MEMORY, "tokenizer: out of memory for %lld genes", (long long)n);
    b->scratch = s;
    int64_t *p = realloc(b->pick, ((size_t)n * 3 + 1) * sizeof *p);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "tokenizer: out of memory for %lld genes", (long long)n);
    b->pick = p;
    return SG_OK;
}

sg_status tx1_batch_add(struct tx1_batch *b, const struct tx1_tokenizer *tk, int64_t cell, const int32_t *gene_ids,
                        const float *values, int64_t n) {
    if (b->n_cells >= b->cap_batch)
        return sg_error(SG_ERR_INVALID_ARG, "tokenizer: the batch of %lld cells is full", (long long)b->cap_batch);
    sg_status st = reserve(b, n);
    if (st != SG_OK) return st;
    /* the cell's vocabulary genes, in stored order */
    float *vals = b->scratch, *bins = b->scratch + n, *sort_buf = b->scratch + 2 * n;
    int64_t *genes = b->pick + n, m = 0;
    int64_t *src = b->pick + 2 * n; /* each kept gene's input entry */
    for (int64_t i = 0; i < n; i++) {
        if (gene_ids[i] < 0) continue;
        if (!isfinite(values[i]))
            return sg_error(SG_ERR_FORMAT, "cell %lld: expression value %g is not finite", (long long)cell, values[i]);
        genes[m] = gene_ids[i];
        vals[m]  = values[i];
        src[m]   = i;
        m++;
    }
    /* binning sees every gene of the cell, before subsampling */
    tx1_bin_values(vals, m, tk->num_bins, tk->right_binning, bins, sort_buf);

    const int64_t len = tx1_tokenizer_count(tk, m), k = len - 1, S = b->cap_seq;
    if (len > S)
        return sg_error(SG_ERR_INVALID_ARG, "tokenizer: %lld tokens exceed the batch length %lld", (long long)len,
                        (long long)S);
    int64_t *pick = b->pick;
    if (k < m)
        pick_genes(tk->seed, cell, m, k, pick);
    else
        for (int64_t i = 0; i < m; i++) pick[i] = i;

    const int64_t c = b->n_cells;
    int32_t *ids    = b->ids + c * S;
    float *v = b->values + c * S, *g = b->gen + c * S;
    int32_t *mask  = b->key_mask + c * S;
    int32_t *entry = b->entry + c * S;
    ids[0]         = (int32_t)tk->cls_id;
    v[0]           = tk->pad_value;
    entry[0]       = -1;
    for (int64_t t = 1; t < len; t++) {
        ids[t]   = (int32_t)genes[pick[t - 1]];
        v[t]     = bins[pick[t - 1]];
        entry[t] = (int32_t)src[pick[t - 1]];
    }
    for (int64_t t = 0; t < S; t++) {
        if (t >= len) {
            ids[t]   = (int32_t)tk->pad_id;
            v[t]     = tk->pad_value;
            entry[t] = -1;
        }
        mask[t] = t < len ? SG_ATTN_KEY_VISIBLE : SG_ATTN_KEY_HIDDEN;
        g[t]    = 0.0f;
    }
    b->cell[c] = cell;
    b->len[c]  = len;
    b->n_cells++;
    if (len > b->seq) b->seq = len;
    return SG_OK;
}
