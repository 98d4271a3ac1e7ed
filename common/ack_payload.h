/* ack_payload.h — the ack payload of DESIGN.md, encoded and decoded in one place.
 *
 *   {"v":1, "ward":"00001", "stream":"9f1c2a7e4b5d6c3a", "acked_through":42,
 *    "resend_from":7 (only when asked), "rejected":[{"seq":40, "reason":"…"}]}
 *
 * Cumulative: every seq ≤ acked_through of the stream is durably stored at the
 * aggregator or rejected with its reason. The aggregator encodes it after a commit
 * (aggregator/ingest.c), the agent decodes it (agent/ack.c); both call this codec, as
 * both call common/report.h for the report.
 */
#ifndef WP_ACK_PAYLOAD_H
#define WP_ACK_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

struct wp_ack_rejection {
    int64_t seq;
    const char *reason;
};

struct wp_ack {
    const char *ward;
    const char *stream;
    int64_t acked_through;
    int64_t resend_from;                  /* 0: absent (nothing asked again) */
    size_t rejected_count;
    struct wp_ack_rejection *rejected;
    cJSON *doc;   /* decoded acks only: owned, the strings above point into it */
};

/* The payload of an ack, printed without spaces, keys in the order above; "rejected" is
 * always there (maybe empty), "resend_from" only when not 0, and an empty or NULL reason
 * is written "rejected". Reads ack (its doc is ignored); returns a malloc'd
 * NUL-terminated text the caller frees, or NULL when out of memory. */
char *wp_ack_encode(const struct wp_ack *ack);

/* Parses payload (len bytes, not NUL-terminated) and validates it against
 * schemas/ack.schema.json (the embedded copy). On WP_OK *out is filled: ward, stream
 * and the reasons point into out->doc, rejected is a malloc'd array; the caller frees
 * both with wp_ack_clear. A rejection whose reason is missing reads "(no reason given)".
 * WP_ERR_INVALID: not JSON or not an ack, err says which; WP_ERR_NOMEM. On failure *out
 * holds nothing to free. Whose ack it is (ward, stream) is the caller's to check. */
enum wp_err wp_ack_decode(const void *payload, size_t len, struct wp_ack *out, char *err,
                          size_t errlen);

/* Frees what a decoded *ack owns and zeroes it. */
void wp_ack_clear(struct wp_ack *ack);

#endif
