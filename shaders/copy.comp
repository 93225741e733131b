#version 450
// CONT and CPY: element i of src (in its own shape, any strides) to element i of dst (its shape,
// any strides), converting between f32, f16 and bf16 exactly as the CPU does; same-type copies
// move bits. 16-bit stores use 16-bit storage when the device has it (STORAGE16), else two
// atomics on the containing word (each touches only its own half, so neighbours are safe).
#extension GL_GOOGLE_include_directive : require
#ifdef STORAGE16
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int16 : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint ST = 0;   // source type
layout(constant_id = 2) const uint DT = 0;   // destination type
layout(constant_id = 3) const bool DENSE = false;   // both walks contiguous: no index arithmetic

layout(std430, binding = 0) readonly buffer S { uint s[]; };
layout(std430, binding = 1) buffer D { uint d[]; };
#ifdef STORAGE16
layout(std430, binding = 1) buffer D16 { uint16_t d16[]; };
#endif

layout(push_constant) uniform P {
    uint ne_s[6]; uint st_s[6];
    uint ne_d[6]; uint st_d[6];
    uint os, od, n, rank_s, rank_d;
} p;

bool is16(uint t) { return t == SG_F16 || t == SG_BF16; }

void store16(uint i, uint bits) {
#ifdef STORAGE16
    d16[i] = uint16_t(bits);
#else
    uint sh = (i & 1u) << 4;
    atomicAnd(d[i >> 1], ~(0xffffu << sh));
    atomicOr(d[i >> 1], bits << sh);
#endif
}

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) {
        uint so, dof;
        so = i;
        dof = i;
        if (!DENSE) {
            if (p.rank_s != 0u) SG_OFFSET6(i, p.ne_s, p.st_s, p.rank_s, so);
            if (p.rank_d != 0u) SG_OFFSET6(i, p.ne_d, p.st_d, p.rank_d, dof);
        }
        so += p.os;
        dof += p.od;
        if (ST == DT) {
            if (is16(ST)) store16(dof, SG_LOAD16(s, so));
            else d[dof] = s[so];
        } else {
            float v = SG_LOAD_AS_F32(s, ST, so);
            if (DT == SG_F32) d[dof] = floatBitsToUint(v);
            else if (DT == SG_F16) store16(dof, sg_f32_to_f16(v));
            else if (DT == SG_BF16) store16(dof, sg_f32_to_bf16(v));
            else d[dof] = uint(int(v));
        }
    }
}
