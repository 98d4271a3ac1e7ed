/* topic.h — the MQTT topics of DESIGN.md, built and taken apart in one place.
 *
 *   wardpulse/v1/report/<ward>   wardpulse/v1/ack/<ward>   wardpulse/v1/status/<ward>
 *   wardpulse/v1/alert/<district>/<scope>/<rule>   wardpulse/v1/level/<district>/<scope>
 *   wardpulse/v1/events/alert   wardpulse/v1/aggregator/status   wardpulse/v1/aggregator/stats
 */
#ifndef WP_TOPIC_H
#define WP_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define WP_TOPIC_ROOT "wardpulse/v1/"
#define WP_TOPIC_MAX 256
#define WP_UNIT_CODE_MAX 16  /* a unit code "00001" plus NUL, with room to spare */

/* Writes WP_TOPIC_ROOT "<kind>/<unit>" into buf. Returns false if it does not fit. */
bool wp_topic_for_unit(char *buf, size_t size, const char *kind, const char *unit);

/* If topic is WP_TOPIC_ROOT "<kind>/<code>" with code a non-empty run of digits
 * shorter than WP_UNIT_CODE_MAX, copies code into out and returns true. */
bool wp_topic_unit(const char *topic, const char *kind, char out[WP_UNIT_CODE_MAX]);

/* True if s is a unit code: 2 to 5 ASCII digits (province 01, district 001, ward 00001). */
bool wp_unit_code_valid(const char *s);

#endif
