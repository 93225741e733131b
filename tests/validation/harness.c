#define _GNU_SOURCE /* nftw */
#include "tests/validation/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/status.h"

int th_failures;

void th_check(int ok, const char *file, int line, const char *what, const char *detail) {
    if (ok) return;
    th_failures++;
    fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what, detail ? ": " : "", detail ? detail : "");
}

void th_check_fmt(int ok, const char *file, int line, const char *what, const char *fmt, ...) {
    if (ok) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    th_check(0, file, line, what, buf);
}

int th_report(void) {
    if (th_failures)
        fprintf(stderr, "%d check(s) failed\n", th_failures);
    else
        fprintf(stderr, "all checks passed\n");
    return th_failures ? 1 : 0;
}

char *th_tmpdir(const char *tag) {
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/saeg-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    char *d = mkdtemp(tmpl);
    if (!d) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpl, strerror(errno));
        exit(1);
    }
    return strdup(d);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void th_rmtree(const char *path) {
    if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int th_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok   = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

char *th_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b) b[n] = '\0';
    return b;
}

int th_contains(const char *h, const char *n) { return h && n && strstr(h, n) != NULL; }

int th_count_files(const char *dir) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "find '%s' -type f 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n   = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

int th_dir_contains(const char *dir, const char *text) {
    char cmd[900];
    snprintf(cmd, sizeof cmd, "grep -rqF '%s' '%s' 2>/dev/null", text, dir);
    return system(cmd) == 0;
}

struct sgv_genes *th_genes(void) {
    struct sgv_genes *g;
    if (sgv_genes_load_hgnc(FIX "/hgnc_complete_set.txt", &g) != SG_OK) {
        fprintf(stderr, "cannot load the fixture gene table: %s\n", sg_last_error());
        exit(1);
    }
    return g;
}

int th_term_has(const struct sgv_library *lib, const struct sgv_genes *g, const char *term, const char *symbol) {
    int32_t t;
    if (!sgv_strmap_get(&lib->index, term, &t)) return 0;
    for (uint32_t i = 0; i < lib->terms[t].n_genes; i++)
        if (strcmp(sgv_gene_label(g, lib->terms[t].genes[i]), symbol) == 0) return 1;
    return 0;
}

int th_term_is(const struct sgv_library *lib, const struct sgv_genes *g, const char *term, const char *const *symbols) {
    int32_t t;
    if (!sgv_strmap_get(&lib->index, term, &t)) {
        fprintf(stderr, "   term %s is missing\n", term);
        return 0;
    }
    size_t n = 0;
    for (; symbols[n]; n++)
        if (!th_term_has(lib, g, term, symbols[n])) {
            fprintf(stderr, "   term %s lacks %s\n", term, symbols[n]);
            return 0;
        }
    if (lib->terms[t].n_genes != n) {
        fprintf(stderr, "   term %s has %u genes:", term, lib->terms[t].n_genes);
        for (uint32_t i = 0; i < lib->terms[t].n_genes; i++)
            fprintf(stderr, " %s", sgv_gene_label(g, lib->terms[t].genes[i]));
        fprintf(stderr, " (expected %zu)\n", n);
        return 0;
    }
    return 1;
}

int th_server_start(const char *scenario, struct th_server *s) {
    memset(s, 0, sizeof *s);
    const char *py = getenv("SAEG_PYTHON");
    if (!py || !*py) py = "python3";
    char tmpl[] = "/tmp/saeg-replay-XXXXXX";
    int fd      = mkstemp(tmpl);
    if (fd < 0) return -1;
    close(fd);
    snprintf(s->state, sizeof s->state, "%s", tmpl);
    int p[2], in[2];
    if (pipe(p) != 0 || pipe(in) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(in[0], 0); /* EOF here tells the server this test is gone */
        close(p[0]);
        close(p[1]);
        close(in[0]);
        close(in[1]);
        execlp(py, py, "tests/validation/replay_server.py", scenario, s->state, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s (set SAEG_PYTHON)\n", py, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    close(in[0]);
    fcntl(in[1], F_SETFD, FD_CLOEXEC); /* later system() children must not keep it open */
    s->stdin_fd   = in[1];
    FILE *f       = fdopen(p[0], "r");
    char line[64] = "";
    if (!f || !fgets(line, sizeof line, f) || sscanf(line, "PORT %d", &s->port) != 1) {
        fprintf(stderr, "replay server for %s did not start\n", scenario);
        if (f) fclose(f);
        close(in[1]);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fclose(f);
    s->pid = pid;
    return 0;
}

void th_server_stop(struct th_server *s) {
    if (s->stdin_fd > 0) close(s->stdin_fd);
    s->stdin_fd = 0;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->state[0]) {
        unlink(s->state);
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", s->state);
        unlink(tmp);
    }
}

char *th_server_state(const struct th_server *s) { return th_read(s->state); }

int th_server_connections(const struct th_server *s) {
    char *st      = th_server_state(s);
    int n         = -1;
    const char *c = st ? strstr(st, "\"connections\": ") : NULL;
    if (c) n = atoi(c + 15);
    free(st);
    return n;
}

int th_server_count(const struct th_server *s, const char *path) {
    char *st = th_server_state(s);
    if (!st) return -1;
    char needle[1024];
    snprintf(needle, sizeof needle, "\"path\": \"%s\"", path ? path : "");
    int n = 0;
    for (const char *p = st; (p = strstr(p, path ? needle : "\"method\": ")); p++) n++;
    free(st);
    return n;
}

char *th_subst_port(const char *text, int port) {
    char num[16];
    snprintf(num, sizeof num, "%d", port);
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, "{PORT}")); p += 6) n++;
    char *out = malloc(strlen(text) + n * strlen(num) + 1), *w = out;
    for (const char *p = text; *p;) {
        if (strncmp(p, "{PORT}", 6) == 0) {
            w += sprintf(w, "%s", num);
            p += 6;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}
