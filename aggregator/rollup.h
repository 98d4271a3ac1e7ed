/* rollup.h — a district's figures go up a level, as reports of the district's own unit.
 *
 * DESIGN.md "Scale": each level republishes its rollup upward as a report of its own
 * unit. A district aggregator with rollup_spool_dir set runs a pass after every
 * evaluation: the district's values rolled up from its wards (series.h: sum, max or
 * latest, as the catalog says), for every indicator the catalog marks "rollup_up", are
 * compared with what was handed on before, and whatever differs is written as report
 * files — the agent's spool JSON, an array of {"period", "values", "note"} — into the
 * spool folder of the district's own agent (ward = the district's code). That agent
 * publishes them on report/<district>, which a Mosquitto bridge carries to the city
 * broker; the city aggregator stores them and acknowledges them back through the bridge.
 *
 * What was handed on is kept in the aggregator's database, beside the data it derives
 * from, so that nothing is lost whichever process stops (store_rollup.h): the value
 * last written for each (unit, indicator, period), and every file written.
 *
 * A pass writes the file first (NAME.tmp, fsync, rename, fsync of the folder: the
 * spool takes complete files only) and records it afterwards, in one transaction. A
 * crash in between leaves a file with no record: the next pass (at the latest at
 * start) computes the same file again under the same name, finds it — still in the
 * folder, or taken into the agent's done/ (or rejected/) — with the same content, and
 * records it without writing it a second time. A name that is taken by a different
 * content (a database restored from a backup) is skipped for the next number.
 *
 * Their tables come with the store's schema (version 3); nothing else reads them.
 */
#ifndef WP_AGGREGATOR_ROLLUP_H
#define WP_AGGREGATOR_ROLLUP_H

#include "error.h"
#include "evaluate.h"
#include "plan.h"
#include "store.h"

struct rollup;

struct rollup_options {
    const char *spool_dir;   /* the spool_dir of the district's own agent; must exist */
    const char *unit;        /* unit code the reports are for, e.g. "001" */
};

/* Creates the tables if needed. The strings of opts are copied; store must outlive the
 * rollup. */
enum wp_err rollup_create(struct store *store, const struct rollup_options *opts,
                          struct rollup **out);
void rollup_destroy(struct rollup **rollup);

/* How many of the plan's indicators go upward (catalog "rollup_up"). */
size_t rollup_indicator_count(const struct plan *plan);

/* One pass, as described above, with the series of evaluate (its plan in force, which
 * plan must be; NULL: nothing to do). Call it outside a transaction, after an
 * evaluation. WP_OK also when nothing changed; otherwise the error is logged, nothing
 * is recorded that was not written, and the caller runs it again later. */
enum wp_err rollup_run(struct rollup *rollup, struct evaluate *evaluate,
                       const struct plan *plan);

#endif
