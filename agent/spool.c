/* spool.c — taking in the files of the spool directory (contract in spool.h). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "outbox.h"
#include "spool_parse.h"
#include "spool_problems.h"
#include "timefmt.h"

#define SPOOL_DONE "done"
#define SPOOL_REJECTED "rejected"
#define SPOOL_FINGERPRINT_LEN 48

struct spool {
    const struct agent_config *cfg;
    struct outbox *ob;           /* durable: commits are on disk before a file moves */
    char last_failure[512];      /* the last "stays in the spool" message, logged once */
};

bool spool_replaced(const struct spool *spool)
{
    return spool && spool->ob && outbox_replaced(spool->ob);
}

/* One file as read: its bytes and their fingerprint. */
struct spool_file {
    const char *name;
    char *bytes;
    size_t len;
    char fingerprint[SPOOL_FINGERPRINT_LEN];
};

static bool spool_ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n >= e && strcasecmp(name + n - e, ext) == 0;
}

/* Files still being written, or not files of the clerk's at all. */
static bool spool_ignored(const char *name)
{
    return name[0] == '.' || strncmp(name, "~$", 2) == 0 || spool_ends_with(name, ".tmp") ||
           spool_ends_with(name, ".part");
}

static void spool_path(char *buf, size_t size, const char *dir, const char *sub, const char *name)
{
    if (sub)
        snprintf(buf, size, "%s/%s/%s", dir, sub, name);
    else
        snprintf(buf, size, "%s/%s", dir, name);
}

/* A rename is durable only once the directories holding the names are synced. */
static void spool_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static enum wp_err spool_make_dir(const char *dir, const char *sub, char *err, size_t errlen)
{
    char path[4096];
    spool_path(path, sizeof path, dir, NULL, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "spool_dir: cannot create %.3000s: %s", path, strerror(errno));
        return WP_ERR_IO;
    }
    return WP_OK;
}

enum wp_err spool_open(struct spool **out, const struct agent_config *cfg, char *err,
                       size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(cfg->spool_dir, &st) != 0) {
        snprintf(err, errlen, "spool_dir %s: %s", cfg->spool_dir, strerror(errno));
        return WP_ERR_CONFIG;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "spool_dir %s is not a directory", cfg->spool_dir);
        return WP_ERR_CONFIG;
    }
    enum wp_err e = spool_make_dir(cfg->spool_dir, SPOOL_DONE, err, errlen);
    if (e == WP_OK)
        e = spool_make_dir(cfg->spool_dir, SPOOL_REJECTED, err, errlen);
    if (e != WP_OK)
        return e;
    struct spool *spool = calloc(1, sizeof *spool);
    if (!spool) {
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }
    spool->cfg = cfg;
    /* Not OUTBOX_RELAXED: the file moves to done/ right after the commit, so the commit
     * must be on disk by then. */
    e = outbox_open(&spool->ob, cfg->outbox_path, cfg->ward, OUTBOX_CREATE, err, errlen);
    if (e != WP_OK) {
        free(spool);
        return e;
    }
    *out = spool;
    return WP_OK;
}

void spool_close(struct spool **spool)
{
    if (!spool || !*spool)
        return;
    outbox_close(&(*spool)->ob);
    free(*spool);
    *spool = NULL;
}

/* ---- moving files ---------------------------------------------------------------------- */

/* A free name for `name` in dir/sub: the name itself, else "stem-2.ext", "stem-3.ext" …
 * (a clerk may drop "bao-cao.csv" every day). With_error: "<that>.error" must be free too. */
static bool spool_free_name(const char *dir, const char *sub, const char *name, bool with_error,
                            char *out, size_t size)
{
    const char *dot = strrchr(name, '.');
    int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
    const char *ext = name + stem;
    for (int n = 1; n < 10000; n++) {
        if (n == 1)
            snprintf(out, size, "%s", name);
        else
            snprintf(out, size, "%.*s-%d%s", stem, name, n, ext);
        char path[4096];
        struct stat st;
        spool_path(path, sizeof path, dir, sub, out);
        if (lstat(path, &st) == 0)
            continue;
        if (with_error) {
            char error_path[4200];
            snprintf(error_path, sizeof error_path, "%s.error", path);
            if (lstat(error_path, &st) == 0)
                continue;
        }
        return true;
    }
    return false;
}

