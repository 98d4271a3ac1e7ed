/* outbox_spool.c — which spool files the outbox has taken in but not yet seen moved
 * (contract in outbox.h; why it exists is explained there and in spool.h). */
#include "outbox_private.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"

enum wp_err outbox_spool_record(struct outbox *ob, const char *name, const char *fingerprint,
                                int64_t first_seq, int64_t last_seq, char *err, size_t errlen)
{
    if (!ob->in_intake) {
        snprintf(err, errlen, "outbox %s: no intake open", ob->path);
        return WP_ERR_DB;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "INSERT OR REPLACE INTO spool_taken "
                                "(name, fingerprint, first_seq, last_seq, taken_at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, first_seq);
        sqlite3_bind_int64(stmt, 4, last_seq);
        sqlite3_bind_int64(stmt, 5, wp_now_ms());
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail(ob, rc, "recording the spool file", err, errlen);
    return WP_OK;
}

enum wp_err outbox_spool_lookup(struct outbox *ob, const char *name, char *fingerprint,
                                size_t size, bool *found)
{
    *found = false;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT fingerprint FROM spool_taken WHERE name = ?1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(fingerprint, size, "%s", text ? text : "");
        *found = true;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "looking up a spool file");
    return WP_OK;
}

enum wp_err outbox_spool_forget(struct outbox *ob, const char *name)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, "DELETE FROM spool_taken WHERE name = ?1", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "forgetting a spool file");
    return WP_OK;
}

enum wp_err outbox_spool_each(struct outbox *ob, outbox_spool_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT name FROM spool_taken ORDER BY name", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(stmt, 0);
            if (name)
                fn(ctx, name);
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "listing spool files");
    return WP_OK;
}
