/* store_levels.h — the epidemic levels kept (levels) and the payload each (rule, scope)
 * retains on the broker (level_published) (store.h, version 2).
 *
 * Written by the level path of the evaluation (levels.c), inside its transaction; the
 * announcement bookkeeping (store_level_announced) outside any. Strings handed to a
 * callback are valid during the call only. Errors as store.h says.
 */
#ifndef WP_STORE_LEVELS_H
#define WP_STORE_LEVELS_H

#include <stdbool.h>

#include "error.h"
#include "store.h"

/* Keeps (replacing) the level of (rule, scope, week): level, the criteria's version id
 * and the payload published for it. */
enum wp_err store_level_put_week(struct store *store, const char *rule, const char *scope,
                                 const char *week, int level, const char *version,
                                 const char *payload);

/* Sets the payload (rule, scope) retains, unannounced, unless it is that already;
 * *changed says whether it was set. */
enum wp_err store_level_publish(struct store *store, const char *rule, const char *scope,
                                const char *payload, bool *changed);

/* The broker acknowledged payload on scope's topic: it is announced. */
enum wp_err store_level_announced(struct store *store, const char *scope, const char *payload);

/* Calls fn for each (rule, scope) of level_published with the payload to be retained and
 * whether the broker acknowledged it; only the unannounced ones when unannounced_only. */
enum wp_err store_level_each_published(struct store *store, bool unannounced_only,
                                       void (*fn)(void *ctx, const char *scope,
                                                  const char *payload, bool announced),
                                       void *ctx);

#endif
