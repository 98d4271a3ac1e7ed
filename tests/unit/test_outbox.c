/* test_outbox — the agent's durable outbox (agent/outbox*.c) on a real SQLite file in a
 * temporary directory: submit, publish order, an ack removes, the archive keeps, a
 * rejection is dead-lettered, and closing and opening again keeps all of it; a fresh file
 * is the same store as one an old agent made and every migration step brought up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "outbox.h"
#include "outbox_private.h"
#include "report.h"
#include "tmp_dir.h"

#define WARD "00001"

static char dir[64], path[128];

static struct outbox *open_outbox(unsigned flags)
{
    struct outbox *ob = NULL;
    char err[512] = "";
    enum wp_err rc = outbox_open(&ob, path, WARD, flags, err, sizeof err);
    CHECK(rc == WP_OK);
    if (rc != WP_OK)
        fprintf(stderr, "  outbox_open: %s\n", err);
    return ob;
}

/* Submits one report per period in one intake, as `wardpulse-agent submit` does. */
static enum wp_err submit(struct outbox *ob, const char *const *periods, size_t n)
{
    char err[512] = "";
    enum wp_err rc = outbox_intake_begin(ob, err, sizeof err);
    for (size_t i = 0; rc == WP_OK && i < n; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"v\":1,\"ward\":\"" WARD "\",\"stream\":\"0000000000000000\",\"seq\":1,"
                 "\"period\":\"%s\",\"observed_at\":\"2022-05-03T17:05:00+07:00\","
                 "\"values\":{\"cases_new_community\":%zu}}",
                 periods[i], i + 1);
        struct wp_report report;
        rc = wp_report_decode(json, strlen(json), &report, err, sizeof err);
        if (rc == WP_OK)
            rc = outbox_intake_add(ob, &report, err, sizeof err);
        wp_report_clear(&report);
    }
    if (rc == WP_OK)
        rc = outbox_intake_commit(ob, err, sizeof err);
    else
        outbox_intake_rollback(ob);
    if (rc != WP_OK)
        fprintf(stderr, "  submit: %s\n", err);
    return rc;
}

/* The seqs waiting after `after`, as a string "1,2,3" (empty when none). */
static const char *waiting(struct outbox *ob, int64_t after)
{
    static char out[256];
    int64_t *seqs = NULL;
    size_t count = 0;
    out[0] = '\0';
    if (outbox_seqs_after(ob, after, &seqs, &count) != WP_OK)
        return "(error)";
    for (size_t i = 0; i < count; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld", i ? "," : "",
                 (long long)seqs[i]);
    free(seqs);
    return out;
}

static void count_dead(void *ctx, int64_t seq, const char *period, const char *reason,
                       int64_t rejected_at)
{
    (void)period;
    (void)rejected_at;
    CHECK(seq == 2);
    CHECK_STR(reason, "values.cases_new_community: too many");
    (*(int *)ctx)++;
}

static void test_outbox(void)
{
    struct outbox *ob = NULL;
    char err[512] = "";
    /* without OUTBOX_CREATE there is nothing to open yet */
    CHECK(outbox_open(&ob, path, WARD, 0, err, sizeof err) == WP_ERR_NOT_FOUND && !ob);
    ob = open_outbox(OUTBOX_CREATE);
    if (!ob)
        return;
    char stream[32];
    snprintf(stream, sizeof stream, "%s", outbox_stream(ob));
    CHECK(strlen(stream) == 16 && strspn(stream, "0123456789abcdef") == 16);

    /* submit: seqs 1, 2, 3 in commit order; published in that order */
    const char *first[] = {"2022-05-01", "2022-05-02"};
    const char *second[] = {"2022-05-03"};
    CHECK(submit(ob, first, 2) == WP_OK);
    CHECK(submit(ob, second, 1) == WP_OK);
    CHECK_STR(waiting(ob, 0), "1,2,3");
    CHECK_STR(waiting(ob, 2), "3");
    char *payload = NULL;
    size_t len = 0;
    CHECK(outbox_payload(ob, 2, &payload, &len) == WP_OK);
    struct wp_report back;
    CHECK(payload && wp_report_decode(payload, len, &back, err, sizeof err) == WP_OK);
    CHECK(back.seq == 2 && strcmp(back.stream, stream) == 0);
    CHECK_STR(back.period, "2022-05-02");
    wp_report_clear(&back);
    free(payload);
    /* a publish pass records its sends in one go; a seq gone meanwhile is skipped */
    const int64_t sent[] = {1, 3, 99};
    CHECK(outbox_mark_sent(ob, sent, 3, 1000) == WP_OK);
    CHECK(outbox_mark_sent(ob, sent, 0, 5000) == WP_OK);
    struct outbox_summary sent_sum;
    CHECK(outbox_summarize(ob, &sent_sum) == WP_OK && sent_sum.last_sent_at == 1000);
    /* an intake rolled back leaves nothing and uses up no seq */
    CHECK(outbox_intake_begin(ob, err, sizeof err) == WP_OK);
    outbox_intake_rollback(ob);

    /* an ack removes what it covers, the archive keeps it, a rejection is dead-lettered */
    outbox_set_archive(ob, 30LL * 86400000, 1000);
    struct outbox_rejection rejected[] = {{2, "values.cases_new_community: too many"}};
    size_t removed = 0, dead = 0;
    CHECK(outbox_apply_ack(ob, 2, rejected, 1, &removed, &dead) == WP_OK);
    CHECK(removed == 1 && dead == 1);
    CHECK_STR(waiting(ob, 0), "3");
    int dead_seen = 0;
    CHECK(outbox_each_dead_letter(ob, count_dead, &dead_seen) == WP_OK && dead_seen == 1);
    int64_t unacked_from = 0, kept_from = 0;
    CHECK(outbox_delivery_state(ob, &unacked_from, &kept_from) == WP_OK);
    CHECK(unacked_from == 3 && kept_from == 1);
    /* a repeated ack changes nothing; an ack beyond any seq issued is a store gone back */
    CHECK(outbox_apply_ack(ob, 2, rejected, 1, &removed, &dead) == WP_OK);
    CHECK(removed == 0 && dead == 0);
    CHECK(outbox_apply_ack(ob, 9, NULL, 0, &removed, &dead) == WP_ERR_CONFLICT);
    CHECK_STR(waiting(ob, 0), "3");
    outbox_close(&ob);
    CHECK(ob == NULL);

    /* opened again: the same stream, the entry still waiting, seqs never reused */
    ob = open_outbox(0);
    if (!ob)
        return;
    CHECK_STR(outbox_stream(ob), stream);
    CHECK_STR(waiting(ob, 0), "3");
    struct outbox_summary sum;
    CHECK(outbox_summarize(ob, &sum) == WP_OK);
    CHECK(sum.queued == 1 && sum.oldest_seq == 3 && sum.dead_count == 1 && sum.next_seq == 4);
    CHECK_STR(sum.oldest_period, "2022-05-03");
    outbox_set_archive(ob, 30LL * 86400000, 1000);
    CHECK(outbox_apply_ack(ob, 3, NULL, 0, &removed, &dead) == WP_OK && removed == 1);
    CHECK_STR(waiting(ob, 0), "");
    CHECK(submit(ob, second, 1) == WP_OK);
    CHECK_STR(waiting(ob, 0), "4");

    /* the district asks again from seq 1: the archive (1, 3) and the dead letter (2) are
     * entries again, beside 4 */
    size_t restored = 0;
    CHECK(outbox_resend_from(ob, 1, &restored) == WP_OK);
    CHECK(restored == 3);
    CHECK_STR(waiting(ob, 0), "1,2,3,4");
    outbox_close(&ob);

    /* another ward's store is refused */
    CHECK(outbox_open(&ob, path, "00002", 0, err, sizeof err) == WP_ERR_CONFIG && !ob);
    /* a reader sees it without writing */
    ob = open_outbox(OUTBOX_READONLY);
    CHECK(ob && strcmp(waiting(ob, 0), "1,2,3,4") == 0);
    outbox_close(&ob);
}

