/* outbox_watch.h — being told (Linux inotify) that another process may have committed to
 * the outbox, instead of asking SQLite again and again.
 *
 * A concurrent `submit` (another process) commits by writing the outbox's WAL file, then
 * closes it when it exits. The daemon watches the outbox's folder for writes, closes,
 * creations and renames of the outbox's own files (its name, name-wal, name-journal …)
 * and, told of one, asks outbox_changed() (PRAGMA data_version) whether anything was
 * committed. The daemon's own writes are reported too: one needless, cheap look each,
 * never a periodic one. The watch only says "look now"; data_version stays the truth.
 *
 * Without a watch (the kernel refused one: fs.inotify.max_user_watches) the daemon looks
 * every poll_interval, as before (publisher.c).
 */
#ifndef WP_AGENT_OUTBOX_WATCH_H
#define WP_AGENT_OUTBOX_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct outbox_watch {
    int fd;      /* the inotify instance, non-blocking; -1 when there is none */
    char *base;  /* the outbox file's name within its folder (owned) */
};

/* Watches the folder of outbox_path. WP_ERR_IO (err set) when the kernel refuses; w is
 * then closed (fd -1) and may still be passed to the others. */
enum wp_err outbox_watch_open(struct outbox_watch *w, const char *outbox_path, char *err,
                              size_t errlen);

/* Reads every queued event without waiting; true when one concerned the outbox's files
 * (or the kernel dropped events, so that it cannot tell). */
bool outbox_watch_read(struct outbox_watch *w);

/* Closes the instance; accepts a closed one. */
void outbox_watch_close(struct outbox_watch *w);

#endif
