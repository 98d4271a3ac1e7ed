/* test_ack.c — the ack codec both sides call (common/ack_payload.h): the exact bytes the
 * aggregator publishes, and what the agent reads back; what the agent keeps of acks the
 * outbox could not take yet (agent/ack.h): an ack is cumulative, so the newest acked_through stands; refusals
 * add up, one reason per seq; the earliest resend_from stands; nothing is dropped. */
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "ack_payload.h"
#include "check.h"
#include "schema_registry.h"

#define STREAM "9f1c2a7e4b5d6c3a"

static void decode(const char *json, struct ack *out)
{
    char err[256] = "";
    enum wp_err rc = ack_decode(json, strlen(json), "00001", STREAM, out, err, sizeof err);
    CHECK(rc == WP_OK);
    if (rc != WP_OK)
        fprintf(stderr, "  %s\n", err);
}

static const char *reason_of(const struct ack_pending *p, int64_t seq)
{
    for (size_t i = 0; i < p->rejected_count; i++)
        if (p->rejected[i].seq == seq)
            return p->rejected[i].reason;
    return NULL;
}

static void test_resend_from_is_decoded(void)
{
    struct ack a;
    decode("{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":17,"
           "\"resend_from\":18,\"rejected\":[]}", &a);
    CHECK(a.acked_through == 17 && a.resend_from == 18 && a.rejected_count == 0);
    ack_clear(&a);
    decode("{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":3}", &a);
    CHECK(a.resend_from == 0);
    ack_clear(&a);
}

static void test_pending_acks_add_up(void)
{
    struct ack_pending p;
    memset(&p, 0, sizeof p);
    struct ack a;
    decode("{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":5,"
           "\"resend_from\":4,\"rejected\":[{\"seq\":2,\"reason\":\"old reason\"},"
           "{\"seq\":3,\"reason\":\"values.deaths: must be ≥ 0\"}]}", &a);
    CHECK(ack_pending_add(&p, &a) == WP_OK);
    ack_clear(&a); /* the pending copy owns its reasons */
    CHECK(p.active && p.acked_through == 5 && p.resend_from == 4 && p.rejected_count == 2);
    CHECK_STR(reason_of(&p, 3), "values.deaths: must be ≥ 0");

    /* An older ack (delivered late) does not move acked_through back; a newer reason
     * for seq 2 replaces the old; seq 7 adds up; the earlier resend_from stands. */
    decode("{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":4,"
           "\"rejected\":[{\"seq\":2,\"reason\":\"new reason\"}]}", &a);
    CHECK(ack_pending_add(&p, &a) == WP_OK);
    ack_clear(&a);
    decode("{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":9,"
           "\"resend_from\":6,\"rejected\":[{\"seq\":7,\"reason\":\"r7\"}]}", &a);
    CHECK(ack_pending_add(&p, &a) == WP_OK);
    ack_clear(&a);
    CHECK(p.acked_through == 9);
    CHECK(p.resend_from == 4);
    CHECK(p.rejected_count == 3);
    CHECK_STR(reason_of(&p, 2), "new reason");
    CHECK_STR(reason_of(&p, 3), "values.deaths: must be ≥ 0");
    CHECK_STR(reason_of(&p, 7), "r7");
    ack_pending_clear(&p);
    CHECK(!p.active && p.rejected_count == 0 && p.rejected == NULL);
}

static void test_ack_of_another_stream_is_refused(void)
{
    struct ack a;
    char err[256];
    const char *json = "{\"v\":1,\"ward\":\"00001\",\"stream\":\"0000000000000000\","
                       "\"acked_through\":3}";
    CHECK(ack_decode(json, strlen(json), "00001", STREAM, &a, err, sizeof err)
          == WP_ERR_INVALID);
    CHECK_CONTAINS(err, "stream");
}

static void test_codec_round_trip(void)
{
    struct wp_ack_rejection rejected[] = {{40, "values.deaths: must be ≥ 0"}, {41, ""}};
    struct wp_ack ack = {.ward = "00001", .stream = STREAM, .acked_through = 42,
                         .rejected_count = 2, .rejected = rejected};
    char *text = wp_ack_encode(&ack);
    /* the bytes of docs/topics-and-payloads.md: key order, no spaces, empty reason named */
    CHECK_STR(text, "{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM "\",\"acked_through\":42,"
                    "\"rejected\":[{\"seq\":40,\"reason\":\"values.deaths: must be ≥ 0\"},"
                    "{\"seq\":41,\"reason\":\"rejected\"}]}");
    struct wp_ack back;
    char err[256] = "";
    CHECK(text && wp_ack_decode(text, strlen(text), &back, err, sizeof err) == WP_OK);
    CHECK_STR(back.ward, "00001");
    CHECK_STR(back.stream, STREAM);
    CHECK(back.acked_through == 42 && back.resend_from == 0 && back.rejected_count == 2);
    CHECK(back.rejected && back.rejected[1].seq == 41);
    CHECK_STR(back.rejected ? back.rejected[0].reason : NULL, "values.deaths: must be ≥ 0");
    wp_ack_clear(&back);
    free(text);

    /* resend_from only when asked; rejected always there; the largest seq kept exact */
    struct wp_ack asked = {.ward = "001", .stream = STREAM, .acked_through = 999999999999999LL,
                           .resend_from = 7};
    text = wp_ack_encode(&asked);
    CHECK_STR(text, "{\"v\":1,\"ward\":\"001\",\"stream\":\"" STREAM "\","
                    "\"acked_through\":999999999999999,\"resend_from\":7,\"rejected\":[]}");
    CHECK(text && wp_ack_decode(text, strlen(text), &back, err, sizeof err) == WP_OK);
    CHECK(back.acked_through == 999999999999999LL && back.resend_from == 7
          && back.rejected_count == 0);
    wp_ack_clear(&back);
    free(text);

    /* what the schema refuses is refused, and leaves nothing to free */
    const char *bad[] = {"{", "[]", "{\"v\":2,\"ward\":\"00001\",\"stream\":\"" STREAM
                                    "\",\"acked_through\":1}",
                         "{\"v\":1,\"ward\":\"00001\",\"stream\":\"" STREAM
                         "\",\"acked_through\":-1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(wp_ack_decode(bad[i], strlen(bad[i]), &back, err, sizeof err) == WP_ERR_INVALID);
        CHECK(back.doc == NULL && back.rejected == NULL);
    }
}

int main(void)
{
    test_codec_round_trip();
    test_resend_from_is_decoded();
    test_pending_acks_add_up();
    test_ack_of_another_stream_is_refused();
    return CHECK_DONE();
}
