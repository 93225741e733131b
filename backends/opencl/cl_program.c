/* Programs: the embedded kernel sources grouped into a few programs, built on first use per
 * device (or loaded from the binary cache), and the kernels each program holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "cl_internal.h"

/* Generated at build time from kernels/<name>.cl by cl_embed.cmake. */
extern const char sg_cl_src_common[], sg_cl_src_copy[], sg_cl_src_elementwise[], sg_cl_src_reduce[], sg_cl_src_optim[],
    sg_cl_src_matmul_simple[], sg_cl_src_matmul_tiled[], sg_cl_src_norm[], sg_cl_src_attention[], sg_cl_src_index[],
    sg_cl_src_topk[], sg_cl_src_sort[], sg_cl_src_sparse[];

/* The tiled matmul body is instantiated per tile shape and A type. Small: 64x64 tiles, 4x4 per
 * work-item; large: 128x128 tiles, 8x8 per work-item (more reuse for big products). Both use
 * 16x16 work-groups and a k-step of 16. */
#define MM_SMALL "#define MM_TM 64\n#define MM_TN 64\n#define MM_TK 16\n#define MM_RM 4\n#define MM_RN 4\n"
#define MM_LARGE "#define MM_TM 128\n#define MM_TN 128\n#define MM_TK 16\n#define MM_RM 8\n#define MM_RN 8\n"
#define MM_F32   "#define MM_LOAD_A(p) sg_ld_f32(p)\n#define MM_LOAD_B(p) sg_ld_f32(p)\n"
#define MM_F16   "#define MM_LOAD_A(p) sg_ld_f16(p)\n#define MM_LOAD_B(p) sg_ld_f32(p)\n"
/* a bf16 GEMM: b rounded to bf16 as it is loaded */
#define MM_BF16 "#define MM_LOAD_A(p) sg_ld_bf16(p)\n#define MM_LOAD_B(p) sg_round_bf16(sg_ld_f32(p))\n"

#define MAX_SRCS 16

struct program_src {
    const char *name;
    int n;
    const char *srcs[MAX_SRCS];
};

static const struct program_src program_srcs[SG_CL_PROG_COUNT] = {
    [SG_CL_PROG_BASIC]  = {"basic",
                           5,
                           {sg_cl_src_common, sg_cl_src_copy, sg_cl_src_elementwise, sg_cl_src_reduce, sg_cl_src_optim}},
    [SG_CL_PROG_MATMUL] = {"matmul",
                           14,
                           {sg_cl_src_common, sg_cl_src_matmul_simple,
                            MM_SMALL MM_F32 "#define MM_NAME matmul_small_f32\n", sg_cl_src_matmul_tiled,
                            MM_SMALL MM_F16 "#define MM_NAME matmul_small_f16\n", sg_cl_src_matmul_tiled,
                            MM_SMALL MM_BF16 "#define MM_NAME matmul_small_bf16\n", sg_cl_src_matmul_tiled,
                            MM_LARGE MM_F32 "#define MM_NAME matmul_large_f32\n", sg_cl_src_matmul_tiled,
                            MM_LARGE MM_F16 "#define MM_NAME matmul_large_f16\n", sg_cl_src_matmul_tiled,
                            MM_LARGE MM_BF16 "#define MM_NAME matmul_large_bf16\n", sg_cl_src_matmul_tiled}},
    [SG_CL_PROG_NN]     = {"nn", 3, {sg_cl_src_common, sg_cl_src_norm, sg_cl_src_attention}},
    [SG_CL_PROG_SPARSE] = {"sparse",
                           5,
                           {sg_cl_src_common, sg_cl_src_index, sg_cl_src_topk, sg_cl_src_sort, sg_cl_src_sparse}},
};

