#include "context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Metadata arena: a list of chunks, each at least CHUNK_MIN bytes; allocations never move. */
#define CHUNK_MIN (256 * 1024)

struct chunk {
    struct chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct sg_ctx {
    struct chunk *chunks;
    struct sg_tensor **tensors;
    int n_tensors;
    int cap_tensors;
    struct sg_graph **graphs;
    int n_graphs;
    sg_status status;
    char error[1024];
};

struct sg_ctx *sg_ctx_new(void) {
    return calloc(1, sizeof(struct sg_ctx));
}

void sg_ctx_free(struct sg_ctx *ctx) {
    if (!ctx) return;
    for (int i = 0; i < ctx->n_graphs; i++) sg_graph_release(ctx->graphs[i]);
    free(ctx->graphs);
    for (struct chunk *c = ctx->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(ctx->tensors);
    free(ctx);
}

void *sg_ctx_alloc(struct sg_ctx *ctx, size_t size) {
    size            = (size + 15) & ~(size_t)15;
    struct chunk *c = ctx->chunks;
    if (!c || c->size - c->used < size) {
        size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
        c          = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->size     = cap;
        c->used     = 0;
        c->next     = ctx->chunks;
        ctx->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

int sg_ctx_add_tensor(struct sg_ctx *ctx, struct sg_tensor *t) {
    if (ctx->n_tensors == ctx->cap_tensors) {
        int cap              = ctx->cap_tensors ? 2 * ctx->cap_tensors : 256;
        struct sg_tensor **p = realloc(ctx->tensors, (size_t)cap * sizeof *p);
        if (!p) return -1;
        ctx->tensors     = p;
        ctx->cap_tensors = cap;
    }
    t->id                          = ctx->n_tensors;
    ctx->tensors[ctx->n_tensors++] = t;
    return 0;
}

int sg_ctx_add_graph(struct sg_ctx *ctx, struct sg_graph *g) {
    struct sg_graph **p = realloc(ctx->graphs, (size_t)(ctx->n_graphs + 1) * sizeof *p);
    if (!p) return -1;
    ctx->graphs                  = p;
    ctx->graphs[ctx->n_graphs++] = g;
    return 0;
}

int sg_ctx_n_tensors(const struct sg_ctx *ctx) { return ctx->n_tensors; }

struct sg_tensor *sg_ctx_tensor(const struct sg_ctx *ctx, int i) {
    return i >= 0 && i < ctx->n_tensors ? ctx->tensors[i] : NULL;
}

struct sg_tensor *sg_ctx_find(const struct sg_ctx *ctx, const char *name) {
    for (int i = 0; i < ctx->n_tensors; i++)
        if (strcmp(ctx->tensors[i]->name, name) == 0) return ctx->tensors[i];
    return NULL;
}

sg_status sg_ctx_status(const struct sg_ctx *ctx) { return ctx->status; }

const char *sg_ctx_error(const struct sg_ctx *ctx) { return ctx->error; }

struct sg_tensor *sg_ctx_fail(struct sg_ctx *ctx, sg_status status, const char *fmt, ...) {
    if (ctx->status == SG_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
        va_end(ap);
        ctx->status = status;
    }
    return NULL;
}