/* Renames dir/name to dir/sub/final and syncs both directories. */
static enum wp_err spool_rename(const char *dir, const char *sub, const char *name,
                                const char *final, char *err, size_t errlen)
{
    char from[4096], to[4096], subdir[4096];
    spool_path(from, sizeof from, dir, NULL, name);
    spool_path(to, sizeof to, dir, sub, final);
    if (rename(from, to) != 0) {
        snprintf(err, errlen, "cannot move it to %s/: %s", sub, strerror(errno));
        return WP_ERR_IO;
    }
    spool_path(subdir, sizeof subdir, dir, NULL, sub);
    spool_sync_dir(subdir);
    spool_sync_dir(dir);
    return WP_OK;
}

/* Moves name into dir/sub under a free name (put into final). */
static enum wp_err spool_move(const char *dir, const char *sub, const char *name,
                              char *final, size_t size, char *err, size_t errlen)
{
    if (!spool_free_name(dir, sub, name, false, final, size)) {
        snprintf(err, errlen, "no free name for %s in %s/", name, sub);
        return WP_ERR_IO;
    }
    return spool_rename(dir, sub, name, final, err, errlen);
}

static bool spool_write_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

/* rejected/<final>.error first, then the file beside it: a crash in between leaves the
 * file in the spool, to be judged (and refused) again. */
static void spool_reject(struct spool *spool, const char *name, const char *why)
{
    const char *dir = spool->cfg->spool_dir;
    char final[1024], error_path[4200], err[512], now[40];
    if (!spool_free_name(dir, SPOOL_REJECTED, name, true, final, sizeof final)) {
        wp_log(WP_LOG_ERR, "spool: refused %s, but found no free name for it in %s/", name,
               SPOOL_REJECTED);
        return;
    }
    spool_path(error_path, sizeof error_path, dir, SPOOL_REJECTED, final);
    strcat(error_path, ".error");
    /* Real time, not wp_now_ms: a simulated clock must not date the clerk's files. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wp_datetime_format_local((int64_t)ts.tv_sec * 1000, now, sizeof now);
    int fd = open(error_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool written = fd >= 0;
    if (written) {
        char head[2048];
        snprintf(head, sizeof head,
                 "%s was NOT taken in: nothing of it was submitted.\n"
                 "Correct the lines below, then drop the file into the spool folder again\n"
                 "(the CSV format is described in docs/spool.md). Refused at %s.\n\n",
                 name, now);
        written = spool_write_all(fd, head) && spool_write_all(fd, why) && fsync(fd) == 0;
        written = close(fd) == 0 && written;
    }
    if (!written) {
        /* Without its .error the clerk would not know why: leave the file where it is. */
        snprintf(err, sizeof err, "%s", strerror(errno));
        unlink(error_path);
        wp_log(WP_LOG_ERR, "spool: refused %s, but cannot write %s: %s; the file stays", name,
               error_path, err);
        return;
    }
    /* Under the name its .error was written for, so that the two stay a pair. */
    if (spool_rename(dir, SPOOL_REJECTED, name, final, err, sizeof err) != WP_OK) {
        wp_log(WP_LOG_ERR, "spool: refused %s, but %s", name, err);
        return;
    }
    size_t first_line = strcspn(why, "\n");
    wp_log(WP_LOG_ERR, "spool: refused %s: %.*s%s (see %s/%s.error)", name, (int)first_line, why,
           why[first_line] && why[first_line + 1] ? " …" : "", SPOOL_REJECTED, final);
}

/* ---- taking one file --------------------------------------------------------------------- */

/* FNV-1a over the bytes, with the size: recognises a file seen before a crash. */
static void spool_fingerprint(struct spool_file *f)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < f->len; i++) {
        h ^= (unsigned char)f->bytes[i];
        h *= 0x100000001b3u;
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%zu-%016llx", f->len, (unsigned long long)h);
}

/* Reads a file whole. Returns WP_OK, WP_ERR_INVALID (too large: why says so), or another
 * error when it cannot be read now (logged; the file stays). */
