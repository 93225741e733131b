/* The scheduler with a device that lacks some ops: those nodes fall back to the CPU, tensors are
 * copied across at split boundaries, plans are recorded once and replayed, and the results equal
 * a CPU-only run of the same graph.
 *
 * The mock device keeps its memory in host RAM but declares it device memory, so the CPU cannot
 * read it directly and every crossing needs a real copy. It runs nodes with the reference
 * kernels. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/backend_impl.h"
#include "core/graph.h"
#include "core/sched.h"
#include "tests/test_util.h"

/* ---- the mock device -------------------------------------------------------------------- */

static int mock_plans_created, mock_plan_runs;

static void mock_buffer_free(struct sg_buffer *buf) {
    free(buf->context);
    free(buf);
}
static void *mock_buffer_base(struct sg_buffer *buf) { return buf->context; }
static sg_status mock_set(struct sg_buffer *buf, struct sg_tensor *t, const void *data, size_t off, size_t size) {
    (void)buf;
    memcpy((char *)t->data + off, data, size);
    return SG_OK;
}
static sg_status mock_get(struct sg_buffer *buf, const struct sg_tensor *t, void *data, size_t off, size_t size) {
    (void)buf;
    memcpy(data, (const char *)t->data + off, size);
    return SG_OK;
}
static sg_status mock_memset(struct sg_buffer *buf, struct sg_tensor *t, uint8_t v, size_t off, size_t size) {
    (void)buf;
    memset((char *)t->data + off, v, size);
    return SG_OK;
}
static sg_status mock_clear(struct sg_buffer *buf, uint8_t v) {
    memset(buf->context, v, buf->size);
    return SG_OK;
}

static const struct sg_buffer_i mock_buffer_i = {
    .free_buffer   = mock_buffer_free,
    .base          = mock_buffer_base,
    .set_tensor    = mock_set,
    .get_tensor    = mock_get,
    .memset_tensor = mock_memset,
    .clear         = mock_clear,
};

static const char *mock_buft_name(const struct sg_buffer_type *b) {
    (void)b;
    return "mock";
}
static size_t mock_alignment(const struct sg_buffer_type *b) {
    (void)b;
    return 64;
}
static sg_status mock_alloc(struct sg_buffer_type *buft, size_t size, struct sg_buffer **out) {
    struct sg_buffer *buf = calloc(1, sizeof *buf);
    buf->iface            = &mock_buffer_i;
    buf->buft             = buft;
    buf->context          = aligned_alloc(64, (size + 63) / 64 * 64);
    *out                  = buf;
    return SG_OK;
}
static const struct sg_buffer_type_i mock_buft_i = {
    .name         = mock_buft_name,
    .alloc_buffer = mock_alloc,
    .alignment    = mock_alignment,
};

struct mock_plan {
    struct sg_tensor *const *nodes;
    int n;
};

static sg_status mock_compute(struct sg_stream *s, struct sg_tensor *const *nodes, int n) {
    (void)s;
    for (int i = 0; i < n; i++)
        if (sg_ref_kernels[nodes[i]->op]) sg_ref_kernels[nodes[i]->op](nodes[i]);
    return SG_OK;
}
static sg_status mock_plan_create(struct sg_stream *s, struct sg_tensor *const *nodes, int n, void **plan) {
    (void)s;
    struct mock_plan *p = malloc(sizeof *p);
    *p                  = (struct mock_plan){nodes, n};
    *plan               = p;
    mock_plans_created++;
    return SG_OK;
}
static sg_status mock_plan_compute(struct sg_stream *s, void *plan) {
    struct mock_plan *p = plan;
    mock_plan_runs++;
    return mock_compute(s, p->nodes, p->n);
}
static void mock_plan_free(struct sg_stream *s, void *plan) {
    (void)s;
    free(plan);
}
static void mock_stream_free(struct sg_stream *s) { free(s); }

static const struct sg_stream_i mock_stream_i = {
    .free_stream  = mock_stream_free,
    .compute      = mock_compute,
    .plan_create  = mock_plan_create,
    .plan_compute = mock_plan_compute,
    .plan_free    = mock_plan_free,
};

