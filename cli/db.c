/* db.c — the aggregator's database, read-only (db.h). */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int cli_db_version(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return version;
}

sqlite3 *cli_db_open(const char *command, const char *path, int min_version)
{
    /* SQLITE_OPEN_READONLY would not create it either, but its error ("unable to open
     * database file") does not say that the path is simply wrong. */
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "wardpulse %s: database %s: %s\n", command, path,
                errno == ENOENT ? "does not exist (see db_path in the aggregator's "
                                  "configuration, or give --db PATH)"
                                : strerror(errno));
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "wardpulse %s: %s: %s\n", command, path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    int version = cli_db_version(db);
    if (version < 0) {
        fprintf(stderr, "wardpulse %s: %s: %s\n", command, path, sqlite3_errmsg(db));
    } else if (version == 0) {
        fprintf(stderr, "wardpulse %s: %s is not a wardpulse database (no schema)\n", command,
                path);
    } else if (version > CLI_DB_SCHEMA_VERSION) {
        fprintf(stderr, "wardpulse %s: %s: database schema version %d is newer than this "
                "program knows (%d); upgrade wardpulse to read it\n", command, path, version, CLI_DB_SCHEMA_VERSION);
    } else if (version < min_version) {
        fprintf(stderr, "wardpulse %s: %s: database schema version %d is older than this "
                "command needs (%d); start wardpulse-aggregator once to migrate it\n",
                command, path, version, min_version);
    } else {
        return db;
    }
    sqlite3_close(db);
    return NULL;
}

sqlite3_stmt *cli_db_prepare(sqlite3 *db, const char *command, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        cli_db_fail(db, command);
        return NULL;
    }
    return stmt;
}

int cli_db_fail(sqlite3 *db, const char *command)
{
    fprintf(stderr, "wardpulse %s: %s: %s\n", command, sqlite3_db_filename(db, "main"),
            sqlite3_errmsg(db));
    return 1;
}

const char *cli_db_text(sqlite3_stmt *stmt, int column)
{
    const unsigned char *s = sqlite3_column_text(stmt, column);
    return s ? (const char *)s : "";
}