/* What a store is made of, as one string: each table's definition (spaces and quotes
 * dropped: ALTER TABLE writes them its own way), its columns, its keys and indexes, the
 * rows every store starts with (but the stream and the creation time) and the version. */
static char *store_shape(const char *file)
{
    static const char *const queries[] = {
        "SELECT name, replace(replace(replace(sql, ' ', ''), '\"', ''), char(10), '')"
        "  FROM sqlite_master WHERE type = 'table' ORDER BY name",
        "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk"
        "  FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p"
        "  WHERE m.type = 'table' ORDER BY m.name, p.cid",
        "SELECT m.name, l.\"unique\", l.origin, i.seqno, i.name"
        "  FROM sqlite_master m JOIN pragma_index_list(m.name) l"
        "  JOIN pragma_index_info(l.name) i WHERE m.type = 'table'"
        "  ORDER BY m.name, l.origin, i.seqno",
        "SELECT id, ward, next_seq, kept_from FROM meta",
        "SELECT * FROM link",
        "PRAGMA user_version",
    };
    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    char *shape = sqlite3_mprintf("");
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        sqlite3_stmt *stmt = NULL;
        CHECK(sqlite3_prepare_v2(db, queries[q], -1, &stmt, NULL) == SQLITE_OK);
        while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(stmt); c++) {
                const unsigned char *v = sqlite3_column_text(stmt, c);
                char *longer = sqlite3_mprintf("%s%s|", shape, v ? (const char *)v : "NULL");
                sqlite3_free(shape);
                shape = longer;
            }
            char *longer = sqlite3_mprintf("%s\n", shape);
            sqlite3_free(shape);
            shape = longer;
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return shape;
}

static void test_fresh_equals_migrated(void)
{
    char fresh[160], stepped[160], err[512] = "";
    snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
    snprintf(stepped, sizeof stepped, "%s/stepped.db", dir);
    struct outbox *ob = NULL;
    CHECK(outbox_open(&ob, fresh, WARD, OUTBOX_CREATE, err, sizeof err) == WP_OK);
    outbox_close(&ob);
    CHECK(outbox_open(&ob, stepped, WARD, OUTBOX_CREATE | OUTBOX__BY_STEPS, err, sizeof err)
          == WP_OK);
    outbox_close(&ob);
    char *a = store_shape(fresh), *b = store_shape(stepped);
    CHECK_CONTAINS(a, "dead_letter|CREATETABLEdead_letter(streamTEXTNOTNULL,");
    CHECK_CONTAINS(a, "kept_from|INTEGER|1|1|0");
    CHECK_STR(a, b);
    sqlite3_free(a);
    sqlite3_free(b);
}

int main(void)
{
    if (!tmp_dir_make(dir, sizeof dir, "outbox"))
        return 1;
    snprintf(path, sizeof path, "%s/outbox.db", dir);
    test_outbox();
    test_fresh_equals_migrated();
    tmp_dir_remove(dir);
    return CHECK_DONE();
}
