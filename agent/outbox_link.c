/* outbox_link.c — the daemon's link to the broker, kept in the outbox so that `status`
 * (another process) can show it (contract in outbox.h). */
#include "outbox_private.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

enum wp_err outbox_link_record(struct outbox *ob, bool connected, int64_t since,
                               const char *last_error, const char *broker)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "UPDATE link SET connected = ?1, since = ?2, last_error = ?3, "
                                "broker = ?4 WHERE id = 1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(stmt, 1, connected ? 1 : 0);
        sqlite3_bind_int64(stmt, 2, since);
        sqlite3_bind_text(stmt, 3, last_error ? last_error : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, broker ? broker : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "recording the link state");
    return WP_OK;
}

enum wp_err outbox_link_read(struct outbox *ob, struct outbox_link *out)
{
    memset(out, 0, sizeof *out);
    if (ob->version < OUTBOX_VERSION_LINK)
        return WP_OK;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "SELECT connected, since, last_ack_at, last_error, broker "
                                "FROM link WHERE id = 1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->connected = sqlite3_column_int(stmt, 0) != 0;
        out->since = sqlite3_column_int64(stmt, 1);
        out->last_ack_at = sqlite3_column_int64(stmt, 2);
        const char *error = (const char *)sqlite3_column_text(stmt, 3);
        const char *broker = (const char *)sqlite3_column_text(stmt, 4);
        snprintf(out->last_error, sizeof out->last_error, "%s", error ? error : "");
        snprintf(out->broker, sizeof out->broker, "%s", broker ? broker : "");
        out->known = out->since != 0;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "reading the link state");
    return WP_OK;
}
