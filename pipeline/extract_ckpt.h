/* Checkpoints of `saeg extract`: every accumulator (extract_priv.h) and where the stream of
 * cells stands, in OUTPUT/extract_checkpoint.safetensors, so an interrupted extraction resumes
 * and ends with the files an uninterrupted run writes, byte for byte.
 *
 *     struct sg_extract_ckpt_state s = {.next_cell = first, .truncated = t, .spool_bytes = b,
 *                                       .settings = json};
 *     sg_extract_ckpt_save(acc, path, &s);         // atomic: .tmp, fsync, rename
 *     sg_extract_ckpt_load(acc, path, &s);         // into accumulators made with the same opts
 *
 * `settings` is a JSON object of everything that decides the output (data, model, SAE, layer,
 * options); load refuses a checkpoint whose settings differ and names the first difference. */
#ifndef SG_PIPELINE_EXTRACT_CKPT_H
#define SG_PIPELINE_EXTRACT_CKPT_H

#include <stdint.h>

#include "core/status.h"
#include "pipeline/extract_priv.h"

struct sg_extract_ckpt_state {
    int64_t next_cell;   /* cells [0, next_cell) are in the accumulators */
    int64_t truncated;   /* tokens whose codes were cut at max_codes so far */
    int64_t spool_bytes; /* X_sae rows spooled so far (0 without --write-h5ad) */
    char *settings;      /* save: given; load: compared (not returned) */
};

sg_status sg_extract_ckpt_save(const struct sg_extract_acc *a, const char *path, const struct sg_extract_ckpt_state *s);
sg_status sg_extract_ckpt_load(struct sg_extract_acc *a, const char *path, struct sg_extract_ckpt_state *s);

#endif
