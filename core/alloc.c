/* Graph memory planning: liveness by consumer counts, best-fit free lists, in-place reuse. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "log.h"
#include "ops.h"
#include "ptrmap.h"

#define MAX_FREE_BLOCKS 256

struct free_block {
    size_t offset;
    size_t size;
};

/* One chunk of address space; becomes one buffer. Free blocks are sorted by offset. */
struct chunk {
    struct free_block blocks[MAX_FREE_BLOCKS];
    int n_blocks;
    size_t capacity; /* max bytes this chunk may grow to */
    size_t peak;     /* high-water mark: the buffer size needed */
};

/* Where a planned tensor lives. */
struct placement {
    int chunk;
    size_t offset;
    size_t size;
    int n_consumers; /* consumers not yet run, during planning */
    bool handled;    /* this allocator owns its memory */
    bool keep;       /* never freed: output, or no consumers */
    bool moved;      /* its memory was handed to an in-place consumer */
};

struct sg_galloc {
    struct sg_buffer_type *buft;
    size_t alignment;
    size_t max_size;
    struct chunk *chunks;
    int n_chunks;
    struct sg_buffer **bufs;
    int n_bufs;
};

sg_status sg_galloc_new(struct sg_buffer_type *buft, struct sg_galloc **out) {
    struct sg_galloc *ga = calloc(1, sizeof *ga);
    if (!ga) return sg_error(SG_ERR_NO_MEMORY, "allocator: out of memory");
    ga->buft      = buft;
    ga->alignment = sg_buffer_type_alignment(buft);
    ga->max_size  = sg_buffer_type_max_size(buft);
    *out          = ga;
    return SG_OK;
}

void sg_galloc_free(struct sg_galloc *ga) {
    if (!ga) return;
    for (int i = 0; i < ga->n_bufs; i++) sg_buffer_free(ga->bufs[i]);
    free(ga->bufs);
    free(ga->chunks);
    free(ga);
}

size_t sg_galloc_size(const struct sg_galloc *ga) {
    size_t total = 0;
    for (int i = 0; i < ga->n_chunks; i++) total += ga->chunks[i].peak;
    return total;
}

static size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static bool chunk_add(struct sg_galloc *ga) {
    struct chunk *c = realloc(ga->chunks, (size_t)(ga->n_chunks + 1) * sizeof *c);
    if (!c) return false;
    ga->chunks = c;
    c          = &ga->chunks[ga->n_chunks++];
    memset(c, 0, sizeof *c);
    c->capacity  = ga->max_size;
    c->blocks[0] = (struct free_block){0, ga->max_size};
    c->n_blocks  = 1;
    return true;
}

/* Best fit over all chunks; the tail block of a chunk counts at its used size so that a chunk
 * grows only when nothing else fits. */
static bool plan_alloc(struct sg_galloc *ga, size_t size, int *chunk_out, size_t *offset_out) {
    int best_c = -1, best_b = -1;
    size_t best_size = SIZE_MAX;
    for (int c = 0; c < ga->n_chunks; c++) {
        struct chunk *ch = &ga->chunks[c];
        for (int b = 0; b < ch->n_blocks; b++) {
            if (ch->blocks[b].size < size) continue;
            bool tail  = ch->blocks[b].offset + ch->blocks[b].size == ch->capacity;
            size_t eff = tail ? SIZE_MAX - 1 : ch->blocks[b].size; /* prefer holes over growth */
            if (eff < best_size) {
                best_size = eff;
                best_c    = c;
                best_b    = b;
            }
        }
    }
    if (best_c < 0) {
        if (size > ga->max_size || !chunk_add(ga)) return false;
        best_c = ga->n_chunks - 1;
        best_b = 0;
    }
    struct chunk *ch       = &ga->chunks[best_c];
    struct free_block *blk = &ch->blocks[best_b];
    *chunk_out             = best_c;
    *offset_out            = blk->offset;
    blk->offset += size;
    blk->size -= size;
    if (blk->size == 0) {
        memmove(blk, blk + 1, (size_t)(ch->n_blocks - best_b - 1) * sizeof *blk);
        ch->n_blocks--;
    }
    if (*offset_out + size > ch->peak) ch->peak = *offset_out + size;
    return true;
}

