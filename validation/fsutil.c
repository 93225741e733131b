#include "validation/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *sgv_path_join(const char *a, const char *b) {
    if (!a || !*a || b[0] == '/') return strdup(b);
    size_t la = strlen(a), lb = strlen(b);
    int slash = a[la - 1] != '/';
    char *p   = malloc(la + slash + lb + 1);
    if (!p) return NULL;
    memcpy(p, a, la); /* terminated by the copy of b below. NOLINT(bugprone-not-null-terminated-result) */
    if (slash) p[la] = '/';
    memcpy(p + la + slash, b, lb + 1);
    return p;
}

int sgv_file_exists(const char *path) {
    struct stat sb;
    return path && stat(path, &sb) == 0;
}

int sgv_is_dir(const char *path) {
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

sg_status sgv_read_file(const char *path, char **data, size_t *len) {
    *data   = NULL;
    *len    = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_error(errno == ENOENT ? SG_ERR_NOT_FOUND : SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return sg_error(SG_ERR_NO_MEMORY, "%s: out of memory", path);
    if (err) {
        free(buf);
        return sg_error(SG_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data  = buf;
    *len   = n;
    return SG_OK;
}

sg_status sgv_write_file_atomic(const char *path, const void *data, size_t len) {
    size_t lp = strlen(path);
    char *tmp = malloc(lp + 12);
    if (!tmp) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    snprintf(tmp, lp + 12, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sg_status st = sg_error(SG_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    const char *p = data;
    size_t left   = len;
    int err       = 0;
    while (left && !err) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            err = errno ? errno : EIO;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err) chmod(tmp, 0644); /* mkstemp creates 0600 */
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp);
        free(tmp);
        return sg_error(SG_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
    free(tmp);
    return SG_OK;
}

char *sgv_user_cache_dir(void) {
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && *x) return sgv_path_join(x, "saeg");
    const char *h = getenv("HOME");
    if (h && *h) return sgv_path_join(h, ".cache/saeg");
    return NULL;
}

void sgv_today(char buf[11]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

void sgv_now_iso(char buf[21]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
