/* test_ack.c — the agent's ack codec and what it keeps of acks the outbox could not take
 * yet (agent/ack.h): an ack is cumulative, so the newest acked_through stands; refusals
 * add up, one reason per seq; the earliest resend_from stands; nothing is dropped. */
#include <stdlib.h>
#include <string.h>

#include "ack.h"
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

int main(void)
{
    test_resend_from_is_decoded();
    test_pending_acks_add_up();
    test_ack_of_another_stream_is_refused();
    return CHECK_DONE();
}
