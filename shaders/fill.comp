#version 450
// Fills n 32-bit words from `first` with a value (zeroing outputs and scratch).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(std430, binding = 0) writeonly buffer D { uint d[]; };
layout(push_constant) uniform P { uint first; uint n; uint value; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * WG) d[p.first + i] = p.value;
}
