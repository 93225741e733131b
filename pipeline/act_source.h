/* Streams of token activations for SAE training: the residual stream of Tahoe X1 at one layer,
 * computed on the fly from an h5ad (sg_act_source_model) or read back from an activation cache
 * (pipeline/act_cache.h). A source is endless: after the last token it starts a new epoch.
 *
 *     struct sg_act_source *src;
 *     struct sg_act_model_opts mo = {.cells = cells, .layer = 6, .tokens = SG_TOKENS_GENES,
 *                                    .batch_cells = 8, .stream = stream};
 *     sg_act_source_model(&mo, &src);
 *     src->read(src, rows, 4096, NULL);           // 4096 rows of src->d floats
 *     struct sg_act_pos p = src->tell(src);       // saved in checkpoints
 *     src->seek(src, p);                          // continues exactly there
 *     src->free(src);
 */
#ifndef SG_PIPELINE_ACT_SOURCE_H
#define SG_PIPELINE_ACT_SOURCE_H

#include <stdint.h>

#include "core/backend.h"
#include "core/status.h"
#include "pipeline/cells.h"

/* Which tokens of a cell feed the SAE; padding never does. */
enum sg_tokens {
    SG_TOKENS_GENES = 0, /* every gene token (not CLS) */
    SG_TOKENS_CLS,       /* only the CLS token: one per cell */
    SG_TOKENS_ALL,       /* CLS and genes */
};
const char *sg_tokens_name(enum sg_tokens t);
sg_status sg_tokens_parse(const char *s, enum sg_tokens *out);

/* A position in the data: epoch, then item (first cell of a model batch, or a cache's token)
 * and tokens already served from that item. */
struct sg_act_pos {
    int64_t epoch, item, offset;
};

struct sg_act_source {
    int64_t d;        /* floats per token */
    int64_t n_tokens; /* tokens per epoch, or -1 until one epoch is done (model source) */
    /* n rows into dst (row-major, d floats each). got NULL: exactly n, wrapping to a new epoch
     * as needed; otherwise stops at the end of the epoch (*got < n; the position moves on to
     * the next epoch's start). */
    sg_status (*read)(struct sg_act_source *s, float *dst, int64_t n, int64_t *got);
    struct sg_act_pos (*tell)(const struct sg_act_source *s);
    sg_status (*seek)(struct sg_act_source *s, struct sg_act_pos pos);
    void (*free)(struct sg_act_source *s);
};

/* The residual stream after block `layer`, computed batch by batch of cells. `cells` and
 * `stream` are borrowed. */
struct sg_act_model_opts {
    struct sg_cells *cells;
    int layer;
    enum sg_tokens tokens;
    int64_t batch_cells; /* cells per forward pass */
    struct sg_stream *stream;
};
sg_status sg_act_source_model(const struct sg_act_model_opts *o, struct sg_act_source **out);

/* Copies the tokens of cell i of a model batch chosen by `tokens` (rows of d floats) from the
 * runner's residual stream [cell][seq][d] into dst; returns how many. */
int64_t sg_act_select_tokens(enum sg_tokens tokens, const float *resid, int64_t seq, int64_t d, int64_t cell,
                             int64_t len, float *dst);

#endif
