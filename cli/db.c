/* db.c — the aggregator's database, read-only (db.h). */
#include "db.h"

#include <stdio.h>

struct store *cli_db_open(const char *command, const char *path, int min_version)
{
    struct store *store = NULL;
    char err[1024];
    if (store_open_readonly(path, min_version, &store, err, sizeof err) != WP_OK)
        fprintf(stderr, "wardpulse %s: %s\n", command, err);
    return store;
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