static struct sg_buffer_type mock_buft;

static const char *mock_name(const struct sg_device *d) {
    (void)d;
    return "mock:0";
}
static const char *mock_desc(const struct sg_device *d) {
    (void)d;
    return "a device without gelu and softmax";
}
static enum sg_device_type mock_type(const struct sg_device *d) {
    (void)d;
    return SG_DEVICE_GPU;
}
static void mock_memory(const struct sg_device *d, size_t *f, size_t *t) {
    (void)d;
    *f = *t = 1 << 30;
}
static sg_status mock_open(struct sg_device *dev, int n_threads, struct sg_stream **out) {
    (void)n_threads;
    struct sg_stream *s = calloc(1, sizeof *s);
    s->iface            = &mock_stream_i;
    s->device           = dev;
    *out                = s;
    return SG_OK;
}
static struct sg_buffer_type *mock_get_buft(struct sg_device *d) {
    (void)d;
    return &mock_buft;
}
static bool mock_supports(const struct sg_device *d, const struct sg_tensor *t) {
    (void)d;
    return t->op == SG_OP_MATMUL || t->op == SG_OP_ADD || t->op == SG_OP_SCALE || t->op == SG_OP_CPY;
}

static const struct sg_device_i mock_device_i = {
    .name        = mock_name,
    .description = mock_desc,
    .type        = mock_type,
    .memory      = mock_memory,
    .open_stream = mock_open,
    .buffer_type = mock_get_buft,
    .supports_op = mock_supports,
};

static struct sg_device mock_device = {.iface = &mock_device_i};

/* ---- the graph -------------------------------------------------------------------------- */

struct net {
    struct sg_ctx *ctx;
    struct sg_tensor *x, *w, *b, *out;
    struct sg_graph *g;
};

/* out = softmax(2 * gelu(x @ w + b)) */
static void net_build(struct net *n) {
    n->ctx              = sg_ctx_new();
    n->x                = sg_set_input(sg_new_tensor_2d(n->ctx, SG_TYPE_F32, 16, 8));
    n->w                = sg_new_tensor_2d(n->ctx, SG_TYPE_F32, 12, 16);
    n->b                = sg_new_tensor_1d(n->ctx, SG_TYPE_F32, 12);
    struct sg_tensor *h = sg_add(n->ctx, sg_matmul(n->ctx, n->x, n->w), n->b);
    n->out              = sg_softmax(n->ctx, sg_scale(n->ctx, sg_gelu(n->ctx, h), 2.0f));
    n->g                = sg_graph_new(n->ctx);
    CHECK(sg_graph_expand(n->g, n->out) == SG_OK);
}

static void net_fill(struct net *n, unsigned seed) {
    float x[16 * 8], w[12 * 16], b[12];
    for (size_t i = 0; i < sizeof x / 4; i++) x[i] = test_rand(&seed, -1, 1);
    for (size_t i = 0; i < sizeof w / 4; i++) w[i] = test_rand(&seed, -0.5f, 0.5f);
    for (size_t i = 0; i < sizeof b / 4; i++) b[i] = test_rand(&seed, -0.1f, 0.1f);
    CHECK(sg_tensor_set(n->x, x, 0, sizeof x) == SG_OK);
    CHECK(sg_tensor_set(n->w, w, 0, sizeof w) == SG_OK);
    CHECK(sg_tensor_set(n->b, b, 0, sizeof b) == SG_OK);
}

