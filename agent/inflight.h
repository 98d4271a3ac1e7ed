/* inflight.h — the daemon's in-memory view of unacked outbox entries and when each is due.
 *
 * The outbox is the truth about *what* is unacked; this list only says *when* to publish
 * each entry (again). It holds seqs, never payloads, in ascending seq order, so
 * publishing walks it front to back and reports leave in seq order.
 *
 *   PENDING    to be published as soon as the link is up (new, or after a reconnect)
 *   QUEUED     handed to libmosquitto (mid known); no PUBACK yet
 *   DELIVERED  the broker has it (PUBACK); published again if no ack covers it by due_ms
 *
 * The ack timeout runs from the PUBACK rather than from the publish call, so that a
 * backlog waiting in libmosquitto's queue behind max_inflight is not published twice.
 * A QUEUED entry has no timeout of its own: if the broker never answers, the link is
 * dead, and the reconnect that follows republishes everything.
 *
 * Backoff: the n-th wait for an ack (n = 1, 2, … since the entry was last reset) is
 *     interval(n) = min(first_ms * 2^(n-1), max_ms),   due = now + interval(n) + jitter,
 * jitter uniform in [0, interval(n) / 4]. Never earlier than the configured ack_timeout,
 * and the agents that an aggregator restart left unacked do not all republish in the
 * same instant. A reconnect starts the backoff again at first_ms.
 *
 * An ack that advances restarts the wait of every DELIVERED entry (as TCP restarts its
 * retransmission timer on a new ACK): the aggregator is evidently working through this
 * stream, and an entry it has not reached yet is queued behind the others, not lost.
 * Without this, a backlog longer than ack_timeout (after an outage, or a burst on a
 * slow machine) makes every entry time out, the duplicates lengthen the backlog, acks
 * come later still — a retransmission storm that need not end. A lost entry stops the
 * cumulative ack from advancing, so its own timer still fires.
 *
 * All times are wp_monotonic_ms().
 */
#ifndef WP_AGENT_INFLIGHT_H
#define WP_AGENT_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum inflight_state { INFLIGHT_PENDING, INFLIGHT_QUEUED, INFLIGHT_DELIVERED };

struct inflight_entry {
    int64_t seq;
    enum inflight_state state;
    int mid;             /* QUEUED: libmosquitto's message id */
    int64_t due_ms;      /* DELIVERED: when to publish again */
    unsigned sends;      /* publications by this process */
    unsigned waits;      /* ack waits since the last reset: the backoff exponent */
};

struct inflight {
    struct inflight_entry *items; /* owned, ascending seq */
    size_t count, cap;
    int64_t highest_seq;          /* highest seq ever appended */
    int64_t first_ms;             /* ack_timeout: the first wait */
    int64_t max_ms;               /* ack_timeout_max: the longest wait (before jitter) */
    uint64_t rng;                 /* jitter's generator state; never 0 */
};

/* first_ms > 0; max_ms < first_ms is taken as first_ms. The jitter generator is seeded
 * from getrandom(2) (or the clock); a test may set f->rng afterwards to any non-zero value. */
void inflight_init(struct inflight *f, int64_t first_ms, int64_t max_ms);
void inflight_free(struct inflight *f);

/* Appends seq as PENDING; seq must exceed every seq appended before (ignored otherwise). */
enum wp_err inflight_append(struct inflight *f, int64_t seq);

/* After a reconnect: every entry PENDING, whatever libmosquitto may still hold, and its
 * backoff back at first_ms. */
void inflight_reset_all(struct inflight *f);

/* True if e is to be published now. */
bool inflight_is_due(const struct inflight_entry *e, int64_t now_ms);

/* e was handed to libmosquitto under mid. */
void inflight_queued(struct inflight_entry *e, int mid);

/* The wait for the n-th ack wait (n >= 1): interval(n) plus jitter; advances the jitter
 * generator. inflight_delivered and inflight_failed use n = e->waits + 1. */
int64_t inflight_wait_ms(struct inflight *f, unsigned n);

/* PUBACK for mid: the matching QUEUED entry becomes DELIVERED, due after its backoff
 * wait. Returns false if no entry waits for mid (a stale or foreign mid). */
bool inflight_delivered(struct inflight *f, int mid, int64_t now_ms);

/* Publishing e failed for a reason other than a lost link (never for MOSQ_ERR_NO_CONN,
 * with which libmosquitto keeps the message itself): try again after its backoff wait. */
void inflight_failed(struct inflight *f, struct inflight_entry *e, int64_t now_ms);

/* Drops every entry with seq <= acked_through; if that dropped any (progress), every
 * DELIVERED entry left becomes due no earlier than now_ms + its current interval (with
 * fresh jitter). Returns the number dropped. */
size_t inflight_acked(struct inflight *f, int64_t acked_through, int64_t now_ms);

/* Drops one entry. */
void inflight_remove(struct inflight *f, int64_t seq);

#endif
