/* ingest.h — from an MQTT message to a stored report and its ack (DESIGN.md, "Delivery").
 *
 *   message ─▶ ingest_message: topic ward, size, decode + validate, payload ward = topic ward
 *           ─▶ in-memory batch (a report, or a rejection with its reason)
 *   main loop ─▶ ingest_flush when ingest_due (batch_max reports in hand, or the oldest
 *           has waited batch_delay): ONE transaction for the whole batch (group commit),
 *           then, only after COMMIT, one cumulative ack per (ward, stream) touched.
 *
 * libmosquitto sends the PUBACK before on_message runs, so a report in the batch exists
 * nowhere durable but the agent's outbox until the commit; the agent re-sends whatever
 * no ack covers. Hence: no ack before the commit, and no ack at all if it fails.
 *
 * Ack (to wardpulse/v1/ack/<topic ward>): acked_through is the store's cumulative count
 * (store_advance_ack); rejected lists the stream's rejected seqs from the smallest seq of
 * that stream in this batch up to acked_through (at most 1000), so a re-sent rejected
 * report hears its reason again even if the first ack was lost. No ack is sent while
 * acked_through is 0 (there is nothing it could cover).
 *
 * A message without a usable topic ward, stream and seq is stored in the rejected table
 * and never acked: there is nobody to tell.
 */
#ifndef WP_AGGREGATOR_INGEST_H
#define WP_AGGREGATOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct ingest_options {
    size_t batch_max;          /* ≥ 1 */
    int64_t batch_delay_ms;    /* ≥ 0 */
    size_t max_payload;        /* ≤ WP_REPORT_MAX_BYTES */
    /* Sends one ack (QoS 1, not retained); topic and payload are valid only during the
     * call. Returns false if it could not even be queued (logged by ingest). */
    bool (*publish)(void *ctx, const char *topic, const char *payload, size_t len);
    void *publish_ctx;
    /* Optional (NULL: every valid report is accepted). Judges a decoded, valid report
     * against the plan: true to store it, false to reject it with reason (a NUL-terminated
     * text written into reason, at most reasonlen bytes). Called from ingest_message. */
    bool (*check)(void *ctx, const struct wp_report *report, char *reason, size_t reasonlen);
    /* Optional. Called once per newly stored report after its batch committed and the
     * acks went out (not for duplicates or rejections), so that the rules can look at
     * what changed; received_ms is when it arrived (wp_now_ms, as stored). report is
     * valid only during the call. */
    void (*committed)(void *ctx, const struct wp_report *report, int64_t received_ms);
    /* Optional. Called after a commit that declared reports of `ward` lost (the
     * lost_reports table says which), so that the rules can raise the alert. */
    void (*lost)(void *ctx, const char *ward);
    /* Optional. Called the first time in a day that refusals of `ward` (the topic's) go
     * over its daily bound (store_set_rejection_bounds), so that the rules can tell the
     * district once. */
    void (*over_bound)(void *ctx, const char *ward);
    void *hook_ctx;           /* ctx of check, committed, lost and over_bound */
    /* false: ingest_message flushes by itself once the batch holds batch_max. true: the
     * caller flushes (ingest_due_in_ms says 0 from batch_max on), outside the MQTT
     * callback, so that the acks leave at once (inside a callback libmosquitto only
     * queues them); ingest_message flushes by itself only at 4 × batch_max, a bound on
     * memory. */
    bool caller_flushes;
};

/* Counters since start; the aggregator/stats topic and the logs read them. */
struct ingest_stats {
    uint64_t received;         /* messages seen */
    uint64_t stored;           /* new reports committed */
    uint64_t duplicates;       /* already known (stored or rejected) */
    uint64_t rejected;         /* new rejections committed */
    uint64_t rejected_not_kept;/* of those, over their ward's daily bound: payload not kept */
    uint64_t acks;             /* acks handed to MQTT */
    uint64_t resend_requests;  /* acks that asked an agent to send again (resend_from) */
    uint64_t lost;             /* seqs declared lost */
    uint64_t commits;
    uint64_t commit_failures;  /* batches rolled back; their reports were not acked */
    int64_t last_commit_ms;    /* duration of the last successful commit, monotonic ms */
    int64_t max_commit_ms;     /* the longest one */
    int64_t total_commit_ms;   /* all of them: the mean is total / commits */
};

struct ingest;

/* The store stays owned by the caller and must outlive the ingest. opts is copied. */
enum wp_err ingest_create(struct store *store, const struct ingest_options *opts,
                          struct ingest **out);

/* Frees the ingest and NULLs *ingest. A batch not yet flushed is dropped unacked (its
 * agents re-send it): call ingest_flush first on an orderly shutdown. Accepts NULL. */
void ingest_destroy(struct ingest **ingest);

/* Takes one message (topic and payload are copied as needed). Never fails: whatever the
 * payload, it ends up in the batch as a report or a rejection. Flushes by itself when the
 * batch reaches batch_max (4 × batch_max with caller_flushes). */
void ingest_message(struct ingest *ingest, const char *topic, const void *payload, size_t len);

/* Milliseconds until the batch in hand is due (0: due now), or -1 when there is none. */
int64_t ingest_due_in_ms(const struct ingest *ingest);

/* Commits the batch in hand and sends its acks. On a failed commit (disk full, I/O) rolls
 * back, logs, sends no ack, drops the batch and returns the error; the daemon keeps
 * running. Returns WP_OK on an empty batch. */
enum wp_err ingest_flush(struct ingest *ingest);

const struct ingest_stats *ingest_stats(const struct ingest *ingest);

#endif