static enum wp_err spool_read(struct spool *spool, struct spool_file *f, char *why,
                              size_t whylen)
{
    char path[4096];
    spool_path(path, sizeof path, spool->cfg->spool_dir, NULL, f->name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open it: %s", strerror(errno));
        return WP_ERR_IO;
    }
    enum wp_err e = WP_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        e = WP_ERR_IO;
        goto cleanup;
    }
    long long max = spool->cfg->spool_max_bytes;
    if (st.st_size > max) {
        snprintf(why, whylen,
                 "the file is %lld bytes; a spool file may have at most %lld "
                 "(spool_max_bytes): split it into smaller files",
                 (long long)st.st_size, max);
        e = WP_ERR_INVALID;
        goto cleanup;
    }
    f->bytes = malloc((size_t)st.st_size + 1);
    if (!f->bytes) {
        snprintf(why, whylen, "out of memory");
        e = WP_ERR_NOMEM;
        goto cleanup;
    }
    while (f->len < (size_t)st.st_size) {
        ssize_t n = read(fd, f->bytes + f->len, (size_t)st.st_size - f->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whylen, "read error: %s", n < 0 ? strerror(errno) : "file shrank");
            e = WP_ERR_IO;
            goto cleanup;
        }
        f->len += (size_t)n;
    }
    f->bytes[f->len] = '\0';
    spool_fingerprint(f);

cleanup:
    close(fd);
    return e;
}

/* Logs why a file stays in the spool, once per distinct reason (disk full would
 * otherwise repeat every scan). */
static void spool_stays(struct spool *spool, const char *name, const char *why)
{
    char message[sizeof spool->last_failure];
    snprintf(message, sizeof message, "%s: %s", name, why);
    if (strcmp(message, spool->last_failure) == 0)
        return;
    snprintf(spool->last_failure, sizeof spool->last_failure, "%s", message);
    wp_log(WP_LOG_ERR, "spool: %s; the file stays in the spool and is tried again", message);
}

/* After COMMIT: the file goes to done/, then its record is no longer needed. */
static void spool_done(struct spool *spool, const char *name)
{
    char final[1024], err[512];
    if (spool_move(spool->cfg->spool_dir, SPOOL_DONE, name, final, sizeof final, err,
                   sizeof err) != WP_OK) {
        /* Its reports are committed and recorded: the next scan tries the move again
         * and, finding the same fingerprint, does not submit them a second time. */
        spool_stays(spool, name, err);
        return;
    }
    outbox_spool_forget(spool->ob, name);
}

/* One intake for the whole batch, with the file's record. WP_ERR_INVALID: a report the
 * outbox refused (why says which); other errors: the file stays (why says why). */
static enum wp_err spool_commit(struct spool *spool, struct spool_file *f,
                                struct spool_batch *batch, char *why, size_t whylen)
{
    char err[1024];
    enum wp_err e = outbox_intake_begin(spool->ob, err, sizeof err);
    for (size_t i = 0; i < batch->count && e == WP_OK; i++) {
        e = outbox_intake_add(spool->ob, &batch->reports[i], err, sizeof err);
        if (e == WP_ERR_INVALID && batch->lines[i] > 0)
            snprintf(why, whylen, "line %d: the report for %s: %.900s\n", batch->lines[i],
                     batch->reports[i].period, err);
        else if (e == WP_ERR_INVALID)
            snprintf(why, whylen, "the report for %s: %.900s\n", batch->reports[i].period, err);
    }
    if (e == WP_OK)
        e = outbox_spool_record(spool->ob, f->name, f->fingerprint, batch->reports[0].seq,
                                batch->reports[batch->count - 1].seq, err, sizeof err);
    if (e == WP_OK)
        e = outbox_intake_commit(spool->ob, err, sizeof err);
    if (e != WP_OK) {
        outbox_intake_rollback(spool->ob);
        if (e != WP_ERR_INVALID)
            snprintf(why, whylen, "%s", err);
    }
    return e;
}

