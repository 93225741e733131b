/* The scheduler: places nodes on the chosen device or the CPU fallback, splits the graph where
 * the device changes, copies tensors across, plans memory, and replays the plan on later runs. */
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backend_impl.h"
#include "backend_priv.h"
#include "context.h"
#include "log.h"
#include "ops.h"
#include "ptrmap.h"

enum { DEV_PRIMARY = 0, DEV_CPU = 1, N_DEVS = 2 };

/* A tensor copied into a split's device before it runs: dst is a copy of src's whole base. */
struct copy {
    struct sg_tensor *src;
    struct sg_tensor *dst;
};

struct split {
    int dev;                  /* DEV_PRIMARY or DEV_CPU */
    struct sg_tensor **nodes; /* the graph's nodes, or shadows whose sources read the copies */
    int n_nodes;
    struct copy *copies;
    int n_copies;
    void *plan; /* the stream's recorded plan, when it records plans */
};

struct graph_plan {
    char fallback_ops[256]; /* names of ops sent to the CPU, for the warning */
    struct sg_graph *g;
    int version;
    struct sg_ctx *ctx;        /* copies and shadows */
    struct sg_ptrmap node_dev; /* node -> (device index + 1) */
    struct split *splits;
    int n_splits;
    struct sg_galloc *galloc[N_DEVS];
    struct sg_buffer_list leaf_bufs;
    struct sg_buffer_list copy_bufs;
    struct sg_sched_stats stats;
    struct graph_plan *next;
};

struct sg_sched {
    struct sg_stream *streams[N_DEVS];
    bool own_cpu;
    int n_devs; /* 1 when the primary device is the CPU */
    struct graph_plan *plans;
    struct sg_ptrmap warned_graphs; /* graphs whose CPU fallback was already reported */
};

sg_status sg_sched_new(struct sg_stream *primary, int cpu_threads, struct sg_sched **out) {
    *out               = NULL;
    struct sg_sched *s = calloc(1, sizeof *s);
    if (!s) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    s->streams[DEV_PRIMARY] = primary;
    s->n_devs               = 1;
    if (sg_device_type(sg_stream_device(primary)) != SG_DEVICE_CPU || sg_stream_device(primary) != sg_device_cpu()) {
        struct sg_device *cpu = sg_device_cpu();
        sg_status st          = cpu ? sg_device_open_stream(cpu, cpu_threads, &s->streams[DEV_CPU])
                                    : sg_error(SG_ERR_BACKEND, "scheduler: the CPU backend is missing");
        if (st != SG_OK) {
            free(s);
            return st;
        }
        s->own_cpu = true;
        s->n_devs  = 2;
    }
    *out = s;
    return SG_OK;
}

static void plan_free(struct sg_sched *s, struct graph_plan *p) {
    for (int i = 0; i < p->n_splits; i++) {
        struct split *sp     = &p->splits[i];
        struct sg_stream *st = s->streams[sp->dev];
        if (sp->plan && st->iface->plan_free) st->iface->plan_free(st, sp->plan);
        free(sp->copies);
        free(sp->nodes);
    }
    free(p->splits);
    for (int d = 0; d < N_DEVS; d++) sg_galloc_free(p->galloc[d]);
    sg_buffer_list_free(&p->copy_bufs);
    sg_buffer_list_free(&p->leaf_bufs);
    sg_ptrmap_free(&p->node_dev);
    sg_ctx_free(p->ctx);
    free(p);
}

void sg_sched_free(struct sg_sched *s) {
    if (!s) return;
    for (struct graph_plan *p = s->plans, *next; p; p = next) {
        next = p->next;
        plan_free(s, p);
    }
    if (s->own_cpu) sg_stream_free(s->streams[DEV_CPU]);
    sg_ptrmap_free(&s->warned_graphs);
    free(s);
}

static struct sg_device *dev_of(const struct sg_sched *s, int d) { return sg_stream_device(s->streams[d]); }

static int node_dev(const struct graph_plan *p, const struct sg_tensor *t) {
    return (int)(intptr_t)sg_ptrmap_get(&p->node_dev, t) - 1;
}

