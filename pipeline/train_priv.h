/* Internals of the trainer: the step graph, checkpoints, the log. */
#ifndef SG_PIPELINE_TRAIN_PRIV_H
#define SG_PIPELINE_TRAIN_PRIV_H

#include <stdio.h>

#include "core/graph.h"
#include "core/sched.h"
#include "pipeline/pool.h"
#include "pipeline/train.h"

#define SG_TRAIN_MAX_PARAMS 5

/* Adam moments of the SAE's parameters, on the training device. */
struct sg_adam_state {
    int n;
    struct sg_tensor *param[SG_TRAIN_MAX_PARAMS];
    struct sg_tensor *m[SG_TRAIN_MAX_PARAMS], *v[SG_TRAIN_MAX_PARAMS];
    struct sg_ctx *ctx;
    struct sg_buffer_list bufs;
};
sg_status sg_adam_state_new(struct sg_sae *sae, struct sg_device *dev, struct sg_adam_state *out);
void sg_adam_state_free(struct sg_adam_state *a);

/* One training step as a graph: the architecture's loss, its gradients, projection of the
 * decoder gradient onto the tangent of the unit sphere (topk family), global-norm clipping,
 * Adam, and the decoder rows put back on the sphere. */
struct sg_step_graph {
    struct sg_ctx *ctx;
    struct sg_graph *graph;
    struct sg_sae_fwd fwd;
    struct sg_tensor *hparams; /* input F32 [SG_ADAM_N_PARAMS] */
    struct sg_tensor *grad_norm_sq;
    /* split (several ranks): `graph` ends at the gradients (grad[i], outputs, the decoder's
     * already projected); the caller sums them over the ranks into grad_in[i] and runs `update`:
     * clipping, Adam, renormalisation */
    struct sg_ctx *uctx;
    struct sg_graph *update;
    struct sg_tensor *grad[SG_TRAIN_MAX_PARAMS], *grad_in[SG_TRAIN_MAX_PARAMS];
};
sg_status sg_step_graph_build(struct sg_sae *sae, struct sg_adam_state *adam, int64_t batch, bool aux, bool split,
                              struct sg_step_graph *out);
void sg_step_graph_free(struct sg_step_graph *g);

/* Everything a checkpoint restores. */
/* train_health.c: which warnings about the run have been said */
struct sg_train_health {
    bool warned_silent, warned_dense, warned_dead;
};

struct sg_trainer {
    struct sg_train_opts o;
    struct sg_device *dev;
    struct sg_stream *stream;
    struct sg_cells *cells;
    struct sg_act_source *src, *own_src;
    struct sg_pool *pool;
    struct sg_sae *sae;
    struct sg_adam_state adam;
    struct sg_step_graph graphs[2]; /* [0] without aux-k, [1] with it */
    struct sg_sched *sched;
    int layer;
    int64_t d_in, warmup, penalty_warmup;
    double lr;
    /* progress */
    int64_t step; /* steps done */
    int64_t tokens_seen;
    int64_t *since_fired;  /* [d_sae] tokens since each latent last fired */
    double *window_fired;  /* [d_sae] firing counts in the current sparsity window */
    int64_t window_tokens; /* tokens in it */
    double elapsed_s;      /* training time before this process (resumed runs) */
    float *x, *fired, *dead;
    float *grads;               /* several ranks: the gradients on the host, all parameters back to back */
    int64_t batch_lo, batch_hi; /* this rank's rows of each batch */
    char model_fp[17], data_fp[17];
    struct sg_train_health health;
};

/* Warns (once each) when the interval's mean L0 or the dead fraction says the run is going
 * wrong in a way an option fixes. */
void sg_train_health(struct sg_train_health *h, const struct sg_trainer *t, double l0, double dead_fraction);

/* output/checkpoint.safetensors: weights, Adam moments, counters, the shuffle pool, and the
 * step, generator states and data position as JSON in the metadata. */
/* OUTPUT/checkpoint.safetensors */
void sg_checkpoint_path(const char *output, char *out, size_t cap);
sg_status sg_checkpoint_save(struct sg_trainer *t);
/* Restores it; refuses a checkpoint of a different SAE, data or model with a message. */
sg_status sg_checkpoint_load(struct sg_trainer *t);

/* training_log.jsonl */
struct sg_train_log {
    FILE *f;
    int64_t n; /* steps accumulated since the last line */
    double sum[SG_SAE_MAX_TERMS], loss, sse, sst, l0;
    double t_last;
    int64_t tokens_last;
};
/* Opens for appending; when resuming at `step`, drops the lines after it first. */
sg_status sg_train_log_open(struct sg_train_log *l, const char *path, int64_t resume_step);
void sg_train_log_close(struct sg_train_log *l);

#endif