static void test_fallback_matches_cpu_and_replays_plans(void) {
    mock_buft = (struct sg_buffer_type){.iface = &mock_buft_i, .device = &mock_device};
    struct net cpu, mock;
    net_build(&cpu);
    net_build(&mock);
    struct sg_stream *cpu_s, *mock_s;
    CHECK(sg_device_open_stream(sg_device_cpu(), 2, &cpu_s) == SG_OK);
    CHECK(sg_device_open_stream(&mock_device, 0, &mock_s) == SG_OK);
    struct sg_sched *cpu_sched, *mock_sched;
    CHECK(sg_sched_new(cpu_s, 2, &cpu_sched) == SG_OK);
    CHECK(sg_sched_new(mock_s, 2, &mock_sched) == SG_OK);
    CHECK(sg_sched_prepare(cpu_sched, cpu.g) == SG_OK);
    CHECK(sg_sched_prepare(mock_sched, mock.g) == SG_OK);
    CHECK(mock.w->buffer && sg_buffer_get_type(mock.w->buffer) == &mock_buft);

    for (unsigned run = 0; run < 3; run++) {
        net_fill(&cpu, 100 + run);
        net_fill(&mock, 100 + run);
        CHECK(sg_sched_compute(cpu_sched, cpu.g) == SG_OK);
        CHECK(sg_sched_compute(mock_sched, mock.g) == SG_OK);
        float a[12 * 8], b[12 * 8];
        CHECK(sg_tensor_get(cpu.out, a, 0, sizeof a) == SG_OK);
        CHECK(sg_tensor_get(mock.out, b, 0, sizeof b) == SG_OK);
        double max_err = 0;
        for (int i = 0; i < 12 * 8; i++) max_err = fmax(max_err, fabs((double)a[i] - b[i]));
        /* the CPU's fast kernels and the reference kernels sum in different orders */
        CHECK_MSG(max_err < 1e-6, "run %u: max difference %g", run, max_err);
    }

    struct sg_sched_stats st;
    CHECK(sg_sched_stats(mock_sched, mock.g, &st) == SG_OK);
    CHECK_MSG(st.n_fallback_nodes == 2, "fallback nodes %d", st.n_fallback_nodes);
    CHECK_MSG(st.n_splits == 4, "splits %d", st.n_splits);
    CHECK_MSG(st.n_copies == 3, "copies %d", st.n_copies); /* h to cpu, gelu to mock, scaled to cpu */
    CHECK(sg_sched_node_device(mock_sched, mock.g, mock.out) == sg_device_cpu());
    /* two splits on the mock device, each recorded once and replayed on every run */
    CHECK_MSG(mock_plans_created == 2, "plans created %d", mock_plans_created);
    CHECK_MSG(mock_plan_runs == 6, "plan runs %d", mock_plan_runs);

    sg_sched_free(cpu_sched);
    sg_sched_free(mock_sched);
    sg_stream_free(cpu_s);
    sg_stream_free(mock_s);
    sg_ctx_free(cpu.ctx);
    sg_ctx_free(mock.ctx);
}

static void test_unsupported_everywhere_is_an_error(void) {
    /* an op the CPU lacks cannot exist, so ask for a write into mock memory by an op the mock
     * device cannot run: the scheduler must refuse with a message, not crash */
    mock_buft           = (struct sg_buffer_type){.iface = &mock_buft_i, .device = &mock_device};
    struct sg_ctx *ctx  = sg_ctx_new();
    struct sg_tensor *w = sg_new_tensor_1d(ctx, SG_TYPE_F32, 4), *g = sg_new_tensor_1d(ctx, SG_TYPE_F32, 4);
    struct sg_tensor *m = sg_new_tensor_1d(ctx, SG_TYPE_F32, 4), *v = sg_new_tensor_1d(ctx, SG_TYPE_F32, 4);
    struct sg_tensor *hp = sg_new_tensor_1d(ctx, SG_TYPE_F32, SG_ADAM_N_PARAMS);
    struct sg_graph *gr  = sg_graph_new(ctx);
    CHECK(sg_graph_expand(gr, sg_adam_step(ctx, w, g, m, v, hp, NULL)) == SG_OK);
    struct sg_stream *s;
    struct sg_sched *sched;
    CHECK(sg_device_open_stream(&mock_device, 0, &s) == SG_OK);
    CHECK(sg_sched_new(s, 1, &sched) == SG_OK);
    CHECK(sg_sched_compute(sched, gr) == SG_ERR_UNSUPPORTED);
    CHECK_CONTAINS(sg_last_error(), "adam_step");
    sg_sched_free(sched);
    sg_stream_free(s);
    sg_ctx_free(ctx);
}

int main(void) {
    sg_backends_load();
    RUN_TEST(test_fallback_matches_cpu_and_replays_plans);
    RUN_TEST(test_unsupported_everywhere_is_an_error);
    return test_exit_code();
}
