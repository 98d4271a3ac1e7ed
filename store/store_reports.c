/* store_reports.c — reports, their values and tasks, and rejections: what ingest writes
 * (contract in store.h). */
#include "store_private.h"

#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"

static enum wp_err store_add_values(struct store *store, const struct wp_report *report,
                                    int64_t report_id, int64_t observed_ms,
                                    const char *period_last)
{
    enum wp_err rc = WP_OK;
    for (size_t i = 0; rc == WP_OK && i < report->value_count; i++) {
        const struct wp_report_value *v = &report->values[i];
        sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_VALUE);
        sqlite3_bind_int64(stmt, 1, report_id);
        sqlite3_bind_text(stmt, 2, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, v->indicator, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, v->value);
        rc = store__step_done(store, stmt, "storing a value");
        if (rc != WP_OK)
            break;
        stmt = store__stmt(store, STMT_UPSERT_CURRENT_VALUE);
        sqlite3_bind_text(stmt, 1, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, v->indicator, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, v->value);
        sqlite3_bind_int64(stmt, 5, report_id);
        sqlite3_bind_int64(stmt, 6, observed_ms);
        sqlite3_bind_text(stmt, 7, report->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 8, report->seq);
        rc = store__step_done(store, stmt, "updating a current value");
    }
    for (size_t i = 0; rc == WP_OK && i < report->task_count; i++) {
        const struct wp_report_task *t = &report->tasks[i];
        sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_TASK);
        sqlite3_bind_int64(stmt, 1, report_id);
        sqlite3_bind_text(stmt, 2, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, t->task, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, t->state, -1, SQLITE_STATIC);
        rc = store__step_done(store, stmt, "storing a task state");
        if (rc != WP_OK)
            break;
        stmt = store__stmt(store, STMT_UPSERT_CURRENT_TASK);
        sqlite3_bind_text(stmt, 1, report->ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, t->task, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, t->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, report->period, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, report_id);
        sqlite3_bind_int64(stmt, 6, observed_ms);
        sqlite3_bind_text(stmt, 7, period_last, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 8, report->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 9, report->seq);
        rc = store__step_done(store, stmt, "updating a current task state");
    }
    return rc;
}

/* What the database holds under (ward, stream, seq), compared with content hash. */
static enum wp_err store_lookup(struct store *store, const char *ward, const char *stream,
                                int64_t seq, uint64_t hash, enum store_identity *verdict)
{
    sqlite3_stmt *stmt = store__stmt_identity(store, STMT_IDENTITY, ward, stream, seq);
    *verdict = STORE_IDENTITY_NEW;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        bool same;
        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
            same = (uint64_t)sqlite3_column_int64(stmt, 1) == hash;
        } else if (sqlite3_column_int(stmt, 0) == 0) {
            /* A report stored before version 4: hash what it says. */
            struct wp_report old;
            same = wp_report_decode(sqlite3_column_text(stmt, 2),
                                    (size_t)sqlite3_column_bytes(stmt, 2), &old, NULL, 0)
                       == WP_OK
                   && wp_report_content_hash(&old) == hash;
            wp_report_clear(&old);
        } else {
            same = true; /* a rejection stored before version 4: cannot tell, as before */
        }
        if (same) {
            *verdict = STORE_IDENTITY_SAME;
            break;
        }
        *verdict = STORE_IDENTITY_CONFLICT;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, "looking up a report");
    return WP_OK;
}

enum wp_err store_add_report(struct store *store, const struct wp_report *report,
                             const char *topic, const void *payload, size_t len,
                             int64_t received_ms)
{
    uint64_t hash = wp_report_content_hash(report);
    enum store_identity verdict;
    enum wp_err rc = store_lookup(store, report->ward, report->stream, report->seq, hash,
                                  &verdict);
    if (rc != WP_OK)
        return rc;
    if (verdict == STORE_IDENTITY_SAME)
        return WP_ERR_DUPLICATE;
    if (verdict == STORE_IDENTITY_CONFLICT)
        return WP_ERR_CONFLICT;

    /* The decoder has checked both; a failure here is a bug upstream, not bad input. */
    int64_t first_day = 0, observed_ms = 0;
    int day_count = 1;
    if (!wp_period_parse(report->period, &first_day, &day_count)
        || !wp_datetime_parse(report->observed_at, &observed_ms)) {
        snprintf(store->errmsg, sizeof store->errmsg, "report %s/%s/%lld: bad period or "
                 "observed_at reached the store", report->ward, report->stream,
                 (long long)report->seq);
        return WP_ERR_INVALID;
    }
    char first[16], last[16], received_at[40];
    wp_date_format(first_day, first, sizeof first);
    wp_date_format(first_day + day_count - 1, last, sizeof last);
    wp_datetime_format_local(received_ms, received_at, sizeof received_at);

    sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_REPORT);
    sqlite3_bind_text(stmt, 1, report->ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, report->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, report->seq);
    sqlite3_bind_text(stmt, 4, report->period, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, last, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, report->observed_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, observed_ms);
    sqlite3_bind_text(stmt, 9, received_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 10, received_ms);
    sqlite3_bind_text(stmt, 11, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 12, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 13, (sqlite3_int64)hash);
    /* Timeliness is judged from when the ward committed the report, which its clock
     * says: trusted no earlier than the period began (a clock set back cannot make a
     * report early) and no later than it arrived (nor can one set forward make it
     * late). */
    int64_t committed_ms = 0, judged_ms = received_ms;
    if (report->committed_at[0] && wp_datetime_parse(report->committed_at, &committed_ms)) {
        int64_t period_start_ms = wp_day_start_ms(first_day, WP_LOCAL_OFFSET_MIN);
        judged_ms = committed_ms < period_start_ms ? period_start_ms : committed_ms;
        if (judged_ms > received_ms)
            judged_ms = received_ms;
        sqlite3_bind_text(stmt, 14, report->committed_at, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 15, committed_ms);
    }
    sqlite3_bind_int64(stmt, 16, judged_ms);
    if ((rc = store__step_done(store, stmt, "storing a report")) != WP_OK)
        return rc;
    return store_add_values(store, report, sqlite3_last_insert_rowid(store->db), observed_ms,
                            last);
}

