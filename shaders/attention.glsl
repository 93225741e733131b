// Shared declarations of the attention kernels: shapes and strides of q [D, H, Sq, B],
// k [D, H, Sk, B], v [Dv, H, Sk, B], the optional key mask [Sk, B] and the key-visibility rule.

layout(push_constant) uniform P {
    uint D, Dv, H, Sq, Sk, B;
    uint sq[4]; uint sk[4]; uint sv[4];   // element strides of q, k, v (dims 0..3)
    uint sm0, sm1;                        // key mask strides (key, batch)
    uint sd[4];                           // dout strides (backward) or unused
    uint oq, ok, ov, om, od, oo;          // offsets: q, k, v, mask, dout, output
    float scale;
    uint flags;                           // 1: a key mask is bound; 2: write log-sum-exp (forward)
} p;

bool has_mask() { return (p.flags & 1u) != 0u; }

// enum sg_attn_key: 0 hidden, 1 visible, 2 visible only to the query at the same position
bool sg_key_visible(int code, uint iq, uint j) { return code == 1 || (code == 2 && iq == j); }
