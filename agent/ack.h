/* ack.h — the aggregator's cumulative ack, decoded (by common/ack_payload.h) and checked
 * for this agent.
 *
 *   {"v":1, "ward":"00001", "stream":"9f1c2a7e4b5d6c3a", "acked_through":42,
 *    "rejected":[{"seq":40, "reason":"values.deaths: must be ≥ 0"}]}
 *
 * Every seq <= acked_through of the stream is stored at the aggregator or rejected with
 * its reason. Acks are cumulative and idempotent; applying them is outbox_apply_ack's job.
 */
#ifndef WP_AGENT_ACK_H
#define WP_AGENT_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "outbox.h"

struct ack {
    int64_t acked_through;
    int64_t resend_from;               /* 0: nothing asked again */
    size_t rejected_count;
    struct outbox_rejection *rejected; /* owned; reasons point into doc */
    cJSON *doc;                        /* owned */
};

/* Decodes payload (not NUL-terminated), validates it against the "ack" schema and checks
 * that it is for `ward` and `stream`. On WP_OK *out is filled (ack_clear frees it).
 * WP_ERR_INVALID: not JSON, not an ack, or for another ward or stream (an old stream of a
 * wiped store) — err says which; the caller logs and ignores it. */
enum wp_err ack_decode(const void *payload, size_t len, const char *ward, const char *stream,
                       struct ack *out, char *err, size_t errlen);

/* Frees what *a owns and zeroes it. */
void ack_clear(struct ack *a);

/* What acks said that the outbox has not taken yet (its disk was full, say): kept and
 * applied later, never dropped. Acks are cumulative, so a newer ack's acked_through
 * replaces an older one's; rejections add up (one reason per seq, the latest), and the
 * earliest resend_from stands. */
struct ack_pending {
    bool active;
    int64_t acked_through;
    int64_t resend_from;
    size_t rejected_count;
    struct outbox_rejection *rejected; /* owned, reasons owned */
};

/* Adds a decoded ack to *p. WP_ERR_NOMEM leaves *p as it was. */
enum wp_err ack_pending_add(struct ack_pending *p, const struct ack *a);

/* Frees what *p owns and zeroes it. */
void ack_pending_clear(struct ack_pending *p);

#endif
