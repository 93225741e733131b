/* Internals shared by the evaluation files. */
#ifndef SG_PIPELINE_EVAL_PRIV_H
#define SG_PIPELINE_EVAL_PRIV_H

#include "core/graph.h"
#include "core/sched.h"
#include "pipeline/eval.h"

/* The SAE's inference graph for batches of `batch` tokens, planned on a stream. */
struct sg_eval_enc {
    struct sg_ctx *ctx;
    struct sg_graph *g;
    struct sg_sched *sched;
    struct sg_sae_enc e;
};
sg_status sg_eval_enc_new(struct sg_sae *sae, struct sg_stream *stream, int64_t batch, struct sg_eval_enc *r);
void sg_eval_enc_free(struct sg_eval_enc *r);

#endif
