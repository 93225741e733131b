/* Shared by every kernel file: element access by byte offset, f16/bf16 conversion, index
 * helpers and block reductions. Tensors reach kernels as a char pointer plus byte strides (a
 * struct sg_cu_dims by value), so views of any layout are read in place. */
#ifndef SG_CUDA_COMMON_CUH
#define SG_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

#include "cuda_internal.h"
#include "cuda_ops.h"

typedef struct sg_cu_dims cu_dims;

#define SG_T_F32  0
#define SG_T_F16  1
#define SG_T_BF16 2
#define SG_T_I32  3

/* Grid-stride loop over [0, n) with a 64-bit index. */
#define CU_FOR(i, n)                                                                                                   \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename T> __device__ __forceinline__ T *cu_ptr(char *base, int64_t off) {
    return reinterpret_cast<T *>(base + off);
}
template <typename T> __device__ __forceinline__ const T *cu_ptr(const char *base, int64_t off) {
    return reinterpret_cast<const T *>(base + off);
}

__device__ __forceinline__ float cu_ldf(const char *p, int64_t off) { return *cu_ptr<float>(p, off); }
__device__ __forceinline__ void cu_stf(char *p, int64_t off, float v) { *cu_ptr<float>(p, off) = v; }

/* Conversions match the CPU's (core/types.c) bit for bit: round to nearest even, NaN kept. */
__device__ __forceinline__ float cu_bf16_to_f32(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
__device__ __forceinline__ uint16_t cu_f32_to_bf16(float f) {
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
__device__ __forceinline__ float cu_f16_to_f32(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ uint16_t cu_f32_to_f16(float f) { return __half_as_ushort(__float2half_rn(f)); }

__device__ __forceinline__ float cu_load(const char *p, int type) {
    switch (type) {
    case SG_T_F16: return cu_f16_to_f32(*reinterpret_cast<const uint16_t *>(p));
    case SG_T_BF16: return cu_bf16_to_f32(*reinterpret_cast<const uint16_t *>(p));
    case SG_T_I32: return (float)*reinterpret_cast<const int32_t *>(p);
    default: return *reinterpret_cast<const float *>(p);
    }
}

__device__ __forceinline__ void cu_store(char *p, int type, float x) {
    switch (type) {
    case SG_T_F16: *reinterpret_cast<uint16_t *>(p) = cu_f32_to_f16(x); break;
    case SG_T_BF16: *reinterpret_cast<uint16_t *>(p) = cu_f32_to_bf16(x); break;
    case SG_T_I32: *reinterpret_cast<int32_t *>(p) = (int32_t)x; break;
    default: *reinterpret_cast<float *>(p) = x; break;
    }
}

/* Byte offset of element `flat` (dim 0 fastest) of the shape ne with strides nb. */
__device__ __forceinline__ int64_t cu_offset_flat(int64_t flat, const cu_dims &ne, const cu_dims &nb) {
    int64_t off = 0;
    for (int d = 0; d < SG_MAX_DIMS; d++) {
        if (ne.v[d] == 1) continue;
        if (d == SG_MAX_DIMS - 1) {
            off += flat * nb.v[d];
            break;
        }
        off += (flat % ne.v[d]) * nb.v[d];
        flat /= ne.v[d];
    }
    return off;
}

/* Byte offset of row r, rows being dims 1..5 (dim 1 fastest). */
__device__ __forceinline__ int64_t cu_offset_row(int64_t r, const cu_dims &ne, const cu_dims &nb) {
    int64_t off = 0;
    for (int d = 1; d < SG_MAX_DIMS; d++) {
        if (ne.v[d] == 1) continue;
        off += (r % ne.v[d]) * nb.v[d];
        r /= ne.v[d];
    }
    return off;
}

/* Byte offset of the batch index z over dims 2..5 (dim 2 fastest). */
__device__ __forceinline__ int64_t cu_offset_dims2(int64_t z, const cu_dims &ne, const cu_dims &nb) {
    int64_t off = 0;
    for (int d = 2; d < SG_MAX_DIMS; d++) {
        if (ne.v[d] == 1) continue;
        off += (z % ne.v[d]) * nb.v[d];
        z /= ne.v[d];
    }
    return off;
}

/* Sum / max of v over the block (blockDim.x a power of two, at most 1024), using scratch of
 * blockDim.x floats; every thread gets the result. A fixed tree: deterministic. */
__device__ __forceinline__ float cu_block_sum(float v, float *scratch) {
    const unsigned lid = threadIdx.x, n = blockDim.x;
    scratch[lid] = v;
    __syncthreads();
    for (unsigned s = n / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        __syncthreads();
    }
    float r = scratch[0];
    __syncthreads();
    return r;
}

__device__ __forceinline__ float cu_block_max(float v, float *scratch) {
    const unsigned lid = threadIdx.x, n = blockDim.x;
    scratch[lid] = v;
    __syncthreads();
    for (unsigned s = n / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmaxf(scratch[lid], scratch[lid + s]);
        __syncthreads();
    }
    float r = scratch[0];
    __syncthreads();
    return r;
}

/* Host: launches that check themselves. */
#define CU_LAUNCH_CHECK(name) sg_cuda_launch_check(name)

#endif