static bool set_node_dev(struct graph_plan *p, const struct sg_tensor *t, int d) {
    return sg_ptrmap_put(&p->node_dev, t, (void *)(intptr_t)(d + 1));
}

/* The device whose buffer holds t's storage (-1 when unknown to this scheduler). */
static int storage_dev(const struct sg_sched *s, const struct sg_tensor *t) {
    const struct sg_tensor *base = t->view_src ? t->view_src : t;
    if (!base->buffer) return -1;
    struct sg_device *owner = sg_buffer_type_device(sg_buffer_get_type(base->buffer));
    for (int d = 0; d < s->n_devs; d++)
        if (dev_of(s, d) == owner) return d;
    return -1;
}

/* ---- placement -------------------------------------------------------------------------- */

static sg_status place_nodes(struct sg_sched *s, struct graph_plan *p) {
    struct sg_graph *g = p->g;
    int prev           = DEV_PRIMARY;
    for (int i = 0; i < g->n_nodes; i++) {
        struct sg_tensor *t = g->nodes[i];
        int d;
        if (sg_is_view_op(t->op)) {
            d = prev; /* no work: stay in the current split */
        } else if (t->view_src) {
            /* writes into existing storage (cpy, adam_step): must run where that storage is */
            int owner              = storage_dev(s, t);
            struct sg_tensor *base = t->view_src;
            d                      = owner >= 0 ? owner : (base->op == SG_OP_NONE ? DEV_PRIMARY : node_dev(p, base));
            if (d < 0) d = DEV_PRIMARY;
            if (!sg_device_supports_op(dev_of(s, d), t))
                return sg_error(SG_ERR_UNSUPPORTED, "%s cannot run %s '%s', which writes into memory on that device",
                                sg_device_name(dev_of(s, d)), sg_op_name(t->op), t->name);
        } else if (sg_device_supports_op(dev_of(s, DEV_PRIMARY), t)) {
            d = DEV_PRIMARY;
        } else if (s->n_devs > 1 && sg_device_supports_op(dev_of(s, DEV_CPU), t)) {
            d = DEV_CPU;
            p->stats.n_fallback_nodes++;
            const char *name = sg_op_name(t->op);
            size_t len       = strlen(p->fallback_ops);
            if (!strstr(p->fallback_ops, name) && len + strlen(name) + 3 < sizeof p->fallback_ops)
                snprintf(p->fallback_ops + len, sizeof p->fallback_ops - len, "%s%s", len ? ", " : "", name);
            SG_LOGD("scheduler: node %d %s '%s' runs on the cpu: %s cannot run it", i, name, t->name,
                    sg_device_name(dev_of(s, DEV_PRIMARY)));
        } else {
            char shape[96];
            return sg_error(SG_ERR_UNSUPPORTED, "no device can run %s '%s' %s", sg_op_name(t->op), t->name,
                            sg_shape_str(t, shape, sizeof shape));
        }
        if (!set_node_dev(p, t, d)) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
        prev = d;
    }
    return SG_OK;
}

/* Leafs without memory (inputs, parameters) go to the chosen device and keep their contents. */
static sg_status alloc_leafs(struct sg_sched *s, struct graph_plan *p) {
    struct sg_graph *g = p->g;
    sg_status st = sg_alloc_tensors(g->leafs, g->n_leafs, sg_device_buffer_type(dev_of(s, DEV_PRIMARY)), &p->leaf_bufs);
    for (int i = 0; i < p->leaf_bufs.n; i++) p->stats.leaf_bytes += sg_buffer_size(p->leaf_bufs.bufs[i]);
    return st;
}

struct dev_filter {
    const struct graph_plan *plan;
    int dev;
};

static bool on_dev(const struct sg_tensor *t, void *user) {
    const struct dev_filter *f = user;
    return node_dev(f->plan, t) == f->dev;
}

static sg_status alloc_nodes(struct sg_sched *s, struct graph_plan *p) {
    for (int d = 0; d < s->n_devs; d++) {
        if (!p->galloc[d]) {
            sg_status st = sg_galloc_new(sg_device_buffer_type(dev_of(s, d)), &p->galloc[d]);
            if (st != SG_OK) return st;
        }
        struct dev_filter f = {p, d};
        sg_status st        = sg_galloc_alloc_graph(p->galloc[d], p->g, on_dev, &f);
        if (st != SG_OK) return st;
        p->stats.compute_bytes += sg_galloc_size(p->galloc[d]);
    }
    return SG_OK;
}

