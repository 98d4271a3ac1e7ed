/* outbox.c — what the agent does with its outbox: intake, publishing, acks, status
 * (contract in outbox.h; the file, schema and migrations are in outbox_store.c). */
#include "outbox_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "array.h"
#include "clock.h"
#include "log.h"

/* ---- intake ---------------------------------------------------------------------- */

enum wp_err outbox_intake_begin(struct outbox *ob, char *err, size_t errlen)
{
    if (ob->in_intake) {
        snprintf(err, errlen, "outbox %s: intake already open", ob->path);
        return WP_ERR_DB;
    }
    /* IMMEDIATE: the write lock is taken now, so the next_seq read below cannot be
     * read by another writer too — seqs are unique and in commit order. */
    int rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return outbox__fail(ob, rc, "locking for intake", err, errlen);
    ob->in_intake = true;
    rc = outbox__query_int(ob, "SELECT next_seq FROM meta WHERE id = 1", &ob->intake_next_seq);
    /* The daemon may have started a new stream since this handle was opened
     * (outbox_restart_stream): read it under the lock too. */
    if (rc == SQLITE_OK)
        rc = outbox__load_stream(ob);
    if (rc != SQLITE_OK) {
        enum wp_err e = outbox__fail(ob, rc, "reading next_seq", err, errlen);
        outbox_intake_rollback(ob);
        return e;
    }
    return WP_OK;
}

/* The text exactly as it will be published, checked by the aggregator's own decoder. */
enum wp_err outbox__encode_checked(const struct wp_report *report, char **text,
                                         char *err, size_t errlen)
{
    *text = NULL;
    cJSON *json = wp_report_to_json(report);
    char *printed = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!printed) {
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }
    size_t len = strlen(printed);
    if (len > WP_REPORT_MAX_BYTES) {
        snprintf(err, errlen, "report is %zu bytes, more than the %d bytes the aggregator accepts",
                 len, WP_REPORT_MAX_BYTES);
        cJSON_free(printed);
        return WP_ERR_INVALID;
    }
    struct wp_report check;
    memset(&check, 0, sizeof check);
    enum wp_err e = wp_report_decode(printed, len, &check, err, errlen);
    wp_report_clear(&check);
    if (e != WP_OK) {
        cJSON_free(printed);
        return e;
    }
    *text = printed;
    return WP_OK;
}

enum wp_err outbox_intake_add(struct outbox *ob, struct wp_report *report, char *err,
                              size_t errlen)
{
    if (!ob->in_intake) {
        snprintf(err, errlen, "outbox %s: no intake open", ob->path);
        return WP_ERR_DB;
    }
    memcpy(report->stream, ob->stream, sizeof report->stream);
    report->seq = ob->intake_next_seq;
    /* The aggregator would refuse it for ever; the clerk hears it now. */
    if (!wp_report_period_not_ahead(report, wp_now_ms(), err, errlen))
        return WP_ERR_INVALID;

    char *text = NULL;
    sqlite3_stmt *stmt = NULL;
    enum wp_err e = outbox__encode_checked(report, &text, err, errlen);
    if (e != WP_OK)
        goto cleanup;
    int rc = sqlite3_prepare_v2(ob->db,
                                "INSERT INTO entries (seq, period, payload, created_at) "
                                "VALUES (?1, ?2, ?3, ?4)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, report->seq);
        sqlite3_bind_text(stmt, 2, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, wp_now_ms());
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc != SQLITE_DONE) {
        e = outbox__fail(ob, rc, "storing the report", err, errlen);
        goto cleanup;
    }
    rc = sqlite3_prepare_v2(ob->db, "UPDATE meta SET next_seq = ?1 WHERE id = 1", -1, &stmt,
                            NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, report->seq + 1);
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        e = outbox__fail(ob, rc, "advancing next_seq", err, errlen);
        goto cleanup;
    }
    ob->intake_next_seq = report->seq + 1;

cleanup:
    sqlite3_finalize(stmt);
    cJSON_free(text);
    return e;
}

enum wp_err outbox_intake_commit(struct outbox *ob, char *err, size_t errlen)
{
    if (!ob->in_intake) {
        snprintf(err, errlen, "outbox %s: no intake open", ob->path);
        return WP_ERR_DB;
    }
    /* A submit must not say "queued" for a report committed into a file that no longer
     * has the outbox's name: nobody would ever send it. */
    enum wp_err check = outbox__check_file(ob, err, errlen);
    if (check != WP_OK) {
        outbox_intake_rollback(ob);
        return check;
    }
    int rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        enum wp_err e = outbox__fail(ob, rc, "committing", err, errlen);
        outbox_intake_rollback(ob);
        return e;
    }
    ob->in_intake = false;
    return WP_OK;
}

