/* libFuzzer target: Tahoe X1's model_config.yml and collator_config.yml (io/yaml.c through
 * models/tx1_config.c). The first byte picks which of the two files the rest of the input is;
 * the other one is the tiny test model's. Whatever loads must be a usable configuration. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "models/tahoe_x1.h"
#include "tests/fuzz/fuzz_file.h"

#define TINY "tests/models/fixtures/tiny_relu/"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *in = fuzz_file(data + 1, size - 1);
    bool model     = (data[0] & 1) == 0;
    struct tx1_config c;
    if (tx1_config_load(model ? in : FUZZ_FIXTURE(TINY "model_config.yml"),
                        model ? FUZZ_FIXTURE(TINY "collator_config.yml") : in, &c) != SG_OK)
        return 0;
    /* what the loader promises the model code */
    if (c.d_model <= 0 || c.n_heads <= 0 || c.d_model % c.n_heads != 0 || c.n_layers <= 0 ||
        c.n_layers > TX1_MAX_LAYERS || c.n_dec_layers < 0 || c.n_dec_layers > TX1_MAX_DEC_LAYERS || c.num_bins < 2 ||
        c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
        abort();
    (void)tx1_config_n_params(&c);
    (void)tx1_act_name(c.act_ffn);
    return 0;
}
