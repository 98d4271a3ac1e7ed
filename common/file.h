/* file.h — opening a file that wardpulse reads as a whole at start or on a signal (a
 * configuration, a plan file, a password file) without letting a wrong kind of path
 * hang the program.
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

#include <stdio.h>

FILE *wp_file_open(const char *path, const char **why);

#endif
