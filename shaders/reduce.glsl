// Workgroup-wide sum and max, deterministic for a given device. Needs WG (a power of two, the
// workgroup size). With USE_SUBGROUP, subgroup arithmetic does the first level (any subgroup
// size: partial sums per subgroup, then a fixed-order sum over gl_NumSubgroups); without it, a
// shared-memory tree.
#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float sg_red[WG];

float wg_sum(float v) {
#ifdef USE_SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect()) sg_red[gl_SubgroupID] = v;
    barrier();
    float t = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; i++) t += sg_red[i];
    barrier();
    return t;
#else
    uint tid = gl_LocalInvocationID.x;
    sg_red[tid] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) sg_red[tid] += sg_red[tid + s];
        barrier();
    }
    float t = sg_red[0];
    barrier();
    return t;
#endif
}

float wg_max(float v) {
#ifdef USE_SUBGROUP
    v = subgroupMax(v);
    if (subgroupElect()) sg_red[gl_SubgroupID] = v;
    barrier();
    float t = sg_red[0];
    for (uint i = 1u; i < gl_NumSubgroups; i++) t = max(t, sg_red[i]);
    barrier();
    return t;
#else
    uint tid = gl_LocalInvocationID.x;
    sg_red[tid] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (tid < s) sg_red[tid] = max(sg_red[tid], sg_red[tid + s]);
        barrier();
    }
    float t = sg_red[0];
    barrier();
    return t;
#endif
}
