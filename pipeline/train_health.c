/* Warnings about a training run going wrong in ways a user can fix, said once each and early
 * enough to stop the run: a sparsity penalty that silences every latent, one too weak to make
 * the code sparse, and a dictionary that is mostly dead. They name the option to change; the
 * thresholds are loose on purpose (a warning that cries wolf gets ignored). */
#include <stdio.h>

#include "core/log.h"
#include "train_priv.h"

static bool has_penalty(enum sg_sae_arch arch) { return arch == SG_SAE_STANDARD || arch == SG_SAE_JUMPRELU; }

static const char *coef_option(const struct sg_sae_config *c, char *buf, size_t cap) {
    if (c->arch == SG_SAE_STANDARD)
        snprintf(buf, cap, "--l1-coef %g", (double)c->l1_coef);
    else
        snprintf(buf, cap, "--l0-coef %g", (double)c->l0_coef);
    return buf;
}

void sg_train_health(struct sg_train_health *h, const struct sg_trainer *t, double l0, double dead_fraction) {
    const struct sg_sae_config *c = &t->sae->cfg;
    const bool penalty_on = t->step > t->penalty_warmup, last = t->step >= t->o.steps;
    char coef[48];
    if (has_penalty(c->arch) && penalty_on && l0 < 0.5 && !h->warned_silent) {
        h->warned_silent = true;
        SG_LOGW("train: L0 is %.2f at step %lld: the sparsity penalty (%s) silences nearly every latent. Its "
                "scale depends on the model's activations; stop and retry with a smaller coefficient (a tenth, "
                "say), or use --architecture topk, whose sparsity is set by -k alone",
                l0, (long long)t->step, coef_option(c, coef, sizeof coef));
    }
    if (has_penalty(c->arch) && last && l0 > 0.25 * (double)c->d_sae && !h->warned_dense) {
        h->warned_dense = true;
        SG_LOGW("train: L0 is %.0f of %lld latents at the end: the code is hardly sparse (%s is weak for this "
                "model); raise the coefficient, or use --architecture topk with -k",
                l0, (long long)c->d_sae, coef_option(c, coef, sizeof coef));
    }
    if (last && dead_fraction > 0.5 && !h->warned_dead) {
        h->warned_dead = true;
        SG_LOGW("train: %.0f%% of the latents are dead at the end (silent for --dead-tokens %lld tokens): the "
                "dictionary is wider than this data supports, or the learning rate (%.3g) too high; try a smaller "
                "--d-sae or --lr",
                100 * dead_fraction, (long long)t->o.dead_tokens, t->lr);
    }
}
