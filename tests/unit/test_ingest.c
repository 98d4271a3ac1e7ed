/* test_ingest — the aggregator's ingest (aggregator/ingest.c) driven without a broker: its
 * publish hook catches the acks, a real store in a temporary directory keeps the reports.
 * No ack before the commit; one cumulative ack per stream after it; a duplicate is acked
 * again, not stored again; an invalid report is rejected with its reason and acked; a
 * report whose ward is not the topic's is rejected; a message without a usable identity
 * is kept but never acked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack_payload.h"
#include "check.h"
#include "ingest.h"
#include "store.h"
#include "tmp_dir.h"

#define STREAM "9f1c2a7e4b5d6c3a"

struct sent {
    int count;
    char topic[128];
    char payload[4096];
};

static bool catch_ack(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct sent *s = ctx;
    s->count++;
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->payload, sizeof s->payload, "%.*s", (int)len, payload);
    return true;
}

static void publish_report(struct ingest *in, const char *ward, const char *payload_ward,
                           int seq, int cases)
{
    char topic[64], json[512];
    snprintf(topic, sizeof topic, "wardpulse/v1/report/%s", ward);
    snprintf(json, sizeof json,
             "{\"v\":1,\"ward\":\"%s\",\"stream\":\"" STREAM "\",\"seq\":%d,"
             "\"period\":\"2022-05-03\",\"observed_at\":\"2022-05-03T17:05:00+07:00\","
             "\"values\":{\"cases_new_community\":%d}}",
             payload_ward, seq, cases);
    ingest_message(in, topic, json, strlen(json));
}

/* Decodes the last ack sent; acked_through, or -1 when it is no ack. */
static int64_t last_ack(const struct sent *s, struct wp_ack *ack)
{
    char err[256];
    if (wp_ack_decode(s->payload, strlen(s->payload), ack, err, sizeof err) != WP_OK) {
        fprintf(stderr, "  not an ack: %s (%s)\n", s->payload, err);
        return -1;
    }
    return ack->acked_through;
}

int main(void)
{
    char dir[64], path[128], err[512] = "";
    if (!tmp_dir_make(dir, sizeof dir, "ingest"))
        return 1;
    snprintf(path, sizeof path, "%s/wardpulse.db", dir);
    struct store *store = NULL;
    CHECK(store_open(path, &store, err, sizeof err) == WP_OK);
    if (!store) {
        fprintf(stderr, "store_open: %s\n", err);
        return CHECK_DONE();
    }
    struct sent sent = {0};
    struct ingest_options opts = {.batch_max = 100, .batch_delay_ms = 60000,
                                  .max_payload = 65536, .publish = catch_ack,
                                  .publish_ctx = &sent};
    struct ingest *in = NULL;
    CHECK(ingest_create(store, &opts, &in) == WP_OK);
    if (!in)
        return CHECK_DONE();
    struct wp_ack ack;

    /* two reports in hand: nothing durable yet, so no ack */
    publish_report(in, "00001", "00001", 1, 12);
    publish_report(in, "00001", "00001", 2, 13);
    CHECK(sent.count == 0);
    CHECK(ingest_due_in_ms(in) > 0);
    /* one commit, one cumulative ack for the stream, on the ward's ack topic */
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 1);
    CHECK_STR(sent.topic, "wardpulse/v1/ack/00001");
    CHECK(last_ack(&sent, &ack) == 2);
    CHECK(ack.rejected_count == 0);
    CHECK_STR(ack.stream, STREAM);
    wp_ack_clear(&ack);
    CHECK(ingest_due_in_ms(in) == -1);
    CHECK(ingest_stats(in)->stored == 2 && ingest_stats(in)->commits == 1);

    /* a duplicate is acked again, not stored again */
    publish_report(in, "00001", "00001", 2, 13);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 2 && last_ack(&sent, &ack) == 2);
    wp_ack_clear(&ack);
    CHECK(ingest_stats(in)->duplicates == 1 && ingest_stats(in)->stored == 2);

    /* an invalid report is rejected with its reason, and the ack covers it */
    publish_report(in, "00001", "00001", 3, -1);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 3 && last_ack(&sent, &ack) == 3);
    CHECK(ack.rejected_count == 1 && ack.rejected[0].seq == 3);
    CHECK_CONTAINS(ack.rejected_count ? ack.rejected[0].reason : "", "cases_new_community");
    wp_ack_clear(&ack);
    CHECK(ingest_stats(in)->rejected == 1);

    /* a seq reused for other figures is refused, never acked as a duplicate */
    publish_report(in, "00001", "00001", 1, 99);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 4 && last_ack(&sent, &ack) == 3);
    bool named = false;
    for (size_t i = 0; i < ack.rejected_count; i++)
        named = named || (ack.rejected[i].seq == 1 && strstr(ack.rejected[i].reason, "seq 1"));
    CHECK(named);
    wp_ack_clear(&ack);

    /* a report whose ward is not the topic's: rejected, acked to the topic's ward */
    publish_report(in, "00002", "00001", 1, 5);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 5);
    CHECK_STR(sent.topic, "wardpulse/v1/ack/00002");
    CHECK(last_ack(&sent, &ack) == 1 && ack.rejected_count == 1);
    wp_ack_clear(&ack);

    /* no usable identity: kept in the rejected table, nobody to ack */
    ingest_message(in, "wardpulse/v1/report/00001", "not json", 8);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 5);
    CHECK(ingest_stats(in)->received == 7);

    /* batch_max reached: it flushes by itself */
    ingest_destroy(&in);
    CHECK(in == NULL);
    opts.batch_max = 2;
    CHECK(ingest_create(store, &opts, &in) == WP_OK);
    publish_report(in, "00001", "00001", 4, 1);
    CHECK(sent.count == 5);
    publish_report(in, "00001", "00001", 5, 1);
    CHECK(sent.count == 6 && last_ack(&sent, &ack) == 5);
    wp_ack_clear(&ack);
    ingest_destroy(&in);

    /* caller_flushes: a full batch is due, not flushed, and grows until the caller
     * flushes; at 4 × batch_max it flushes by itself (a bound on memory) */
    opts.caller_flushes = true;
    CHECK(ingest_create(store, &opts, &in) == WP_OK);
    CHECK(ingest_due_in_ms(in) == -1);
    publish_report(in, "00001", "00001", 6, 1);
    publish_report(in, "00001", "00001", 7, 1);
    CHECK(sent.count == 6 && ingest_due_in_ms(in) == 0);
    publish_report(in, "00001", "00001", 8, 1);
    CHECK(sent.count == 6);
    CHECK(ingest_flush(in) == WP_OK);
    CHECK(sent.count == 7 && last_ack(&sent, &ack) == 8);
    wp_ack_clear(&ack);
    for (int seq = 9; seq <= 15; seq++)
        publish_report(in, "00001", "00001", seq, 1);
    CHECK(sent.count == 7);
    publish_report(in, "00001", "00001", 16, 1);   /* the 8th: 4 × batch_max */
    CHECK(sent.count == 8 && last_ack(&sent, &ack) == 16);
    wp_ack_clear(&ack);
    CHECK(ingest_stats(in)->stored == 11);
    ingest_destroy(&in);

    store_close(&store);
    tmp_dir_remove(dir);
    return CHECK_DONE();
}