static bool plan_free(struct sg_galloc *ga, int chunk, size_t offset, size_t size) {
    struct chunk *ch = &ga->chunks[chunk];
    int i            = 0;
    while (i < ch->n_blocks && ch->blocks[i].offset < offset) i++;
    bool merge_prev = i > 0 && ch->blocks[i - 1].offset + ch->blocks[i - 1].size == offset;
    bool merge_next = i < ch->n_blocks && offset + size == ch->blocks[i].offset;
    if (merge_prev && merge_next) {
        ch->blocks[i - 1].size += size + ch->blocks[i].size;
        memmove(&ch->blocks[i], &ch->blocks[i + 1], (size_t)(ch->n_blocks - i - 1) * sizeof ch->blocks[0]);
        ch->n_blocks--;
    } else if (merge_prev) {
        ch->blocks[i - 1].size += size;
    } else if (merge_next) {
        ch->blocks[i].offset = offset;
        ch->blocks[i].size += size;
    } else {
        if (ch->n_blocks == MAX_FREE_BLOCKS) return false; /* leak the hole: safe, only less reuse */
        memmove(&ch->blocks[i + 1], &ch->blocks[i], (size_t)(ch->n_blocks - i) * sizeof ch->blocks[0]);
        ch->blocks[i] = (struct free_block){offset, size};
        ch->n_blocks++;
    }
    return true;
}

static struct sg_tensor *base_of(struct sg_tensor *t) { return t->view_src ? t->view_src : t; }

static bool owns_buffer(const struct sg_galloc *ga, const struct sg_buffer *buf) {
    for (int i = 0; i < ga->n_bufs; i++)
        if (ga->bufs[i] == buf) return true;
    return false;
}

/* A node this allocator must place: accepted by the filter, computed, not a view, and without
 * memory of its own (or with memory from an earlier plan of this allocator: plans are redone
 * when a graph grows). */
static bool needs_memory(const struct sg_galloc *ga, const struct sg_tensor *t, sg_galloc_filter filter, void *user) {
    return t->op != SG_OP_NONE && !t->view_src && (!t->buffer || owns_buffer(ga, t->buffer)) &&
           (!filter || filter(t, user));
}

static struct placement *placement_of(struct sg_ptrmap *map, struct sg_tensor *t) { return sg_ptrmap_get(map, t); }

/* The in-place candidate for node: src0 when the op allows it, src0 is ours, has no other
 * pending consumer, is not kept, and has exactly node's layout. */
static struct placement *inplace_source(struct sg_ptrmap *map, struct sg_tensor *node) {
    struct sg_tensor *s = node->src[0];
    if (!s || !sg_op_info(node->op)->inplace || s->view_src) return NULL;
    struct placement *p = placement_of(map, s);
    if (!p || !p->handled || p->keep || p->moved || p->n_consumers != 1) return NULL;
    if (s->type != node->type || !sg_is_contiguous(s) || !sg_is_contiguous(node) || !sg_same_shape(s, node))
        return NULL;
    return p;
}

