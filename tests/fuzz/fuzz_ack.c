/* fuzz_ack.c — the agent's ack handling on arbitrary bytes, as its publisher does it for
 * every message on wardpulse/v1/ack/<ward> (agent/publisher.c):
 *   1. ack_decode (agent/ack.c); the same bytes also through the "ack" schema after a
 *      cJSON parse (what any other reader of acks does);
 *   2. an accepted ack applied to a real outbox — outbox_apply_ack (agent/outbox.c) on a
 *      SQLite file in a temporary directory (fuzz_tmp_base: $TMPDIR, /dev/shm), filled before
 *      every input with entries around the ack's acked_through and rejected seqs — and to
 *      the daemon's in-memory list of unacked entries (inflight_acked, inflight_remove).
 * Contract (ack.h, outbox.h, inflight.h):
 *   - WP_OK only for an ack of this ward and stream, with every rejection carrying a seq
 *     and a reason; otherwise a reason and nothing left allocated;
 *   - after the ack: no entry with seq <= acked_through is left; every rejected seq that
 *     was queued is in dead_letter with the (first) reason given for it and its payload;
 *     every other entry above acked_through is still there, payload unchanged; nothing
 *     else is in dead_letter; the counts returned say exactly that; the in-memory list
 *     holds exactly the seqs left in the outbox;
 *   - the same ack again changes nothing (acks are idempotent).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "ack.h"
#include "fuzz_common.h"
#include "inflight.h"
#include "outbox.h"
#include "report.h"
#include "schema_registry.h"

#define FUZZ_WARD "00001"
#define FUZZ_STREAM "9f1c2a7e4b5d6c3a"
#define FUZZ_MAX_ENTRIES 256

static char fuzz_dir[256];
static char fuzz_path[300];
static struct outbox *fuzz_ob;   /* the agent's connection, as the daemon holds it */
static sqlite3 *fuzz_db;         /* the harness's own, to set up and inspect */

static void fuzz_sql(const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(fuzz_db, sql, NULL, NULL, &msg);
    FUZZ_CHECK(rc == SQLITE_OK, "harness SQL %s: %s", sql, msg ? msg : "?");
}

static void fuzz_cleanup(void)
{
    outbox_close(&fuzz_ob);
    if (fuzz_db)
        sqlite3_close(fuzz_db);
    fuzz_db = NULL;
    fuzz_remove_db_dir(fuzz_dir, fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    const char *base = fuzz_tmp_base();
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/wardpulse-fuzz-ack-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL, "mkdtemp %s", fuzz_dir);
    snprintf(fuzz_path, sizeof fuzz_path, "%s/outbox.db", fuzz_dir);
    atexit(fuzz_cleanup);

    /* A real outbox, created by the agent's code; then its stream set to the one the
     * seeds name, and opened again as the daemon opens it. */
    char err[512];
    enum wp_err rc = outbox_open(&fuzz_ob, fuzz_path, FUZZ_WARD, OUTBOX_CREATE, err, sizeof err);
    FUZZ_CHECK(rc == WP_OK, "outbox_open: %s", err);
    outbox_close(&fuzz_ob);
    FUZZ_CHECK(sqlite3_open(fuzz_path, &fuzz_db) == SQLITE_OK, "sqlite3_open %s", fuzz_path);
    sqlite3_busy_timeout(fuzz_db, 10000);
    fuzz_sql("UPDATE meta SET stream = '" FUZZ_STREAM "'");
    rc = outbox_open(&fuzz_ob, fuzz_path, FUZZ_WARD, OUTBOX_RELAXED, err, sizeof err);
    FUZZ_CHECK(rc == WP_OK, "outbox_open: %s", err);
    FUZZ_CHECK(strcmp(outbox_stream(fuzz_ob), FUZZ_STREAM) == 0, "stream %s",
               outbox_stream(fuzz_ob));
    fuzz_sql("PRAGMA synchronous=OFF");
    return 0;
}

/* ---- the outbox before the ack ------------------------------------------------------- */