/* ---- splits and copies ------------------------------------------------------------------ */

static sg_status add_split(struct graph_plan *p, int dev) {
    struct split *sp = realloc(p->splits, (size_t)(p->n_splits + 1) * sizeof *sp);
    if (!sp) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    p->splits = sp;
    memset(&sp[p->n_splits], 0, sizeof *sp);
    sp[p->n_splits++].dev = dev;
    return SG_OK;
}

static bool readable_on(const struct sg_sched *s, const struct sg_tensor *t, int dev) {
    const struct sg_tensor *base = t->view_src ? t->view_src : t;
    return base->buffer && sg_device_supports_buft(dev_of(s, dev), sg_buffer_get_type(base->buffer));
}

/* The stand-in for src inside a split on `dev`: a copy of its base on that device (made once per
 * split), viewed like src. */
static struct sg_tensor *copy_for(struct graph_plan *p, struct split *sp, struct sg_ptrmap *copies,
                                  struct sg_tensor *src) {
    struct sg_tensor *base = src->view_src ? src->view_src : src;
    struct sg_tensor *dst  = sg_ptrmap_get(copies, base);
    if (!dst) {
        dst = sg_dup_tensor(p->ctx, base);
        if (!dst) return NULL;
        sg_set_name(dst, "%s#copy", base->name);
        struct copy *c = realloc(sp->copies, (size_t)(sp->n_copies + 1) * sizeof *c);
        if (!c) return NULL;
        sp->copies = c; /* before anything else can fail: the old block is gone */
        if (!sg_ptrmap_put(copies, base, dst)) return NULL;
        sp->copies[sp->n_copies++] = (struct copy){.src = base, .dst = dst};
    }
    if (src == base) return dst;
    struct sg_tensor *v = sg_view(p->ctx, dst, SG_MAX_DIMS, src->ne, src->nb, src->view_offs);
    return v;
}

/* Builds the split's node list; a node reading a source its device cannot reach is replaced by a
 * shadow (same memory, same op) whose source is the copy. */
static sg_status build_split_nodes(struct sg_sched *s, struct graph_plan *p, struct split *sp, int i0, int i1) {
    struct sg_ptrmap copies = {0};
    bool failed             = false;
    sp->nodes               = malloc((size_t)(i1 - i0) * sizeof *sp->nodes);
    if (!sp->nodes) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    for (int i = i0; i < i1; i++) {
        struct sg_tensor *node = p->g->nodes[i], *shadow = NULL;
        if (!sg_is_view_op(node->op)) {
            for (int k = 0; k < SG_MAX_SRC; k++) {
                struct sg_tensor *src = node->src[k];
                if (!src || readable_on(s, src, sp->dev)) continue;
                if (!shadow) {
                    shadow = sg_dup_tensor(p->ctx, node);
                    if (!shadow) {
                        failed = true;
                        break;
                    }
                    struct sg_ctx *keep_ctx = shadow->ctx;
                    int keep_id             = shadow->id;
                    *shadow                 = *node;
                    shadow->ctx             = keep_ctx;
                    shadow->id              = keep_id;
                }
                shadow->src[k] = copy_for(p, sp, &copies, src);
                if (!shadow->src[k]) {
                    failed = true;
                    break;
                }
            }
        }
        sp->nodes[sp->n_nodes++] = shadow ? shadow : node;
    }
    sg_ptrmap_free(&copies);
    if (sg_ctx_status(p->ctx) != SG_OK) return sg_error(sg_ctx_status(p->ctx), "scheduler: %s", sg_ctx_error(p->ctx));
    if (failed) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    p->stats.n_copies += sp->n_copies;
    return SG_OK;
}

