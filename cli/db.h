/* db.h — the aggregator's database for the reading commands, through the store
 * (store_read.h: read-only, WAL, busy timeout, the schema versions it knows, and every
 * query the commands ask). No SQLite here. */
#ifndef WP_CLI_DB_H
#define WP_CLI_DB_H

#include "error.h"
#include "store_read.h"

/* Opens path read-only and checks its schema version is at least min_version (and known
 * to the store). Returns the store (store_close), or NULL with the reason printed as
 * "wardpulse COMMAND: …". */
struct store *cli_db_open(const char *command, const char *path, int min_version);

/* Prints why a read failed, "wardpulse COMMAND: PATH: message" ("…: out of memory" for
 * WP_ERR_NOMEM); returns 1 (the exit status). */
int cli_db_fail(struct store *store, const char *command, enum wp_err err);

#endif
