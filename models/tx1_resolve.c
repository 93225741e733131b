/* Finding a model folder from --model / --model-size: $SAEG_MODEL_DIR, saeg's own cache, and
 * the Hugging Face hub cache (models--tahoebio--Tahoe-x1/snapshots/<revision>/<size>-model). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/tahoe_x1.h"

static bool is_model_dir(const char *dir) {
    char p[1200];
    struct stat sb;
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    return stat(p, &sb) == 0;
}

sg_status tx1_default_model_root(char *out, size_t cap) {
    const char *env = getenv("SAEG_MODEL_DIR");
    if (env && env[0]) {
        snprintf(out, cap, "%s", env);
        return SG_OK;
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0])
        snprintf(out, cap, "%s/saeg/models", xdg);
    else if (home && home[0])
        snprintf(out, cap, "%s/.cache/saeg/models", home);
    else
        return sg_error(SG_ERR_NOT_FOUND, "no model folder: set SAEG_MODEL_DIR (HOME is not set)");
    return SG_OK;
}

/* The hub cache root, as huggingface_hub resolves it. */
static bool hf_hub_root(char *out, size_t cap) {
    const char *hub = getenv("HF_HUB_CACHE"), *hf_home = getenv("HF_HOME"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (hub && hub[0])
        snprintf(out, cap, "%s", hub);
    else if (hf_home && hf_home[0])
        snprintf(out, cap, "%s/hub", hf_home);
    else if (xdg && xdg[0])
        snprintf(out, cap, "%s/huggingface/hub", xdg);
    else if (home && home[0])
        snprintf(out, cap, "%s/.cache/huggingface/hub", home);
    else
        return false;
    return true;
}

/* The snapshot holding <folder>-model: the one refs/main names, else the first with the files. */
static bool find_hf_snapshot(const char *root, const char *folder, char *out, size_t cap) {
    char repo[1100], p[1300];
    snprintf(repo, sizeof repo, "%s/models--tahoebio--Tahoe-x1", root);
    snprintf(p, sizeof p, "%s/refs/main", repo);
    FILE *fp = fopen(p, "r");
    if (fp) {
        char rev[128] = "";
        if (fgets(rev, sizeof rev, fp)) rev[strcspn(rev, "\r\n")] = '\0';
        fclose(fp);
        snprintf(out, cap, "%s/snapshots/%s/%s-model", repo, rev, folder);
        if (rev[0] && is_model_dir(out)) return true;
    }
    snprintf(p, sizeof p, "%s/snapshots", repo);
    DIR *dir = opendir(p);
    if (!dir) return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(dir));) {
        if (e->d_name[0] == '.') continue;
        snprintf(out, cap, "%s/%s/%s-model", p, e->d_name, folder);
        found = is_model_dir(out);
    }
    closedir(dir);
    return found;
}

sg_status tx1_resolve_model(const char *model_dir, const char *model_size, char *out, size_t cap) {
    if (model_dir && model_dir[0]) {
        snprintf(out, cap, "%s", model_dir);
        return SG_OK;
    }
    const char *size   = model_size && model_size[0] ? model_size : "70m";
    const char *folder = tx1_size_folder(size);
    if (!folder) return sg_error(SG_ERR_INVALID_ARG, "--model-size '%s': expected 70m, 1.3b (or 1b) or 3b", size);

    char tried[3000] = "";
    size_t len       = 0;
    const char *env  = getenv("SAEG_MODEL_DIR");
    char root[1024];
    if (env && env[0]) {
        snprintf(out, cap, "%s/%s-model", env, folder);
        if (is_model_dir(out)) return SG_OK;
        len += (size_t)snprintf(tried, sizeof tried, "%s", out);
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if ((xdg && xdg[0]) || (home && home[0])) {
        if (xdg && xdg[0])
            snprintf(root, sizeof root, "%s/saeg/models", xdg);
        else
            snprintf(root, sizeof root, "%s/.cache/saeg/models", home);
        snprintf(out, cap, "%s/%s-model", root, folder);
        if (is_model_dir(out)) return SG_OK;
        if (len < sizeof tried) /* long paths may fill it: snprintf then reports more than it wrote */
            len += (size_t)snprintf(tried + len, sizeof tried - len, "%s%s", len ? ", " : "", out);
    }
    if (hf_hub_root(root, sizeof root)) {
        if (find_hf_snapshot(root, folder, out, cap)) return SG_OK;
        if (len < sizeof tried)
            snprintf(tried + len, sizeof tried - len, "%s%s/models--tahoebio--Tahoe-x1/snapshots/*/%s-model",
                     len ? ", " : "", root, folder);
    }
    out[0] = '\0';
    return sg_error(SG_ERR_NOT_FOUND,
                    "no %s model found (looked in %s); download it with 'saeg fetch-model %s' or pass --model DIR",
                    size, tried, size);
}
