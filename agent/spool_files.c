/* spool_files.c — moving spool files to done/ and rejected/ (contract in spool_files.h). */
#include "spool_files.h"

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

#include "file.h"
#include "timefmt.h"

void spool_path(char *buf, size_t size, const char *dir, const char *sub, const char *name)
{
    if (sub)
        snprintf(buf, size, "%s/%s/%s", dir, sub, name);
    else
        snprintf(buf, size, "%s/%s", dir, name);
}

enum wp_err spool_make_dir(const char *dir, const char *sub, char *err, size_t errlen)
{
    char path[4096];
    spool_path(path, sizeof path, dir, NULL, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "spool_dir: cannot create %.3000s: %s", path, strerror(errno));
        return WP_ERR_IO;
    }
    return WP_OK;
}

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
    /* A rename is durable only once the directories holding the names are synced. */
    spool_path(subdir, sizeof subdir, dir, NULL, sub);
    wp_dir_sync(subdir);
    wp_dir_sync(dir);
    return WP_OK;
}

/* Moves name into dir/sub under a free name (put into final). */
enum wp_err spool_move(const char *dir, const char *sub, const char *name,
                              char *final, size_t size, char *err, size_t errlen)
{
    if (!spool_free_name(dir, sub, name, false, final, size)) {
        snprintf(err, errlen, "no free name for %s in %s/", name, sub);
        return WP_ERR_IO;
    }
    return spool_rename(dir, sub, name, final, err, errlen);
}

/* rejected/<final>.error first, then the file beside it: a crash in between leaves the
 * file in the spool, to be judged (and refused) again. */
enum wp_err spool_reject(const char *dir, const char *name, const char *why, char *final,
                         size_t size, char *err, size_t errlen)
{
    char error_path[4200], now[40];
    if (!spool_free_name(dir, SPOOL_REJECTED, name, true, final, size)) {
        snprintf(err, errlen, "refused, but found no free name for it in %s/", SPOOL_REJECTED);
        return WP_ERR_IO;
    }
    spool_path(error_path, sizeof error_path, dir, SPOOL_REJECTED, final);
    strcat(error_path, ".error");
    /* Real time, not wp_now_ms: a simulated clock must not date the clerk's files. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wp_datetime_format_local((int64_t)ts.tv_sec * 1000, now, sizeof now);
    char head[2048];
    int head_len = snprintf(head, sizeof head,
                            "%s was NOT taken in: nothing of it was submitted.\n"
                            "Correct the lines below, then drop the file into the spool folder "
                            "again\n(the CSV format is described in docs/spool.md). Refused at "
                            "%s.\n\n",
                            name, now);
    if (head_len < 0 || (size_t)head_len >= sizeof head)
        head_len = (int)strlen(head);
    size_t why_len = strlen(why);
    char *text = malloc((size_t)head_len + why_len + 1);
    if (text) {
        memcpy(text, head, (size_t)head_len);
        memcpy(text + head_len, why, why_len + 1);
    }
    if (!text || wp_file_write_whole(error_path, text, (size_t)head_len + why_len, 0644, true)
                     != WP_OK) {
        /* Without its .error the clerk would not know why: leave the file where it is. */
        snprintf(err, errlen, "refused, but cannot write %.3000s: %s", error_path,
                 text ? strerror(errno) : "out of memory");
        free(text);
        return WP_ERR_IO;
    }
    free(text);
    /* Under the name its .error was written for, so that the two stay a pair. */
    char moved[512];
    if (spool_rename(dir, SPOOL_REJECTED, name, final, moved, sizeof moved) != WP_OK) {
        snprintf(err, errlen, "refused, but %s", moved);
        return WP_ERR_IO;
    }
    return WP_OK;
}
