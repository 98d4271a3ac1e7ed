/* test_inflight — when the agent publishes an unacked report again (agent/inflight.c):
 * exponential backoff from ack_timeout up to ack_timeout_max, jitter, reset on reconnect. */

/* The agent's sources are not a library; this test compiles the one file it checks. */

#include "check.h"
#include "inflight.h"

/* Publishes e (as the daemon does) and lets the broker PUBACK it at now_ms; returns the
 * wait until it is due again. */
static int64_t publish_and_puback(struct inflight *f, struct inflight_entry *e, int mid,
                                  int64_t now_ms)
{
    inflight_queued(e, mid);
    CHECK(!inflight_is_due(e, now_ms + 1000000)); /* QUEUED: no timeout of its own */
    CHECK(inflight_delivered(f, mid, now_ms));
    CHECK(e->state == INFLIGHT_DELIVERED);
    CHECK(!inflight_is_due(e, e->due_ms - 1));
    CHECK(inflight_is_due(e, e->due_ms));
    return e->due_ms - now_ms;
}

static void test_backoff_doubles_up_to_the_maximum_with_jitter(void)
{
    struct inflight f;
    inflight_init(&f, 1000, 5000);
    CHECK(inflight_append(&f, 1) == WP_OK);
    struct inflight_entry *e = &f.items[0];
    CHECK(inflight_is_due(e, 0)); /* PENDING: at once */

    /* interval(n) = 1000, 2000, 4000, 5000, 5000 …; plus jitter in [0, interval / 4]. */
    const int64_t interval[] = {1000, 2000, 4000, 5000, 5000, 5000};
    int64_t now = 0;
    for (int n = 0; n < 6; n++) {
        int64_t wait = publish_and_puback(&f, e, 10 + n, now);
        CHECK(wait >= interval[n]);
        CHECK(wait <= interval[n] + interval[n] / 4);
        now = e->due_ms;
    }
    CHECK(e->sends == 6);

    /* A reconnect makes it PENDING and starts the backoff again at ack_timeout. */
    inflight_reset_all(&f);
    CHECK(e->state == INFLIGHT_PENDING && e->mid == 0);
    int64_t wait = publish_and_puback(&f, e, 99, now);
    CHECK(wait >= 1000 && wait <= 1250);

    /* A publish that failed (not for a lost link) backs off the same way. */
    inflight_failed(&f, e, now);
    CHECK(e->due_ms - now >= 2000 && e->due_ms - now <= 2500);
    inflight_free(&f);
}

static void test_jitter_spreads_and_differs_between_agents(void)
{
    struct inflight a, b;
    inflight_init(&a, 1000, 1000);
    inflight_init(&b, 1000, 1000);
    a.rng = 1;
    b.rng = 2;
    struct inflight_entry e = {.seq = 1};
    int64_t lo = INT64_MAX, hi = 0;
    int same = 0;
    for (int i = 0; i < 2000; i++) {
        int64_t wa = inflight_wait_ms(&a, e.waits + 1), wb = inflight_wait_ms(&b, e.waits + 1);
        CHECK(wa >= 1000 && wa <= 1250);
        lo = wa < lo ? wa : lo;
        hi = wa > hi ? wa : hi;
        same += wa == wb;
    }
    /* Spread over the whole window, not stuck at one end. */
    CHECK(lo < 1020);
    CHECK(hi > 1230);
    CHECK(same < 100);
    inflight_free(&a);
    inflight_free(&b);
}

static void test_limits(void)
{
    struct inflight f;
    /* A maximum below the first wait means no growth. */
    inflight_init(&f, 3000, 10);
    CHECK(f.max_ms == 3000);
    /* No overflow however many waits. */
    int64_t w = inflight_wait_ms(&f, 1000);
    CHECK(w >= 3000 && w <= 3750);
    inflight_free(&f);

    inflight_init(&f, 100, 86400000);
    w = inflight_wait_ms(&f, 64);
    CHECK(w >= 86400000 && w <= 86400000 + 86400000 / 4);
    inflight_free(&f);
}

static void test_order_acks_and_stale_mids(void)
{
    struct inflight f;
    inflight_init(&f, 1000, 8000);
    for (int64_t seq = 1; seq <= 5; seq++)
        CHECK(inflight_append(&f, seq) == WP_OK);
    CHECK(inflight_append(&f, 3) == WP_OK); /* not above the highest: ignored */
    CHECK(f.count == 5);
    inflight_queued(&f.items[0], 7);
    CHECK(!inflight_delivered(&f, 8, 0)); /* a mid nobody waits for */
    CHECK(inflight_delivered(&f, 7, 0));
    CHECK(!inflight_delivered(&f, 7, 0)); /* a repeated PUBACK */
    CHECK(inflight_acked(&f, 3, 0) == 3);
    CHECK(inflight_acked(&f, 3, 0) == 0); /* a repeated ack */
    CHECK(f.count == 2 && f.items[0].seq == 4 && f.items[1].seq == 5);
    inflight_remove(&f, 5);
    CHECK(f.count == 1 && f.items[0].seq == 4);
    inflight_acked(&f, 10, 0);
    CHECK(f.count == 0 && f.highest_seq == 5);
    inflight_free(&f);
}

static void test_progress_restarts_the_waits(void)
{
    struct inflight f;
    inflight_init(&f, 1000, 8000);
    for (int64_t seq = 1; seq <= 4; seq++) {
        CHECK(inflight_append(&f, seq) == WP_OK);
        inflight_queued(&f.items[seq - 1], (int)seq);
    }
    /* 1..3 reach the broker at t=0; 4 is still queued in libmosquitto. */
    for (int mid = 1; mid <= 3; mid++)
        CHECK(inflight_delivered(&f, mid, 0));
    int64_t due3 = f.items[2].due_ms;
    CHECK(due3 >= 1000 && due3 <= 1250);

    /* At t=900 an ack covers 1: the aggregator is working through the stream, so 2 and 3
     * wait a full interval from now instead of timing out at ~1000. */
    CHECK(inflight_acked(&f, 1, 900) == 1);
    CHECK(f.count == 3);
    CHECK(f.items[0].due_ms >= 1900 && f.items[0].due_ms <= 2150);
    CHECK(f.items[1].due_ms >= 1900 && f.items[1].due_ms <= 2150);
    CHECK(f.items[2].state == INFLIGHT_QUEUED); /* untouched: no PUBACK yet */
    CHECK(!inflight_is_due(&f.items[0], 1850));

    /* No progress (the same ack again): nothing moves, 2 times out and goes again. */
    int64_t due2 = f.items[0].due_ms;
    CHECK(inflight_acked(&f, 1, 1500) == 0);
    CHECK(f.items[0].due_ms == due2);
    CHECK(inflight_is_due(&f.items[0], due2));

    /* A later due time is never pulled earlier by progress. */
    f.items[1].due_ms = 50000;
    CHECK(inflight_acked(&f, 2, 2000) == 1);
    CHECK(f.items[0].seq == 3 && f.items[0].due_ms == 50000);
    inflight_free(&f);
}

int main(void)
{
    test_backoff_doubles_up_to_the_maximum_with_jitter();
    test_jitter_spreads_and_differs_between_agents();
    test_limits();
    test_order_acks_and_stale_mids();
    test_progress_restarts_the_waits();
    return CHECK_DONE();
}
