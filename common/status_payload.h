/* status_payload.h — the retained status messages, built in one place.
 *
 * A ward's agent on wardpulse/v1/status/<ward> (schemas/status.schema.json):
 *   {"v":1,"ward":"00001","state":"online","since":"…","version":"0.1.0","queued":3}
 *   its Last Will: {"v":1,"ward":"00001","state":"offline","version":"0.1.0"}
 * The aggregator on wardpulse/v1/aggregator/status (schemas/aggregator_status.schema.json):
 *   {"v":1,"state":"online","version":"0.1.0","since":"…","instance":"…","client_id":"…"}
 *   its Last Will leaves out "since".
 * The keys come in the order docs/topics-and-payloads.md shows, which differs between the
 * two: a ward's status has "since" before "version", the aggregator's after.
 */
#ifndef WP_STATUS_PAYLOAD_H
#define WP_STATUS_PAYLOAD_H

#include <stdint.h>

struct wp_status {
    const char *ward;        /* NULL: the aggregator's status (no "ward") */
    const char *state;       /* "online" | "offline" */
    const char *since;       /* RFC 3339; NULL: left out (a Last Will) */
    const char *version;
    int64_t queued;          /* reports not yet acknowledged; < 0: left out */
    const char *instance;    /* NULL: left out */
    const char *client_id;   /* NULL: left out */
};

/* The payload, printed without spaces. Returns a malloc'd NUL-terminated text the caller
 * frees, or NULL when out of memory. */
char *wp_status_encode(const struct wp_status *status);

#endif
