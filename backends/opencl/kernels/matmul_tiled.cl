/* MATMUL and LINEAR, tiled through local memory; instantiated by cl_program.c with
 *   MM_NAME, MM_TM x MM_TN (output tile), MM_TK (k-step), MM_RM x MM_RN (outputs per work-item,
 *   multiples of 4), MM_LOAD_A(p) and MM_LOAD_B(p) (read one element of A or B as f32).
 * Work-groups are 16x16. c[n, m] = sum_k a[k, m] b[n, k] (row-major: C = A B with A M x K and
 * B K x N); any strides.
 *
 * Loads: the 256 work-items fill a tile so that consecutive work-items follow the operand's
 * unit-stride dim (coalesced); each work-item's loads are one base pointer plus a fixed step.
 * They are staged through registers: the next tile's global loads are issued before the
 * current tile is multiplied, hiding their latency.
 * Compute: work-item (tx, ty) owns MM_RM consecutive rows and MM_RN consecutive columns of the
 * tile and reads them from local memory as float4s. */

#define MM_WG 256
#define MM_LA (MM_TM * MM_TK / MM_WG) /* A elements each work-item loads per tile */
#define MM_LB (MM_TN * MM_TK / MM_WG)

__kernel __attribute__((reqd_work_group_size(16, 16, 1))) void
MM_NAME(__global char *c, ulong coff, __global const char *a, ulong aoff, __global const char *b, ulong boff, int M,
        int N, int K, long a_sk, long a_sm, long b_sn, long b_sk, long c_sn, long c_sm, long8 bne, long8 anb, long8 bnb,
        long8 cnb, int a_k_contig, int b_n_contig, __global const char *bias, ulong bias_off, long bias_nb,
        int has_bias, int act, float slope) {
    __local float As[MM_TK][MM_TM + 4];
    __local float Bs[MM_TK][MM_TN + 4];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * 16 + tx;
    const int m0 = SG_GROUP(1) * MM_TM, n0 = SG_GROUP(0) * MM_TN;
    const long z = get_global_id(2);
    a += aoff + sg_offset_dims2(z, bne, anb);
    b += boff + sg_offset_dims2(z, bne, bnb);

    /* Load i of this work-item goes to tile slot (ak + i dak, am + i dam); same for B. */
    const int ak = a_k_contig ? tid % MM_TK : tid / MM_TM, am = a_k_contig ? tid / MM_TK : tid % MM_TM;
    const int dak = a_k_contig ? 0 : MM_WG / MM_TM, dam = a_k_contig ? MM_WG / MM_TK : 0;
    const int bk = b_n_contig ? tid / MM_TN : tid % MM_TK, bn = b_n_contig ? tid % MM_TN : tid / MM_TK;
    const int dbk = b_n_contig ? MM_WG / MM_TN : 0, dbn = b_n_contig ? 0 : MM_WG / MM_TK;
    const long a_step = dak * a_sk + dam * a_sm, b_step = dbk * b_sk + dbn * b_sn;
    __global const char *pa = a + (long)(m0 + am) * a_sm + (long)ak * a_sk;
    __global const char *pb = b + (long)(n0 + bn) * b_sn + (long)bk * b_sk;

    float ra[MM_LA], rb[MM_LB];
    for (int i = 0; i < MM_LA; i++)
        ra[i] = m0 + am + i * dam < M && ak + i * dak < K ? MM_LOAD_A(pa + i * a_step) : 0.0f;
    for (int i = 0; i < MM_LB; i++)
        rb[i] = n0 + bn + i * dbn < N && bk + i * dbk < K ? MM_LOAD_B(pb + i * b_step) : 0.0f;

    float acc[MM_RM][MM_RN];
    for (int i = 0; i < MM_RM; i++)
        for (int j = 0; j < MM_RN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += MM_TK) {
        for (int i = 0; i < MM_LA; i++) As[ak + i * dak][am + i * dam] = ra[i];
        for (int i = 0; i < MM_LB; i++) Bs[bk + i * dbk][bn + i * dbn] = rb[i];
        barrier(CLK_LOCAL_MEM_FENCE);

        const int k1 = k0 + MM_TK;
        if (k1 < K) {
            pa += MM_TK * a_sk;
            pb += MM_TK * b_sk;
            for (int i = 0; i < MM_LA; i++)
                ra[i] = m0 + am + i * dam < M && k1 + ak + i * dak < K ? MM_LOAD_A(pa + i * a_step) : 0.0f;
            for (int i = 0; i < MM_LB; i++)
                rb[i] = n0 + bn + i * dbn < N && k1 + bk + i * dbk < K ? MM_LOAD_B(pb + i * b_step) : 0.0f;
        }

        for (int kk = 0; kk < MM_TK; kk++) {
            float av[MM_RM], bv[MM_RN];
            for (int i = 0; i < MM_RM; i += 4) vstore4(vload4(0, &As[kk][ty * MM_RM + i]), 0, av + i);
            for (int j = 0; j < MM_RN; j += 4) vstore4(vload4(0, &Bs[kk][tx * MM_RN + j]), 0, bv + j);
            for (int i = 0; i < MM_RM; i++)
                for (int j = 0; j < MM_RN; j++) acc[i][j] += av[i] * bv[j];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    c += coff + sg_offset_dims2(z, bne, cnb);
    for (int i = 0; i < MM_RM; i++) {
        const int m = m0 + ty * MM_RM + i;
        if (m >= M) break;
        for (int j = 0; j < MM_RN; j++) {
            const int n = n0 + tx * MM_RN + j;
            if (n < N)
                *(__global float *)(c + m * c_sm + n * c_sn) =
                    sg_mm_epilogue(acc[i][j], n, bias, bias_off, bias_nb, has_bias, act, slope);
        }
    }
}

#undef MM_NAME
#undef MM_TM
#undef MM_TN
#undef MM_TK
#undef MM_RM
#undef MM_RN
#undef MM_LOAD_A
#undef MM_LOAD_B
#undef MM_WG
#undef MM_LA
#undef MM_LB
