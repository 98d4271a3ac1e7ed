/* db_file.h — the SQLite file under a daemon's database: is the file at the path the one
 * in use, may it be written, and is this the only daemon writing it.
 *
 * A database (the aggregator's) or an outbox (the agent's) can be deleted or replaced
 * under an open connection: an operator `mv`s a restored backup over it, or removes it.
 * SQLite keeps writing into the file it opened, which no longer has a name, so every
 * later commit — and every ack that follows one — is lost at the next start. Both
 * daemons therefore check, before a commit that lets someone forget data, that the path
 * still names the file they hold (wp_db_identity_check), and stop if it does not.
 *
 *   struct wp_db_identity id;
 *   wp_db_identity_take(db, path, &id, err, sizeof err);          // right after opening
 *   ...
 *   if (wp_db_identity_check(db, path, &id, err, sizeof err) != WP_OK)   // before COMMIT
 *       → roll back, stop with err (WP_ERR_REPLACED)
 *
 * No function here keeps a pointer to its arguments.
 */
#ifndef WP_DB_FILE_H
#define WP_DB_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct sqlite3;

/* Device and inode of the main database file when it was opened. */
struct wp_db_identity {
    dev_t dev;
    ino_t ino;
};

/* Records the identity of the file now at path (call right after sqlite3_open_v2, which
 * opens the file at once). WP_ERR_IO with err if path cannot be stat'ed. */
enum wp_err wp_db_identity_take(struct sqlite3 *db, const char *path, struct wp_db_identity *id,
                                char *err, size_t errlen);

/* WP_OK if path still names the file db has open; WP_ERR_REPLACED with err saying what
 * happened (removed, or another file put there) otherwise. Asks SQLite too
 * (SQLITE_FCNTL_HAS_MOVED compares the open descriptor's inode with the path's), so a
 * replacement is seen even between two processes that opened different files. A stat()
 * per call: cheap beside the fsync of the commit it guards. */
enum wp_err wp_db_identity_check(struct sqlite3 *db, const char *path,
                                 const struct wp_db_identity *id, char *err, size_t errlen);

/* Whether a daemon could write the database at path (which may not exist yet): its
 * directory must be writable (SQLite creates path-wal and path-shm there, the daemons
 * their lock files) and so must the file if it exists. Uses access(2), which also
 * reports a read-only mount (EROFS) and an immutable file (chattr +i) to root.
 * WP_ERR_IO with err naming what and why otherwise. */
enum wp_err wp_db_check_writable(const char *path, char *err, size_t errlen);

/* Creates (if needed) and locks path + suffix with an fcntl write lock, so that a second
 * daemon on the same database refuses to start. On success *fd holds the lock (close it
 * to let go; the lock also ends with the process). WP_ERR_IO when the lock file cannot be
 * made, WP_ERR_CONFIG ("… already …") when another process holds the lock; err says
 * which. */
enum wp_err wp_db_lock(const char *path, const char *suffix, int *fd, char *err, size_t errlen);

/* The one mapping of a SQLite result code (rc, extended or not) onto wp_err, for every
 * database of the project: WP_ERR_FULL when the disk or the database is full — SQLITE_FULL,
 * or an I/O error whose errno is ENOSPC or EDQUOT (a disk with no block left fails
 * earlier than a COMMIT: growing the WAL index is such an error) — and WP_ERR_DB for
 * anything else. db (may be NULL) is the connection that failed, asked for the errno. */
enum wp_err wp_db_error(struct sqlite3 *db, int rc);

#endif
