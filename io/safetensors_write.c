/* Writing safetensors: the header first (offsets are known from the declared shapes), then data
 * with pwrite at any offset, so producers can fill tensors batch by batch. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"

struct sg_st_writer {
    char *path;
    char *tmp_path;
    int fd;
    int n;
    size_t data_start; /* file offset of the data section */
    size_t *offs;      /* per tensor: begin within the data section */
    size_t *sizes;
    bool joined; /* sg_st_writer_join: another process created the file and renames it */
};

/* how writer_open treats path.tmp */
enum open_mode {
    OPEN_CREATE, /* create (truncate) and write the header */
    OPEN_JOIN,   /* another process created it */
    OPEN_REUSE,  /* an earlier, interrupted run created it: the header must be this one */
};

static size_t decl_bytes(const struct sg_st_decl *d) {
    size_t n = sg_st_dtype_size(d->dtype);
    for (int i = 0; i < d->n_dims; i++) n *= (size_t)d->shape[i];
    return n;
}

static char *build_header(const struct sg_st_decl *decls, int n, const char *const *metadata, const size_t *offs,
                          const size_t *sizes) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    if (metadata && metadata[0]) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; m && metadata[i] && metadata[i + 1]; i += 2)
            cJSON_AddStringToObject(m, metadata[i], metadata[i + 1]);
    }
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, decls[i].name);
        if (!e) break;
        cJSON_AddStringToObject(e, "dtype", sg_st_dtype_name(decls[i].dtype));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; shape && d < decls[i].n_dims; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)decls[i].shape[d]));
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        if (o) {
            cJSON_AddItemToArray(o, cJSON_CreateNumber((double)offs[i]));
            cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(offs[i] + sizes[i])));
        }
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static void writer_free(struct sg_st_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    free(w->path);
    free(w->tmp_path);
    free(w->offs);
    free(w->sizes);
    free(w);
}

void sg_st_writer_abort(struct sg_st_writer *w) {
    if (!w) return;
    if (w->tmp_path && !w->joined) unlink(w->tmp_path);
    writer_free(w);
}

