/* The activation cache (--cache-activations DIR): one pass of the model over the data written as
 * memory-mapped shards (DIR/shard_NNNNN.safetensors, "acts" [n, d_model] BF16 or F32) and a
 * manifest (DIR/manifest.json) naming the model, data, layer and token selection they came from,
 * so that several SAEs, or several epochs, reuse the pass. A cache made from anything else is
 * refused with a message saying what differs. The manifest is written last (temp + rename): a
 * folder without one holds an unfinished build and is rebuilt.
 *
 *     struct sg_act_cache_opts co = {.dir = "cache/l6", .cells = cells, .layer = 6,
 *                                    .tokens = SG_TOKENS_GENES, .batch_cells = 8,
 *                                    .stream = stream, .bf16 = true};
 *     struct sg_act_source *src;
 *     sg_act_cache_source(&co, &src);          // builds on first use, then reads the shards
 */
#ifndef SG_PIPELINE_ACT_CACHE_H
#define SG_PIPELINE_ACT_CACHE_H

#include <stdbool.h>

#include "pipeline/act_source.h"

struct sg_act_cache_opts {
    const char *dir;
    struct sg_cells *cells;
    int layer;
    enum sg_tokens tokens;
    int64_t batch_cells;
    struct sg_stream *stream;
    bool bf16;            /* shard dtype when building (an existing cache keeps its own) */
    int64_t shard_tokens; /* tokens per shard; 0: about 256 MiB per shard */
};

sg_status sg_act_cache_source(const struct sg_act_cache_opts *o, struct sg_act_source **out);

/* A 64-bit fingerprint of a file: its size and FNV-1a of its first and last MiB, as 16 hex
 * digits (cheap enough for multi-GB checkpoints, and it changes when the file is replaced). */
sg_status sg_file_fingerprint(const char *path, char out[17]);

#endif
