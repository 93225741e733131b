#include "types.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} type_traits[SG_TYPE_COUNT] = {
    [SG_TYPE_F32]  = {"f32", 4},
    [SG_TYPE_F16]  = {"f16", 2},
    [SG_TYPE_BF16] = {"bf16", 2},
    [SG_TYPE_I32]  = {"i32", 4},
};

size_t sg_type_size(enum sg_type type) { return (unsigned)type < SG_TYPE_COUNT ? type_traits[type].size : 0; }

const char *sg_type_name(enum sg_type type) { return (unsigned)type < SG_TYPE_COUNT ? type_traits[type].name : "?"; }

int sg_type_from_name(const char *name, enum sg_type *out) {
    for (int t = 0; t < SG_TYPE_COUNT; t++) {
        if (strcmp(name, type_traits[t].name) == 0) {
            *out = (enum sg_type)t;
            return 0;
        }
    }
    return -1;
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float sg_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp  = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13)); /* Inf / NaN */
    if (exp == 0) {
        if (mant == 0) return bits_f32(sign);
        /* subnormal half: mant * 2^-24 is exact in f32 */
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t sg_f32_to_f16(float f) {
    uint32_t u    = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t abs  = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) /* Inf or NaN (keep NaN quiet and non-zero) */
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 | ((abs >> 13) & 0x3ff) : 0);
    if (abs >= 0x477ff000u) return sign | 0x7c00; /* rounds past 65504: Inf */
    if (abs < 0x38800000u) {
        /* result is subnormal (or zero): scale to units of 2^-24 and round half to even */
        if (abs < 0x33000000u) return sign; /* below half of the smallest subnormal */
        uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        int shift     = 126 - (int)(abs >> 23); /* 14..24 */
        uint32_t q    = mant >> shift;
        uint32_t rem  = mant & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t r   = abs - 0x38000000u; /* rebias exponent 127 -> 15 */
    uint32_t q   = r >> 13;
    uint32_t rem = r & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++;
    return sign | (uint16_t)q;
}

float sg_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t sg_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1);                                           /* round half to even */
    return (uint16_t)(u >> 16);
}

float sg_round_bf16(float f) { return sg_bf16_to_f32(sg_f32_to_bf16(f)); }

void sg_convert_row(enum sg_type dst_type, void *dst, enum sg_type src_type, const void *src, int64_t n) {
    if (dst_type == src_type) {
        memmove(dst, src, (size_t)n * sg_type_size(src_type));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float v;
        switch (src_type) {
        case SG_TYPE_F32: v = ((const float *)src)[i]; break;
        case SG_TYPE_F16: v = sg_f16_to_f32(((const uint16_t *)src)[i]); break;
        case SG_TYPE_BF16: v = sg_bf16_to_f32(((const uint16_t *)src)[i]); break;
        case SG_TYPE_I32: v = (float)((const int32_t *)src)[i]; break;
        default: v = 0; break;
        }
        switch (dst_type) {
        case SG_TYPE_F32: ((float *)dst)[i] = v; break;
        case SG_TYPE_F16: ((uint16_t *)dst)[i] = sg_f32_to_f16(v); break;
        case SG_TYPE_BF16: ((uint16_t *)dst)[i] = sg_f32_to_bf16(v); break;
        case SG_TYPE_I32: ((int32_t *)dst)[i] = (int32_t)v; break;
        default: break;
        }
    }
}
