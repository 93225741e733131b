/* test-backend-ops, perf mode: time a case's graph on a device.
 *
 * One warm-up run (plans, caches, lazy pipeline creation), then runs until at least half a
 * second has passed. FLOP and byte counts come from the op table (sg_op_flops, sg_op_bytes), so
 * GFLOP/s and GB/s mean the same thing on every backend. */
#include <stdio.h>

#include "core/context.h"
#include "tests/backends/tbo.h"

#define TBO_PERF_MIN_SECONDS 0.5
#define TBO_PERF_MIN_RUNS    2

static sg_status tbo_perf_run(struct sg_stream *s, struct sg_graph *g) {
    sg_status st = sg_stream_compute(s, g);
    return st == SG_OK ? sg_stream_synchronize(s) : st;
}

enum tbo_result tbo_run_perf(struct tbo_env *env, struct tbo_device *d, const struct tbo_case *c, uint64_t seed,
                             char *msg, size_t msg_size) {
    (void)env;
    struct tbo_builder b       = {0};
    struct sg_graph *g         = NULL;
    struct sg_buffer_list bufs = {0};
    enum tbo_result res        = TBO_FAIL;
    char err[512];
    int op;

    if (!tbo_build(c, TBO_PERF, &b, &g, err, sizeof err)) {
        snprintf(msg, msg_size, "%s", err);
        goto done;
    }
    if (!tbo_graph_supported(d->dev, g, &op)) {
        d->lacks[op] = true;
        snprintf(msg, msg_size, "%s", sg_op_name(op));
        res = TBO_UNSUPPORTED;
        goto done;
    }
    if (sg_alloc_ctx_tensors(b.ctx, sg_device_buffer_type(d->dev), &bufs) != SG_OK) {
        snprintf(msg, msg_size, "allocation on %s failed: %s", d->name, sg_last_error());
        res = TBO_SKIP;
        goto done;
    }
    if (tbo_fill_inputs(&b, seed, NULL) != SG_OK) {
        snprintf(msg, msg_size, "setting inputs failed: %s", sg_last_error());
        goto done;
    }
    double flops = 0.0, bytes = 0.0;
    for (int i = 0; i < g->n_nodes; i++) {
        flops += sg_op_flops(g->nodes[i]);
        bytes += sg_op_bytes(g->nodes[i]);
    }
    if (tbo_perf_run(d->stream, g) != SG_OK) {
        snprintf(msg, msg_size, "compute on %s failed: %s", d->name, sg_last_error());
        goto done;
    }
    int runs  = 0;
    double t0 = tbo_now(), t;
    do {
        if (tbo_perf_run(d->stream, g) != SG_OK) {
            snprintf(msg, msg_size, "compute on %s failed: %s", d->name, sg_last_error());
            goto done;
        }
        runs++;
        t = tbo_now() - t0;
    } while (t < TBO_PERF_MIN_SECONDS || runs < TBO_PERF_MIN_RUNS);
    double per_run = t / runs;
    int n          = snprintf(msg, msg_size, "%10.1f us/run", 1e6 * per_run);
    if (n > 0 && (size_t)n < msg_size && flops > 0)
        n += snprintf(msg + n, msg_size - (size_t)n, "  %8.1f GFLOP/s", flops / per_run * 1e-9);
    if (n > 0 && (size_t)n < msg_size)
        snprintf(msg + n, msg_size - (size_t)n, "  %7.1f GB/s  (%d runs)", bytes / per_run * 1e-9, runs);
    res = TBO_OK;

done:
    sg_buffer_list_free(&bufs);
    tbo_builder_free(&b);
    return res;
}
