/* X_sae row spool (extract_spool.h). A record: int64 row, int64 n, int32 cols[n], float vals[n],
 * in host byte order (the file never leaves the run that wrote it). */
#include "pipeline/extract_spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sg_spool {
    FILE *f;
    char *path;
    int64_t bytes; /* written so far */
};

static sg_status io_error(const struct sg_spool *s, const char *what) {
    return sg_error(SG_ERR_IO, "%s: %s: %s", s->path, what, strerror(errno));
}

sg_status sg_spool_open(const char *path, int64_t resume_bytes, struct sg_spool **out) {
    *out               = NULL;
    struct sg_spool *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    }
    sg_status st = SG_OK;
    if (resume_bytes < 0) {
        s->f = fopen(path, "w+b");
        if (!s->f) st = io_error(s, "cannot create");
    } else {
        struct stat sb;
        s->f = fopen(path, "r+b");
        if (!s->f)
            st = io_error(s, "cannot open the interrupted run's X_sae rows");
        else if (fstat(fileno(s->f), &sb) != 0 || sb.st_size < resume_bytes)
            st = sg_error(SG_ERR_INVALID_ARG, "%s: shorter than the checkpoint says (%lld < %lld bytes)", path,
                          (long long)sb.st_size, (long long)resume_bytes);
        else if (ftruncate(fileno(s->f), (off_t)resume_bytes) != 0 || fseeko(s->f, (off_t)resume_bytes, SEEK_SET) != 0)
            st = io_error(s, "cannot cut back to the checkpoint");
        s->bytes = resume_bytes;
    }
    if (st != SG_OK) {
        sg_spool_close(s, false);
        return st;
    }
    setvbuf(s->f, NULL, _IOFBF, 1 << 20);
    *out = s;
    return SG_OK;
}

sg_status sg_spool_row(struct sg_spool *s, int64_t row, const int32_t *cols, const float *vals, int64_t n) {
    const int64_t head[2] = {row, n};
    if (fwrite(head, sizeof head, 1, s->f) != 1 || (n && fwrite(cols, 4, (size_t)n, s->f) != (size_t)n) ||
        (n && fwrite(vals, 4, (size_t)n, s->f) != (size_t)n))
        return io_error(s, "write failed");
    s->bytes += (int64_t)sizeof head + 8 * n;
    return SG_OK;
}

sg_status sg_spool_sync(struct sg_spool *s, int64_t *bytes) {
    if (fflush(s->f) != 0 || (fdatasync(fileno(s->f)) != 0 && errno != EINVAL)) return io_error(s, "flush failed");
    *bytes = s->bytes;
    return SG_OK;
}

sg_status sg_spool_replay(struct sg_spool *s, struct sg_h5ad_obsm *w) {
    if (fflush(s->f) != 0 || fseeko(s->f, 0, SEEK_SET) != 0) return io_error(s, "cannot read back");
    int32_t *cols = NULL;
    float *vals   = NULL;
    int64_t cap = 0, at = 0;
    sg_status st = SG_OK;
    while (st == SG_OK && at < s->bytes) {
        int64_t head[2];
        if (fread(head, sizeof head, 1, s->f) != 1 || head[1] < 0 || head[1] > (s->bytes - at) / 8) {
            st = sg_error(SG_ERR_IO, "%s: damaged at byte %lld", s->path, (long long)at);
            break;
        }
        const int64_t n = head[1];
        if (n > cap) {
            int32_t *c = realloc(cols, (size_t)n * sizeof *c);
            float *v   = realloc(vals, (size_t)n * sizeof *v);
            if (c) cols = c;
            if (v) vals = v;
            if (!c || !v) {
                st = sg_error(SG_ERR_NO_MEMORY, "out of memory for an X_sae row of %lld entries", (long long)n);
                break;
            }
            cap = n;
        }
        if (n && (fread(cols, 4, (size_t)n, s->f) != (size_t)n || fread(vals, 4, (size_t)n, s->f) != (size_t)n)) {
            st = sg_error(SG_ERR_IO, "%s: damaged at byte %lld", s->path, (long long)at);
            break;
        }
        st = sg_h5ad_obsm_row(w, head[0], cols, vals, n);
        at += (int64_t)sizeof head + 8 * n;
    }
    free(cols);
    free(vals);
    return st;
}

void sg_spool_close(struct sg_spool *s, bool remove) {
    if (!s) return;
    if (s->f) fclose(s->f);
    if (remove) unlink(s->path);
    free(s->path);
    free(s);
}
