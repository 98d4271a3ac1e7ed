/* spool_watch.c — inotify on the spool folder (contract in spool_watch.h). */
#include "spool_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define SPOOL_WATCH_MASK                                                                        \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

enum wp_err spool_watch_open(struct spool_watch *w, char *err, size_t errlen)
{
    w->wd = -1;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "spool_dir: cannot watch it (inotify): %s", strerror(errno));
        return WP_ERR_IO;
    }
    return WP_OK;
}

enum wp_err spool_watch_add(struct spool_watch *w, const char *dir, char *err, size_t errlen)
{
    spool_watch_remove(w);
    int wd = inotify_add_watch(w->fd, dir, SPOOL_WATCH_MASK);
    if (wd < 0) {
        snprintf(err, errlen, "cannot watch %.3000s (inotify): %s", dir, strerror(errno));
        return WP_ERR_IO;
    }
    w->wd = wd;
    return WP_OK;
}

void spool_watch_remove(struct spool_watch *w)
{
    if (w->fd >= 0 && w->wd >= 0)
        inotify_rm_watch(w->fd, w->wd); /* fails harmlessly when the kernel dropped it */
    w->wd = -1;
}

void spool_watch_read(struct spool_watch *w, spool_watch_fn fn, void *ctx, bool *lost,
                      bool *overflow)
{
    /* Aligned as the kernel writes struct inotify_event records into it. */
    _Alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    if (w->fd < 0)
        return;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* EAGAIN: nothing more queued */
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                *overflow = true;
                continue;
            }
            /* Events of a watch dropped earlier may still be queued: not ours any more. */
            if (ev->wd != w->wd)
                continue;
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
                /* A moved folder would still be watched under its new name: let it go, so
                 * that the path, not the inode, stays the spool. */
                spool_watch_remove(w);
                *lost = true;
                continue;
            }
            if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) && ev->len > 0 &&
                !(ev->mask & IN_ISDIR))
                fn(ctx, ev->name);
        }
    }
}

void spool_watch_close(struct spool_watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->wd = -1;
}
