/* store_read.h — the aggregator's database for a reader: `wardpulse` (the CLI) opens it
 * read-only through here and asks the queries below, one file per group of tables
 * (store_readonly.c: the connection; reports_read.c: reports, values and rejections;
 * schedule_read.c: reporting rates; alerts_read.c: alerts and their events;
 * levels_read.c: epidemic levels). Table layout: store.h.
 *
 * Read-only (SQLITE_OPEN_READONLY): in WAL mode a reader never blocks the daemon and sees
 * every committed transaction; a busy timeout of 5 s rides out a checkpoint. A path that
 * does not exist is an error, never a new file. No SQLite type leaves the store.
 *
 * Errors: WP_ERR_DB (WP_ERR_NOMEM), with err or store_errmsg() saying what, e.g.
 * "/var/lib/wardpulse/wardpulse.db: database schema version 9 is newer than this program
 * knows (5); upgrade wardpulse to read it". Strings handed to a callback are valid only
 * during the call.
 */
#ifndef WP_STORE_READ_H
#define WP_STORE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Opens path read-only and checks that its schema version is at least min_version (what
 * the caller reads appeared then) and at most STORE_SCHEMA_VERSION. On success *out is
 * the store (store_close); on failure err says why (a missing file: "database PATH does
 * not exist (see db_path …)"). The write functions of store.h must not be called on it. */
enum wp_err store_open_readonly(const char *path, int min_version, struct store **out,
                                char *err, size_t errlen);

#endif