struct fuzz_entries {
    int64_t seq[FUZZ_MAX_ENTRIES]; /* ascending, distinct */
    size_t count;
};

static int fuzz_cmp_seq(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void fuzz_add(struct fuzz_entries *e, int64_t seq)
{
    if (seq >= 1 && seq <= WP_SEQ_MAX && e->count < FUZZ_MAX_ENTRIES)
        e->seq[e->count++] = seq;
}

/* Entries around every seq the ack names, plus a pattern of low ones from the input's
 * hash: the boundaries of "<= acked_through" and of every rejection are always there. */
static void fuzz_layout(const struct ack *ack, const uint8_t *data, size_t size,
                        struct fuzz_entries *e)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    e->count = 0;
    for (int s = 1; s <= 48; s++)
        if (h >> (s % 64) & 1)
            fuzz_add(e, s);
    for (int d = -2; d <= 2; d++)
        fuzz_add(e, ack->acked_through + d);
    fuzz_add(e, WP_SEQ_MAX);
    for (size_t i = 0; i < ack->rejected_count; i++)
        for (int d = -1; d <= 1; d++)
            fuzz_add(e, ack->rejected[i].seq + d);
    qsort(e->seq, e->count, sizeof e->seq[0], fuzz_cmp_seq);
    size_t n = 0;
    for (size_t i = 0; i < e->count; i++)
        if (n == 0 || e->seq[n - 1] != e->seq[i])
            e->seq[n++] = e->seq[i];
    e->count = n;
}

static void fuzz_payload(int64_t seq, char *out, size_t size)
{
    snprintf(out, size, "{\"seq\":%lld,\"payload\":\"entry %lld\"}", (long long)seq,
             (long long)seq);
}

/* The entries of e, and next_seq: the seq this store would issue next. */
static void fuzz_fill(const struct fuzz_entries *e, int64_t next_seq)
{
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET next_seq = %lld", (long long)next_seq);
    fuzz_sql("BEGIN; DELETE FROM entries; DELETE FROM dead_letter");
    fuzz_sql(sql);
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db,
                                  "INSERT INTO entries (seq, period, payload, created_at) "
                                  "VALUES (?1, '2022-05-03', ?2, 0)",
                                  -1, &st, NULL) == SQLITE_OK,
               "prepare: %s", sqlite3_errmsg(fuzz_db));
    for (size_t i = 0; i < e->count; i++) {
        char payload[96];
        fuzz_payload(e->seq[i], payload, sizeof payload);
        sqlite3_bind_int64(st, 1, e->seq[i]);
        sqlite3_bind_text(st, 2, payload, -1, SQLITE_TRANSIENT);
        FUZZ_CHECK(sqlite3_step(st) == SQLITE_DONE, "insert: %s", sqlite3_errmsg(fuzz_db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    fuzz_sql("COMMIT");
}

/* ---- the outbox after the ack -------------------------------------------------------- */

/* The reason the ack gives first for seq, or NULL when it does not reject seq. */
static const char *fuzz_rejected(const struct ack *ack, int64_t seq)
{
    for (size_t i = 0; i < ack->rejected_count; i++)
        if (ack->rejected[i].seq == seq)
            return ack->rejected[i].reason;
    return NULL;
}

static int64_t fuzz_count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db, sql, -1, &st, NULL) == SQLITE_OK, "prepare %s", sql);
    FUZZ_CHECK(sqlite3_step(st) == SQLITE_ROW, "step %s", sql);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Where seq is now: 'e' (entries), 'd' (dead_letter) or 0; its payload and reason. */
static char fuzz_where(int64_t seq, char *payload, size_t psize, char *reason, size_t rsize)
{
    static const char *const sql[2] = {"SELECT payload, '' FROM entries WHERE seq = ?1",
                                       "SELECT payload, reason FROM dead_letter WHERE seq = ?1"};
    for (int t = 0; t < 2; t++) {
        sqlite3_stmt *st = NULL;
        FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db, sql[t], -1, &st, NULL) == SQLITE_OK, "prepare");
        sqlite3_bind_int64(st, 1, seq);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            snprintf(payload, psize, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(reason, rsize, "%s", (const char *)sqlite3_column_text(st, 1));
            sqlite3_finalize(st);
            return t == 0 ? 'e' : 'd';
        }
        FUZZ_CHECK(rc == SQLITE_DONE, "step: %s", sqlite3_errmsg(fuzz_db));
        sqlite3_finalize(st);
    }
    return 0;
}