static const struct {
    enum sg_cl_program_id prog;
    const char *name;
} kernels[SG_CL_K_COUNT] = {
    [SG_CL_K_COPY_EW]      = {SG_CL_PROG_BASIC, "copy_ew"},
    [SG_CL_K_COPY_FLAT]    = {SG_CL_PROG_BASIC, "copy_flat"},
    [SG_CL_K_BINARY]       = {SG_CL_PROG_BASIC, "binary"},
    [SG_CL_K_UNARY]        = {SG_CL_PROG_BASIC, "unary"},
    [SG_CL_K_ACT_BACK]     = {SG_CL_PROG_BASIC, "act_back"},
    [SG_CL_K_SUM_TO_ITEM]  = {SG_CL_PROG_BASIC, "sum_to_item"},
    [SG_CL_K_SUM_TO_GROUP] = {SG_CL_PROG_BASIC, "sum_to_group"},
    [SG_CL_K_ADAM]         = {SG_CL_PROG_BASIC, "adam_step"},
    [SG_CL_K_FILL_U32]     = {SG_CL_PROG_BASIC, "fill_u32"},

    [SG_CL_K_MM_SIMPLE]     = {SG_CL_PROG_MATMUL, "matmul_simple"},
    [SG_CL_K_MM_SMALL_F32]  = {SG_CL_PROG_MATMUL, "matmul_small_f32"},
    [SG_CL_K_MM_SMALL_F16]  = {SG_CL_PROG_MATMUL, "matmul_small_f16"},
    [SG_CL_K_MM_SMALL_BF16] = {SG_CL_PROG_MATMUL, "matmul_small_bf16"},
    [SG_CL_K_MM_LARGE_F32]  = {SG_CL_PROG_MATMUL, "matmul_large_f32"},
    [SG_CL_K_MM_LARGE_F16]  = {SG_CL_PROG_MATMUL, "matmul_large_f16"},
    [SG_CL_K_MM_LARGE_BF16] = {SG_CL_PROG_MATMUL, "matmul_large_bf16"},

    [SG_CL_K_LAYER_NORM]      = {SG_CL_PROG_NN, "layer_norm"},
    [SG_CL_K_LAYER_NORM_BACK] = {SG_CL_PROG_NN, "layer_norm_back"},
    [SG_CL_K_ADD_LAYER_NORM]  = {SG_CL_PROG_NN, "add_layer_norm"},
    [SG_CL_K_SOFTMAX]         = {SG_CL_PROG_NN, "softmax"},
    [SG_CL_K_ATTN_FWD]        = {SG_CL_PROG_NN, "attn_fwd"},
    [SG_CL_K_ATTN_BWD_DQ]     = {SG_CL_PROG_NN, "attn_bwd_dq"},
    [SG_CL_K_ATTN_BWD_DKDV]   = {SG_CL_PROG_NN, "attn_bwd_dkdv"},

    [SG_CL_K_GET_ROWS]    = {SG_CL_PROG_SPARSE, "get_rows"},
    [SG_CL_K_GATHER]      = {SG_CL_PROG_SPARSE, "gather"},
    [SG_CL_K_SCATTER]     = {SG_CL_PROG_SPARSE, "scatter"},
    [SG_CL_K_TOPK_SELECT] = {SG_CL_PROG_SPARSE, "topk_select"},
    [SG_CL_K_TOPK_WRITE]  = {SG_CL_PROG_SPARSE, "topk_write"},
    [SG_CL_K_SORT_LOCAL]  = {SG_CL_PROG_SPARSE, "sort_local"},
    [SG_CL_K_SORT_STEP]   = {SG_CL_PROG_SPARSE, "sort_step"},
    [SG_CL_K_SORT_MERGE]  = {SG_CL_PROG_SPARSE, "sort_merge"},
    [SG_CL_K_EMBED_BAG]   = {SG_CL_PROG_SPARSE, "embed_bag"},
    [SG_CL_K_SPARSE_DOT]  = {SG_CL_PROG_SPARSE, "sparse_dot"},
    [SG_CL_K_SO_KEYS]     = {SG_CL_PROG_SPARSE, "scatter_outer_keys"},
    [SG_CL_K_SO_BOUNDS]   = {SG_CL_PROG_SPARSE, "scatter_outer_bounds"},
    [SG_CL_K_SO_ACCUM]    = {SG_CL_PROG_SPARSE, "scatter_outer_accum"},
};

enum sg_cl_program_id sg_cl_kernel_program(enum sg_cl_kernel_id id) { return kernels[id].prog; }
const char *sg_cl_kernel_name(enum sg_cl_kernel_id id) { return kernels[id].name; }

/* Kernels need OpenCL C 1.2 and nothing else; no fast-math, so erf/exp keep full precision. */
static const char build_options[] = "-cl-std=CL1.2";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sg_status build_failure(struct sg_cl_device *d, cl_program prog, cl_int err, const char *pname) {
    size_t size = 0;
    char *log   = NULL;
    if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) == CL_SUCCESS && size > 0 &&
        (log = malloc(size + 1))) {
        if (clGetProgramBuildInfo(prog, d->id, CL_PROGRAM_BUILD_LOG, size, log, NULL) != CL_SUCCESS) log[0] = '\0';
        log[size] = '\0';
        for (size_t n = strlen(log); n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '); n--) log[n - 1] = '\0';
    }
    if (log) SG_LOGD("opencl: build log of program '%s' on %s:\n%s", pname, d->name, log);
    sg_status st = sg_error(SG_ERR_BACKEND, "OpenCL: clBuildProgram of '%s' for %s (%s) failed: %s; build log: %.1500s",
                            pname, d->name, d->device_name, sg_cl_error_name(err), log && log[0] ? log : "(empty)");
    free(log);
    return st;
}

