/* spool_files.h — moving a spool file to done/ or rejected/ (the spool's own sub-folders,
 * spool.h). Every move is a rename followed by an fsync of both folders, so that a move
 * the log reports survives a power cut. Names never overwrite: a name already in the
 * sub-folder gets a free one ("bao-cao-2.csv"). Nothing here decides whether a file is
 * taken or touches the outbox (spool.c does). */
#ifndef WP_AGENT_SPOOL_FILES_H
#define WP_AGENT_SPOOL_FILES_H

#include <stddef.h>

#include "error.h"

#define SPOOL_DONE "done"
#define SPOOL_REJECTED "rejected"

/* dir/name, or dir/sub/name when sub is not NULL, cut to size. */
void spool_path(char *buf, size_t size, const char *dir, const char *sub, const char *name);

/* Creates dir/sub unless it exists. WP_ERR_IO with err set otherwise. */
enum wp_err spool_make_dir(const char *dir, const char *sub, char *err, size_t errlen);

/* Moves dir/name into dir/sub under a free name (written to final). WP_ERR_IO with err
 * set when it cannot; the file then stays where it was. */
enum wp_err spool_move(const char *dir, const char *sub, const char *name, char *final,
                       size_t size, char *err, size_t errlen);

/* Refuses dir/name: writes rejected/<final>.error (a head for the clerk, then why: one
 * line per problem) and moves the file beside it under the name put into final.
 * WP_ERR_IO with err set when it cannot: the file then stays in the spool, to be judged
 * again later. Logs nothing (the caller knows what to say, and how often). */
enum wp_err spool_reject(const char *dir, const char *name, const char *why, char *final,
                         size_t size, char *err, size_t errlen);

#endif
