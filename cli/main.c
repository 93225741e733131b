/* saeg: sparse autoencoders on Tahoe X1 single-cell models. Dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#ifdef SAEG_HAVE_DIST
#include "core/backend.h"
#include "pipeline/dist.h"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#ifdef SAEG_HAVE_RUN
    {"pipeline", saeg_cmd_pipeline, "the whole run: train -> extract -> (validate) -> dashboard"},
#endif
    {"devices", saeg_cmd_devices, "list backends and devices, and which one --device would pick"},
#ifdef SAEG_HAVE_MODELS
    {"embed", saeg_cmd_embed, "run cells of an h5ad through Tahoe X1; write cell and token embeddings"},
    {"fetch-model", saeg_cmd_fetch_model, "download a released Tahoe X1 model (70m, 1.3b, 3b)"},
    {"bench", saeg_cmd_bench, "benchmarks: 'saeg bench model' times the Tahoe X1 forward pass"},
#endif
#ifdef SAEG_HAVE_PIPELINE
    {"train", saeg_cmd_train, "train a sparse autoencoder on Tahoe X1 activations (SAELens output)"},
    {"eval", saeg_cmd_eval, "evaluate an SAE: reconstruction, sparsity, loss recovered (eval.json)"},
#endif
#ifdef SAEG_HAVE_EXTRACT
    {"extract", saeg_cmd_extract, "top genes, top cells and cell-type enrichment of every SAE feature"},
#endif
#ifdef SAEG_HAVE_DASHBOARD
    {"dashboard", saeg_cmd_dashboard, "write the one-file HTML dashboard of a run's features"},
#endif
#ifdef SAEG_HAVE_VALIDATION
    {"validate", saeg_cmd_validate, "test SAE features' top genes against disease, phenotype and pathway databases"},
#endif
};

static void print_usage(FILE *out) {
    fprintf(out, "usage: saeg <command> [options]\n"
                 "       saeg --version | --help\n"
                 "\n"
                 "Trains sparse autoencoders on Tahoe X1 activations and explains their features.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Run 'saeg <command> --help' for a command's options.\n"
                 "Environment: SAEG_LOG=error|warn|info|debug, SAEG_THREADS=N (CPU threads),\n"
                 "             SAEG_BACKEND_PATH=dir:file.so (extra places to look for backend plugins).\n");
}

/* Under mpirun/srun every rank runs the same command on its share of the data (docs/mpi.md). A
 * rank that fails ends the whole job, since the others may be waiting for it in a collective. */
static int run_command(const struct command *c, int argc, char **argv) {
#ifdef SAEG_HAVE_DIST
    if (sg_dist_init(&argc, &argv) != SG_OK) {
        fprintf(stderr, "saeg: %s\n", sg_last_error());
        return 1;
    }
    sg_device_set_index_hint(sg_dist_local_rank());
    /* results and summaries are rank 0's to print; the other ranks' stdout would repeat them */
    if (sg_dist_rank() != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    int rc = c->run(argc - 1, argv + 1);
    if (rc != 0 && sg_dist_size() > 1)
        sg_dist_abort(rc, "%s failed on rank %d of %d (exit status %d); stopping every rank", c->name, sg_dist_rank(),
                      sg_dist_size(), rc);
    sg_dist_finalize();
    return rc;
#else
    return c->run(argc - 1, argv + 1);
#endif
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("saeg %s\n", SAEG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return run_command(&commands[i], argc, argv);
    fprintf(stderr, "saeg: unknown command '%s'\n\n", cmd);
    print_usage(stderr);
    return 2;
}
