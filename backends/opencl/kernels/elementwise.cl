/* Broadcasting binary ops, unary functions and activation gradients (F32). Operation codes
 * match enum cl_binop / cl_unop in cl_ops_elementwise.c. */

__kernel void binary(__global char *d, ulong doff, __global const char *a, ulong aoff, __global const char *b,
                     ulong boff, long8 ne, long8 dnb, long8 anb, long8 bnb, int op) {
    SG_EW_BEGIN(ne);
    float x = *SG_PTR(const float, a, aoff + SG_EW_OFF(anb));
    float y = *SG_PTR(const float, b, boff + SG_EW_OFF(bnb));
    float r;
    switch (op) {
    case 0: r = x + y; break;
    case 1: r = x - y; break;
    case 2: r = x * y; break;
    default: r = x / y; break;
    }
    *SG_PTR(float, d, doff + SG_EW_OFF(dnb)) = r;
}

float sg_norm_cdf(float x) { return 0.5f * (1.0f + erf(x * 0.70710678118654752f)); }
float sg_norm_pdf(float x) { return exp(-0.5f * x * x) * 0.39894228040143268f; }

__kernel void unary(__global char *d, ulong doff, __global const char *a, ulong aoff, long8 ne, long8 dnb, long8 anb,
                    int op, float p0, float p1) {
    SG_EW_BEGIN(ne);
    float x = op == 9 ? 0.0f : *SG_PTR(const float, a, aoff + SG_EW_OFF(anb));
    float r;
    switch (op) {
    case 0: r = p0 * x + p1; break;                     /* scale */
    case 1: r = x * x; break;                           /* sqr */
    case 2: r = sqrt(x); break;                         /* sqrt */
    case 3: r = x < 0.0f ? 0.0f : x; break;             /* relu; NaN passes through */
    case 4: r = x * sg_norm_cdf(x); break;              /* gelu (erf) */
    case 5: r = x > 0.0f ? x : p0 * x; break;           /* leaky relu */
    case 6: r = 1.0f / (1.0f + exp(-x)); break;         /* sigmoid */
    case 7: r = tanh(x); break;                         /* tanh */
    case 8: r = x < p0 ? p0 : (x > p1 ? p1 : x); break; /* clamp */
    case 10: r = exp(x); break;                         /* exp */
    case 11: r = x > 0.0f ? 1.0f : 0.0f; break;         /* step; NaN steps to 0 */
    default: r = p0; break;                             /* fill */
    }
    *SG_PTR(float, d, doff + SG_EW_OFF(dnb)) = r;
}

/* dy * f'(x) with PyTorch's values at the kinks (enum sg_act order). */
__kernel void act_back(__global char *d, ulong doff, __global const char *x, ulong xoff, __global const char *dy,
                       ulong dyoff, long8 ne, long8 dnb, long8 xnb, long8 dynb, int act, float alpha, float lo,
                       float hi) {
    SG_EW_BEGIN(ne);
    float v = *SG_PTR(const float, x, xoff + SG_EW_OFF(xnb));
    float g = *SG_PTR(const float, dy, dyoff + SG_EW_OFF(dynb));
    float f;
    switch (act) {
    case 0: f = v > 0.0f ? 1.0f : 0.0f; break;
    case 1: f = v > 0.0f ? 1.0f : alpha; break;
    case 2: f = sg_norm_cdf(v) + v * sg_norm_pdf(v); break;
    default: f = (v >= lo && v <= hi) ? 1.0f : 0.0f; break;
    }
    *SG_PTR(float, d, doff + SG_EW_OFF(dnb)) = g * f;
}
