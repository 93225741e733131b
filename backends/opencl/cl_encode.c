/* The encoder: kernel objects, arguments and launches, either enqueued at once or recorded
 * into a plan (each recorded launch owns its kernel object, so its arguments stay set). */
#include <stdlib.h>
#include <string.h>

#include "cl_ops.h"

sg_status sg_cl_enc_kernel(struct sg_cl_enc *e, enum sg_cl_kernel_id id, cl_kernel *out) {
    if (e->plan) return sg_cl_kernel_create(e->dev, id, out);
    if (!e->kernels[id]) {
        sg_status st = sg_cl_kernel_create(e->dev, id, &e->kernels[id]);
        if (st != SG_OK) return st;
    }
    *out = e->kernels[id];
    return SG_OK;
}

void sg_cl_arg(struct sg_cl_args *a, size_t size, const void *value) {
    if (a->err == CL_SUCCESS) {
        a->err = clSetKernelArg(a->kernel, a->n, size, value);
        if (a->err != CL_SUCCESS) a->bad = a->n;
    }
    a->n++;
}

void sg_cl_arg_mem(struct sg_cl_args *a, cl_mem mem, cl_ulong offset) {
    sg_cl_arg(a, sizeof mem, &mem);
    sg_cl_arg(a, sizeof offset, &offset);
}

void sg_cl_arg_tensor(struct sg_cl_args *a, const struct sg_tensor *t) {
    sg_cl_arg_mem(a, sg_cl_tensor_mem(t), sg_cl_tensor_offset(t));
}

void sg_cl_arg_i32(struct sg_cl_args *a, int32_t v) {
    cl_int x = v;
    sg_cl_arg(a, sizeof x, &x);
}

void sg_cl_arg_u32(struct sg_cl_args *a, uint32_t v) {
    cl_uint x = v;
    sg_cl_arg(a, sizeof x, &x);
}

void sg_cl_arg_i64(struct sg_cl_args *a, int64_t v) {
    cl_long x = v;
    sg_cl_arg(a, sizeof x, &x);
}

void sg_cl_arg_f32(struct sg_cl_args *a, float v) {
    cl_float x = v;
    sg_cl_arg(a, sizeof x, &x);
}

void sg_cl_arg_long8(struct sg_cl_args *a, const int64_t v[SG_MAX_DIMS]) {
    cl_long8 x;
    memset(&x, 0, sizeof x);
    for (int d = 0; d < SG_MAX_DIMS; d++) x.s[d] = v[d];
    sg_cl_arg(a, sizeof x, &x);
}

void sg_cl_arg_local(struct sg_cl_args *a, size_t bytes) { sg_cl_arg(a, bytes ? bytes : 4, NULL); }

static sg_status record(struct sg_cl_plan *p, const struct sg_cl_launch *l) {
    if (p->n == p->cap) {
        int cap                    = p->cap ? 2 * p->cap : 64;
        struct sg_cl_launch *grown = realloc(p->launches, (size_t)cap * sizeof *grown);
        if (!grown) return sg_error(SG_ERR_NO_MEMORY, "OpenCL: out of memory recording a plan");
        p->launches = grown;
        p->cap      = cap;
    }
    p->launches[p->n++] = *l;
    return SG_OK;
}

static sg_status enqueue(cl_command_queue q, const struct sg_cl_launch *l) {
    cl_int err = clEnqueueNDRangeKernel(q, l->kernel, l->dims, l->offset, l->global, l->local, 0, NULL, NULL);
    if (err == CL_SUCCESS) return SG_OK;
    char name[64] = "?";
    clGetKernelInfo(l->kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    name[sizeof name - 1] = '\0';
    return sg_error(err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ? SG_ERR_NO_MEMORY
                                                                                            : SG_ERR_BACKEND,
                    "OpenCL: clEnqueueNDRangeKernel '%s' (global %zu x %zu x %zu, local %zu x %zu x %zu) failed: %s",
                    name, l->global[0], l->dims > 1 ? l->global[1] : 1, l->dims > 2 ? l->global[2] : 1, l->local[0],
                    l->dims > 1 ? l->local[1] : 1, l->dims > 2 ? l->local[2] : 1, sg_cl_error_name(err));
}

sg_status sg_cl_plan_launch(cl_command_queue q, const struct sg_cl_launch *l) { return enqueue(q, l); }

#define MAX_GROUPS_YZ 65535

sg_status sg_cl_enc_launch(struct sg_cl_enc *e, struct sg_cl_args *a, cl_uint dims, const size_t global[],
                           const size_t local[]) {
    sg_status st = SG_OK;
    if (a->err != CL_SUCCESS) {
        char name[64] = "?";
        clGetKernelInfo(a->kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        name[sizeof name - 1] = '\0';
        st                    = sg_error(SG_ERR_BACKEND, "OpenCL: clSetKernelArg %u of '%s' failed: %s", a->bad, name,
                                         sg_cl_error_name(a->err));
    }
    size_t groups[3] = {1, 1, 1}, lsize[3] = {1, 1, 1};
    struct sg_cl_launch l = {.kernel = a->kernel, .dims = dims};
    bool empty            = false;
    for (cl_uint d = 0; d < dims; d++) {
        empty |= global[d] == 0;
        lsize[d]   = local[d];
        groups[d]  = (global[d] + local[d] - 1) / local[d];
        l.local[d] = local[d];
    }
    /* one launch per chunk of dims 1 and 2 */
    for (size_t z = 0; st == SG_OK && !empty && z < groups[2]; z += MAX_GROUPS_YZ) {
        for (size_t y = 0; st == SG_OK && y < groups[1]; y += MAX_GROUPS_YZ) {
            size_t gz   = groups[2] - z < MAX_GROUPS_YZ ? groups[2] - z : MAX_GROUPS_YZ;
            size_t gy   = groups[1] - y < MAX_GROUPS_YZ ? groups[1] - y : MAX_GROUPS_YZ;
            l.global[0] = groups[0] * lsize[0];
            l.global[1] = gy * lsize[1];
            l.global[2] = gz * lsize[2];
            l.offset[1] = y * lsize[1];
            l.offset[2] = z * lsize[2];
            if (e->plan) {
                clRetainKernel(l.kernel); /* each recorded launch holds a reference */
                st = record(e->plan, &l);
                if (st != SG_OK) clReleaseKernel(l.kernel);
            } else {
                st = enqueue(e->queue, &l);
            }
        }
    }
    if (e->plan) clReleaseKernel(a->kernel); /* the reference sg_cl_enc_kernel created */
    return st;
}

void sg_cl_plan_free(struct sg_cl_plan *plan) {
    if (!plan) return;
    for (int i = 0; i < plan->n; i++) clReleaseKernel(plan->launches[i].kernel);
    if (plan->scratch) clReleaseMemObject(plan->scratch);
    free(plan->launches);
    free(plan);
}
