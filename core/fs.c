#include "core/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

sg_status sg_mkdir_p(const char *dir) {
    char *p = strdup(dir);
    if (!p) return sg_error(SG_ERR_NO_MEMORY, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s     = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            sg_status st = sg_error(SG_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return st;
        }
        *s = c;
        if (!c) break;
    }
    free(p);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sg_error(SG_ERR_IO, "%s: exists and is not a directory", dir);
    return SG_OK;
}
