/* The tokenizer must reproduce the reference collator bit for bit: GRADES from torch.linspace,
 * bins from torch.quantile + torch.bucketize + 1 (ties, zeros, negatives, constant cells), and
 * its own policy where the reference is random: seeded subsampling that keeps CLS and bins over
 * all genes first. Golden values: tests/models/fixtures/binning.safetensors (torch 1.13). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "io/safetensors.h"
#include "models/tahoe_x1.h"
#include "tests/test_util.h"

#define FIX "tests/models/fixtures/"

static struct sg_st_file *fix;

static void test_grades_equal_torch_linspace_bit_for_bit(void) {
    const struct sg_st_tensor *ns = sg_st_find(fix, "linspace_n");
    const float *want             = sg_st_find(fix, "linspace")->data;
    int64_t off = 0, bad = 0;
    for (int64_t i = 0; i < ns->shape[0]; i++) {
        int n = ((const int32_t *)ns->data)[i];
        float got[1024];
        tx1_linspace_f32(n, got);
        for (int k = 0; k < n; k++) bad += memcmp(&got[k], &want[off + k], sizeof(float)) != 0;
        off += n;
    }
    CHECK_MSG(bad == 0, "%lld grades differ from torch.linspace", (long long)bad);
}

static void test_binning_equals_reference_with_ties_zeros_and_negatives(void) {
    const struct sg_st_tensor *offs = sg_st_find(fix, "offsets");
    const int64_t *o                = offs->data;
    const float *vals               = sg_st_find(fix, "values")->data;
    const uint8_t *bins             = sg_st_find(fix, "bins")->data;
    int64_t n_cells = offs->shape[0] - 1, bad_cells = 0, bad = 0;
    float *out = malloc(4096 * sizeof(float)), *scratch = malloc(8192 * sizeof(float));
    for (int64_t c = 0; c < n_cells; c++) {
        int64_t n = o[c + 1] - o[c], wrong = 0;
        tx1_bin_values(vals + o[c], n, 51, false, out, scratch);
        for (int64_t i = 0; i < n; i++) wrong += out[i] != (float)bins[o[c] + i];
        bad += wrong;
        bad_cells += wrong > 0;
    }
    CHECK_MSG(bad == 0, "%lld values in %lld of %lld cells binned differently from torch", (long long)bad,
              (long long)bad_cells, (long long)n_cells);
    free(out);
    free(scratch);
}

static void test_bins_stay_in_range(void) {
    /* minimum -> 1, maximum -> 50, stored zeros -> 1 (bin 0 shifted), as the collator does */
    float x[6] = {0.0f, 3.0f, 1.0f, 7.0f, 3.0f, 0.0f}, out[6], scratch[12];
    tx1_bin_values(x, 6, 51, false, out, scratch);
    CHECK(out[0] == 1.0f && out[5] == 1.0f && out[2] == 1.0f && out[3] == 50.0f);
    CHECK(out[1] == 18.0f && out[4] == 18.0f); /* torch: [1, 18, 1, 50, 18, 1] */
}

static struct tx1_tokenizer tokenizer(int64_t context, uint64_t seed) {
    return (struct tx1_tokenizer){
        .cls_id = 1, .pad_id = 0, .pad_value = -2.0f, .num_bins = 51, .context = context, .seed = seed};
}

/* A cell of n genes (vocabulary ids 100 + i) with distinct values. */
static void make_cell(int64_t n, int32_t *ids, float *vals) {
    for (int64_t i = 0; i < n; i++) {
        ids[i]  = (int32_t)(100 + i);
        vals[i] = (float)((i * 37) % 101 + 1);
    }
}

static void test_short_cell_is_cls_then_genes_in_stored_order_then_padding(void) {
    struct tx1_tokenizer tk = tokenizer(16, 0);
    int32_t ids[5]          = {7, -1, 9, 4, -1}; /* -1: not in the vocabulary, dropped */
    float vals[5]           = {2, 5, 1, 2, 9};
    struct tx1_batch *b     = tx1_batch_new(2, 16);
    CHECK(tx1_batch_add(b, &tk, 42, ids, vals, 5) == SG_OK);
    CHECK(b->len[0] == 4 && b->seq == 4 && b->cell[0] == 42);
    CHECK(b->ids[0] == 1 && b->values[0] == -2.0f);
    CHECK(b->ids[1] == 7 && b->ids[2] == 9 && b->ids[3] == 4);
    /* torch gives [26, 1, 26] for values [2, 1, 2]: ties share a bin */
    CHECK(b->values[1] == 26.0f && b->values[2] == 1.0f && b->values[3] == 26.0f);
    for (int t = 4; t < 16; t++) CHECK(b->ids[t] == 0 && b->values[t] == -2.0f && b->key_mask[t] == SG_ATTN_KEY_HIDDEN);
    for (int t = 0; t < 4; t++) CHECK(b->key_mask[t] == SG_ATTN_KEY_VISIBLE && b->gen[t] == 0.0f);
    tx1_batch_free(b);
}

