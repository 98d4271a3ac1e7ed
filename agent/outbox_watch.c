/* outbox_watch.c — inotify on the outbox's folder (contract in outbox_watch.h). */
#include "outbox_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define OUTBOX_WATCH_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

enum wp_err outbox_watch_open(struct outbox_watch *w, const char *outbox_path, char *err,
                              size_t errlen)
{
    w->fd = -1;
    w->base = NULL;
    const char *slash = strrchr(outbox_path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == outbox_path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - outbox_path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - outbox_path), outbox_path);
    else {
        snprintf(err, errlen, "outbox_path is too long to watch its folder");
        return WP_ERR_IO;
    }
    w->base = strdup(slash ? slash + 1 : outbox_path);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (!w->base || w->fd < 0 || inotify_add_watch(w->fd, dir, OUTBOX_WATCH_MASK) < 0) {
        snprintf(err, errlen, "cannot watch the outbox's folder %.3000s (inotify): %s", dir,
                 w->base ? strerror(errno) : "out of memory");
        outbox_watch_close(w);
        return WP_ERR_IO;
    }
    return WP_OK;
}

bool outbox_watch_read(struct outbox_watch *w)
{
    /* Aligned as the kernel writes struct inotify_event records into it. */
    _Alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    bool ours = false;
    size_t base_len = w->base ? strlen(w->base) : 0;
    if (w->fd < 0)
        return false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ours; /* EAGAIN: nothing more queued */
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if ((ev->mask & IN_Q_OVERFLOW) ||
                (ev->len > 0 && strncmp(ev->name, w->base, base_len) == 0))
                ours = true;
        }
    }
}

void outbox_watch_close(struct outbox_watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    free(w->base);
    w->base = NULL;
}