static size_t spool_take(struct spool *spool, const char *name)
{
    struct spool_file f = {.name = name};
    struct spool_batch batch;
    struct spool_problems problems;
    memset(&batch, 0, sizeof batch);
    memset(&problems, 0, sizeof problems);
    char why[1024];
    size_t taken = 0;

    enum wp_err e = spool_read(spool, &f, why, sizeof why);
    if (e == WP_ERR_INVALID) {
        char line[sizeof why + 1];
        snprintf(line, sizeof line, "%s\n", why); /* the .error lists lines */
        spool_reject(spool, name, line);
        goto cleanup;
    }
    if (e != WP_OK) {
        spool_stays(spool, name, why);
        goto cleanup;
    }
    char recorded[SPOOL_FINGERPRINT_LEN];
    bool found = false;
    if (outbox_spool_lookup(spool->ob, name, recorded, sizeof recorded, &found) != WP_OK)
        goto cleanup;
    if (found && strcmp(recorded, f.fingerprint) == 0) {
        wp_log(WP_LOG_NOTICE, "spool: %s was taken in before a restart; moving it to %s/ "
               "without submitting it again", name, SPOOL_DONE);
        spool_done(spool, name);
        goto cleanup;
    }

    e = spool_parse(name, f.bytes, f.len, spool->cfg->ward, &batch, &problems);
    if (e != WP_OK) {
        spool_stays(spool, name, wp_strerror(e));
        goto cleanup;
    }
    if (problems.count > 0) {
        spool_reject(spool, name, spool_problems_text(&problems));
        goto cleanup;
    }
    e = spool_commit(spool, &f, &batch, why, sizeof why);
    if (e == WP_ERR_INVALID) {
        spool_reject(spool, name, why);
        goto cleanup;
    }
    if (e != WP_OK) {
        spool_stays(spool, name, why);
        goto cleanup;
    }
    taken = batch.count;
    spool->last_failure[0] = '\0';
    wp_log(WP_LOG_NOTICE, "spool: took in %s: %zu report(s), seq %lld..%lld", name, taken,
           (long long)batch.reports[0].seq, (long long)batch.reports[taken - 1].seq);
    spool_done(spool, name);

cleanup:
    spool_problems_free(&problems);
    spool_batch_free(&batch);
    free(f.bytes);
    return taken;
}

/* ---- the scan ------------------------------------------------------------------------------ */

/* A file is complete once it has not changed for spool_settle (real time: the file
 * system's clock, not a simulated one). */
static bool spool_settled(const struct spool *spool, const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_ms = ((int64_t)now.tv_sec - st->st_mtim.tv_sec) * 1000 +
                     (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
    return age_ms >= spool->cfg->spool_settle_ms;
}

/* Names of spool_taken records, collected before acting on them: deleting rows while
 * the SELECT that lists them still runs would change the table under the statement. */
struct spool_names {
    char **items;
    size_t count, cap;
    bool nomem;
};

static void spool_collect(void *ctx, const char *name)
{
    struct spool_names *names = ctx;
    if (names->count == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 8;
        char **grown = realloc(names->items, cap * sizeof *grown);
        if (!grown) {
            names->nomem = true;
            return;
        }
        names->items = grown;
        names->cap = cap;
    }
    char *copy = strdup(name);
    if (copy)
        names->items[names->count++] = copy;
}

/* Records of files no longer in the spool: moved after all (the process died after the
 * rename but before the record was deleted). */
static void spool_forget_gone(struct spool *spool)
{
    struct spool_names names = {NULL, 0, 0, false};
    if (outbox_spool_each(spool->ob, spool_collect, &names) == WP_OK) {
        for (size_t i = 0; i < names.count; i++) {
            char path[4096];
            spool_path(path, sizeof path, spool->cfg->spool_dir, NULL, names.items[i]);
            if (access(path, F_OK) != 0 && errno == ENOENT)
                outbox_spool_forget(spool->ob, names.items[i]);
        }
    }
    for (size_t i = 0; i < names.count; i++)
        free(names.items[i]);
    free(names.items);
}

static int spool_filter(const struct dirent *d)
{
    return !spool_ignored(d->d_name);
}

size_t spool_scan(struct spool *spool)
{
    struct dirent **names = NULL;
    int n = scandir(spool->cfg->spool_dir, &names, spool_filter, alphasort);
    if (n < 0) {
        spool_stays(spool, spool->cfg->spool_dir, strerror(errno));
        return 0;
    }
    size_t taken = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        spool_path(path, sizeof path, spool->cfg->spool_dir, NULL, names[i]->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && spool_settled(spool, &st))
            taken += spool_take(spool, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    spool_forget_gone(spool);
    return taken;
}
