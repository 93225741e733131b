/* Keeping an on-disk cache folder bounded (the OpenCL program binaries, the Vulkan pipeline
 * caches). Every new build, kernel source or driver makes new entries and orphans the old ones,
 * so after storing an entry the folder is trimmed to a size cap, least recently used first (a
 * cache hit calls sg_cache_touch: atime is unreliable on noatime mounts). Temporary files older
 * than an hour are left-overs of a writer that died and go too. The entry just stored or used
 * and files that are not entries of this cache are never touched.
 *
 *     static const struct sg_cache_policy policy = {.what = "opencl: program cache", .suffix = ".clbin",
 *         .temp_marker = ".clbin.tmp.", .cap_env = "SAEG_OPENCL_CACHE_MAX_MB", .default_cap_mb = 256};
 *     sg_cache_touch(path_of_the_hit);
 *     sg_cache_prune(&policy, dir, name_just_stored);
 */
#ifndef SAEG_CORE_CACHE_DIR_H
#define SAEG_CORE_CACHE_DIR_H

struct sg_cache_policy {
    const char *what;        /* names the cache in log lines */
    const char *prefix;      /* an entry's name starts with this (NULL: any) */
    const char *suffix;      /* and ends with this */
    const char *temp_marker; /* a name with the prefix holding this is a writer's temporary file */
    const char *cap_env;     /* environment variable with the cap in MiB */
    int default_cap_mb;
};

/* Marks a cache file as used now. */
void sg_cache_touch(const char *path);
/* Trims dir to the policy's cap (to 3/4 of it, so the next stores do not each sweep), sparing
 * the entry named keep (may be NULL). Failures are ignored: a cache is never worth an error. */
void sg_cache_prune(const struct sg_cache_policy *p, const char *dir, const char *keep);

#endif