static void test_long_cell_keeps_cls_and_a_seeded_subset_binned_over_all_genes(void) {
    enum { N = 300, CTX = 64 };
    int32_t ids[N];
    float vals[N], full_bins[N], scratch[2 * N];
    make_cell(N, ids, vals);
    tx1_bin_values(vals, N, 51, false, full_bins, scratch);
    struct tx1_tokenizer tk = tokenizer(CTX, 7);
    struct tx1_batch *b     = tx1_batch_new(4, CTX);
    CHECK(tx1_batch_add(b, &tk, 5, ids, vals, N) == SG_OK);
    CHECK(b->len[0] == CTX && b->ids[0] == 1 && b->values[0] == -2.0f);
    int order_ok = 1, bins_ok = 1;
    for (int t = 1; t < CTX; t++) {
        int32_t g = b->ids[t];
        if (t > 1 && g <= b->ids[t - 1]) order_ok = 0; /* kept in stored order, no repeats */
        if (g < 100 || g >= 100 + N || b->values[t] != full_bins[g - 100]) bins_ok = 0;
    }
    CHECK(order_ok);
    CHECK_MSG(bins_ok, "subsampled genes must carry the bins computed over all %d genes", N);

    /* the same cell gets the same genes wherever it sits in a batch; another cell or seed differs */
    int32_t first[CTX];
    memcpy(first, b->ids, sizeof first);
    CHECK(tx1_batch_add(b, &tk, 5, ids, vals, N) == SG_OK);
    CHECK(memcmp(first, b->ids + CTX, sizeof first) == 0);
    CHECK(tx1_batch_add(b, &tk, 6, ids, vals, N) == SG_OK);
    CHECK(memcmp(first, b->ids + 2 * CTX, sizeof first) != 0);
    struct tx1_tokenizer tk2 = tokenizer(CTX, 8);
    CHECK(tx1_batch_add(b, &tk2, 5, ids, vals, N) == SG_OK);
    CHECK(memcmp(first, b->ids + 3 * CTX, sizeof first) != 0);
    CHECK(tx1_batch_add(b, &tk, 5, ids, vals, N) == SG_ERR_INVALID_ARG); /* batch full */
    tx1_batch_free(b);
}

static void test_non_finite_value_names_the_cell(void) {
    struct tx1_tokenizer tk = tokenizer(8, 0);
    int32_t ids[2]          = {3, 4};
    float vals[2]           = {1.0f, 1.0f / 0.0f};
    struct tx1_batch *b     = tx1_batch_new(1, 8);
    CHECK(tx1_batch_add(b, &tk, 17, ids, vals, 2) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "cell 17");
    tx1_batch_free(b);
}

static void test_gene_lookup_strips_ensembl_versions(void) {
    const char *tokens[] = {"<pad>", "<cls>", "ENSG00000000003", "ENSG00000000005.2", "ENSG00000000419"};
    struct tx1_vocab *v;
    CHECK(tx1_vocab_from_tokens(tokens, 5, &v) == SG_OK);
    CHECK(tx1_vocab_lookup_gene(v, "ENSG00000000003.10") == 2);
    CHECK(tx1_vocab_lookup_gene(v, "ENSG00000000003") == 2);
    CHECK(tx1_vocab_lookup_gene(v, "ENSG00000000005.2") == 3);   /* an exact token wins */
    CHECK(tx1_vocab_lookup_gene(v, "ENSG00000000419.x1") == -1); /* not a version suffix */
    CHECK(tx1_vocab_lookup_gene(v, "TSPAN6") == -1);
    CHECK(tx1_vocab_lookup(v, "<cls>") == 1);
    tx1_vocab_free(v);
}

int main(void) {
    if (sg_st_open(FIX "binning.safetensors", &fix) != SG_OK) {
        fprintf(stderr, "%s\n", sg_last_error());
        return 1;
    }
    RUN_TEST(test_grades_equal_torch_linspace_bit_for_bit);
    RUN_TEST(test_binning_equals_reference_with_ties_zeros_and_negatives);
    RUN_TEST(test_bins_stay_in_range);
    RUN_TEST(test_short_cell_is_cls_then_genes_in_stored_order_then_padding);
    RUN_TEST(test_long_cell_keeps_cls_and_a_seeded_subset_binned_over_all_genes);
    RUN_TEST(test_non_finite_value_names_the_cell);
    RUN_TEST(test_gene_lookup_strips_ensembl_versions);
    sg_st_close(fix);
    return test_exit_code();
}