static sg_status plan_graph(struct sg_galloc *ga, struct sg_graph *g, struct sg_ptrmap *map, struct placement *pl,
                            sg_galloc_filter filter, void *user) {
    int n = 0;
    /* one placement per base tensor touched by the graph */
    for (int i = 0; i < g->n_nodes; i++) {
        struct sg_tensor *t = g->nodes[i];
        for (int s = -1; s < SG_MAX_SRC; s++) {
            /* nodes of a built graph are never NULL; only their sources may be */
            struct sg_tensor *x = s < 0 ? t : t->src[s]; /* NOLINT(clang-analyzer-core.NullDereference) */
            if (!x) continue;
            x = base_of(x);
            if (!placement_of(map, x)) {
                pl[n] = (struct placement){.handled = needs_memory(ga, x, filter, user),
                                           .keep = (x->flags & (SG_FLAG_OUTPUT | SG_FLAG_INPUT | SG_FLAG_PARAM)) != 0};
                if (!sg_ptrmap_put(map, x, &pl[n++])) return sg_error(SG_ERR_NO_MEMORY, "allocator: out of memory");
            }
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int s = 0; s < SG_MAX_SRC; s++)
            if (g->nodes[i]->src[s]) placement_of(map, base_of(g->nodes[i]->src[s]))->n_consumers++;
    /* Results stay valid after the run: outputs, and nodes nobody reads inside the graph. Both
     * keep their base's memory, so an output that is a view (a reshape of a result) works too. */
    struct sg_ptrmap consumed = {0};
    for (int i = 0; i < g->n_nodes; i++)
        for (int s = 0; s < SG_MAX_SRC; s++)
            if (g->nodes[i]->src[s] && !sg_ptrmap_put(&consumed, g->nodes[i]->src[s], g->nodes[i])) {
                sg_ptrmap_free(&consumed);
                return sg_error(SG_ERR_NO_MEMORY, "allocator: out of memory");
            }
    for (int i = 0; i < g->n_nodes; i++) {
        struct sg_tensor *t = g->nodes[i];
        if ((t->flags & SG_FLAG_OUTPUT) || !sg_ptrmap_has(&consumed, t)) placement_of(map, base_of(t))->keep = true;
    }
    sg_ptrmap_free(&consumed);

    for (int i = 0; i < g->n_nodes; i++) {
        struct sg_tensor *node = g->nodes[i];
        struct placement *p    = node->view_src ? NULL : placement_of(map, node);
        if (p && p->handled) {
            struct placement *src = inplace_source(map, node);
            if (src) {
                p->chunk   = src->chunk;
                p->offset  = src->offset;
                p->size    = src->size;
                src->moved = true;
            } else {
                const struct sg_buffer_type_i *bi = ga->buft->iface;
                size_t bytes                      = bi->alloc_size ? bi->alloc_size(ga->buft, node) : sg_nbytes(node);
                p->size                           = align_up(bytes, ga->alignment);
                if (!plan_alloc(ga, p->size, &p->chunk, &p->offset)) {
                    char s[96];
                    return sg_error(SG_ERR_NO_MEMORY,
                                    "allocator: '%s' %s (%zu bytes) does not fit in one %s buffer (max %zu)",
                                    node->name, sg_shape_str(node, s, sizeof s), p->size, sg_buffer_type_name(ga->buft),
                                    ga->max_size);
                }
            }
        }
        for (int s = 0; s < SG_MAX_SRC; s++) {
            if (!node->src[s]) continue;
            struct placement *sp = placement_of(map, base_of(node->src[s]));
            if (--sp->n_consumers == 0 && sp->handled && !sp->keep && !sp->moved)
                plan_free(ga, sp->chunk, sp->offset, sp->size);
        }
    }
    return SG_OK;
}

static sg_status realize_buffers(struct sg_galloc *ga) {
    if (ga->n_chunks > 0 && ga->n_bufs < ga->n_chunks) {
        struct sg_buffer **b = realloc(ga->bufs, (size_t)ga->n_chunks * sizeof *b);
        if (!b) return sg_error(SG_ERR_NO_MEMORY, "allocator: out of memory");
        for (int i = ga->n_bufs; i < ga->n_chunks; i++) b[i] = NULL;
        ga->bufs   = b;
        ga->n_bufs = ga->n_chunks;
    }
    for (int c = 0; c < ga->n_chunks; c++) {
        size_t need = ga->chunks[c].peak ? ga->chunks[c].peak : ga->alignment;
        if (ga->bufs[c] && sg_buffer_size(ga->bufs[c]) >= need) continue;
        sg_buffer_free(ga->bufs[c]);
        ga->bufs[c]  = NULL;
        sg_status st = sg_buffer_alloc(ga->buft, need, &ga->bufs[c]);
        if (st != SG_OK) return st;
        SG_LOGD("allocator: %s compute buffer %d: %zu bytes", sg_buffer_type_name(ga->buft), c, need);
    }
    return SG_OK;
}

sg_status sg_galloc_alloc_graph(struct sg_galloc *ga, struct sg_graph *g, sg_galloc_filter filter, void *user) {
    /* each (node, source) pair names at most one new base tensor */
    size_t max_places    = (size_t)g->n_nodes * (SG_MAX_SRC + 1) + 1;
    struct placement *pl = calloc(max_places, sizeof *pl);
    struct sg_ptrmap map = {0};
    if (!pl) return sg_error(SG_ERR_NO_MEMORY, "allocator: out of memory");
    free(ga->chunks);
    ga->chunks   = NULL;
    ga->n_chunks = 0;

    sg_status st = plan_graph(ga, g, &map, pl, filter, user);
    if (st == SG_OK) st = realize_buffers(ga);
    for (int i = 0; st == SG_OK && i < g->n_nodes; i++) {
        struct sg_tensor *node = g->nodes[i];
        struct placement *p    = node->view_src ? NULL : placement_of(&map, node);
        if (!p || !p->handled) continue;
        st = sg_buffer_place_tensor(ga->bufs[p->chunk], node, p->offset);
    }
    /* views get their base's (possibly new) address */
    for (int i = 0; st == SG_OK && i < g->n_nodes; i++) {
        struct sg_tensor *node = g->nodes[i];
        if (node->view_src && node->view_src->data) st = sg_tensor_init_view(node);
    }
    sg_ptrmap_free(&map);
    free(pl);
    return st;
}