void outbox_intake_rollback(struct outbox *ob)
{
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    ob->in_intake = false;
}

/* ---- publishing ---------------------------------------------------------------------- */

bool outbox_changed(struct outbox *ob)
{
    int64_t version = 0;
    int rc = outbox__query_int(ob, "PRAGMA data_version", &version);
    if (rc != SQLITE_OK) {
        /* Cannot tell: claim a change, a needless rescan is cheap and safe. */
        outbox__fail_logged(ob, rc, "reading data_version");
        return true;
    }
    bool changed = !ob->data_version_known || version != ob->data_version;
    ob->data_version = version;
    ob->data_version_known = true;
    return changed;
}

enum wp_err outbox_seqs_after(struct outbox *ob, int64_t after_seq, int64_t **seqs, size_t *count)
{
    *seqs = NULL;
    *count = 0;
    sqlite3_stmt *stmt = NULL;
    int64_t *list = NULL;
    size_t n = 0, cap = 0;
    enum wp_err e = WP_OK;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT seq FROM entries WHERE seq > ?1 ORDER BY seq",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, after_seq);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            if (!WP_ARRAY_RESERVE(list, cap, n + 1)) {
                e = WP_ERR_NOMEM;
                goto cleanup;
            }
            list[n++] = sqlite3_column_int64(stmt, 0);
        }
    }
    if (rc != SQLITE_DONE) {
        e = outbox__fail_logged(ob, rc, "listing entries");
        goto cleanup;
    }
    *seqs = list;
    *count = n;
    list = NULL;

cleanup:
    sqlite3_finalize(stmt);
    free(list);
    return e;
}

enum wp_err outbox_payload(struct outbox *ob, int64_t seq, char **payload, size_t *len)
{
    *payload = NULL;
    *len = 0;
    sqlite3_stmt *stmt = NULL;
    enum wp_err e = WP_OK;
    int rc = sqlite3_prepare_v2(ob->db, "SELECT payload FROM entries WHERE seq = ?1", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, seq);
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        size_t n = (size_t)sqlite3_column_bytes(stmt, 0);
        *payload = malloc(n + 1);
        if (!*payload) {
            e = WP_ERR_NOMEM;
        } else {
            memcpy(*payload, text ? text : "", n);
            (*payload)[n] = '\0';
            *len = n;
        }
    } else if (rc == SQLITE_DONE) {
        e = WP_ERR_NOT_FOUND;
    } else {
        e = outbox__fail_logged(ob, rc, "reading an entry");
    }
    sqlite3_finalize(stmt);
    return e;
}

enum wp_err outbox_mark_sent(struct outbox *ob, const int64_t *seqs, size_t count,
                             int64_t now_ms)
{
    if (count == 0)
        return WP_OK;
    /* One transaction for the whole publish pass: a backlog of thousands costs one WAL
     * commit, not one per report. */
    int rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return outbox__fail_logged(ob, rc, "recording publications");
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(ob->db,
                            "UPDATE entries SET last_sent_at = ?1, attempts = attempts + 1 "
                            "WHERE seq = ?2",
                            -1, &stmt, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < count; i++) {
        sqlite3_bind_int64(stmt, 1, now_ms);
        sqlite3_bind_int64(stmt, 2, seqs[i]);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
            rc = sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        enum wp_err e = outbox__fail_logged(ob, rc, "recording publications");
        if (!sqlite3_get_autocommit(ob->db))
            sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    return WP_OK;
}

/* ---- acks ---------------------------------------------------------------------------- */

/* Moves entry seq to dead_letter if it is still queued; *moved says whether it was. */
static int outbox_dead_letter_one(struct outbox *ob, const struct outbox_rejection *r,
                                  int64_t now_ms, bool *moved)
{
    *moved = false;
    sqlite3_stmt *stmt = NULL;
    char period[16] = "";
    int rc = sqlite3_prepare_v2(ob->db, "SELECT period FROM entries WHERE seq = ?1", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->seq);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(stmt, 0);
            snprintf(period, sizeof period, "%s", p ? p : "");
        }
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE)
        return SQLITE_OK; /* acked or dead-lettered before: a repeated ack */
    if (rc != SQLITE_ROW)
        return rc;

    rc = sqlite3_prepare_v2(ob->db,
                            "INSERT OR REPLACE INTO dead_letter "
                            "(stream, seq, period, payload, reason, rejected_at) "
                            "SELECT ?4, seq, period, payload, ?2, ?3 FROM entries WHERE seq = ?1",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->seq);
        sqlite3_bind_text(stmt, 2, r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, now_ms);
        sqlite3_bind_text(stmt, 4, ob->stream, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return rc;
    rc = sqlite3_prepare_v2(ob->db, "DELETE FROM entries WHERE seq = ?1", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->seq);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return rc;
    *moved = true;
    return SQLITE_OK;
}

