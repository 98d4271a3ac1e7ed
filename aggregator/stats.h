/* stats.h — the aggregator's counters as the payload of wardpulse/v1/aggregator/stats
 * (schemas/stats.schema.json): what ingest counted since start, the alerts firing now,
 * and how long commits take. Published retained with QoS 0 every stats_interval and once
 * more when the daemon stops, for monitoring with any MQTT client:
 *
 *   mosquitto_sub -t wardpulse/v1/aggregator/stats
 *
 * The database stays the record; these are the daemon's own view since it started.
 */
#ifndef WP_AGGREGATOR_STATS_H
#define WP_AGGREGATOR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

#define AGGREGATOR_STATS_TOPIC "wardpulse/v1/aggregator/stats"

/* The payload as of now_ms (clock time) for an aggregator started at `since` (RFC 3339).
 * Caller frees; NULL when out of memory. */
char *stats_json(const struct ingest_stats *s, size_t alerts_firing, const char *since,
                 int64_t now_ms);

#endif