static sg_status build_splits(struct sg_sched *s, struct graph_plan *p) {
    struct sg_graph *g = p->g;
    int start          = 0;
    for (int i = 1; i <= g->n_nodes; i++) {
        if (i < g->n_nodes && node_dev(p, g->nodes[i]) == node_dev(p, g->nodes[start])) continue;
        sg_status st = add_split(p, node_dev(p, g->nodes[start]));
        if (st == SG_OK) st = build_split_nodes(s, p, &p->splits[p->n_splits - 1], start, i);
        if (st != SG_OK) return st;
        start = i;
    }
    p->stats.n_splits = p->n_splits;
    return SG_OK;
}

/* Copies live as long as the plan; shadows share their originals' memory. */
static sg_status alloc_copies(struct sg_sched *s, struct graph_plan *p) {
    for (int d = 0; d < s->n_devs; d++) {
        int n = 0;
        for (int i = 0; i < p->n_splits; i++)
            if (p->splits[i].dev == d) n += p->splits[i].n_copies;
        if (n == 0) continue;
        struct sg_tensor **ts = malloc((size_t)n * sizeof *ts);
        if (!ts) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
        n = 0;
        for (int i = 0; i < p->n_splits; i++)
            for (int c = 0; p->splits[i].dev == d && c < p->splits[i].n_copies; c++)
                ts[n++] = p->splits[i].copies[c].dst;
        sg_status st = sg_alloc_tensors(ts, n, sg_device_buffer_type(dev_of(s, d)), &p->copy_bufs);
        free(ts);
        if (st != SG_OK) return st;
    }
    /* views of copies and shadows get addresses now that everything is placed */
    for (int i = 0; i < sg_ctx_n_tensors(p->ctx); i++) {
        struct sg_tensor *t = sg_ctx_tensor(p->ctx, i);
        if (t->view_src && t->view_src->data) {
            sg_status st = sg_tensor_init_view(t);
            if (st != SG_OK) return st;
        }
    }
    return SG_OK;
}

static struct graph_plan *find_plan(struct sg_sched *s, const struct sg_graph *g) {
    for (struct graph_plan *p = s->plans; p; p = p->next)
        if (p->g == g) return p;
    return NULL;
}

static sg_status make_plan(struct sg_sched *s, struct sg_graph *g, struct graph_plan **out) {
    struct graph_plan *old = find_plan(s, g);
    if (old && old->version == g->version) {
        *out = old;
        return SG_OK;
    }
    struct graph_plan *p = calloc(1, sizeof *p);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    p->g       = g;
    p->version = g->version;
    p->ctx     = sg_ctx_new();
    if (old) { /* the graph grew: reuse its allocators so its nodes are re-planned, not leaked */
        memcpy(p->galloc, old->galloc, sizeof p->galloc);
        memset(old->galloc, 0, sizeof old->galloc);
    }
    sg_status st = p->ctx ? place_nodes(s, p) : sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory");
    if (st == SG_OK) st = alloc_leafs(s, p);
    if (st == SG_OK) st = alloc_nodes(s, p);
    if (st == SG_OK) st = build_splits(s, p);
    if (st == SG_OK) st = alloc_copies(s, p);
    if (st != SG_OK) {
        plan_free(s, p);
        return st;
    }
    if (old) {
        struct graph_plan **pp = &s->plans;
        while (*pp != old) pp = &(*pp)->next;
        *pp = old->next;
        /* leaf memory moves to the new plan: it already holds the caller's data */
        for (int i = 0; i < old->leaf_bufs.n && st == SG_OK; i++) {
            struct sg_buffer **b = realloc(p->leaf_bufs.bufs, (size_t)(p->leaf_bufs.n + 1) * sizeof *b);
            if (!b) break; /* keep the old list: freeing it below would lose data, so leak instead */
            p->leaf_bufs.bufs                   = b;
            p->leaf_bufs.bufs[p->leaf_bufs.n++] = old->leaf_bufs.bufs[i];
            old->leaf_bufs.bufs[i]              = NULL;
        }
        p->stats.leaf_bytes += old->stats.leaf_bytes;
        old->leaf_bufs.n = 0;
        plan_free(s, old);
    }
    p->next  = s->plans;
    s->plans = p;
    if (p->stats.n_fallback_nodes && !sg_ptrmap_has(&s->warned_graphs, g)) {
        sg_ptrmap_put(&s->warned_graphs, g, g);
        SG_LOGW("%d of %d nodes run on the cpu because %s cannot run them (op, type, layout or size): %s",
                p->stats.n_fallback_nodes, g->n_nodes, sg_device_name(dev_of(s, DEV_PRIMARY)), p->fallback_ops);
    }
    SG_LOGD("scheduler: %d nodes in %d split%s, %d on the cpu fallback, %d copies, %zu bytes of compute memory",
            g->n_nodes, p->n_splits, p->n_splits == 1 ? "" : "s", p->stats.n_fallback_nodes, p->stats.n_copies,
            p->stats.compute_bytes);
    *out = p;
    return SG_OK;
}

