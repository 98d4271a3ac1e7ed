/* spool_watch.h — which names in the spool folder a writer has finished, told by Linux
 * inotify instead of found by listing the folder again and again.
 *
 * A name is reported when a writer closed a file it had open for writing
 * (IN_CLOSE_WRITE) or when a file was renamed into the folder (IN_MOVED_TO): the two
 * moments at which a file can be whole. Creations and writes are not reported: a file
 * being written is never a candidate. Only the folder itself is watched, not done/ or
 * rejected/ (inotify is not recursive), so the spool's own moves and .error files make
 * no events.
 *
 * The watch is on the folder's inode: when the folder is removed, renamed or unmounted
 * the watch is lost (spool_watch_read says so) and must be added again on the path once
 * a folder is there. When the kernel's event queue overflows, events were dropped and
 * the caller must list the folder once.
 *
 * Nothing here touches the outbox or decides whether a file is taken (spool.c does).
 */
#ifndef WP_AGENT_SPOOL_WATCH_H
#define WP_AGENT_SPOOL_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct spool_watch {
    int fd; /* the inotify instance, non-blocking; -1 when closed */
    int wd; /* the folder's watch; -1 when there is none (never added, or lost) */
};

/* Makes the inotify instance (no watch yet). WP_ERR_IO with err set when the kernel
 * refuses (e.g. fs.inotify.max_user_instances reached). */
enum wp_err spool_watch_open(struct spool_watch *w, char *err, size_t errlen);

/* Watches dir (replacing a watch that is still held). WP_ERR_IO with err set when dir is
 * not there or not a directory, or the kernel refuses (max_user_watches). */
enum wp_err spool_watch_add(struct spool_watch *w, const char *dir, char *err, size_t errlen);

/* Drops the folder's watch if one is held (a moved folder keeps its watch on the
 * kernel's side). */
void spool_watch_remove(struct spool_watch *w);

/* Called with each name a writer finished; name is only valid during the call. */
typedef void (*spool_watch_fn)(void *ctx, const char *name);

/* Reads every queued event without waiting and calls fn for each finished name.
 * *lost becomes true when the folder's watch is gone (the watch is then dropped and
 * w->wd is -1), *overflow when the kernel dropped events. Both are only ever set, never
 * cleared, so one pair of flags may collect several calls. */
void spool_watch_read(struct spool_watch *w, spool_watch_fn fn, void *ctx, bool *lost,
                      bool *overflow);

/* Closes the instance (and its watch); accepts a closed one. */
void spool_watch_close(struct spool_watch *w);

#endif
