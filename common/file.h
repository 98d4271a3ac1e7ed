/* file.h — whole files: reading one without hanging on a wrong kind of path, and writing
 * one complete or not at all.
 *
 * Reading: a file that wardpulse reads as a whole at start or on a signal (a
 * configuration, a plan file, a password file).
 *
 * fopen() on a FIFO with no writer blocks until one appears: a daemon would never get
 * to READY, or its main loop would stop on SIGHUP or on a reconnect. wp_file_open()
 * opens without blocking, then refuses what is not a regular file — except character
 * devices, so that /dev/null still stands for "empty" — and returns an ordinary
 * blocking stream:
 *
 *   const char *why;
 *   FILE *f = wp_file_open(path, &why);
 *   if (!f)
 *       snprintf(err, errlen, "%s: %s", path, why);   // "…: is a FIFO, not a file"
 *
 * *why is strerror(errno) of the failed open, or a fixed text naming the kind of path.
 */
#ifndef WP_FILE_H
#define WP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

FILE *wp_file_open(const char *path, const char **why);

/* Writing: puts len bytes of text at path so that a reader (or a crash, or a power cut)
 * sees the old file or the whole new one, never a part: the text goes into
 * "<path>.tmp", which is fsynced, renamed over path, and the directory holding path is
 * fsynced so that the rename survives too (a directory that cannot be synced is
 * logged as a warning, the write still counts). The file gets mode, narrowed by the
 * umask when umask_applies, else exactly mode (a file another user's group must read).
 *
 * Returns WP_OK; WP_ERR_FULL when the disk or quota is full; WP_ERR_IO otherwise. On a
 * failure path is untouched, the temporary file is gone and errno says why. */
enum wp_err wp_file_write_whole(const char *path, const char *text, size_t len, mode_t mode,
                                bool umask_applies);

/* fsyncs a directory, so that names created, renamed or removed in it survive a power
 * cut. 0, or -1 with errno set. */
int wp_dir_sync(const char *dir);

#endif
