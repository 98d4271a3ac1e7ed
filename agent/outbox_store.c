/* outbox_store.c — the outbox file itself: opening, schema versions and migrations, the
 * meta row with the stream (contract in outbox.h; shared internals in outbox_private.h). */
#include "outbox_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "log.h"

/* The tables, each written once; the steps and the fresh script below are made of them.
 * A piece an old step uses is never edited: a later version adds a step that alters. */
#define OUTBOX_META                                                                        \
    "CREATE TABLE meta ("                                                                  \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"                                             \
    "  ward TEXT NOT NULL,"                                                                \
    "  stream TEXT NOT NULL CHECK (length(stream) = 16),"                                  \
    "  next_seq INTEGER NOT NULL CHECK (next_seq >= 1),"                                   \
    "  created_at INTEGER NOT NULL"
#define OUTBOX_META_KEPT_FROM "kept_from INTEGER NOT NULL DEFAULT 1"
#define OUTBOX_ENTRIES                                                                     \
    "CREATE TABLE entries ("                                                               \
    "  seq INTEGER PRIMARY KEY CHECK (seq >= 1),"                                          \
    "  period TEXT NOT NULL,"                                                              \
    "  payload TEXT NOT NULL,"                                                             \
    "  created_at INTEGER NOT NULL,"                                                       \
    "  last_sent_at INTEGER,"                                                              \
    "  attempts INTEGER NOT NULL DEFAULT 0);"
#define OUTBOX_SPOOL_TAKEN                                                                 \
    "CREATE TABLE spool_taken ("                                                           \
    "  name TEXT PRIMARY KEY,"                                                             \
    "  fingerprint TEXT NOT NULL,"                                                         \
    "  first_seq INTEGER NOT NULL,"                                                        \
    "  last_seq INTEGER NOT NULL,"                                                         \
    "  taken_at INTEGER NOT NULL);"
#define OUTBOX_LINK                                                                        \
    "CREATE TABLE link ("                                                                  \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"                                             \
    "  connected INTEGER NOT NULL,"                                                        \
    "  since INTEGER NOT NULL,"                                                            \
    "  last_ack_at INTEGER NOT NULL DEFAULT 0,"                                            \
    "  last_error TEXT NOT NULL DEFAULT '',"                                               \
    "  broker TEXT NOT NULL DEFAULT '');"                                                  \
    "INSERT INTO link (id, connected, since) VALUES (1, 0, 0);"
#define OUTBOX_ARCHIVE                                                                     \
    "CREATE TABLE archive ("                                                               \
    "  seq INTEGER PRIMARY KEY,"                                                           \
    "  period TEXT NOT NULL,"                                                              \
    "  payload TEXT NOT NULL,"                                                             \
    "  created_at INTEGER NOT NULL,"                                                       \
    "  acked_at INTEGER NOT NULL);"
#define OUTBOX_DEAD_LETTER(name)                                                           \
    "CREATE TABLE " name " ("                                                              \
    "  stream TEXT NOT NULL,"                                                              \
    "  seq INTEGER NOT NULL,"                                                              \
    "  period TEXT NOT NULL,"                                                              \
    "  payload TEXT NOT NULL,"                                                             \
    "  reason TEXT NOT NULL,"                                                              \
    "  rejected_at INTEGER NOT NULL,"                                                      \
    "  PRIMARY KEY (stream, seq));"

/* Index i turns user_version i into i + 1. Step 0 creates the store; its meta row
 * (ward and a freshly drawn stream) is inserted in the same transaction. Later versions
 * append a step here and never edit an old one. */
static const char *const outbox_schema_steps[] = {
    OUTBOX_META ");" OUTBOX_ENTRIES
    "CREATE TABLE dead_letter ("
    "  seq INTEGER PRIMARY KEY,"
    "  period TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  rejected_at INTEGER NOT NULL);",
    /* 1 -> 2: spool files committed but perhaps not yet moved to done/ (outbox_spool.c). */
    OUTBOX_SPOOL_TAKEN,
    /* 2 -> 3: the daemon's link to the broker and the last ack, for `status`
     * (outbox_link.c). One row, there from the start so that updates need no upsert. */
    OUTBOX_LINK,
    /* 3 -> 4: the archive of acknowledged reports and kept_from, so that a district
     * whose database went back in time can ask for them again (outbox_archive.c);
     * dead letters keyed by stream too, since a store that went back in time starts a
     * new stream whose seqs begin again at 1. Every seq from kept_from on is held in
     * entries, archive or dead_letter; before this version nothing acked was kept. */
    OUTBOX_ARCHIVE
    "ALTER TABLE meta ADD COLUMN " OUTBOX_META_KEPT_FROM ";"
    "UPDATE meta SET kept_from = coalesce((SELECT min(seq) FROM entries), next_seq);"
    OUTBOX_DEAD_LETTER("dead_letter_by_stream")
    "INSERT INTO dead_letter_by_stream SELECT (SELECT stream FROM meta), seq, period, payload,"
    "  reason, rejected_at FROM dead_letter;"
    "DROP TABLE dead_letter;"
    "ALTER TABLE dead_letter_by_stream RENAME TO dead_letter;",
};
#define OUTBOX_SCHEMA_VERSION ((int)(sizeof outbox_schema_steps / sizeof outbox_schema_steps[0]))

