/* store_streams.c — each stream's ack state, the seqs declared lost, and what acks list
 * (contract in store.h; the protocol in docs/architecture.md, "Healing a gap"). */
#include "store_private.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "timefmt.h"

/* The last seq of a lost range that holds seq, or 0. */
static enum wp_err store_lost_until(struct store *store, const char *ward, const char *stream,
                                    int64_t seq, int64_t *last)
{
    sqlite3_stmt *stmt = store__stmt_identity(store, STMT_LOST_AT, ward, stream, seq);
    int rc = sqlite3_step(stmt);
    *last = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, "looking up lost reports");
    return WP_OK;
}

/* From n, while n + 1 is stored, rejected or declared lost. */
static enum wp_err store_run_known(struct store *store, const char *ward, const char *stream,
                                   int64_t *n)
{
    /* One index lookup per seq; a long run only happens once, when a gap fills. */
    for (;;) {
        bool known;
        int64_t lost_last;
        enum wp_err rc = store__known(store, ward, stream, *n + 1, &known);
        if (rc != WP_OK)
            return rc;
        if (known) {
            (*n)++;
            continue;
        }
        if ((rc = store_lost_until(store, ward, stream, *n + 1, &lost_last)) != WP_OK)
            return rc;
        if (lost_last == 0)
            return WP_OK;
        *n = lost_last;
    }
}

/* Declares lost every seq in [from, to] the database does not hold, as maximal runs;
 * out->lost_* spans them all. */
static enum wp_err store_declare_lost(struct store *store, const char *ward, const char *stream,
                                      int64_t from, int64_t to, int64_t now_ms,
                                      struct store_ack_state *out)
{
    char now[40];
    wp_datetime_format_local(now_ms, now, sizeof now);
    int64_t seq = from;
    while (seq <= to) {
        bool known;
        enum wp_err rc = store__known(store, ward, stream, seq, &known);
        if (rc != WP_OK)
            return rc;
        if (known) {
            seq++;
            continue;
        }
        int64_t last = seq;
        while (last < to) {
            if ((rc = store__known(store, ward, stream, last + 1, &known)) != WP_OK)
                return rc;
            if (known)
                break;
            last++;
        }
        sqlite3_stmt *stmt = store__stmt(store, STMT_INSERT_LOST);
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, seq);
        sqlite3_bind_int64(stmt, 4, last);
        sqlite3_bind_int64(stmt, 5, now_ms);
        sqlite3_bind_text(stmt, 6, now, -1, SQLITE_STATIC);
        if ((rc = store__step_done(store, stmt, "declaring reports lost")) != WP_OK)
            return rc;
        if (out->lost_first == 0)
            out->lost_first = seq;
        out->lost_last = last;
        out->lost_count += last - seq + 1;
        seq = last + 1;
    }
    return WP_OK;
}

enum wp_err store_advance_ack(struct store *store, const char *ward, const char *stream,
                              int64_t now_ms, int64_t unacked_from, int64_t kept_from,
                              struct store_ack_state *out)
{
    memset(out, 0, sizeof *out);
    char now[40];
    wp_datetime_format_local(now_ms, now, sizeof now);
    sqlite3_stmt *stmt = store__stmt(store, STMT_TOUCH_STREAM);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, now, -1, SQLITE_STATIC);
    enum wp_err rc = store__step_done(store, stmt, "recording a stream");
    if (rc != WP_OK)
        return rc;
    if (unacked_from > 0) {
        stmt = store__stmt(store, STMT_SET_DELIVERY);
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, unacked_from);
        sqlite3_bind_int64(stmt, 4, kept_from > 0 ? kept_from : unacked_from);
        if ((rc = store__step_done(store, stmt, "recording a stream's outbox")) != WP_OK)
            return rc;
    }

    stmt = store__stmt(store, STMT_GET_ACKED);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
    int src = sqlite3_step(stmt);
    if (src != SQLITE_ROW) {
        sqlite3_reset(stmt);
        return store__fail(store, src, "reading acked_through");
    }
    int64_t start = sqlite3_column_int64(stmt, 0), n = start;
    out->unacked_from = sqlite3_column_int64(stmt, 1);
    int64_t kept = sqlite3_column_int64(stmt, 2);
    sqlite3_reset(stmt);

    if ((rc = store_run_known(store, ward, stream, &n)) != WP_OK)
        return rc;
    /* The agent no longer holds anything below kept_from: what we lack there is lost
     * for good. Declared (and alerted on by the caller), then skipped, so that one
     * restored backup does not block the ward for ever. */
    if (out->unacked_from > 0 && kept > n + 1) {
        if ((rc = store_declare_lost(store, ward, stream, n + 1, kept - 1, now_ms, out))
                != WP_OK
            || (rc = store_run_known(store, ward, stream, &n)) != WP_OK)
            return rc;
    }
    /* The agent says it was acked below unacked_from, yet we lack n + 1: our database
     * went back in time. Ask for it again. */
    if (out->unacked_from > n + 1)
        out->resend_from = n + 1;
    if (n != start) {
        stmt = store__stmt(store, STMT_SET_ACKED);
        sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, n);
        if ((rc = store__step_done(store, stmt, "updating acked_through")) != WP_OK)
            return rc;
    }
    out->acked_through = n;
    return WP_OK;
}

enum wp_err store_each_rejected(struct store *store, const char *ward, const char *stream,
                                int64_t from_seq, int64_t to_seq, size_t max,
                                void (*fn)(void *ctx, int64_t seq, const char *reason),
                                void *ctx)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_REJECTED_RANGE);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, from_seq);
    sqlite3_bind_int64(stmt, 4, to_seq);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1));
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? WP_OK : store__fail(store, rc, "listing rejections");
}

enum wp_err store_each_lost(struct store *store, const char *ward, int64_t since_ms,
                            void (*fn)(void *ctx, const char *stream, int64_t first_seq,
                                       int64_t last_seq, int64_t declared_ms),
                            void *ctx)
{
    sqlite3_stmt *stmt = store__stmt(store, STMT_LOST_SINCE);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, since_ms);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(stmt, 0), sqlite3_column_int64(stmt, 1),
           sqlite3_column_int64(stmt, 2), sqlite3_column_int64(stmt, 3));
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? WP_OK : store__fail(store, rc, "listing lost reports");
}
