/* outbox_archive.c — what the outbox keeps after an ack, and what it does when the
 * district's database or its own file went back in time (contract in outbox.h).
 *
 * An acked entry moves to the archive and stays there archive_days, at most archive_max
 * entries; meta.kept_from is the lowest seq from which on every seq is still held (in
 * entries, archive or dead_letter). The archive is dropped only from its low end, so
 * "held from kept_from on" stays true. */
#include "outbox_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "array.h"
#include "clock.h"
#include "log.h"

void outbox_set_archive(struct outbox *ob, int64_t keep_ms, int64_t max_entries)
{
    ob->archive_keep_ms = keep_ms > 0 ? keep_ms : 0;
    ob->archive_max = max_entries > 0 ? max_entries : 0;
}

int outbox__load_stream(struct outbox *ob)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT stream FROM meta WHERE id = 1", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *stream = (const char *)sqlite3_column_text(stmt, 0);
        if (stream && strlen(stream) == WP_STREAM_LEN)
            memcpy(ob->stream, stream, WP_STREAM_LEN + 1);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs sql with up to two integer parameters; returns SQLITE_OK or the error. */
static int outbox_run(struct outbox *ob, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(stmt) >= 1)
            sqlite3_bind_int64(stmt, 1, a);
        if (sqlite3_bind_parameter_count(stmt) >= 2)
            sqlite3_bind_int64(stmt, 2, b);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

int outbox__archive_acked(struct outbox *ob, int64_t acked_through, int64_t now_ms,
                          size_t *moved)
{
    *moved = 0;
    int rc = outbox_run(ob,
                        "INSERT OR REPLACE INTO archive (seq, period, payload, created_at, "
                        "acked_at) SELECT seq, period, payload, created_at, ?2 FROM entries "
                        "WHERE seq <= ?1",
                        acked_through, now_ms);
    if (rc != SQLITE_OK)
        return rc;
    rc = outbox_run(ob, "DELETE FROM entries WHERE seq <= ?1", acked_through, 0);
    if (rc != SQLITE_OK)
        return rc;
    *moved = (size_t)sqlite3_changes(ob->db);

    /* The highest seq to drop: everything acked before the retention time, and whatever
     * lies beyond the newest archive_max. Dropped from the low end only. */
    int64_t drop = 0, by_count = 0;
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(ob->db,
                            "SELECT coalesce((SELECT max(seq) FROM archive WHERE acked_at < ?1), 0),"
                            "       coalesce((SELECT seq FROM archive ORDER BY seq DESC "
                            "                 LIMIT 1 OFFSET ?2), 0)",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, now_ms - ob->archive_keep_ms);
        sqlite3_bind_int64(stmt, 2, ob->archive_max);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            drop = sqlite3_column_int64(stmt, 0);
            by_count = sqlite3_column_int64(stmt, 1);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return rc;
    if (by_count > drop)
        drop = by_count;
    /* With nothing archived (archive_max 0, or archive_days 0: "keep none", not "keep
     * until the next ack"), the acked seqs themselves are gone. */
    if ((ob->archive_max == 0 || ob->archive_keep_ms == 0) && acked_through > drop)
        drop = acked_through;
    if (drop == 0)
        return SQLITE_OK;
    if ((rc = outbox_run(ob, "DELETE FROM archive WHERE seq <= ?1", drop, 0)) != SQLITE_OK)
        return rc;
    /* Seqs at or below drop that are not entries are no longer all held (dead letters
     * are, but "from kept_from on" must be true without gaps). */
    return outbox_run(ob,
                      "UPDATE meta SET kept_from = max(kept_from, min(?1 + 1, "
                      "coalesce((SELECT min(seq) FROM entries), next_seq))) WHERE id = 1",
                      drop, 0);
}

enum wp_err outbox_delivery_state(struct outbox *ob, int64_t *unacked_from, int64_t *kept_from)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "SELECT coalesce((SELECT min(seq) FROM entries), next_seq), "
                                "kept_from FROM meta WHERE id = 1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *unacked_from = sqlite3_column_int64(stmt, 0);
        int64_t kept = sqlite3_column_int64(stmt, 1);
        *kept_from = kept < *unacked_from ? kept : *unacked_from;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return outbox__fail_logged(ob, rc, "reading the delivery state");
    return WP_OK;
}

