/* Resuming `saeg embed`: what an output folder holds (nothing, a finished file, or an interrupted
 * run's embeddings.safetensors.tmp), and each rank's progress record beside it.
 *
 *     enum embed_start s;
 *     embed_output_check(dir, resume, overwrite, &s);          // refuses to replace work silently
 *     ...
 *     embed_progress_read(dir, &want, &next_row);              // s == EMBED_RESUME: where to go on
 *     sg_st_writer_sync(w); embed_progress_write(dir, &p);     // durable rows first, then the record
 *
 * A record says "rows [lo, next) of this rank are in the .tmp file": it is written (atomically)
 * only after those rows were synced, so a crash at any moment loses at most the rows since it. */
#ifndef SAEG_CLI_EMBED_RESUME_H
#define SAEG_CLI_EMBED_RESUME_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

enum embed_start {
    EMBED_FRESH,  /* write a new file */
    EMBED_RESUME, /* continue the interrupted run's .tmp file */
    EMBED_DONE,   /* --resume, but the file is complete: nothing to do */
};

struct embed_progress {
    int ranks, rank;
    int64_t batch, lo, hi; /* this rank's rows and the batch size they were cut into */
    int64_t next;          /* rows [lo, next) are written and synced */
};

/* Decides how a run into `dir` starts; an error says which flag the user needs. With
 * `overwrite`, rank 0 removes the old progress records (the old file stays until the new one
 * replaces it). */
sg_status embed_output_check(const char *dir, bool resume, bool overwrite, enum embed_start *out);
/* This rank's record: *next = want->lo when there is none (nothing of it was recorded); an error
 * when it was made by another rank count or batch size. */
sg_status embed_progress_read(const char *dir, const struct embed_progress *want, int64_t *next);
sg_status embed_progress_write(const char *dir, const struct embed_progress *p);
/* After the finished file is in place: this rank's record is obsolete. */
void embed_progress_remove(const char *dir, int rank);

#endif
