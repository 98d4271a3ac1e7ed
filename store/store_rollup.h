/* store_rollup.h — what a district has handed upward (store.h, version 3): the value of
 * each (unit, indicator, period) last written into a file (rollup_sent) and the files
 * (rollup_files).
 *
 * rollup.c records a file's values and the file in one transaction (between store_begin
 * and store_commit), after the file is durable. Strings handed to a callback are valid
 * during the call only; a callback returning other than WP_OK stops the walk, and that
 * is returned. Errors as store.h says.
 */
#ifndef WP_STORE_ROLLUP_H
#define WP_STORE_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Calls fn for each period of indicator whose value unit handed on, in no order. */
enum wp_err store_rollup_each_sent(struct store *store, const char *unit, const char *indicator,
                                   enum wp_err (*fn)(void *ctx, const char *period,
                                                     int64_t value),
                                   void *ctx);

/* Records value as handed on for (unit, indicator, period) in file file_id. */
enum wp_err store_rollup_set_sent(struct store *store, const char *unit, const char *indicator,
                                  const char *period, int64_t value, int64_t file_id);

/* The id the next file takes: one more than the last recorded (1 for the first). */
enum wp_err store_rollup_next_file_id(struct store *store, int64_t *id);

/* Records the file id, named name, of unit, holding reports reports, written at
 * written_ms. */
enum wp_err store_rollup_add_file(struct store *store, int64_t id, const char *unit,
                                  const char *name, int64_t written_ms, size_t reports);

#endif
