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
 * All times are wp_monotonic_ms(). Issue 3's exponential backoff and jitter belong in
 * inflight_delivered().
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
};

struct inflight {
    struct inflight_entry *items; /* owned, ascending seq */
    size_t count, cap;
    int64_t highest_seq;          /* highest seq ever appended */
    int64_t ack_timeout_ms;
};

void inflight_init(struct inflight *f, int64_t ack_timeout_ms);
void inflight_free(struct inflight *f);

/* Appends seq as PENDING; seq must exceed every seq appended before (ignored otherwise). */
enum wp_err inflight_append(struct inflight *f, int64_t seq);

/* After a reconnect: every entry PENDING, whatever libmosquitto may still hold. */
void inflight_reset_all(struct inflight *f);

/* True if e is to be published now. */
bool inflight_is_due(const struct inflight_entry *e, int64_t now_ms);

/* e was handed to libmosquitto under mid. */
void inflight_queued(struct inflight_entry *e, int mid);

/* PUBACK for mid: the matching QUEUED entry becomes DELIVERED, due after the ack
 * timeout. Returns false if no entry waits for mid (a stale or foreign mid). */
bool inflight_delivered(struct inflight *f, int mid, int64_t now_ms);

/* Publishing e failed for a reason other than a lost link: try again after the timeout. */
void inflight_failed(struct inflight *f, struct inflight_entry *e, int64_t now_ms);

/* Drops every entry with seq <= acked_through; drops one entry. */
void inflight_acked(struct inflight *f, int64_t acked_through);
void inflight_remove(struct inflight *f, int64_t seq);

#endif