/* A fresh file is created at OUTBOX_SCHEMA_VERSION at once: the tables as all the steps
 * leave them. Running the steps on a fresh file would rebuild dead_letter through a
 * temporary database for nothing, and that build leaves the daemon's heap 50 kB larger for
 * its whole life (bench/RESULTS.md, "The agent at rest"). A new step changes this script
 * too; test_outbox checks that both ways give the same tables, columns, keys and rows. */
static const char outbox_schema_fresh[] =
    OUTBOX_META ", " OUTBOX_META_KEPT_FROM ");" OUTBOX_ENTRIES OUTBOX_SPOOL_TAKEN OUTBOX_LINK
    OUTBOX_ARCHIVE OUTBOX_DEAD_LETTER("dead_letter");

/* Fills err from the connection's last error; the code is mapped by wp_db_error (a full
 * disk is WP_ERR_FULL, so that callers can tell the clerk so rather than "database
 * error"). */
enum wp_err outbox__fail(const struct outbox *ob, int rc, const char *what, char *err,
                               size_t errlen)
{
    const char *msg = ob->db ? sqlite3_errmsg(ob->db) : sqlite3_errstr(rc);
    enum wp_err mapped = wp_db_error(ob->db, rc);
    if (mapped == WP_ERR_FULL)
        snprintf(err, errlen,
                 "outbox %s: %s: the disk is full; nothing was written (free some space, then "
                 "try again; what was queued before is safe)",
                 ob->path, what);
    else if ((rc & 0xff) == SQLITE_BUSY)
        snprintf(err, errlen, "outbox %s: %s: still locked by another process after %d s",
                 ob->path, what, OUTBOX_BUSY_TIMEOUT_MS / 1000);
    else
        snprintf(err, errlen, "outbox %s: %s: %s", ob->path, what, msg);
    return mapped;
}

/* WAL lets the daemon read while a submit writes, and a WAL commit with synchronous=FULL
 * is on disk when COMMIT returns — what `submit` promises. On a file just created, the
 * daemon and a submit started at the same moment both switch it from the rollback
 * journal: SQLite sees a possible deadlock and answers SQLITE_BUSY without calling the
 * busy handler, so the switch is tried again here until OUTBOX_BUSY_TIMEOUT_MS. */
static int outbox_set_wal(struct outbox *ob)
{
    const int pause_ms = 10;
    int rc = SQLITE_BUSY;
    for (int waited = 0; waited <= OUTBOX_BUSY_TIMEOUT_MS; waited += pause_ms) {
        sqlite3_stmt *stmt = NULL;
        rc = sqlite3_prepare_v2(ob->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(stmt, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                wp_log(WP_LOG_WARNING, "outbox %s: journal mode is %s, not wal", ob->path,
                       mode ? mode : "?");
            rc = SQLITE_OK;
        }
        sqlite3_finalize(stmt);
        if ((rc & 0xff) != SQLITE_BUSY)
            return rc;
        sqlite3_sleep(pause_ms);
    }
    return rc;
}

/* For callers without an err buffer: log the failure and return its code. */
enum wp_err outbox__fail_logged(const struct outbox *ob, int rc, const char *what)
{
    char err[512];
    enum wp_err e = outbox__fail(ob, rc, what, err, sizeof err);
    wp_log(WP_LOG_ERR, "%s", err);
    return e;
}

int outbox__query_int(struct outbox *ob, const char *sql, int64_t *value)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_NOTFOUND;
        }
    }
    sqlite3_finalize(stmt);
    return rc;
}

enum wp_err outbox__draw_stream(char out[WP_STREAM_LEN + 1], char *err, size_t errlen)
{
    unsigned char bytes[WP_STREAM_LEN / 2];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "getrandom: %s", strerror(errno));
            return WP_ERR_IO;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    return WP_OK;
}

static enum wp_err outbox_insert_meta(struct outbox *ob, const char *ward, char *err,
                                      size_t errlen)
{
    char stream[WP_STREAM_LEN + 1];
    enum wp_err e = outbox__draw_stream(stream, err, errlen);
    if (e != WP_OK)
        return e;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "INSERT INTO meta (id, ward, stream, next_seq, created_at) "
                                "VALUES (1, ?1, ?2, 1, ?3)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, wp_now_ms());
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "creating the store", err, errlen);
    wp_log(WP_LOG_NOTICE, "outbox %s created for ward %s with new stream %s", ob->path, ward,
           stream);
    return WP_OK;
}

