/* saeg fetch-model: downloads a released Tahoe X1 folder from Hugging Face (resumable, with a
 * progress bar) into the place --model-size looks first. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "cli/commands.h"
#include "io/http.h"
#include "io/safetensors.h"
#include "models/tahoe_x1.h"

#define DEFAULT_URL "https://huggingface.co/tahoebio/Tahoe-x1/resolve/main"

static void print_help(FILE *out) {
    fprintf(out, "usage: saeg fetch-model SIZE [--dest DIR] [--url BASE] [--force]\n"
                 "\n"
                 "Downloads the released Tahoe X1 model SIZE (70m, 1.3b or 1b, 3b) into DIR/<size>-model/:\n"
                 "model.safetensors, model_config.yml, collator_config.yml and vocab.json. An interrupted\n"
                 "download resumes where it stopped; files already present are kept.\n"
                 "\n"
                 "  --dest DIR    root folder (default: $SAEG_MODEL_DIR, else ~/.cache/saeg/models), which\n"
                 "                is where --model-size looks first\n"
                 "  --url BASE    where the <size>-model/ folders are served (default: $SAEG_MODEL_URL, else\n"
                 "                " DEFAULT_URL ")\n"
                 "  --force       download again even when a file is present\n"
                 "  -h, --help    this help\n");
}

struct progress {
    const char *name;
    bool tty;
    double t0, t_last;
    int last_decile;
    int64_t start; /* bytes already there when this try began (resumed) */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int on_progress(int64_t done, int64_t total, void *user) {
    struct progress *p = user;
    double t           = now_s();
    if (p->start < 0) p->start = done;
    const double mib = 1024.0 * 1024.0, rate = (double)(done - p->start) / mib / (t - p->t0 > 1e-3 ? t - p->t0 : 1e-3);
    if (p->tty) {
        if (t - p->t_last < 0.1 && done != total) return 0;
        p->t_last    = t;
        char bar[31] = "";
        if (total > 0) {
            int fill = (int)(30.0 * (double)done / (double)total);
            for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : ' ';
            bar[30] = '\0';
            fprintf(stderr, "\r  %-20s [%s] %8.1f / %.1f MiB  %6.1f MiB/s ", p->name, bar, (double)done / mib,
                    (double)total / mib, rate);
        } else {
            fprintf(stderr, "\r  %-20s %8.1f MiB  %6.1f MiB/s ", p->name, (double)done / mib, rate);
        }
    } else if (total > 0) {
        /* logs and pipes: one line per tenth */
        int decile = (int)(10.0 * (double)done / (double)total);
        if (decile > p->last_decile) {
            p->last_decile = decile;
            fprintf(stderr, "  %s: %3d%% of %.1f MiB, %.1f MiB/s\n", p->name, decile * 10, (double)total / mib, rate);
        }
    }
    return 0;
}

/* Reads the downloaded folder back: both configs and the safetensors header must parse. */
static sg_status check_folder(const char *dir, const char *size) {
    char mc[4200], cc[4200], st_path[4200];
    snprintf(mc, sizeof mc, "%s/model_config.yml", dir);
    snprintf(cc, sizeof cc, "%s/collator_config.yml", dir);
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", dir);
    struct tx1_config cfg;
    struct sg_st_file *f;
    sg_status st = tx1_config_load(mc, cc, &cfg);
    if (st == SG_OK) st = sg_st_open(st_path, &f);
    if (st != SG_OK) return st;
    const struct sg_st_tensor *t = sg_st_get(f, 0);
    printf("%s model ready in %s: %.2f M parameters (%s), d_model %" PRId64 ", %" PRId64 " layers\n", size, dir,
           (double)tx1_config_n_params(&cfg) / 1e6, t ? sg_st_dtype_name(t->dtype) : "empty", cfg.d_model,
           cfg.n_layers);
    sg_st_close(f);
    return SG_OK;
}

static sg_status fetch(const char *size, const char *dest, const char *base, bool force) {
    const char *folder = tx1_size_folder(size);
    if (!folder) return sg_error(SG_ERR_INVALID_ARG, "model size '%s': expected 70m, 1.3b (or 1b) or 3b", size);
    char root[4000], dir[4096];
    if (dest)
        snprintf(root, sizeof root, "%s", dest);
    else {
        sg_status st = tx1_default_model_root(root, sizeof root);
        if (st != SG_OK) return st;
    }
    snprintf(dir, sizeof dir, "%s/%s-model", root, folder);
    sg_status st = sg_mkdir_p(dir);
    if (st != SG_OK) return st;

    struct sg_http_opts o = sg_http_opts_default();
    o.user_agent          = "saeg/" SAEG_VERSION " (saeg fetch-model)";
    o.timeout_s           = 0; /* a multi-gigabyte file takes as long as it takes; stalls are caught below */
    o.low_speed_timeout_s = 120;
    o.max_tries           = 8;
    struct sg_http *http;
    st = sg_http_new(&o, &http);
    if (st != SG_OK) return st;
    /* small files first: a bad URL or size fails before the big download starts */
    static const char *const files[] = {"model_config.yml", "collator_config.yml", "vocab.json", "model.safetensors"};
    printf("fetching Tahoe X1 %s from %s/%s-model into %s\n", size, base, folder, dir);
    for (size_t i = 0; st == SG_OK && i < sizeof files / sizeof files[0]; i++) {
        char url[6000], path[4200];
        snprintf(url, sizeof url, "%s/%s-model/%s", base, folder, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (!force && access(path, F_OK) == 0) {
            printf("  %-20s already present\n", files[i]);
            continue;
        }
        struct progress p = {.name = files[i], .tty = isatty(2), .t0 = now_s(), .last_decile = -1, .start = -1};
        st                = sg_http_download(http, url, NULL, path, on_progress, &p);
        if (p.tty) fprintf(stderr, "\n");
        if (st == SG_OK) printf("  %-20s done\n", files[i]);
    }
    sg_http_free(http);
    if (st == SG_OK) st = check_folder(dir, size);
    return st;
}

int saeg_cmd_fetch_model(int argc, char **argv) {
    static const struct option opts[] = {
        {"dest", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dest = NULL, *url = getenv("SAEG_MODEL_URL");
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dest = optarg; break;
        case 'u': url = optarg; break;
        case 'f': force = true; break;
        case 'h': print_help(stdout); return 0;
        default: print_help(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "saeg fetch-model: expected one SIZE (70m, 1.3b, 3b)\n");
        print_help(stderr);
        return 2;
    }
    if (!url || !url[0]) url = DEFAULT_URL;
    char base[1024];
    snprintf(base, sizeof base, "%s", url);
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') base[--n] = '\0';
    sg_status st = fetch(argv[optind], dest, base, force);
    if (st != SG_OK) {
        fprintf(stderr, "saeg fetch-model: %s\n", sg_last_error());
        return 1;
    }
    return 0;
}