static sg_status write_all(int fd, const void *data, size_t size, size_t off, const char *path) {
    const char *p = data;
    while (size > 0) {
        ssize_t k = pwrite(fd, p, size, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return sg_error(SG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        p += k;
        off += (size_t)k;
        size -= (size_t)k;
    }
    return SG_OK;
}

/* An interrupted run's file may be continued only if it was laid out for exactly these tensors
 * and metadata (the header is compared byte for byte) and still has its full size. */
static sg_status check_reused(int fd, const char *tmp_path, const char *hdr, size_t hdr_size, size_t file_size) {
    char *have = malloc(hdr_size);
    if (!have) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", tmp_path);
    ssize_t k    = pread(fd, have, hdr_size, 0);
    off_t size   = lseek(fd, 0, SEEK_END);
    sg_status st = SG_OK;
    if (k != (ssize_t)hdr_size || memcmp(have, hdr, hdr_size) != 0)
        st = sg_error(SG_ERR_INVALID_ARG, "%s: was started for other data, model or settings (its header differs)",
                      tmp_path);
    else if (size != (off_t)file_size)
        st = sg_error(SG_ERR_INVALID_ARG, "%s: has %lld bytes, %zu expected (truncated or damaged)", tmp_path,
                      (long long)size, file_size);
    free(have);
    return st;
}

static sg_status writer_open(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                             enum open_mode mode, bool owner, struct sg_st_writer **out) {
    *out                   = NULL;
    struct sg_st_writer *w = calloc(1, sizeof *w);
    if (!w) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    w->fd       = -1;
    w->n        = n;
    w->path     = strdup(path);
    w->tmp_path = malloc(strlen(path) + 5);
    w->offs     = calloc((size_t)n + 1, sizeof *w->offs);
    w->sizes    = calloc((size_t)n + 1, sizeof *w->sizes);
    if (!w->path || !w->tmp_path || !w->offs || !w->sizes) {
        writer_free(w);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    sprintf(w->tmp_path, "%s.tmp", path);

    size_t off = 0;
    for (int i = 0; i < n; i++) {
        w->offs[i]  = off;
        w->sizes[i] = decl_bytes(&decls[i]);
        off += (w->sizes[i] + 7) & ~(size_t)7;
    }
    size_t data_size = n > 0 ? w->offs[n - 1] + w->sizes[n - 1] : 0;
    char *json       = build_header(decls, n, metadata, w->offs, w->sizes);
    if (!json) {
        writer_free(w);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory building the header", path);
    }
    /* pad with spaces so the data starts 8-byte aligned, as the reference writer does */
    size_t hlen = strlen(json), padded = (hlen + 7) & ~(size_t)7;
    char *hdr = malloc(8 + padded);
    if (!hdr) {
        free(json);
        writer_free(w);
        return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    for (int i = 0; i < 8; i++) hdr[i] = (char)(((uint64_t)padded >> (8 * i)) & 0xff);
    memcpy(hdr + 8, json, hlen); /* the format has no NUL here. NOLINT(bugprone-not-null-terminated-result) */
    memset(hdr + 8 + hlen, ' ', padded - hlen);
    free(json);
    w->data_start = 8 + padded;

    w->joined    = !owner;
    sg_status st = SG_OK;
    if (mode != OPEN_CREATE) { /* the header is written and the file sized already */
        w->fd = open(w->tmp_path, (mode == OPEN_REUSE ? O_RDWR : O_WRONLY) | O_CLOEXEC);
        if (w->fd < 0)
            st = sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: cannot open for writing: %s",
                          w->tmp_path, strerror(errno));
        if (st == SG_OK && mode == OPEN_REUSE)
            st = check_reused(w->fd, w->tmp_path, hdr, 8 + padded, w->data_start + data_size);
        free(hdr);
        if (st != SG_OK) {
            sg_st_writer_keep(w); /* never remove what an earlier run wrote */
            return st;
        }
        *out = w;
        return SG_OK;
    }
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) st = sg_error(SG_ERR_IO, "%s: cannot create: %s", w->tmp_path, strerror(errno));
    if (st == SG_OK) st = write_all(w->fd, hdr, 8 + padded, 0, w->tmp_path);
    if (st == SG_OK && ftruncate(w->fd, (off_t)(w->data_start + data_size)) != 0)
        st = sg_error(SG_ERR_IO, "%s: cannot size to %zu bytes: %s", w->tmp_path, w->data_start + data_size,
                      strerror(errno));
    free(hdr);
    if (st != SG_OK) {
        sg_st_writer_abort(w);
        return st;
    }
    *out = w;
    return SG_OK;
}

sg_status sg_st_writer_open(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                            struct sg_st_writer **out) {
    return writer_open(path, decls, n, metadata, OPEN_CREATE, true, out);
}

sg_status sg_st_writer_join(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                            struct sg_st_writer **out) {
    return writer_open(path, decls, n, metadata, OPEN_JOIN, false, out);
}

sg_status sg_st_writer_reuse(const char *path, const struct sg_st_decl *decls, int n, const char *const *metadata,
                             bool owner, struct sg_st_writer **out) {
    return writer_open(path, decls, n, metadata, OPEN_REUSE, owner, out);
}

sg_status sg_st_writer_sync(struct sg_st_writer *w) {
    if (fdatasync(w->fd) != 0 && errno != EINVAL) return sg_error(SG_ERR_IO, "%s: %s", w->tmp_path, strerror(errno));
    return SG_OK;
}

void sg_st_writer_keep(struct sg_st_writer *w) {
    if (!w) return;
    if (w->fd >= 0) fdatasync(w->fd);
    writer_free(w);
}

sg_status sg_st_writer_put(struct sg_st_writer *w, int i, size_t offset, const void *data, size_t size) {
    if (i < 0 || i >= w->n || offset > w->sizes[i] || size > w->sizes[i] - offset)
        return sg_error(SG_ERR_INVALID_ARG, "%s: write of %zu bytes at %zu is outside tensor %d", w->path, size, offset,
                        i);
    return write_all(w->fd, data, size, w->data_start + w->offs[i] + offset, w->tmp_path);
}

sg_status sg_st_writer_close(struct sg_st_writer *w) {
    sg_status st = SG_OK;
    if (fsync(w->fd) != 0 && errno != EINVAL) st = sg_error(SG_ERR_IO, "%s: %s", w->tmp_path, strerror(errno));
    if (close(w->fd) != 0 && st == SG_OK) st = sg_error(SG_ERR_IO, "%s: %s", w->tmp_path, strerror(errno));
    w->fd = -1;
    if (st == SG_OK && !w->joined && rename(w->tmp_path, w->path) != 0)
        st = sg_error(SG_ERR_IO, "cannot rename %s to %s: %s", w->tmp_path, w->path, strerror(errno));
    if (st != SG_OK) {
        sg_st_writer_abort(w);
        return st;
    }
    writer_free(w);
    return SG_OK;
}
