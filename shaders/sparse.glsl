// Shapes of the sparse-code kernels: table w [D, N], codes idx / values [K, B], dense x [D, B].
layout(push_constant) uniform P {
    uint D, N, K, B;
    uint sw0, sw1;     // table strides
    uint si0, si1;     // idx strides
    uint sv0, sv1;     // values (embed_bag v, scatter_outer c) strides
    uint sx0, sx1;     // dense operand strides
    uint ow, oi, ov, ox, od;
    uint nb;           // scatter_outer: blocks of the counting sort
} p;
