/* Bounded cache folders (cache_dir.h). */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cache_dir.h"
#include "core/log.h"

#define STALE_TEMP_SECONDS 3600

struct entry {
    char name[256];
    time_t mtime;
    uint64_t size;
};

static uint64_t max_bytes(const struct sg_cache_policy *p) {
    const char *env = getenv(p->cap_env);
    if (env && *env) {
        char *end;
        long long mb = strtoll(env, &end, 10);
        if (*end == '\0' && mb >= 0 && mb < ((long long)1 << 40)) return (uint64_t)mb << 20;
        SG_LOGW("%s='%s' is not a size in MiB; using %d", p->cap_env, env, p->default_cap_mb);
    }
    return (uint64_t)p->default_cap_mb << 20;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int oldest_first(const void *pa, const void *pb) {
    const struct entry *a = pa, *b = pb;
    if (a->mtime != b->mtime) return a->mtime < b->mtime ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Entries are named relative to the open folder (dfd): no path is formatted per file. */
static void remove_file(const struct sg_cache_policy *p, int dfd, const char *dir, const char *name) {
    if (unlinkat(dfd, name, 0) == 0) SG_LOGD("%s: removed %s/%s", p->what, dir, name);
}

void sg_cache_touch(const char *path) { utimensat(AT_FDCWD, path, NULL, 0); }

void sg_cache_prune(const struct sg_cache_policy *p, const char *dir, const char *keep) {
    DIR *dp = opendir(dir);
    if (!dp) return;
    const int dfd      = dirfd(dp);
    const uint64_t cap = max_bytes(p);
    const time_t now   = time(NULL);
    struct entry *list = NULL;
    size_t n = 0, n_cap = 0;
    uint64_t total = 0;
    const struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        const char *name = de->d_name;
        if (p->prefix && strncmp(name, p->prefix, strlen(p->prefix)) != 0) continue;
        bool binary = has_suffix(name, p->suffix), temp = strstr(name, p->temp_marker) != NULL;
        if ((!binary && !temp) || strlen(name) >= sizeof list->name || (keep && strcmp(name, keep) == 0)) continue;
        struct stat sb;
        if (fstatat(dfd, name, &sb, 0) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (temp) {
            if (now - sb.st_mtime > STALE_TEMP_SECONDS) remove_file(p, dfd, dir, name);
            continue;
        }
        if (n == n_cap) {
            size_t c        = n_cap ? 2 * n_cap : 64;
            struct entry *l = realloc(list, c * sizeof *l);
            if (!l) break;
            list  = l;
            n_cap = c;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", name);
        list[n].mtime = sb.st_mtime;
        list[n].size  = (uint64_t)sb.st_size;
        total += list[n].size;
        n++;
    }
    if (total > cap) {
        qsort(list, n, sizeof *list, oldest_first);
        uint64_t before = total;
        size_t removed  = 0;
        /* trim to 3/4 of the cap so that the next few stores do not each trigger a sweep */
        for (size_t i = 0; i < n && total > cap / 4 * 3; i++, removed++) {
            remove_file(p, dfd, dir, list[i].name);
            total -= list[i].size;
        }
        SG_LOGI("%s %s held %.1f MiB (cap %.0f MiB): removed the %zu least recently used", p->what, dir,
                (double)before / (1 << 20), (double)cap / (1 << 20), removed);
    }
    closedir(dp);
    free(list);
}