enum wp_err outbox_apply_ack(struct outbox *ob, int64_t acked_through,
                             const struct outbox_rejection *rejected, size_t rejected_count,
                             size_t *removed, size_t *dead)
{
    if (removed)
        *removed = 0;
    if (dead)
        *dead = 0;
    int rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return outbox__fail_logged(ob, rc, "locking for an ack");

    const char *what = "reading next_seq";
    sqlite3_stmt *stmt = NULL;
    size_t dead_count = 0;
    int64_t now = wp_now_ms(), next_seq = 0;
    if ((rc = outbox__query_int(ob, "SELECT next_seq FROM meta WHERE id = 1", &next_seq))
        != SQLITE_OK)
        goto rollback;
    if (acked_through >= next_seq) {
        /* The district holds seqs this store never issued: the store went back in time
         * (restored from a backup, or copied from another PC). Nothing is applied. */
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return WP_ERR_CONFLICT;
    }

    what = "dead-lettering a rejected report";
    for (size_t i = 0; i < rejected_count; i++) {
        bool moved = false;
        rc = outbox_dead_letter_one(ob, &rejected[i], now, &moved);
        if (rc != SQLITE_OK)
            goto rollback;
        if (moved) {
            dead_count++;
            /* Logged only when the entry actually moves, so a repeated ack stays quiet. */
            wp_log(WP_LOG_ERR, "report seq %lld was rejected by the aggregator: %s",
                   (long long)rejected[i].seq, rejected[i].reason);
        }
    }

    what = "archiving acked entries";
    size_t deleted = 0;
    if ((rc = outbox__archive_acked(ob, acked_through, now, &deleted)) != SQLITE_OK)
        goto rollback;

    /* Every ack counts, also a repeated one: it shows the district is answering. */
    what = "recording the ack's time";
    rc = sqlite3_prepare_v2(ob->db, "UPDATE link SET last_ack_at = ?1 WHERE id = 1", -1, &stmt,
                            NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, now);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        goto rollback;
    stmt = NULL;

    /* The entries deleted here are the only copy the district may still need if the
     * file at the path is another one now: the file there must be the one that forgets. */
    char why[600];
    if (outbox__check_file(ob, why, sizeof why) != WP_OK) {
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return WP_ERR_REPLACED;
    }
    what = "committing an ack";
    rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto rollback;
    if (removed)
        *removed = deleted;
    if (dead)
        *dead = dead_count;
    return WP_OK;

rollback: {
    enum wp_err e = outbox__fail_logged(ob, rc, what);
    if (!sqlite3_get_autocommit(ob->db))
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}
}

/* ---- status -------------------------------------------------------------------------- */

enum wp_err outbox_summarize(struct outbox *ob, struct outbox_summary *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        ob->db,
        "SELECT (SELECT count(*) FROM entries),"
        "       (SELECT coalesce(max(last_sent_at), 0) FROM entries),"
        "       (SELECT count(*) FROM dead_letter),"
        "       next_seq, created_at,"
        "       (SELECT seq FROM entries ORDER BY seq LIMIT 1),"
        "       (SELECT period FROM entries ORDER BY seq LIMIT 1),"
        "       (SELECT created_at FROM entries ORDER BY seq LIMIT 1) "
        "FROM meta WHERE id = 1",
        -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->queued = sqlite3_column_int64(stmt, 0);
        out->last_sent_at = sqlite3_column_int64(stmt, 1);
        out->dead_count = sqlite3_column_int64(stmt, 2);
        out->next_seq = sqlite3_column_int64(stmt, 3);
        out->created_at = sqlite3_column_int64(stmt, 4);
        out->oldest_seq = sqlite3_column_int64(stmt, 5);
        const char *period = (const char *)sqlite3_column_text(stmt, 6);
        snprintf(out->oldest_period, sizeof out->oldest_period, "%s", period ? period : "");
        out->oldest_created_at = sqlite3_column_int64(stmt, 7);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return outbox__fail_logged(ob, rc, "summarizing");
    return WP_OK;
}

enum wp_err outbox_each_dead_letter(struct outbox *ob, outbox_dead_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(ob->db,
                                "SELECT seq, period, reason, rejected_at FROM dead_letter "
                                "ORDER BY seq",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            const char *period = (const char *)sqlite3_column_text(stmt, 1);
            const char *reason = (const char *)sqlite3_column_text(stmt, 2);
            fn(ctx, sqlite3_column_int64(stmt, 0), period ? period : "", reason ? reason : "",
               sqlite3_column_int64(stmt, 3));
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return outbox__fail_logged(ob, rc, "listing dead letters");
    return WP_OK;
}
