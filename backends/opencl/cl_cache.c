/* On-disk cache of built program binaries, so a program is compiled once per device and driver.
 *
 * Files live in $XDG_CACHE_HOME/saeg/opencl (or ~/.cache/saeg/opencl), named by the SHA-256 of
 * everything that affects the binary. Each file carries its key and the SHA-256 of its payload;
 * anything that does not check out is ignored (and rebuilt by the caller), never trusted.
 * Writes go to a temporary file renamed into place, so readers never see half a file.
 * SAEG_OPENCL_CACHE=off disables the cache; core/cache_dir.c keeps the folder under a size cap
 * (SAEG_OPENCL_CACHE_MAX_MB, default 256). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cache_dir.h"
#include "core/log.h"
#include "cl_internal.h"

#define CACHE_MAGIC   "SAEGCLB1"
#define CACHE_VERSION "saeg-opencl-cache-1"
#define HEADER_SIZE   (8 + 32 + 8 + 32)

static const struct sg_cache_policy cache_policy = {.what           = "opencl: program cache",
                                                    .suffix         = ".clbin",
                                                    .temp_marker    = ".clbin.tmp.",
                                                    .cap_env        = "SAEG_OPENCL_CACHE_MAX_MB",
                                                    .default_cap_mb = 256};

static bool cache_disabled(void) {
    const char *env = getenv("SAEG_OPENCL_CACHE");
    return env && (strcmp(env, "off") == 0 || strcmp(env, "0") == 0);
}

/* The cache folder into dir (created when missing); false when there is no usable home. */
static bool cache_dir(char *dir, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[4096];
    if (xdg && xdg[0] == '/')
        snprintf(base, sizeof base, "%s/saeg", xdg);
    else if (home && home[0])
        snprintf(base, sizeof base, "%s/.cache/saeg", home);
    else
        return false;
    if ((size_t)snprintf(dir, size, "%s/opencl", base) >= size) return false;
    /* mkdir -p for the last three components at most (…/.cache/saeg/opencl) */
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

static void digest_add(EVP_MD_CTX *md, const void *data, size_t size) {
    uint64_t n = size; /* length-prefixed, so field boundaries are part of the key */
    EVP_DigestUpdate(md, &n, sizeof n);
    EVP_DigestUpdate(md, data, size);
}

static void digest_str(EVP_MD_CTX *md, const char *s) { digest_add(md, s, strlen(s)); }

bool sg_cl_cache_key(const struct sg_cl_device *d, const char *const *srcs, int n_srcs, const char *options,
                     unsigned char key[32]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return false;
    }
    digest_str(md, CACHE_VERSION);
    for (int i = 0; i < n_srcs; i++) digest_str(md, srcs[i]);
    digest_str(md, options);
    digest_str(md, d->device_name);
    digest_str(md, d->device_version);
    digest_str(md, d->driver_version);
    digest_str(md, d->platform_version);
    unsigned int len = 32;
    bool ok          = EVP_DigestFinal_ex(md, key, &len) == 1 && len == 32;
    EVP_MD_CTX_free(md);
    return ok;
}

static bool sha256(const unsigned char *data, size_t size, unsigned char out[32]) {
    unsigned int len = 32;
    return EVP_Digest(data, size, out, &len, EVP_sha256(), NULL) == 1;
}

static void key_path(const char *dir, const unsigned char key[32], char *path, size_t size) {
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    snprintf(path, size, "%s/%s.clbin", dir, hex);
}

bool sg_cl_cache_load(const unsigned char key[32], unsigned char **bin, size_t *size) {
    char dir[4096], path[4200];
    *bin  = NULL;
    *size = 0;
    if (cache_disabled() || !cache_dir(dir, sizeof dir)) return false;
    key_path(dir, key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char header[HEADER_SIZE], digest[32];
    uint64_t n = 0;
    bool ok    = fread(header, 1, sizeof header, f) == sizeof header && memcmp(header, CACHE_MAGIC, 8) == 0 &&
              memcmp(header + 8, key, 32) == 0;
    if (ok) {
        memcpy(&n, header + 40, 8);
        ok = n > 0 && n < ((uint64_t)1 << 32);
    }
    unsigned char *data = ok ? malloc((size_t)n) : NULL;
    ok = data && fread(data, 1, (size_t)n, f) == n && fgetc(f) == EOF && sha256(data, (size_t)n, digest) &&
         memcmp(digest, header + 48, 32) == 0;
    fclose(f);
    if (!ok) {
        SG_LOGD("opencl: cache entry %s is stale or corrupt; rebuilding", path);
        free(data);
        return false;
    }
    sg_cache_touch(path);
    *bin  = data;
    *size = (size_t)n;
    return true;
}

void sg_cl_cache_store(const unsigned char key[32], const unsigned char *bin, size_t size) {
    char dir[4096], path[4200], tmp[4300];
    if (cache_disabled() || size == 0) return;
    if (!cache_dir(dir, sizeof dir)) {
        SG_LOGD("opencl: no cache folder (set XDG_CACHE_HOME or HOME); program binaries are not kept");
        return;
    }
    key_path(dir, key, path, sizeof path);
    static int counter;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%d", path, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    unsigned char header[HEADER_SIZE];
    uint64_t n = size;
    memcpy(header, CACHE_MAGIC, 8); /* a binary header. NOLINT(bugprone-not-null-terminated-result) */
    memcpy(header + 8, key, 32);
    memcpy(header + 40, &n, 8);
    if (!sha256(bin, size, header + 48)) return;
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(header, 1, sizeof header, f) == sizeof header && fwrite(bin, 1, size, f) == size;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) {
        sg_cache_prune(&cache_policy, dir, strrchr(path, '/') + 1);
        return;
    }
    SG_LOGD("opencl: could not write cache entry %s: %s", path, strerror(errno));
    unlink(tmp);
}
