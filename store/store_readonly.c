/* store_readonly.c — the database opened for reading (store_read.h). */
#include "store_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "read_private.h"

static int store_readonly_version(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return version;
}

enum wp_err store_open_readonly(const char *path, int min_version, struct store **out,
                                char *err, size_t errlen)
{
    *out = NULL;
    /* SQLITE_OPEN_READONLY would not create it either, but its error ("unable to open
     * database file") does not say that the path is simply wrong. */
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "database %s: %s", path,
                 errno == ENOENT ? "does not exist (see db_path in the aggregator's "
                                   "configuration, or give --db PATH)"
                                 : strerror(errno));
        return WP_ERR_DB;
    }
    struct store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }
    s->lock_fd = -1;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(&s);
        return WP_ERR_DB;
    }
    sqlite3_busy_timeout(s->db, 5000);
    int version = store_readonly_version(s->db);
    s->schema_version = version;
    if (version < 0)
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
    else if (version == 0)
        snprintf(err, errlen, "%s is not a wardpulse database (no schema)", path);
    else if (version > STORE_SCHEMA_VERSION)
        snprintf(err, errlen, "%s: database schema version %d is newer than this program "
                 "knows (%d); upgrade wardpulse to read it", path, version,
                 STORE_SCHEMA_VERSION);
    else if (version < min_version)
        snprintf(err, errlen, "%s: database schema version %d is older than this command "
                 "needs (%d); start wardpulse-aggregator once to migrate it", path, version,
                 min_version);
    else {
        *out = s;
        return WP_OK;
    }
    store_close(&s);
    return WP_ERR_DB;
}

/* "PATH: what SQLite said", for store_read_error. */
static enum wp_err store_read_fail(struct store *store)
{
    snprintf(store->errmsg, sizeof store->errmsg, "%s: %s", store->path,
             sqlite3_errmsg(store->db));
    return WP_ERR_DB;
}

const char *store_read_error(struct store *store)
{
    return store->errmsg;
}

sqlite3_stmt *store__read_prepare(struct store *store, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        store_read_fail(store);
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

enum wp_err store__read_rows(struct store *store, sqlite3_stmt *stmt,
                             int (*row)(void *ctx, sqlite3_stmt *stmt), void *ctx)
{
    if (!stmt)
        return WP_ERR_DB;
    int rc;
    enum wp_err err = WP_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (row(ctx, stmt) != 0) {
            err = WP_ERR_NOMEM;
            break;
        }
    if (err == WP_OK && rc != SQLITE_DONE)
        err = store_read_fail(store);
    sqlite3_finalize(stmt);
    return err;
}

struct store_read_numbers {
    store_read_number_fn fn;
    void *ctx;
};

static int store_read_number_row(void *ctx, sqlite3_stmt *stmt)
{
    struct store_read_numbers *c = ctx;
    return c->fn(c->ctx, store__read_text(stmt, 0), sqlite3_column_int64(stmt, 1));
}

enum wp_err store__read_numbers(struct store *store, sqlite3_stmt *stmt,
                                store_read_number_fn fn, void *ctx)
{
    struct store_read_numbers c = {fn, ctx};
    return store__read_rows(store, stmt, store_read_number_row, &c);
}

const char *store__read_text(sqlite3_stmt *stmt, int column)
{
    const unsigned char *s = sqlite3_column_text(stmt, column);
    return s ? (const char *)s : "";
}
