/* Keeping the program-binary cache bounded. Every change of kernel source, build options or
 * driver makes new entries and orphans the old ones, so after storing an entry the folder is
 * trimmed to a size cap, least recently used first (a cache hit refreshes the entry's mtime;
 * atime is unreliable on noatime mounts). Temporary files older than an hour are left-overs of
 * a process that died mid-write and go too. The entry just stored and files that are not cache
 * entries are never touched.
 * The cap is SAEG_OPENCL_CACHE_MAX_MB (default 256). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "cl_internal.h"

#define DEFAULT_MAX_MB     256
#define STALE_TEMP_SECONDS 3600

struct entry {
    char name[256];
    time_t mtime;
    uint64_t size;
};

static uint64_t max_bytes(void) {
    const char *env = getenv("SAEG_OPENCL_CACHE_MAX_MB");
    if (env && *env) {
        char *end;
        long long mb = strtoll(env, &end, 10);
        if (*end == '\0' && mb >= 0 && mb < ((long long)1 << 40)) return (uint64_t)mb << 20;
        SG_LOGW("SAEG_OPENCL_CACHE_MAX_MB='%s' is not a size in MiB; using %d", env, DEFAULT_MAX_MB);
    }
    return (uint64_t)DEFAULT_MAX_MB << 20;
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
static void remove_file(int dfd, const char *dir, const char *name) {
    if (unlinkat(dfd, name, 0) == 0) SG_LOGD("opencl: cache: removed %s/%s", dir, name);
}

void sg_cl_cache_touch(const char *path) { utimensat(AT_FDCWD, path, NULL, 0); }

void sg_cl_cache_prune(const char *dir, const char *keep) {
    DIR *dp = opendir(dir);
    if (!dp) return;
    const int dfd      = dirfd(dp);
    const uint64_t cap = max_bytes();
    const time_t now   = time(NULL);
    struct entry *list = NULL;
    size_t n = 0, n_cap = 0;
    uint64_t total = 0;
    const struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        const char *name = de->d_name;
        bool binary = has_suffix(name, ".clbin"), temp = strstr(name, ".clbin.tmp.") != NULL;
        if ((!binary && !temp) || strlen(name) >= sizeof list->name || (keep && strcmp(name, keep) == 0)) continue;
        struct stat sb;
        if (fstatat(dfd, name, &sb, 0) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (temp) {
            if (now - sb.st_mtime > STALE_TEMP_SECONDS) remove_file(dfd, dir, name);
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
            remove_file(dfd, dir, list[i].name);
            total -= list[i].size;
        }
        SG_LOGI("opencl: program cache %s held %.1f MiB (cap %.0f MiB): removed the %zu least recently used", dir,
                (double)before / (1 << 20), (double)cap / (1 << 20), removed);
    }
    closedir(dp);
    free(list);
}
