/* store_control.h — officers' commands: the audit control_log and the silences
 * (store.h, version 6).
 *
 * aggregator/control.c validates and applies the commands; this file only reads and
 * writes rows, inside the caller's transaction (store_begin … store_commit). A silence
 * is in force at now_ms while it has not been ended and until_ms > now_ms: expiry needs
 * no write. Strings handed to a callback are valid during the call only; a callback
 * returning other than WP_OK stops the walk, and that is returned. Errors as store.h
 * says.
 */
#ifndef WP_STORE_CONTROL_H
#define WP_STORE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Appends a command to control_log: topic, who (NULL when unknown), the payload as
 * received (len bytes, any content) and its outcome. */
enum wp_err store_control_log(struct store *store, int64_t received_ms, const char *topic,
                              const char *by, const void *payload, size_t len,
                              const char *outcome);

/* A new silence; *id gets its number. rule or scope may be NULL (any), comment too. */
enum wp_err store_silence_add(struct store *store, const char *rule, const char *scope,
                              int64_t until_ms, const char *by, const char *comment,
                              int64_t created_ms, int64_t *id);

/* Ends silence id if it is in force at now_ms; *ended says whether it was. */
enum wp_err store_silence_end(struct store *store, int64_t id, const char *by, int64_t now_ms,
                              bool *ended);

struct store_silence {
    int64_t id;
    const char *rule, *scope;   /* NULL: any */
    int64_t until_ms, created_ms;
    const char *by, *comment;   /* comment NULL when none */
};

/* Calls fn for each silence in force at now_ms, oldest first. */
enum wp_err store_silence_each_active(struct store *store, int64_t now_ms,
                                      enum wp_err (*fn)(void *ctx,
                                                        const struct store_silence *s),
                                      void *ctx);

#endif
