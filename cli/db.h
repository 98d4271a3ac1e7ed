/* db.h — opening the aggregator's database for reading, through the store
 * (store_read.h: read-only, WAL, busy timeout; the schema versions it knows). */
#ifndef WP_CLI_DB_H
#define WP_CLI_DB_H

#include <sqlite3.h>

#include "store_read.h"

/* Opens path read-only and checks its schema version is at least min_version (and known
 * to the store). Returns the store (store_close), or NULL with the reason printed as
 * "wardpulse COMMAND: …". */
struct store *cli_db_open(const char *command, const char *path, int min_version);

/* Prepares sql; on failure prints "wardpulse COMMAND: PATH: message" and returns NULL. */
sqlite3_stmt *cli_db_prepare(sqlite3 *db, const char *command, const char *sql);

/* Prints the connection's last error the same way; returns 1 (the exit status). */
int cli_db_fail(sqlite3 *db, const char *command);

/* The column as text, "" when NULL. */
const char *cli_db_text(sqlite3_stmt *stmt, int column);

#endif