/* Brings the file to OUTBOX_SCHEMA_VERSION. Two processes may open a fresh file at the
 * same moment (the daemon and a first submit): the version is read again under the
 * write lock so that only one of them creates the store and draws a stream. */
static enum wp_err outbox_migrate(struct outbox *ob, const char *ward, bool create,
                                  bool by_steps, char *err, size_t errlen)
{
    int64_t version = 0;
    int rc = outbox__query_int(ob, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "reading the schema version", err, errlen);
    if (version == OUTBOX_SCHEMA_VERSION)
        return WP_OK;
    if (version > OUTBOX_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "outbox %s has schema version %lld, newer than this wardpulse-agent "
                 "understands (%d); upgrade the agent",
                 ob->path, (long long)version, OUTBOX_SCHEMA_VERSION);
        return WP_ERR_DB;
    }
    if (version == 0 && !create) {
        snprintf(err, errlen, "outbox %s has not been created yet", ob->path);
        return WP_ERR_NOT_FOUND;
    }

    rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "locking for the schema upgrade", err, errlen);
    enum wp_err e = WP_OK;
    rc = outbox__query_int(ob, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "reading the schema version", err, errlen);
        goto rollback;
    }
    if (version == 0 && !by_steps) {
        rc = sqlite3_exec(ob->db, outbox_schema_fresh, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            e = outbox__fail(ob, rc, "creating the store", err, errlen);
            goto rollback;
        }
        e = outbox_insert_meta(ob, ward, err, errlen);
        if (e != WP_OK)
            goto rollback;
        version = OUTBOX_SCHEMA_VERSION;
    }
    for (int64_t v = version; v < OUTBOX_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(ob->db, outbox_schema_steps[v], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            e = outbox__fail(ob, rc, "upgrading the schema", err, errlen);
            goto rollback;
        }
        if (v == 0) {
            e = outbox_insert_meta(ob, ward, err, errlen);
            if (e != WP_OK)
                goto rollback;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", OUTBOX_SCHEMA_VERSION);
    rc = sqlite3_exec(ob->db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "upgrading the schema", err, errlen);
        goto rollback;
    }
    return WP_OK;

rollback:
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

/* A read-only reader cannot migrate: it takes any version it knows, and callers ask
 * ob->version before using a table a later step added. */
static enum wp_err outbox_check_readable(struct outbox *ob, char *err, size_t errlen)
{
    int64_t version = 0;
    int rc = outbox__query_int(ob, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "reading the schema version", err, errlen);
    if (version == 0) {
        snprintf(err, errlen, "outbox %s has not been created yet", ob->path);
        return WP_ERR_NOT_FOUND;
    }
    if (version > OUTBOX_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "outbox %s has schema version %lld, newer than this wardpulse-agent "
                 "understands (%d); upgrade the agent",
                 ob->path, (long long)version, OUTBOX_SCHEMA_VERSION);
        return WP_ERR_DB;
    }
    ob->version = (int)version;
    return WP_OK;
}

/* A reader that may not create files beside the outbox (a clerk's account) cannot read a
 * WAL database whose -wal and -shm are gone (the last writer closed it). No -wal means no
 * writer has anything uncheckpointed, so the main file alone is the whole truth: it is
 * opened again as immutable. (A writer starting meanwhile may make what status shows a
 * moment old, nothing worse.) True if reopened. */
static bool outbox_reopen_immutable(struct outbox *ob)
{
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", ob->path);
    if (access(wal, F_OK) == 0 || errno != ENOENT)
        return false;
    size_t len = strlen(ob->path);
    char *uri = malloc(len * 3 + 32);
    if (!uri)
        return false;
    char *q = uri + sprintf(uri, "file:");
    for (const char *c = ob->path; *c; c++) {
        if (*c == '%' || *c == '?' || *c == '#')
            q += sprintf(q, "%%%02X", (unsigned char)*c);
        else
            *q++ = *c;
    }
    strcpy(q, "?immutable=1");
    sqlite3_close(ob->db);
    ob->db = NULL;
    int rc = sqlite3_open_v2(uri, &ob->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    if (rc == SQLITE_OK)
        sqlite3_extended_result_codes(ob->db, 1);
    return rc == SQLITE_OK;
}

static enum wp_err outbox_load_meta(struct outbox *ob, const char *ward, char *err,
                                    size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    enum wp_err e = WP_OK;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT ward, stream FROM meta WHERE id = 1", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "outbox %s: meta row is missing (damaged store?)", ob->path);
        e = WP_ERR_DB;
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        e = outbox__fail(ob, rc, "reading meta", err, errlen);
        goto cleanup;
    }
    const char *stored_ward = (const char *)sqlite3_column_text(stmt, 0);
    const char *stream = (const char *)sqlite3_column_text(stmt, 1);
    if (!stored_ward || !stream || strlen(stream) != WP_STREAM_LEN) {
        snprintf(err, errlen, "outbox %s: meta row is damaged", ob->path);
        e = WP_ERR_DB;
        goto cleanup;
    }
    if (strcmp(stored_ward, ward) != 0) {
        snprintf(err, errlen,
                 "outbox %s belongs to ward %s, but this agent is configured for ward %s; "
                 "give each ward its own outbox_path",
                 ob->path, stored_ward, ward);
        e = WP_ERR_CONFIG;
        goto cleanup;
    }
    snprintf(ob->ward, sizeof ob->ward, "%s", stored_ward);
    memcpy(ob->stream, stream, WP_STREAM_LEN + 1);

cleanup:
    sqlite3_finalize(stmt);
    return e;
}