/* Loads a cached binary; false (and nothing built) when it is missing or the driver refuses it. */
static bool build_from_cache(struct sg_cl_device *d, const unsigned char key[32], cl_program *out) {
    unsigned char *bin;
    size_t size;
    if (!sg_cl_cache_load(key, &bin, &size)) return false;
    cl_int err, bin_status = CL_SUCCESS;
    const unsigned char *bins[1] = {bin};
    cl_program prog              = clCreateProgramWithBinary(d->context, 1, &d->id, &size, bins, &bin_status, &err);
    free(bin);
    if (err == CL_SUCCESS && bin_status == CL_SUCCESS) err = clBuildProgram(prog, 1, &d->id, build_options, NULL, NULL);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        SG_LOGD("opencl: cached binary rejected (%s); rebuilding from source", sg_cl_error_name(err));
        if (prog) clReleaseProgram(prog);
        return false;
    }
    *out = prog;
    return true;
}

static void store_binary(cl_program prog, const unsigned char key[32]) {
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0) return;
    unsigned char *bin = malloc(size);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        sg_cl_cache_store(key, bin, size);
    free(bin);
}

static sg_status build_program(struct sg_cl_device *d, enum sg_cl_program_id id, cl_program *out) {
    const struct program_src *ps = &program_srcs[id];
    double t0                    = now_s();
    unsigned char key[32];
    bool keyed = sg_cl_cache_key(d, ps->srcs, ps->n, build_options, key);
    if (keyed && build_from_cache(d, key, out)) {
        SG_LOGD("opencl: program '%s' for %s loaded from the cache in %.2f s", ps->name, d->name, now_s() - t0);
        return SG_OK;
    }
    cl_int err;
    cl_program prog = clCreateProgramWithSource(d->context, (cl_uint)ps->n, (const char **)ps->srcs, NULL, &err);
    sg_status st    = sg_cl_check(err, "clCreateProgramWithSource");
    if (st != SG_OK) return st;
    err = clBuildProgram(prog, 1, &d->id, build_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = build_failure(d, prog, err, ps->name);
        clReleaseProgram(prog);
        return st;
    }
    if (keyed) store_binary(prog, key);
    SG_LOGD("opencl: program '%s' for %s built from source in %.2f s", ps->name, d->name, now_s() - t0);
    *out = prog;
    return SG_OK;
}

sg_status sg_cl_program_get(struct sg_cl_device *d, enum sg_cl_program_id id, cl_program *out) {
    sg_status st = sg_cl_device_open(d);
    if (st != SG_OK) return st;
    pthread_mutex_lock(&d->lock);
    if (d->program_errors[id]) {
        st = sg_error(SG_ERR_BACKEND, "%s", d->program_errors[id]);
    } else if (!d->programs[id]) {
        st = build_program(d, id, &d->programs[id]);
        if (st != SG_OK) d->program_errors[id] = strdup(sg_last_error()); /* NULL: retried next time */
    }
    *out = d->programs[id];
    pthread_mutex_unlock(&d->lock);
    return st;
}

bool sg_cl_program_usable(struct sg_cl_device *d, enum sg_cl_program_id id) {
    pthread_mutex_lock(&d->lock);
    bool built = d->programs[id] != NULL, failed = d->program_errors[id] != NULL;
    pthread_mutex_unlock(&d->lock);
    if (built || failed) return built;
    cl_program prog;
    if (sg_cl_program_get(d, id, &prog) == SG_OK) return true;
    SG_LOGW("opencl: %s; its ops run on the CPU instead", sg_last_error());
    return false;
}

size_t sg_cl_kernel_group_limit(struct sg_cl_device *d, enum sg_cl_kernel_id id) {
    pthread_mutex_lock(&d->lock);
    size_t limit = d->kernel_groups[id];
    pthread_mutex_unlock(&d->lock);
    if (limit) return limit;
    cl_kernel k;
    if (sg_cl_kernel_create(d, id, &k) != SG_OK) return 0;
    if (clGetKernelWorkGroupInfo(k, d->id, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit, NULL) != CL_SUCCESS)
        limit = d->max_wg_size;
    clReleaseKernel(k);
    pthread_mutex_lock(&d->lock);
    d->kernel_groups[id] = limit;
    pthread_mutex_unlock(&d->lock);
    return limit;
}

sg_status sg_cl_kernel_create(struct sg_cl_device *d, enum sg_cl_kernel_id id, cl_kernel *out) {
    cl_program prog;
    sg_status st = sg_cl_program_get(d, kernels[id].prog, &prog);
    if (st != SG_OK) return st;
    cl_int err;
    *out = clCreateKernel(prog, kernels[id].name, &err);
    if (err != CL_SUCCESS)
        return sg_error(SG_ERR_BACKEND, "OpenCL: clCreateKernel '%s' failed: %s", kernels[id].name,
                        sg_cl_error_name(err));
    return SG_OK;
}
