// Shared helpers of the compute shaders: element types and conversions (bit-exact with the
// CPU's core/types.c), 6-D index arithmetic. Included after #version and the extensions.

#define SG_F32  0u
#define SG_F16  1u
#define SG_BF16 2u
#define SG_I32  3u

#define SG_INF uintBitsToFloat(0x7f800000u)

float sg_f16_to_f32(uint h) {
    uint sign = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1fu;
    uint m = h & 0x3ffu;
    if (e == 0x1fu) return uintBitsToFloat(sign | 0x7f800000u | (m << 13));
    if (e == 0u) {
        // subnormal half: m * 2^-24 is exact in f32 (and a normal f32, so never flushed)
        float v = float(m) * (1.0 / 16777216.0);
        return sign != 0u ? -v : v;
    }
    return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
}

// Round to nearest even, NaN kept quiet, overflow to Inf.
uint sg_f32_to_f16(float f) {
    uint u = floatBitsToUint(f);
    uint sign = (u >> 16) & 0x8000u;
    uint a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | 0x7c00u | (a > 0x7f800000u ? (0x200u | ((a >> 13) & 0x3ffu)) : 0u);
    if (a >= 0x477ff000u) return sign | 0x7c00u;
    if (a < 0x38800000u) {
        if (a < 0x33000000u) return sign;
        uint m = (a & 0x7fffffu) | 0x800000u;
        uint shift = 126u - (a >> 23);
        uint q = m >> shift;
        uint rem = m & ((1u << shift) - 1u);
        uint half_ = 1u << (shift - 1u);
        if (rem > half_ || (rem == half_ && (q & 1u) != 0u)) q++;
        return sign | q;
    }
    uint r = a - 0x38000000u;
    uint q = r >> 13;
    uint rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u) != 0u)) q++;
    return sign | q;
}

float sg_bf16_to_f32(uint h) { return uintBitsToFloat(h << 16); }

uint sg_f32_to_bf16(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

// 16-bit element i of a uint array (little-endian halves).
#define SG_LOAD16(arr, i) ((arr[(i) >> 1] >> (((i) & 1u) << 4)) & 0xffffu)

// Element i of a uint-declared array holding type T, as float.
#define SG_LOAD_AS_F32(arr, T, i) \
    ((T) == SG_F32 ? uintBitsToFloat(arr[i]) : \
     (T) == SG_F16 ? sg_f16_to_f32(SG_LOAD16(arr, i)) : \
     (T) == SG_BF16 ? sg_bf16_to_f32(SG_LOAD16(arr, i)) : float(int(arr[i])))

// Offset of flat element `flat` of shape ne[0..rank) in a tensor with element strides st (the
// last dim needs no division: integer division is slow everywhere, very slow on CPU drivers).
#define SG_OFFSET6(flat, ne, st, rank, out) { \
    uint f_ = (flat); out = 0u; \
    for (uint d_ = 0u; d_ + 1u < (rank); d_++) { uint q_ = f_ / ne[d_]; out += (f_ - q_ * ne[d_]) * st[d_]; f_ = q_; } \
    out += f_ * st[(rank) - 1u]; }

#define SG_NAN uintBitsToFloat(0x7fc00000u)

// erfc for f32 with relative error below 1.2e-7 (the Chebyshev-fitted form from Numerical
// Recipes, 2nd ed., 6.2); erfc(-z) = 2 - erfc(z).
float sg_erfc(float x) {
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
              t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
              t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0.0 ? r : 2.0 - r;
}

// Standard normal CDF and density.
float sg_norm_cdf(float x) { return 0.5 * sg_erfc(-x * 0.70710678118654752); }
float sg_norm_pdf(float x) { return exp(-0.5 * x * x) * 0.39894228040143268; }

// tanh without overflow for large |x| and without cancellation near 0 (Pade [7/6] there).
float sg_tanh(float x) {
    float a = abs(x);
    if (a < 1.0) {
        float x2 = x * x;
        return x * (135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))) /
               (135135.0 + x2 * (62370.0 + x2 * (3150.0 + x2 * 28.0)));
    }
    float t = exp(-2.0 * a);
    float r = (1.0 - t) / (1.0 + t);
    return x < 0.0 ? -r : r;
}