enum wp_err outbox_open(struct outbox **out, const char *path, const char *ward, unsigned flags,
                        char *err, size_t errlen)
{
    *out = NULL;
    bool create = flags & OUTBOX_CREATE;
    if (!create && access(path, F_OK) != 0) {
        snprintf(err, errlen, "outbox %s does not exist yet (nothing was ever submitted)", path);
        return WP_ERR_NOT_FOUND;
    }
    struct outbox *ob = calloc(1, sizeof *ob);
    if (!ob || !(ob->path = strdup(path))) {
        free(ob);
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }
    enum wp_err e = WP_OK;
    bool readonly = flags & OUTBOX_READONLY;
    int oflags = readonly ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &ob->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "cannot open", err, errlen);
        goto fail;
    }
    sqlite3_extended_result_codes(ob->db, 1);
    /* The daemon and a concurrent submit share the file: wait for the other's lock. */
    sqlite3_busy_timeout(ob->db, OUTBOX_BUSY_TIMEOUT_MS);
    if (readonly) {
        e = outbox_check_readable(ob, err, errlen);
        if (e == WP_ERR_DB && outbox_reopen_immutable(ob))
            e = outbox_check_readable(ob, err, errlen);
        if (e == WP_OK)
            e = outbox_load_meta(ob, ward, err, errlen);
        if (e != WP_OK)
            goto fail;
        *out = ob;
        return WP_OK;
    }

    rc = outbox_set_wal(ob);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "setting WAL mode", err, errlen);
        goto fail;
    }
    rc = sqlite3_exec(ob->db,
                      (flags & OUTBOX_RELAXED) ? "PRAGMA synchronous=NORMAL"
                                               : "PRAGMA synchronous=FULL",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "setting synchronous", err, errlen);
        goto fail;
    }
    e = outbox_migrate(ob, ward, create, flags & OUTBOX__BY_STEPS, err, errlen);
    if (e == WP_OK)
        e = outbox_load_meta(ob, ward, err, errlen);
    if (e == WP_OK)
        e = wp_db_identity_take(ob->db, path, &ob->identity, err, errlen);
    ob->version = OUTBOX_SCHEMA_VERSION;
    if (e != WP_OK)
        goto fail;
    *out = ob;
    return WP_OK;

fail:
    outbox_close(&ob);
    return e;
}

void outbox_close(struct outbox **ob)
{
    if (!ob || !*ob)
        return;
    if ((*ob)->in_intake)
        outbox_intake_rollback(*ob);
    sqlite3_close((*ob)->db);
    free((*ob)->path);
    free(*ob);
    *ob = NULL;
}

enum wp_err outbox__check_file(struct outbox *ob, char *err, size_t errlen)
{
    if (ob->replaced) {
        snprintf(err, errlen, "outbox %s was replaced or removed while open; not committed",
                 ob->path);
        return WP_ERR_REPLACED;
    }
    enum wp_err e = wp_db_identity_check(ob->db, ob->path, &ob->identity, err, errlen);
    if (e == WP_ERR_REPLACED) {
        ob->replaced = true;
        wp_log(WP_LOG_ERR, "outbox: %s; nothing more is committed to it", err);
    }
    return e;
}

void outbox_lean_memory(void)
{
    /* No bulk page-cache allocation per connection (20 pages, ~90 KB each, kept for the
     * connection's life): pages are allocated as read and released when idle. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void outbox_release_memory(struct outbox *ob)
{
    if (ob && sqlite3_get_autocommit(ob->db))
        sqlite3_db_release_memory(ob->db);
}

bool outbox_replaced(const struct outbox *ob)
{
    return ob->replaced;
}

const char *outbox_stream(const struct outbox *ob)
{
    return ob->stream;
}

const char *outbox_path(const struct outbox *ob)
{
    return ob->path;
}