/* removed and dead: what outbox_apply_ack returned, or NULL after a repeated ack. */
static void fuzz_check_applied(const struct ack *ack, const struct fuzz_entries *e,
                               const size_t *removed, const size_t *dead)
{
    size_t want_removed = 0, want_dead = 0, want_left = 0;
    for (size_t i = 0; i < e->count; i++) {
        int64_t seq = e->seq[i];
        char payload[8192], reason[8192], want_payload[96];
        fuzz_payload(seq, want_payload, sizeof want_payload);
        const char *rejected = fuzz_rejected(ack, seq);
        char where = fuzz_where(seq, payload, sizeof payload, reason, sizeof reason);
        if (rejected) {
            want_dead++;
            FUZZ_CHECK(where == 'd', "rejected seq %lld is not a dead letter (acked_through %lld)",
                       (long long)seq, (long long)ack->acked_through);
            FUZZ_CHECK(strcmp(reason, rejected) == 0,
                       "dead letter %lld has reason '%s', the ack said '%s'", (long long)seq,
                       reason, rejected);
        } else if (seq <= ack->acked_through) {
            want_removed++;
            FUZZ_CHECK(where == 0, "seq %lld <= acked_through %lld is still in %s",
                       (long long)seq, (long long)ack->acked_through,
                       where == 'e' ? "entries" : "dead_letter");
            continue;
        } else {
            want_left++;
            FUZZ_CHECK(where == 'e', "seq %lld > acked_through %lld, not rejected, was removed",
                       (long long)seq, (long long)ack->acked_through);
        }
        FUZZ_CHECK(strcmp(payload, want_payload) == 0, "seq %lld: payload became %s",
                   (long long)seq, payload);
    }
    if (removed && dead)
        FUZZ_CHECK(*removed == want_removed && *dead == want_dead,
                   "outbox_apply_ack said %zu removed, %zu dead; expected %zu, %zu", *removed,
                   *dead, want_removed, want_dead);
    FUZZ_CHECK(fuzz_count("SELECT count(*) FROM dead_letter") == (int64_t)want_dead,
               "dead letters that were never rejected");
    FUZZ_CHECK(fuzz_count("SELECT count(*) FROM entries") == (int64_t)want_left,
               "entries that were never queued");
}

/* The daemon's in-memory list after the ack holds exactly what the outbox holds. */
static void fuzz_check_inflight(const struct ack *ack, const struct fuzz_entries *e)
{
    struct inflight f;
    inflight_init(&f, 30000, 600000);
    for (size_t i = 0; i < e->count; i++) {
        FUZZ_CHECK(inflight_append(&f, e->seq[i]) == WP_OK, "inflight_append");
        if (i % 2)
            inflight_queued(&f.items[f.count - 1], (int)i + 1);
        if (i % 4 == 1)
            FUZZ_CHECK(inflight_delivered(&f, (int)i + 1, 1000), "inflight_delivered");
    }
    inflight_acked(&f, ack->acked_through, 2000);
    for (size_t i = 0; i < ack->rejected_count; i++)
        inflight_remove(&f, ack->rejected[i].seq);
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db, "SELECT seq FROM entries ORDER BY seq", -1, &st,
                                  NULL) == SQLITE_OK, "prepare");
    size_t k = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        FUZZ_CHECK(k < f.count && f.items[k].seq == seq,
                   "the outbox holds seq %lld, the in-memory list %lld", (long long)seq,
                   k < f.count ? (long long)f.items[k].seq : -1LL);
        k++;
    }
    sqlite3_finalize(st);
    FUZZ_CHECK(k == f.count, "the in-memory list holds %zu entries, the outbox %zu", f.count, k);
    for (size_t i = 1; i < f.count; i++)
        FUZZ_CHECK(f.items[i - 1].seq < f.items[i].seq, "in-memory list out of order");
    inflight_free(&f);
}

