/* A synthetic activation source for SAE tests: tokens drawn from a known sparse dictionary.
 * Each token is the sum of `k` distinct atoms (unit directions in d_in dimensions) with
 * coefficients uniform in [0.5, 1.5], plus optional Gaussian noise. Position = tokens drawn, so
 * checkpoints can seek it (regenerating from the seed). */
#ifndef SAEG_TEST_SYNTH_H
#define SAEG_TEST_SYNTH_H

#include <stdlib.h>
#include <string.h>

#include "models/sae_rng.h"
#include "pipeline/act_source.h"

struct synth_source {
    struct sg_act_source base;
    int64_t n_atoms;
    int k;
    float noise;
    float *atoms; /* [n_atoms][d] */
    uint64_t seed;
    struct sg_rng rng;
    int64_t drawn;
};

static void synth_row(struct synth_source *s, float *dst) {
    const int64_t d = s->base.d;
    int64_t picked[64];
    memset(dst, 0, (size_t)d * sizeof *dst);
    for (int j = 0; j < s->k; j++) {
        int64_t a;
        bool dup;
        do {
            a   = (int64_t)sg_rng_below(&s->rng, (uint64_t)s->n_atoms);
            dup = false;
            for (int q = 0; q < j; q++) dup |= picked[q] == a;
        } while (dup);
        picked[j] = a;
        float c   = (float)(0.5 + sg_rng_uniform(&s->rng));
        for (int64_t i = 0; i < d; i++) dst[i] += c * s->atoms[a * d + i];
    }
    for (int64_t i = 0; s->noise > 0 && i < d; i++) dst[i] += s->noise * (float)sg_rng_normal(&s->rng);
}

static sg_status synth_read(struct sg_act_source *base, float *dst, int64_t n, int64_t *got) {
    struct synth_source *s = (struct synth_source *)base;
    for (int64_t r = 0; r < n; r++) synth_row(s, dst + r * base->d);
    s->drawn += n;
    if (got) *got = n;
    return SG_OK;
}

static struct sg_act_pos synth_tell(const struct sg_act_source *base) {
    return (struct sg_act_pos){0, ((const struct synth_source *)base)->drawn, 0};
}

static sg_status synth_seek(struct sg_act_source *base, struct sg_act_pos pos) {
    struct synth_source *s = (struct synth_source *)base;
    sg_rng_seed(&s->rng, s->seed);
    s->drawn   = 0;
    float *row = malloc((size_t)base->d * sizeof *row);
    if (!row) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (int64_t i = 0; i < pos.item; i++) synth_row(s, row);
    free(row);
    s->drawn = pos.item;
    return SG_OK;
}

static void synth_free(struct sg_act_source *base) {
    struct synth_source *s = (struct synth_source *)base;
    free(s->atoms);
    free(s);
}

/* Atoms are random unit vectors (seeded); tokens are drawn from `seed` too. */
static struct synth_source *synth_new(int64_t d, int64_t n_atoms, int k, float noise, uint64_t seed) {
    struct synth_source *s = calloc(1, sizeof *s);
    s->base                = (struct sg_act_source){
                       .d = d, .n_tokens = -1, .read = synth_read, .tell = synth_tell, .seek = synth_seek, .free = synth_free};
    s->n_atoms = n_atoms;
    s->k       = k;
    s->noise   = noise;
    s->seed    = seed;
    s->atoms   = malloc((size_t)(n_atoms * d) * sizeof *s->atoms);
    sg_rng_seed(&s->rng, seed * 7919 + 1);
    for (int64_t a = 0; a < n_atoms; a++) {
        double ss = 0;
        for (int64_t i = 0; i < d; i++) {
            s->atoms[a * d + i] = (float)sg_rng_normal(&s->rng);
            ss += (double)s->atoms[a * d + i] * s->atoms[a * d + i];
        }
        for (int64_t i = 0; i < d; i++) s->atoms[a * d + i] = (float)(s->atoms[a * d + i] / sqrt(ss));
    }
    sg_rng_seed(&s->rng, seed);
    return s;
}

#endif
