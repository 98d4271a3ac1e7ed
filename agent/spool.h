/* spool.h — the spool directory: files a clerk drops there are taken in whole.
 *
 *   spool_dir/            *.csv (docs/spool.md) or *.json (as for `submit --file`)
 *   spool_dir/done/       files whose every report is committed to the outbox
 *   spool_dir/rejected/   refused files, each beside <name>.error: every line at fault
 *                         and why (nothing of such a file was submitted)
 *
 * A file is looked at only when whole. The daemon learns from the kernel (inotify,
 * spool_watch.h) when a writer has closed a file it wrote or renamed one into the
 * folder, and only then looks at it; it never lists the folder to find new files, except
 * once at start and once whenever its watch was lost (the folder removed or moved) and
 * is back, so that files that arrived meanwhile are taken. Before taking a file it
 * checks, where the kernel lets it (a read lease: only for the file's owner or with
 * CAP_LEASE), that no writer still has it open; a file found by listing must also not
 * have changed for spool_settle, since its writer may have started while no one
 * watched. Names starting with '.' or "~$" (editors' lock files) and ending in .tmp or
 * .part are ignored (writers rename into place). Only regular files are taken; of the
 * files ready at once, in name order.
 *
 * A CSV whose last line has no line end (spool_parse_incomplete) stays in the folder,
 * logged once, until it is complete; unchanged for spool_incomplete_timeout, its writer
 * is taken to have died and it is refused to rejected/ with that reason. A removed spool
 * folder is waited for (logged once) and, once made again, watched with new done/ and
 * rejected/ (logged once). What could not be done now (disk full, a busy outbox, a file
 * still settling) is tried again after spool_interval.
 *
 * Whole or nothing: spool_parse.c judges the entire file first; then all its reports
 * go into the outbox in ONE intake transaction (synchronous=FULL, its own connection,
 * whatever the daemon's), and only after COMMIT is the file moved to done/. If the
 * process dies between the two, the file is still in the spool when it comes back —
 * so its name and a fingerprint of its bytes are committed in the same transaction
 * (outbox_spool_record), and a file found again with the same fingerprint is moved
 * without being submitted twice. A disk-full or database error leaves the file where it
 * is, to be tried again after spool_interval.
 */
#ifndef WP_AGENT_SPOOL_H
#define WP_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "error.h"

struct spool;

/* Opens the spool of cfg (cfg->spool_dir must be set and be a directory; done/ and
 * rejected/ are created in it) with its own connection to the outbox, and starts
 * watching the folder. cfg must outlive the spool. On success *out is owned by the
 * caller (spool_close). */
enum wp_err spool_open(struct spool **out, const struct agent_config *cfg, char *err,
                       size_t errlen);

/* Does what is due without waiting: reads the watch's events, takes in the files that
 * are whole (logging what it does), lists the folder when needed (the first call, the
 * watch back), tries a lost watch again. Cheap when nothing happened (one read() that
 * finds no event), so the daemon calls it at every turn of its loop. Returns the number
 * of reports committed to the outbox. */
size_t spool_tick(struct spool *spool);

/* Gives back its outbox connection's unused page cache (the daemon going idle). */
void spool_release_memory(struct spool *spool);

/* The descriptor that becomes readable when the folder's watch has events (-1 when the
 * spool has none), for the daemon's poll(). */
int spool_fd(const struct spool *spool);

/* When spool_tick next has something to do without a new event (monotonic ms): a file
 * settling or tried again after spool_interval, a lost watch tried again, a listing
 * due (then now); INT64_MAX when only an event can bring work. */
int64_t spool_next_due_ms(const struct spool *spool);

/* Closes and sets *spool to NULL; accepts NULL. */
void spool_close(struct spool **spool);

/* True once the spool's connection found the outbox file replaced (outbox_replaced). */
bool spool_replaced(const struct spool *spool);

#endif
