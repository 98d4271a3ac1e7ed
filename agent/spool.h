/* spool.h — the spool directory: files a clerk drops there are taken in whole.
 *
 *   spool_dir/            *.csv (docs/spool.md) or *.json (as for `submit --file`)
 *   spool_dir/done/       files whose every report is committed to the outbox
 *   spool_dir/rejected/   refused files, each beside <name>.error: every line at fault
 *                         and why (nothing of such a file was submitted)
 *
 * A file is looked at only when complete: names starting with '.' or "~$" (editors'
 * lock files) and ending in .tmp or .part are ignored (writers rename into place), and
 * a file is left alone until it has not changed for spool_settle (for programs that
 * write in place). Only regular files are taken; files are taken in name order.
 *
 * Whole or nothing: spool_parse.c judges the entire file first; then all its reports
 * go into the outbox in ONE intake transaction (synchronous=FULL, its own connection,
 * whatever the daemon's), and only after COMMIT is the file moved to done/. If the
 * process dies between the two, the file is still in the spool when it comes back —
 * so its name and a fingerprint of its bytes are committed in the same transaction
 * (outbox_spool_record), and a file found again with the same fingerprint is moved
 * without being submitted twice. A disk-full or database error leaves the file where it
 * is, to be tried again at the next scan.
 */
#ifndef WP_AGENT_SPOOL_H
#define WP_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_config.h"
#include "error.h"

struct spool;

/* Opens the spool of cfg (cfg->spool_dir must be set and be a directory; done/ and
 * rejected/ are created in it) with its own connection to the outbox. cfg must outlive
 * the spool. On success *out is owned by the caller (spool_close). */
enum wp_err spool_open(struct spool **out, const struct agent_config *cfg, char *err,
                       size_t errlen);

/* Takes in every complete file now (logging what it does); returns the number of
 * reports committed to the outbox. */
size_t spool_scan(struct spool *spool);

/* Closes and sets *spool to NULL; accepts NULL. */
void spool_close(struct spool **spool);

/* True once the spool's connection found the outbox file replaced (outbox_replaced). */
bool spool_replaced(const struct spool *spool);

#endif
