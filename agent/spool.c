/* spool.c — taking in the files of the spool directory (contract in spool.h). */
/* F_SETLEASE (is a writer still at the file?) is Linux's own, outside POSIX. */
#define _GNU_SOURCE
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

#include "array.h"
#include "clock.h"
#include "log.h"
#include "outbox.h"
#include "spool_files.h"
#include "spool_parse.h"
#include "spool_problems.h"
#include "spool_watch.h"

#define SPOOL_FINGERPRINT_LEN 48
#define SPOOL_WAIT_EVENT INT64_MAX /* due: only an inotify event brings the name back */

/* A name to look at: told by inotify (a writer finished) or found by listing the folder. */
struct spool_pending {
    char *name;
    int64_t due_ms;         /* monotonic; SPOOL_WAIT_EVENT: until inotify tells again */
    bool listed;            /* found by listing, not told: it must also have settled */
    bool incomplete_logged; /* "last line incomplete" said once for this name */
    bool writing_logged;    /* "still open for writing" said once for this name */
    char stayed[512];       /* why it last stayed in the spool, logged once ("" none) */
};

struct spool {
    const struct agent_config *cfg;
    struct outbox *ob;           /* durable: commits are on disk before a file moves */
    char list_failure[512];      /* why the folder could not be listed, logged once */
    struct spool_watch watch;    /* watch.wd < 0: the folder's watch is lost */
    bool list_needed;            /* list the folder at the next tick (start, watch back, overflow) */
    int64_t next_watch_try_ms;   /* monotonic: when to try to watch the folder again */
    char watch_problem[512];     /* why the folder is not watched, logged once; "" when it is */
    struct spool_pending *pending; /* sorted by name: files are taken in name order */
    size_t pending_count, pending_cap;
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
    spool->list_needed = true; /* files that arrived while the daemon was down */
    e = spool_watch_open(&spool->watch, err, errlen);
    if (e == WP_OK)
        e = spool_watch_add(&spool->watch, cfg->spool_dir, err, errlen);
    if (e != WP_OK) {
        spool_watch_close(&spool->watch);
        free(spool);
        return e;
    }
    /* Not OUTBOX_RELAXED: the file moves to done/ right after the commit, so the commit
     * must be on disk by then. */
    e = outbox_open(&spool->ob, cfg->outbox_path, cfg->ward, OUTBOX_CREATE, err, errlen);
    if (e != WP_OK) {
        spool_watch_close(&spool->watch);
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
    spool_watch_close(&(*spool)->watch);
    for (size_t i = 0; i < (*spool)->pending_count; i++)
        free((*spool)->pending[i].name);
    free((*spool)->pending);
    free(*spool);
    *spool = NULL;
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

/* Whether a process has path's open file description fd's file open for writing, if the
 * kernel lets us tell: a read lease (F_SETLEASE F_RDLCK) is refused with EAGAIN exactly
 * then. Only the file's owner (or CAP_LEASE) may take a lease, and not every file system
 * has them (NFS, some FUSE): then we cannot tell and say no — the caller relies on the
 * close event or on spool_settle instead. The lease is given back at once, so a writer
 * opening the file meanwhile is held up for no longer than this call. */
static bool spool_open_for_writing(int fd)
{
    if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        fcntl(fd, F_SETLEASE, F_UNLCK);
        return false;
    }
    return errno == EAGAIN;
}

/* Reads a file whole. Returns WP_OK, WP_ERR_INVALID (too large: why says so), or another
 * error when it cannot be read now (why says why; the file stays). *writing: a writer
 * still has it open (WP_ERR_IO, nothing read). */
static enum wp_err spool_read(struct spool *spool, struct spool_file *f, bool *writing,
                              char *why, size_t whylen)
{
    char path[4096];
    spool_path(path, sizeof path, spool->cfg->spool_dir, NULL, f->name);
    *writing = false;
    /* O_NONBLOCK: a writer holding a lease (Samba's kernel oplocks) makes open fail with
     * EWOULDBLOCK instead of blocking the daemon until the lease is broken. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
    if (spool_open_for_writing(fd)) {
        *writing = true;
        snprintf(why, whylen, "a writer still has it open");
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

/* Logs why a file stays in the spool, once per file and distinct reason (said keeps
 * the last one): disk full would otherwise repeat at every try, for every file. */
static void spool_stays(char *said, size_t saidlen, const char *name, const char *why)
{
    if (strncmp(why, said, saidlen - 1) == 0)
        return;
    snprintf(said, saidlen, "%s", why);
    wp_log(WP_LOG_ERR, "spool: %s: %s; the file stays in the spool and is tried again every "
           "spool_interval", name, why);
}

/* Refuses the file (spool_files.h) and logs it. Returns when to look at it again: -1
 * once it is in rejected/, else at the next try (the failure logged once). */
static int64_t spool_refuse(struct spool *spool, struct spool_pending *p, const char *why)
{
    const char *name = p->name;
    char final[1024], err[4200];
    if (spool_reject(spool->cfg->spool_dir, name, why, final, sizeof final, err,
                     sizeof err) != WP_OK) {
        spool_stays(p->stayed, sizeof p->stayed, name, err);
        return wp_monotonic_ms() + spool->cfg->spool_interval_ms;
    }
    size_t first_line = strcspn(why, "\n");
    wp_log(WP_LOG_ERR, "spool: refused %s: %.*s%s (see %s/%s.error)", name, (int)first_line, why,
           why[first_line] && why[first_line + 1] ? " …" : "", SPOOL_REJECTED, final);
    return -1;
}

/* After COMMIT: the file goes to done/, then its record is no longer needed. False: the
 * move failed (logged) and the file stays, to be moved at the next try. */
static bool spool_done(struct spool *spool, struct spool_pending *p)
{
    const char *name = p->name;
    char final[1024], err[512];
    if (spool_move(spool->cfg->spool_dir, SPOOL_DONE, name, final, sizeof final, err,
                   sizeof err) != WP_OK) {
        /* Its reports are committed and recorded: the next try moves it again and,
         * finding the same fingerprint, does not submit them a second time. */
        spool_stays(p->stayed, sizeof p->stayed, name, err);
        return false;
    }
    outbox_spool_forget(spool->ob, name);
    return true;
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

/* How long ago (ms, real time: the file system's clock, not a simulated one) st's file
 * last changed. */
static int64_t spool_age_ms(const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return ((int64_t)now.tv_sec - st->st_mtim.tv_sec) * 1000 +
           (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
}

/* A CSV whose last line has no line end (spool_parse_incomplete). Its writer is either
 * still busy or died; a few bytes more would change the last figure, so the file is not
 * judged. Once it has not changed for spool_incomplete_timeout, the writer is taken to
 * have died: the file is refused with a reason the clerk can act on (taking the rows
 * before the cut would submit a file nobody finished). Returns when to look again. */
static int64_t spool_incomplete(struct spool *spool, struct spool_pending *p, int64_t age_ms)
{
    int64_t timeout = spool->cfg->spool_incomplete_timeout_ms;
    if (age_ms >= timeout) {
        char why[512];
        snprintf(why, sizeof why,
                 "the last line has no line end: the program writing the file stopped before "
                 "it finished (unchanged for %lld s); save or copy the whole file again\n",
                 (long long)(age_ms / 1000));
        return spool_refuse(spool, p, why);
    }
    if (!p->incomplete_logged) {
        p->incomplete_logged = true;
        wp_log(WP_LOG_WARNING, "spool: %s: the last line is incomplete (no line end yet); the "
               "file waits for the rest, and is refused if nothing comes within %lld s",
               p->name, (long long)(timeout / 1000));
    }
    /* A writer appending and closing brings it back sooner (an inotify event). */
    return wp_monotonic_ms() + (timeout - age_ms);
}

/* Looks at one pending name and takes it if it is whole. Adds the reports committed to
 * *taken. Returns when to look at it again (monotonic ms), SPOOL_WAIT_EVENT to wait for
 * inotify, or -1 when it is done with (taken, refused, gone, or not a file to take). */
static int64_t spool_take(struct spool *spool, struct spool_pending *p, size_t *taken)
{
    const char *name = p->name;
    struct spool_file f = {.name = name};
    struct spool_batch batch;
    struct spool_problems problems;
    memset(&batch, 0, sizeof batch);
    memset(&problems, 0, sizeof problems);
    char why[1024], path[4096];
    int64_t again = -1;
    int64_t retry = wp_monotonic_ms() + spool->cfg->spool_interval_ms;

    struct stat st;
    spool_path(path, sizeof path, spool->cfg->spool_dir, NULL, name);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        goto cleanup; /* gone (moved away, deleted), or a folder or link: not ours */
    int64_t age = spool_age_ms(&st);
    if (p->listed && age < spool->cfg->spool_settle_ms) {
        /* Found by listing, we did not see its writer close it: it may be written in
         * place right now (the daemon was down while it was started). */
        again = wp_monotonic_ms() + (spool->cfg->spool_settle_ms - age);
        goto cleanup;
    }
    bool writing = false;
    enum wp_err e = spool_read(spool, &f, &writing, why, sizeof why);
    if (writing) {
        /* Its writer's close will be an event; no need to look before. */
        if (!p->writing_logged)
            wp_log(WP_LOG_NOTICE, "spool: %s is still open for writing; it waits until its "
                   "writer closes it", name);
        p->writing_logged = true;
        again = SPOOL_WAIT_EVENT;
        goto cleanup;
    }
    if (e == WP_ERR_INVALID) {
        char line[sizeof why + 1];
        snprintf(line, sizeof line, "%s\n", why); /* the .error lists lines */
        again = spool_refuse(spool, p, line);
        goto cleanup;
    }
    if (e != WP_OK) {
        spool_stays(p->stayed, sizeof p->stayed, name, why);
        again = retry;
        goto cleanup;
    }
    if (spool_parse_incomplete(name, f.bytes, f.len)) {
        again = spool_incomplete(spool, p, age);
        goto cleanup;
    }
    char recorded[SPOOL_FINGERPRINT_LEN];
    bool found = false;
    if (outbox_spool_lookup(spool->ob, name, recorded, sizeof recorded, &found) != WP_OK) {
        again = retry;
        goto cleanup;
    }
    if (found && strcmp(recorded, f.fingerprint) == 0) {
        wp_log(WP_LOG_NOTICE, "spool: %s was taken in before a restart; moving it to %s/ "
               "without submitting it again", name, SPOOL_DONE);
        again = spool_done(spool, p) ? -1 : retry;
        goto cleanup;
    }

    e = spool_parse(name, f.bytes, f.len, spool->cfg->ward, &batch, &problems);
    if (e != WP_OK) {
        spool_stays(p->stayed, sizeof p->stayed, name, wp_strerror(e));
        again = retry;
        goto cleanup;
    }
    if (problems.count > 0) {
        again = spool_refuse(spool, p, spool_problems_text(&problems));
        goto cleanup;
    }
    e = spool_commit(spool, &f, &batch, why, sizeof why);
    if (e == WP_ERR_INVALID) {
        again = spool_refuse(spool, p, why);
        goto cleanup;
    }
    if (e != WP_OK) {
        spool_stays(p->stayed, sizeof p->stayed, name, why);
        again = retry;
        goto cleanup;
    }
    *taken += batch.count;
    wp_log(WP_LOG_NOTICE, "spool: took in %s: %zu report(s), seq %lld..%lld", name, batch.count,
           (long long)batch.reports[0].seq, (long long)batch.reports[batch.count - 1].seq);
    again = spool_done(spool, p) ? -1 : retry;

cleanup:
    spool_problems_free(&problems);
    spool_batch_free(&batch);
    free(f.bytes);
    return again;
}

/* ---- what to look at ---------------------------------------------------------------------- */

/* Puts name on the pending list, due now. Told by inotify (listed false) the name no
 * longer needs to settle: its writer has closed it. Out of memory: the name is dropped
 * (logged) and taken at the next listing — the start of the daemon at the latest. */
static void spool_pending_put(struct spool *spool, const char *name, bool listed)
{
    size_t i = 0;
    while (i < spool->pending_count && strcmp(spool->pending[i].name, name) < 0)
        i++;
    if (i < spool->pending_count && strcmp(spool->pending[i].name, name) == 0) {
        spool->pending[i].due_ms = 0;
        spool->pending[i].listed = spool->pending[i].listed && listed;
        return;
    }
    if (!WP_ARRAY_RESERVE(spool->pending, spool->pending_cap, spool->pending_count + 1))
        goto nomem;
    char *copy = strdup(name);
    if (!copy)
        goto nomem;
    memmove(spool->pending + i + 1, spool->pending + i,
            (spool->pending_count - i) * sizeof *spool->pending);
    spool->pending[i] = (struct spool_pending){.name = copy, .due_ms = 0, .listed = listed};
    spool->pending_count++;
    return;

nomem:
    wp_log(WP_LOG_ERR, "spool: out of memory; %s is taken at the next restart", name);
}

static void spool_pending_drop(struct spool *spool, size_t i)
{
    free(spool->pending[i].name);
    memmove(spool->pending + i, spool->pending + i + 1,
            (spool->pending_count - i - 1) * sizeof *spool->pending);
    spool->pending_count--;
}

static void spool_on_event(void *ctx, const char *name)
{
    struct spool *spool = ctx;
    if (!spool_ignored(name))
        spool_pending_put(spool, name, false);
}

/* ---- the folder ------------------------------------------------------------------------- */

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
    if (!WP_ARRAY_RESERVE(names->items, names->cap, names->count + 1)) {
        names->nomem = true;
        return;
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

/* Every name in the folder onto the pending list: at start, when the watch is back and
 * after lost events. The only listing of the folder. */
static void spool_list(struct spool *spool)
{
    struct dirent **names = NULL;
    int n = scandir(spool->cfg->spool_dir, &names, spool_filter, alphasort);
    if (n < 0) {
        spool_stays(spool->list_failure, sizeof spool->list_failure, spool->cfg->spool_dir,
                    strerror(errno));
        spool->list_needed = true; /* its watch will tell if the folder went */
        return;
    }
    spool->list_failure[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (names[i]->d_type == DT_REG || names[i]->d_type == DT_UNKNOWN)
            spool_pending_put(spool, names[i]->d_name, true);
        free(names[i]);
    }
    free(names);
    spool_forget_gone(spool);
}

/* Logs why the folder is not watched, once while the reason lasts. */
static void spool_watch_trouble(struct spool *spool, const char *why)
{
    if (strcmp(why, spool->watch_problem) == 0)
        return;
    snprintf(spool->watch_problem, sizeof spool->watch_problem, "%s", why);
    wp_log(WP_LOG_ERR, "spool: %s; files put there wait until it is back (tried every %lld ms)",
           why, (long long)spool->cfg->spool_interval_ms);
}

/* The folder was removed, moved or unmounted, and perhaps made again: watch the path
 * again once a folder is there, with done/ and rejected/, and list it (files dropped
 * while it was not watched). */
static void spool_rewatch(struct spool *spool)
{
    const char *dir = spool->cfg->spool_dir;
    char err[4200];
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, sizeof err, "spool_dir %.3000s: %s", dir, strerror(errno));
        spool_watch_trouble(spool, err);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, sizeof err, "spool_dir %.3000s is not a directory", dir);
        spool_watch_trouble(spool, err);
        return;
    }
    if (spool_make_dir(dir, SPOOL_DONE, err, sizeof err) != WP_OK ||
        spool_make_dir(dir, SPOOL_REJECTED, err, sizeof err) != WP_OK ||
        spool_watch_add(&spool->watch, dir, err, sizeof err) != WP_OK) {
        spool_watch_trouble(spool, err);
        return;
    }
    spool->watch_problem[0] = '\0';
    spool->list_needed = true;
    wp_log(WP_LOG_NOTICE, "spool: watching %s again (with %s/ and %s/)", dir, SPOOL_DONE,
           SPOOL_REJECTED);
}

void spool_release_memory(struct spool *spool)
{
    if (spool)
        outbox_release_memory(spool->ob);
}

int spool_fd(const struct spool *spool)
{
    return spool ? spool->watch.fd : -1;
}

int64_t spool_next_due_ms(const struct spool *spool)
{
    if (!spool)
        return INT64_MAX;
    if (spool->list_needed && spool->watch.wd >= 0)
        return 0;
    int64_t due = spool->watch.wd < 0 ? spool->next_watch_try_ms : INT64_MAX;
    for (size_t i = 0; i < spool->pending_count; i++)
        if (spool->pending[i].due_ms < due)
            due = spool->pending[i].due_ms; /* SPOOL_WAIT_EVENT is INT64_MAX */
    return due;
}

size_t spool_tick(struct spool *spool)
{
    bool lost = false, overflow = false;
    spool_watch_read(&spool->watch, spool_on_event, spool, &lost, &overflow);
    if (lost) {
        wp_log(WP_LOG_WARNING, "spool: %s was removed, moved or unmounted; watching for it "
               "to come back", spool->cfg->spool_dir);
        spool->next_watch_try_ms = 0; /* perhaps it is already back */
    }
    if (overflow) {
        wp_log(WP_LOG_WARNING, "spool: the kernel dropped events; listing %s",
               spool->cfg->spool_dir);
        spool->list_needed = true;
    }
    int64_t now = wp_monotonic_ms();
    if (spool->watch.wd < 0 && now >= spool->next_watch_try_ms) {
        spool->next_watch_try_ms = now + spool->cfg->spool_interval_ms;
        spool_rewatch(spool);
    }
    if (spool->list_needed && spool->watch.wd >= 0) {
        spool->list_needed = false;
        spool_list(spool);
    }
    size_t taken = 0;
    for (size_t i = 0; i < spool->pending_count;) {
        struct spool_pending *p = &spool->pending[i];
        if (p->due_ms > now) {
            i++;
            continue;
        }
        int64_t again = spool_take(spool, p, &taken);
        if (again < 0) {
            spool_pending_drop(spool, i);
            continue;
        }
        p->due_ms = again;
        i++;
    }
    return taken;
}
