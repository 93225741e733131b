/* Parsers that take a path read the fuzz input from an in-memory file (memfd): no disk I/O, and
 * each fuzzing process has its own. Paths of fixtures are absolute (SAEG_SOURCE_DIR), so a
 * target runs from any folder.
 *
 *     const char *path = fuzz_file(data, size);   // "/proc/self/fd/N", valid until the next call
 *     tx1_vocab_load(path, &v);
 */
#ifndef SAEG_FUZZ_FILE_H
#define SAEG_FUZZ_FILE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_FIXTURE(rel) SAEG_SOURCE_DIR "/" rel

static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("fuzz input");
        abort();
    }
    return path;
}

#endif
