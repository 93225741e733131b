#version 450
// ADAM_STEP in place on w, m, v (contiguous); g read through its strides. Global-norm clipping
// scales g by min(1, clip / sqrt(grad_norm_sq)) when clip > 0 and the norm is given.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const bool HAS_NORM = false;
layout(constant_id = 1) const bool DENSE = false;   // g contiguous: no index arithmetic

layout(std430, binding = 0) buffer Wt { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer H { float hp[]; };
layout(std430, binding = 5) readonly buffer N { float gn2[]; };

layout(push_constant) uniform P {
    uint ne[6]; uint sg[6];
    uint og, ow, om, ov, oh, sh, on, n, rank;
} p;

void main() {
    float lr = hp[p.oh], beta1 = hp[p.oh + p.sh], beta2 = hp[p.oh + 2u * p.sh], eps = hp[p.oh + 3u * p.sh];
    float wd = hp[p.oh + 4u * p.sh], b1h = hp[p.oh + 5u * p.sh], b2h = hp[p.oh + 6u * p.sh], clip = hp[p.oh + 7u * p.sh];
    float gscale = 1.0;
    if (HAS_NORM && clip > 0.0) gscale = min(1.0, clip / sqrt(gn2[p.on]));
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * 256u) {
        uint gi = i;
        if (!DENSE && p.rank != 0u) SG_OFFSET6(i, p.ne, p.sg, p.rank, gi);
        float gv = gscale * g[p.og + gi];
        float mi = beta1 * m[p.om + i] + (1.0 - beta1) * gv;
        float vi = beta2 * v[p.ov + i] + (1.0 - beta2) * gv * gv;
        m[p.om + i] = mi;
        v[p.ov + i] = vi;
        w[p.ow + i] = w[p.ow + i] * (1.0 - lr * wd) - lr * (mi * b1h) / (sqrt(vi * b2h) + eps);
    }
}
