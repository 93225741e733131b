/* Shared by every program: element access by byte offset, f16/bf16 conversion, index helpers.
 *
 * Tensors reach kernels as (global char *base, ulong offset) plus byte strides, so views of any
 * layout (transposes, slices of a fused QKV) are read in place. Shapes and strides of up to six
 * dimensions travel as long8 (components s0..s5). f16 and bf16 are converted with integer
 * operations: OpenCL C 1.2 needs no cl_khr_fp16 for that, and results match the CPU bit for bit.
 */

#define SG_T_F32  0
#define SG_T_F16  1
#define SG_T_BF16 2
#define SG_T_I32  3

/* Work-group index along d that stays right when the host splits a launch with offsets. */
#define SG_GROUP(d) (get_group_id(d) + get_global_offset(d) / get_local_size(d))

#define SG_PTR(T, base, off) ((__global T *)((base) + (off)))

float sg_f16_to_f32(uint h) {
    uint sign = (h & 0x8000u) << 16;
    uint e    = (h >> 10) & 0x1fu;
    uint mant = h & 0x3ffu;
    if (e == 0x1fu) return as_float(sign | 0x7f800000u | (mant << 13)); /* Inf / NaN */
    if (e == 0u) {
        float v = (float)mant * (1.0f / 16777216.0f); /* subnormal half: exact in f32 */
        return sign ? -v : v;
    }
    return as_float(sign | ((e + 112u) << 23) | (mant << 13));
}

/* Round to nearest even; Inf and NaN kept (NaN stays quiet and non-zero). */
uint sg_f32_to_f16(float f) {
    uint u    = as_uint(f);
    uint sign = (u >> 16) & 0x8000u;
    uint a    = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u);
    if (a >= 0x477ff000u) return sign | 0x7c00u;
    if (a < 0x38800000u) {
        if (a < 0x33000000u) return sign;
        uint mant    = (a & 0x7fffffu) | 0x800000u;
        uint shift   = 126u - (a >> 23);
        uint q       = mant >> shift;
        uint rem     = mant & ((1u << shift) - 1u);
        uint halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (q & 1u))) q++;
        return sign | q;
    }
    uint r   = a - 0x38000000u;
    uint q   = r >> 13;
    uint rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;
    return sign | q;
}

float sg_bf16_to_f32(uint h) { return as_float(h << 16); }

uint sg_f32_to_bf16(float f) {
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

float sg_ld_f32(__global const char *p) { return *(__global const float *)p; }
float sg_ld_f16(__global const char *p) { return sg_f16_to_f32(*(__global const ushort *)p); }
float sg_ld_bf16(__global const char *p) { return sg_bf16_to_f32(*(__global const ushort *)p); }
/* x rounded to bf16: the f32 operand of a bf16 GEMM (see sg_matmul in core/ops.h) */
float sg_round_bf16(float x) { return sg_bf16_to_f32(sg_f32_to_bf16(x)); }

float sg_load(__global const char *p, int type) {
    switch (type) {
    case SG_T_F16: return sg_ld_f16(p);
    case SG_T_BF16: return sg_ld_bf16(p);
    case SG_T_I32: return (float)*(__global const int *)p;
    default: return sg_ld_f32(p);
    }
}

void sg_store(__global char *p, int type, float x) {
    switch (type) {
    case SG_T_F16: *(__global ushort *)p = (ushort)sg_f32_to_f16(x); break;
    case SG_T_BF16: *(__global ushort *)p = (ushort)sg_f32_to_bf16(x); break;
    case SG_T_I32: *(__global int *)p = (int)x; break;
    default: *(__global float *)p = x; break;
    }
}

/* Indices in dims 2..5 of the flat z (dim 2 fastest). */
long4 sg_split_dims2(long z, long8 ne) {
    long4 i;
    if (ne.s3 == 1 && ne.s4 == 1 && ne.s5 == 1) return (long4)(z, 0, 0, 0); /* no 64-bit divisions */
    i.s0 = z % ne.s2;
    z /= ne.s2;
    i.s1 = z % ne.s3;
    z /= ne.s3;
    i.s2 = z % ne.s4;
    i.s3 = z / ne.s4;
    return i;
}

long sg_offset_dims2(long z, long8 ne, long8 nb) {
    long4 i = sg_split_dims2(z, ne);
    return i.s0 * nb.s2 + i.s1 * nb.s3 + i.s2 * nb.s4 + i.s3 * nb.s5;
}

/* Elementwise kernels run on a 3-D range (dim 0, dim 1, dims 2..5 flattened); these open the
 * kernel body and give an operand's byte offset from its strides. */
#define SG_EW_BEGIN(ne)                                                                                                \
    const long i0 = get_global_id(0), i1 = get_global_id(1);                                                           \
    if (i0 >= (ne).s0 || i1 >= (ne).s1) return;                                                                        \
    const long4 iz = sg_split_dims2((long)get_global_id(2), (ne))
#define SG_EW_OFF(nb)                                                                                                  \
    (i0 * (nb).s0 + i1 * (nb).s1 + iz.s0 * (nb).s2 + iz.s1 * (nb).s3 + iz.s2 * (nb).s4 + iz.s3 * (nb).s5)

/* Byte offset of row r, rows being dims 1..5 flattened (dim 1 fastest). */
long sg_offset_row(long r, long8 ne, long8 nb) {
    if (ne.s2 == 1 && ne.s3 == 1 && ne.s4 == 1 && ne.s5 == 1) return r * nb.s1; /* matrices: no divisions */
    long i1 = r % ne.s1;
    r /= ne.s1;
    return i1 * nb.s1 + sg_offset_dims2(r, ne, nb);
}

/* Byte offset of logical element `flat` (dim 0 fastest). */
long sg_offset_flat(long flat, long8 ne, long8 nb) {
    if (ne.s1 == 1 && ne.s2 == 1 && ne.s3 == 1 && ne.s4 == 1 && ne.s5 == 1) return flat * nb.s0;
    long i0 = flat % ne.s0;
    return i0 * nb.s0 + sg_offset_row(flat / ne.s0, ne, nb);
}

/* Sum of v over a work-group of size n (a power of two), using scratch[n]; every work-item
 * gets the result. The tree has a fixed shape, so results are deterministic. */
float sg_group_sum(float v, __local float *scratch) {
    uint lid = get_local_id(0), n = get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = n / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

float sg_group_max(float v, __local float *scratch) {
    uint lid = get_local_id(0), n = get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = n / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
