/* libFuzzer target: vocab.json (models/tx1_vocab.c). Whatever loads is looked up both ways:
 * every id must map back to its token, and lookups of versioned Ensembl IDs must not overrun. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/tahoe_x1.h"
#include "tests/fuzz/fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct tx1_vocab *v;
    if (tx1_vocab_load(fuzz_file(data, size), &v) != SG_OK) return 0;
    for (int64_t id = 0; id < tx1_vocab_size(v); id++) {
        const char *tok = tx1_vocab_token(v, id);
        if (!tok || tx1_vocab_lookup(v, tok) != id) abort();
        (void)tx1_vocab_lookup_gene(v, tok);
    }
    static const char *const probes[] = {
        "", ".", "ENSG00000000003", "ENSG00000000003.", "ENSG00000000003.15", "<pad>", "<cls>", "a.1.2"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) (void)tx1_vocab_lookup_gene(v, probes[i]);
    (void)tx1_vocab_token(v, -1);
    (void)tx1_vocab_token(v, tx1_vocab_size(v));
    tx1_vocab_free(v);
    return 0;
}
