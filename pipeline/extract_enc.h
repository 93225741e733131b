/* The SAE encoder as extraction runs it: codes (latent, activation) of any number of tokens.
 *
 *     struct sg_extract_enc e;
 *     sg_extract_enc_new(sae, stream, threads, 4096, 1024, &e);  // graph of 4096 tokens
 *     sg_extract_enc_run(&e, x, n, pad, idx, vals);              // n rows of d_in -> n × k_codes codes
 *     sg_extract_enc_free(&e);
 */
#ifndef SG_PIPELINE_EXTRACT_ENC_H
#define SG_PIPELINE_EXTRACT_ENC_H

#include "core/graph.h"
#include "core/sched.h"
#include "models/sae.h"

struct sg_extract_enc {
    struct sg_ctx *ctx;
    struct sg_graph *g;
    struct sg_sched *sched;
    struct sg_sae_enc enc; /* enc.batch tokens per pass, enc.k_codes codes per token */
};

/* max_codes: codes kept per token by non-TopK SAEs (TopK keeps k). */
sg_status sg_extract_enc_new(struct sg_sae *sae, struct sg_stream *stream, int threads, int64_t tokens, int max_codes,
                             struct sg_extract_enc *e);
/* Codes of n tokens (rows of x); pad holds enc.batch rows of scratch. */
sg_status sg_extract_enc_run(struct sg_extract_enc *e, const float *x, int64_t n, float *pad, int32_t *idx,
                             float *vals);
void sg_extract_enc_free(struct sg_extract_enc *e);

#endif