static void fuzz_apply(const struct ack *ack, const uint8_t *data, size_t size)
{
    static struct fuzz_entries e;
    fuzz_layout(ack, data, size, &e);
    int64_t issued = e.count ? e.seq[e.count - 1] : 0;
    if (ack->acked_through > issued)
        issued = ack->acked_through;
    size_t removed = 99, dead = 99;
    enum wp_err rc;
    if (ack->acked_through > 0) {
        /* An ack beyond any seq the store issued: the store went back in time. Nothing
         * may be applied; the daemon starts a new stream instead. */
        fuzz_fill(&e, ack->acked_through);
        rc = outbox_apply_ack(fuzz_ob, ack->acked_through, ack->rejected, ack->rejected_count,
                              &removed, &dead);
        FUZZ_CHECK(rc == WP_ERR_CONFLICT, "an ack beyond next_seq: %s", wp_strerror(rc));
        FUZZ_CHECK(fuzz_count("SELECT count(*) FROM entries") == (int64_t)e.count
                       && fuzz_count("SELECT count(*) FROM dead_letter") == 0,
                   "an ack beyond next_seq changed the outbox");
    }
    fuzz_fill(&e, issued + 1);
    rc = outbox_apply_ack(fuzz_ob, ack->acked_through, ack->rejected, ack->rejected_count,
                          &removed, &dead);
    FUZZ_CHECK(rc == WP_OK, "outbox_apply_ack: %s", wp_strerror(rc));
    fuzz_check_applied(ack, &e, &removed, &dead);
    fuzz_check_inflight(ack, &e);

    /* Again, as when the aggregator repeats an ack (a reconnect, a duplicate batch). */
    rc = outbox_apply_ack(fuzz_ob, ack->acked_through, ack->rejected, ack->rejected_count,
                          &removed, &dead);
    FUZZ_CHECK(rc == WP_OK && removed == 0 && dead == 0,
               "a repeated ack changed the outbox: %zu removed, %zu dead", removed, dead);
    fuzz_check_applied(ack, &e, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ack ack;
    char err[512];
    enum wp_err rc = ack_decode(data, size, FUZZ_WARD, FUZZ_STREAM, &ack, err, sizeof err);
    if (rc == WP_OK) {
        FUZZ_CHECK(ack.doc != NULL, "an accepted ack has no document");
        FUZZ_CHECK(ack.acked_through >= 0 && ack.acked_through <= WP_SEQ_MAX,
                   "acked_through %lld", (long long)ack.acked_through);
        FUZZ_CHECK(ack.rejected_count == 0 || ack.rejected != NULL, "rejections lost");
        for (size_t i = 0; i < ack.rejected_count; i++)
            FUZZ_CHECK(ack.rejected[i].reason != NULL && ack.rejected[i].seq >= 1
                           && ack.rejected[i].seq <= WP_SEQ_MAX,
                       "rejection %zu: seq %lld", i, (long long)ack.rejected[i].seq);
        fuzz_apply(&ack, data, size);
        ack_clear(&ack);
    } else {
        FUZZ_CHECK(rc == WP_ERR_INVALID || rc == WP_ERR_NOMEM, "unexpected result %d", (int)rc);
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0', "no reason given");
        FUZZ_CHECK(ack.doc == NULL && ack.rejected == NULL, "a refused ack holds allocations");
    }

    /* The schema alone, as a reader other than the agent would check an ack. */
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (doc) {
        char why[512];
        bool valid = wp_schemas_validate("ack", doc, why, sizeof why);
        FUZZ_CHECK(valid || (fuzz_terminated(why, sizeof why) && why[0] != '\0'),
                   "invalid without a reason");
        cJSON_Delete(doc);
    }
    return 0;
}
