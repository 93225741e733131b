/* saeg bench: end-to-end benchmarks, one subcommand each. Every benchmark prints its numbers next
 * to a reference measured in the same run; nothing here is asserted by tests. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} benches[] = {
    {"model", saeg_bench_model, "Tahoe X1 forward pass: cells/s and peak memory, against PyTorch when installed"},
#ifdef SAEG_HAVE_PIPELINE
    {"sae", saeg_bench_sae, "SAE training tokens/s per device, against a dense PyTorch TopK step when installed"},
#endif
};

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg bench <benchmark> [options]\n\nbenchmarks:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(out, "  %-8s %s\n", benches[i].name, benches[i].summary);
    fprintf(out, "\nRun 'saeg bench <benchmark> --help' for its options.\n");
}

int saeg_cmd_bench(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (strcmp(argv[1], benches[i].name) == 0) return benches[i].run(argc - 1, argv + 1);
    fprintf(stderr, "saeg bench: unknown benchmark '%s'\n", argv[1]);
    print_help(stderr);
    return 2;
}