enum wp_err outbox_resend_from(struct outbox *ob, int64_t from_seq, size_t *restored)
{
    *restored = 0;
    const char *what = "locking to send again";
    int rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    what = "taking reports back from the archive";
    rc = outbox_run(ob,
                    "INSERT OR IGNORE INTO entries (seq, period, payload, created_at) "
                    "SELECT seq, period, payload, created_at FROM archive WHERE seq >= ?1",
                    from_seq, 0);
    if (rc != SQLITE_OK)
        goto fail;
    *restored = (size_t)sqlite3_changes(ob->db);
    if ((rc = outbox_run(ob, "DELETE FROM archive WHERE seq >= ?1", from_seq, 0)) != SQLITE_OK)
        goto fail;
    /* A refused report is sent again too: the district's copy of the refusal went back
     * in time with its database. It stays a dead letter until refused again. */
    what = "taking dead letters back";
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(ob->db,
                            "INSERT OR IGNORE INTO entries (seq, period, payload, created_at) "
                            "SELECT seq, period, payload, rejected_at FROM dead_letter "
                            "WHERE stream = ?2 AND seq >= ?1",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, from_seq);
        sqlite3_bind_text(stmt, 2, ob->stream, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        goto fail;
    *restored += (size_t)sqlite3_changes(ob->db);
    char why[600];
    if (outbox__check_file(ob, why, sizeof why) != WP_OK) {
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        *restored = 0;
        return WP_ERR_REPLACED;
    }
    what = "committing";
    if ((rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        goto fail;
    return WP_OK;

fail: {
    enum wp_err e = outbox__fail_logged(ob, rc, what);
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    *restored = 0;
    return e;
}
}

/* One entry on its way to a new stream. */
struct outbox_moved {
    char *payload;
    char period[16];
    int64_t created_at;
};

enum wp_err outbox_restart_stream(struct outbox *ob, size_t *renumbered, char *err,
                                  size_t errlen)
{
    *renumbered = 0;
    struct outbox_moved *moved = NULL;
    size_t count = 0, cap = 0;
    sqlite3_stmt *stmt = NULL;
    enum wp_err e = WP_OK;
    char old_stream[WP_STREAM_LEN + 1], stream[WP_STREAM_LEN + 1];
    memcpy(old_stream, ob->stream, sizeof old_stream);
    if ((e = outbox__draw_stream(stream, err, errlen)) != WP_OK)
        return e;

    int rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "locking for a new stream", err, errlen);
    rc = sqlite3_prepare_v2(ob->db, "SELECT payload, period, created_at FROM entries ORDER BY seq",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
        if (!WP_ARRAY_RESERVE(moved, cap, count + 1)) {
            e = WP_ERR_NOMEM;
            snprintf(err, errlen, "out of memory");
            goto rollback;
        }
        /* The payload names its stream and seq: decoded, given the new ones, encoded
         * and checked again exactly as at intake. */
        struct wp_report report;
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        e = wp_report_decode(text, (size_t)sqlite3_column_bytes(stmt, 0), &report, err, errlen);
        if (e == WP_OK) {
            memcpy(report.stream, stream, sizeof report.stream);
            report.seq = (int64_t)count + 1;
            e = outbox__encode_checked(&report, &moved[count].payload, err, errlen);
        }
        wp_report_clear(&report);
        if (e != WP_OK)
            goto rollback;
        snprintf(moved[count].period, sizeof moved[count].period, "%s",
                 (const char *)sqlite3_column_text(stmt, 1));
        moved[count].created_at = sqlite3_column_int64(stmt, 2);
        count++;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc != SQLITE_DONE) {
        e = outbox__fail(ob, rc, "reading the entries", err, errlen);
        goto rollback;
    }
    /* The archive answers for the old stream only, which the district will not ask
     * about again under this store; dead letters stay for the clerk. */
    if ((rc = sqlite3_exec(ob->db, "DELETE FROM entries; DELETE FROM archive;", NULL, NULL,
                           NULL)) != SQLITE_OK) {
        e = outbox__fail(ob, rc, "clearing the old stream", err, errlen);
        goto rollback;
    }
    rc = sqlite3_prepare_v2(ob->db,
                            "INSERT INTO entries (seq, period, payload, created_at) "
                            "VALUES (?1, ?2, ?3, ?4)",
                            -1, &stmt, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < count; i++) {
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, (int64_t)i + 1);
        sqlite3_bind_text(stmt, 2, moved[i].period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, moved[i].payload, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, moved[i].created_at);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(ob->db,
                                "UPDATE meta SET stream = ?1, next_seq = ?2, kept_from = 1 "
                                "WHERE id = 1",
                                -1, &stmt, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(stmt, 1, stream, -1, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 2, (int64_t)count + 1);
            rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (rc == SQLITE_OK && (e = outbox__check_file(ob, err, errlen)) != WP_OK)
        goto rollback;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = outbox__fail(ob, rc, "starting a new stream", err, errlen);
        goto rollback;
    }
    memcpy(ob->stream, stream, sizeof stream);
    *renumbered = count;
    wp_log(WP_LOG_ERR, "outbox %s went back in time (the district holds seqs of stream %s that "
           "this store never issued: restored from a backup, or copied?): its %zu unacknowledged "
           "report(s) go out again as seq 1..%zu of the new stream %s",
           ob->path, old_stream, count, count, stream);
    goto cleanup;

rollback:
    sqlite3_finalize(stmt);
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
cleanup:
    for (size_t i = 0; i < count; i++)
        cJSON_free(moved[i].payload);
    free(moved);
    return e;
}