/* ---- running ---------------------------------------------------------------------------- */

/* Copies src's bytes into dst (same type and shape, both bases) across devices. */
static sg_status copy_tensor(const struct sg_tensor *src, struct sg_tensor *dst) {
    size_t n = sg_nbytes(src);
    if (dst->buffer->iface->copy_tensor && dst->buffer->iface->copy_tensor(dst->buffer, src, dst)) return SG_OK;
    if (sg_buffer_type_is_host(sg_buffer_get_type(src->buffer))) return sg_tensor_set(dst, src->data, 0, n);
    if (sg_buffer_type_is_host(sg_buffer_get_type(dst->buffer))) return sg_tensor_get(src, dst->data, 0, n);
    void *tmp = malloc(n);
    if (!tmp) return sg_error(SG_ERR_NO_MEMORY, "scheduler: out of memory for a %zu-byte copy", n);
    sg_status st = sg_tensor_get(src, tmp, 0, n);
    if (st == SG_OK) st = sg_tensor_set(dst, tmp, 0, n);
    free(tmp);
    return st;
}

static sg_status run_split(struct sg_sched *s, struct split *sp) {
    struct sg_stream *stream = s->streams[sp->dev];
    if (stream->iface->plan_create) {
        if (!sp->plan) {
            sg_status st = stream->iface->plan_create(stream, sp->nodes, sp->n_nodes, &sp->plan);
            if (st != SG_OK) return st;
        }
        return stream->iface->plan_compute(stream, sp->plan);
    }
    return stream->iface->compute(stream, sp->nodes, sp->n_nodes);
}

sg_status sg_sched_prepare(struct sg_sched *s, struct sg_graph *g) {
    struct graph_plan *p;
    return make_plan(s, g, &p);
}

sg_status sg_sched_compute(struct sg_sched *s, struct sg_graph *g) {
    struct graph_plan *p = NULL;
    sg_status st         = make_plan(s, g, &p);
    int prev_dev         = -1;
    for (int i = 0; st == SG_OK && i < p->n_splits; i++) {
        struct split *sp = &p->splits[i];
        /* a split reads what earlier splits on the other device wrote: wait for them */
        if (sp->n_copies && prev_dev >= 0 && prev_dev != sp->dev) st = sg_stream_synchronize(s->streams[prev_dev]);
        for (int c = 0; st == SG_OK && c < sp->n_copies; c++) st = copy_tensor(sp->copies[c].src, sp->copies[c].dst);
        if (st == SG_OK) st = run_split(s, sp);
        prev_dev = sp->dev;
    }
    for (int d = 0; st == SG_OK && d < s->n_devs; d++) st = sg_stream_synchronize(s->streams[d]);
    return st;
}

sg_status sg_sched_stats(const struct sg_sched *s, const struct sg_graph *g, struct sg_sched_stats *out) {
    struct graph_plan *p = find_plan((struct sg_sched *)s, g);
    if (!p) return sg_error(SG_ERR_INVALID_ARG, "scheduler: this graph has not been planned yet");
    *out = p->stats;
    return SG_OK;
}

struct sg_device *sg_sched_node_device(const struct sg_sched *s, const struct sg_graph *g,
                                       const struct sg_tensor *node) {
    struct graph_plan *p = find_plan((struct sg_sched *)s, g);
    int d                = p ? node_dev(p, node) : -1;
    return d >= 0 ? dev_of(s, d) : NULL;
}
