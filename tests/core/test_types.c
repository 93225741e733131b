/* F16 and BF16 conversions: every half value round-trips, f32 -> f16 matches the compiler's
 * _Float16 conversion (IEEE round to nearest even), and f32 -> bf16 picks the nearest bf16 with
 * ties to even, checked against exact double arithmetic. */
#include <stdint.h>
#include <string.h>

#include "core/types.h"
#include "tests/test_util.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_every_f16_value_round_trips(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = sg_f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            bad += !isnan(sg_f16_to_f32(sg_f32_to_f16(f)));
            continue;
        }
        bad += sg_f32_to_f16(f) != h;
    }
    CHECK_MSG(bad == 0, "%d half values do not round-trip", bad);
}

#if defined(__FLT16_MAX__)
static void test_f32_to_f16_matches_compiler(void) {
    unsigned state = 12345;
    int bad        = 0;
    for (long i = 0; i < 5000000; i++) {
        state   = state * 1664525u + 1013904223u;
        float f = from_bits(state);
        if (isnan(f)) continue;
        _Float16 ref = (_Float16)f;
        uint16_t rb;
        memcpy(&rb, &ref, 2);
        float back = sg_f16_to_f32(rb);
        bad += sg_f32_to_f16(f) != rb || bits(back) != bits((float)ref);
    }
    CHECK_MSG(bad == 0, "%d random floats convert differently from _Float16", bad);
}
#endif

static void test_f32_to_bf16_rounds_to_nearest_even(void) {
    unsigned state = 777;
    int bad        = 0;
    for (long i = 0; i < 2000000; i++) {
        state   = state * 1664525u + 1013904223u;
        float f = from_bits(state);
        if (isnan(f) || isinf(f)) continue;
        uint16_t r = sg_f32_to_bf16(f);
        double got = sg_bf16_to_f32(r);
        /* the two bf16 values around f: truncation and the next one away from zero */
        uint16_t lo = (uint16_t)(bits(f) >> 16);
        double a = sg_bf16_to_f32(lo), b = sg_bf16_to_f32((uint16_t)(lo + 1));
        /* past the largest finite bf16, IEEE rounds as if the exponent were unbounded (to
         * +-2^128) and then overflows to infinity */
        double b_dist = isinf(b) ? copysign(ldexp(1.0, 128), b) : b;
        double da = fabs((double)f - a), db = fabs((double)f - b_dist);
        double want = da < db ? a : db < da ? b : ((lo & 1) ? b : a);
        bad += got != want;
    }
    CHECK_MSG(bad == 0, "%d floats round to the wrong bf16", bad);
    CHECK(isnan(sg_bf16_to_f32(sg_f32_to_bf16(NAN))));
    CHECK(sg_bf16_to_f32(sg_f32_to_bf16(INFINITY)) == INFINITY);
    CHECK(sg_f16_to_f32(sg_f32_to_f16(70000.0f)) == INFINITY);
}

static void test_convert_row_between_types(void) {
    float src[4] = {1.5f, -2.25f, 65504.0f, 1e-8f};
    uint16_t half[4];
    float back[4];
    sg_convert_row(SG_TYPE_F16, half, SG_TYPE_F32, src, 4);
    sg_convert_row(SG_TYPE_F32, back, SG_TYPE_F16, half, 4);
    CHECK(back[0] == 1.5f && back[1] == -2.25f && back[2] == 65504.0f);
    CHECK(back[3] == sg_f16_to_f32(sg_f32_to_f16(1e-8f)));
    enum sg_type t;
    CHECK(sg_type_from_name("bf16", &t) == 0 && t == SG_TYPE_BF16);
    CHECK(sg_type_from_name("f64", &t) != 0);
}

int main(void) {
    RUN_TEST(test_every_f16_value_round_trips);
#if defined(__FLT16_MAX__)
    RUN_TEST(test_f32_to_f16_matches_compiler);
#endif
    RUN_TEST(test_f32_to_bf16_rounds_to_nearest_even);
    RUN_TEST(test_convert_row_between_types);
    return test_exit_code();
}
