/* ack.h — the aggregator's cumulative ack, decoded and checked for this agent.
 *
 *   {"v":1, "ward":"00001", "stream":"9f1c2a7e4b5d6c3a", "acked_through":42,
 *    "rejected":[{"seq":40, "reason":"values.deaths: must be ≥ 0"}]}
 *
 * Every seq <= acked_through of the stream is stored at the aggregator or rejected with
 * its reason. Acks are cumulative and idempotent; applying them is outbox_apply_ack's job.
 */
#ifndef WP_AGENT_ACK_H
#define WP_AGENT_ACK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "outbox.h"

struct ack {
    int64_t acked_through;
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

#endif
