/* db.h — opening the aggregator's database for reading (table layout: store/store.h).
 *
 * Read-only (SQLITE_OPEN_READONLY): in WAL mode a reader never blocks the daemon and sees
 * every committed transaction. A path that does not exist is an error, never a new file.
 */
#ifndef WP_CLI_DB_H
#define WP_CLI_DB_H

#include <sqlite3.h>

/* The schema version this program reads (store/store.c's migrations): a newer
 * database is refused, since its tables may mean something else. Bump together. */
#define CLI_DB_SCHEMA_VERSION 5

/* Opens path read-only and checks its schema version is at least min_version and not
 * newer than CLI_DB_SCHEMA_VERSION. Returns the connection (close with sqlite3_close),
 * or NULL with the reason printed as "wardpulse COMMAND: …". */
sqlite3 *cli_db_open(const char *command, const char *path, int min_version);

/* Prepares sql; on failure prints "wardpulse COMMAND: PATH: message" and returns NULL. */
sqlite3_stmt *cli_db_prepare(sqlite3 *db, const char *command, const char *sql);

/* Prints the connection's last error the same way; returns 1 (the exit status). */
int cli_db_fail(sqlite3 *db, const char *command);

/* The column as text, "" when NULL. */
const char *cli_db_text(sqlite3_stmt *stmt, int column);

#endif