void store_set_rejection_bounds(struct store *store, int64_t max_count, int64_t max_bytes)
{
    store->rejected_max_count = max_count;
    store->rejected_max_bytes = max_bytes;
}

/* Whether one more rejection of `bytes` payload bytes from ward stays within today's
 * bound (store_set_rejection_bounds). */
static enum wp_err store_rejection_fits(struct store *store, const char *ward,
                                        int64_t received_ms, size_t bytes, bool *fits)
{
    *fits = true;
    if (store->rejected_max_count <= 0 && store->rejected_max_bytes <= 0)
        return WP_OK;
    int64_t day_start = wp_day_start_ms(wp_local_day(received_ms), WP_LOCAL_OFFSET_MIN);
    sqlite3_stmt *stmt = store__stmt(store, STMT_REJECTED_TODAY);
    if (ward)
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, day_start);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        int64_t count = sqlite3_column_int64(stmt, 0), sum = sqlite3_column_int64(stmt, 1);
        *fits = (store->rejected_max_count <= 0 || count < store->rejected_max_count)
                && (store->rejected_max_bytes <= 0
                    || sum + (int64_t)bytes <= store->rejected_max_bytes);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? WP_OK : store__fail(store, rc, "counting today's rejections");
}

enum wp_err store_add_rejected(struct store *store, struct store_rejection *rej)
{
    bool identified = rej->ward && rej->stream && rej->seq > 0;
    rej->not_kept = false;
    enum wp_err rc;
    if (identified) {
        /* The same message again is a duplicate; other content under a known seq is a
         * rejection of its own (a reused seq), stored once per content. */
        enum store_identity verdict;
        if ((rc = store_lookup(store, rej->ward, rej->stream, rej->seq, rej->content_hash,
                               &verdict)) != WP_OK)
            return rc;
        if (verdict == STORE_IDENTITY_SAME)
            return WP_ERR_DUPLICATE;
    } else {
        /* The same junk again: counted on the row that holds it, not stored again. */
        sqlite3_stmt *stmt = store__stmt(store, STMT_SAME_UNIDENTIFIED);
        if (rej->ward)
            sqlite3_bind_text(stmt, 1, rej->ward, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)rej->content_hash);
        sqlite3_bind_text(stmt, 3, rej->topic, -1, SQLITE_STATIC);
        int src = sqlite3_step(stmt);
        int64_t same = src == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        sqlite3_reset(stmt);
        if (src != SQLITE_ROW && src != SQLITE_DONE)
            return store__fail(store, src, "looking up a rejection");
        if (same) {
            stmt = store__stmt(store, STMT_REPEAT_REJECTED);
            sqlite3_bind_int64(stmt, 1, same);
            if ((rc = store__step_done(store, stmt, "counting a repeated rejection")) != WP_OK)
                return rc;
            return WP_ERR_DUPLICATE;
        }
    }
    bool fits;
    if ((rc = store_rejection_fits(store, rej->ward, rej->received_ms, rej->len, &fits))
        != WP_OK)
        return rc;
    if (!fits) {
        rej->not_kept = true;
        if (!identified) {
            /* Nothing to ack: counted, not stored. */
            char day[16];
            wp_date_format(wp_local_day(rej->received_ms), day, sizeof day);
            sqlite3_stmt *stmt = store__stmt(store, STMT_OVERFLOW);
            sqlite3_bind_text(stmt, 1, rej->ward ? rej->ward : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt, 2, day, -1, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 3, (sqlite3_int64)rej->original_len);
            return store__step_done(store, stmt, "counting a rejection over the bound");
        }
        /* With a seq the ack must name it: the row is kept, its payload not. */
    }
    char received_at[40];
    wp_datetime_format_local(rej->received_ms, received_at, sizeof received_at);

    sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_REJECTED);
    sqlite3_bind_text(stmt, 1, received_at, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, rej->received_ms);
    sqlite3_bind_text(stmt, 3, rej->topic, -1, SQLITE_STATIC);
    if (rej->ward)
        sqlite3_bind_text(stmt, 4, rej->ward, -1, SQLITE_STATIC);
    if (rej->stream)
        sqlite3_bind_text(stmt, 5, rej->stream, -1, SQLITE_STATIC);
    if (identified)
        sqlite3_bind_int64(stmt, 6, rej->seq);
    sqlite3_bind_text(stmt, 7, rej->reason, -1, SQLITE_STATIC);
    /* zeroblob-free empty payload: bind a zero-length blob, not NULL (NOT NULL column). */
    size_t kept = rej->not_kept ? 0 : rej->len;
    sqlite3_bind_blob(stmt, 8, kept ? rej->payload : "", (int)kept, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 9, (sqlite3_int64)rej->original_len);
    sqlite3_bind_int64(stmt, 10, (sqlite3_int64)rej->content_hash);
    return store__step_done(store, stmt, "storing a rejection");
}
