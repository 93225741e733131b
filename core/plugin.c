/* Backend plugins: libsaeg-<name>.so found next to the executable, next to libsaeg-core, or in
 * SAEG_BACKEND_PATH, loaded with dlopen. Anything that goes wrong becomes a reason shown by
 * `saeg devices`; it never stops the program. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_impl.h"
#include "backend_priv.h"
#include "log.h"

static const char *const known_plugins[] = {"cuda", "vulkan", "opencl"};

#define MAX_DIRS 16

struct search_dirs {
    char dirs[MAX_DIRS][PATH_MAX];
    int n;
};

static void dirs_add(struct search_dirs *s, const char *dir) {
    if (!dir || !*dir || s->n == MAX_DIRS) return;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->dirs[i], dir) == 0) return;
    snprintf(s->dirs[s->n++], PATH_MAX, "%s", dir);
}

static void dirname_of(const char *path, char *out, size_t size) {
    snprintf(out, size, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, size, ".");
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Tries one plugin file. On success registers it and returns true; otherwise records why under
 * `name` (or the file name when the plugin's own name is unknown) and returns false. */
static bool load_plugin(const char *path, const char *name) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *err = dlerror();
        sg_backend_status_add(name, NULL, path, err ? err : "dlopen failed");
        return false;
    }
    sg_backend_plugin_api_version_fn version =
        (sg_backend_plugin_api_version_fn)dlsym(h, "sg_backend_plugin_api_version");
    sg_backend_plugin_init_fn init = (sg_backend_plugin_init_fn)dlsym(h, "sg_backend_plugin_init");
    char reason[512];
    if (!version || !init) {
        snprintf(reason, sizeof reason, "not a saeg backend plugin (no sg_backend_plugin_init)");
    } else if (version() != SG_BACKEND_API_VERSION) {
        snprintf(reason, sizeof reason, "built for backend API %d, this saeg uses %d", version(),
                 SG_BACKEND_API_VERSION);
    } else {
        sg_error_clear();
        struct sg_backend_reg *reg = init();
        if (reg && reg->api_version == SG_BACKEND_API_VERSION) {
            sg_backend_status_add(reg->iface->name(reg), reg, path, NULL);
            SG_LOGD("backend %s: loaded %s", reg->iface->name(reg), path);
            return true; /* the handle stays open for the life of the process */
        }
        snprintf(reason, sizeof reason, "%s",
                 sg_last_error()[0] ? sg_last_error() : "the plugin found no usable device");
    }
    sg_backend_status_add(name, NULL, path, reason);
    dlclose(h);
    return false;
}

static void collect_dirs(struct search_dirs *s, struct search_dirs *files) {
    const char *env = getenv("SAEG_BACKEND_PATH");
    if (env) {
        char *copy = strdup(env), *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok; tok = strtok_r(NULL, ":", &save)) {
            if (is_dir(tok))
                dirs_add(s, tok);
            else if (is_file(tok))
                dirs_add(files, tok);
            else
                SG_LOGW("SAEG_BACKEND_PATH: '%s' is neither a folder nor a file; ignored", tok);
        }
        free(copy);
    }
    char path[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        dirname_of(path, dir, sizeof dir);
        dirs_add(s, dir);
    }
    Dl_info info;
    if (dladdr((void *)&sg_backends_load, &info) && info.dli_fname) {
        dirname_of(info.dli_fname, dir, sizeof dir);
        dirs_add(s, dir);
    }
}

static void load_all(void) {
    sg_backend_register(sg_cpu_backend_reg(), NULL);
    struct search_dirs dirs = {.n = 0}, files = {.n = 0};
    collect_dirs(&dirs, &files);
    for (int i = 0; i < files.n; i++) load_plugin(files.dirs[i], files.dirs[i]);
    for (size_t p = 0; p < sizeof known_plugins / sizeof known_plugins[0]; p++) {
        const char *name = known_plugins[p];
        if (sg_backend_find_loaded(name)) continue; /* already loaded from an explicit file */
        bool found = false;
        for (int d = 0; d < dirs.n && !found; d++) {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/libsaeg-%s.so", dirs.dirs[d], name);
            if (!is_file(path)) continue;
            found = true;
            load_plugin(path, name);
        }
        if (!found) {
            char reason[512];
            size_t n = (size_t)snprintf(reason, sizeof reason, "not built: libsaeg-%s.so not found in", name);
            for (int d = 0; d < dirs.n && n < sizeof reason; d++)
                n += (size_t)snprintf(reason + n, sizeof reason - n, "%s %s", d ? "," : "", dirs.dirs[d]);
            sg_backend_status_add(name, NULL, "", reason);
        }
    }
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

sg_status sg_backends_load(void) {
    pthread_once(&load_once, load_all);
    return SG_OK;
}
