/* store.h — the aggregator's SQLite database: the one owner of its file, schema, SQL and
 * SQLite errors. No SQL, table name or sqlite3 handle leaves store/: the aggregator's
 * modules call this header (reports, values, rejections, ack state, and what the rules
 * read) and one header per group of tables — store_alerts.h (alerts and their events),
 * store_schedule.h (schedule status), store_levels.h (levels), store_rollup.h (rollup).
 *
 * One connection, used by the aggregator's loop, and a second one on a thread of its own that
 * only checkpoints the WAL (store_checkpoint.c). WAL journal (readers such as
 * `wardpulse export` never block the writer), synchronous=FULL (an ack promises the
 * report survives a power cut), busy_timeout, foreign keys on.
 *
 * The schema is versioned with PRAGMA user_version and grows only by migrations
 * appended to the list in store.c (each runs in its own transaction; rules and alerts
 * tables arrive that way). A database newer than the program is refused. Version 1:
 *
 *   reports         one row per stored report, for ever (the audit trail):
 *                   id, ward, stream, seq UNIQUE(ward, stream, seq), period, period_first,
 *                   period_last (YYYY-MM-DD, the days the period covers), observed_at,
 *                   observed_ms, received_at (RFC 3339, +07:00), received_ms, topic,
 *                   payload (TEXT, exactly as received)
 *   report_values   (report_id, indicator) → ward, period, value (a view since 7)
 *   report_tasks    (report_id, task) → ward, period, state
 *   current_values  (ward, period, indicator) → value, report_id, observed_ms: the value
 *                   in force. A later observed_at supersedes; on equal observed_at the
 *                   later arrival does. Superseded values stay in report_values.
 *                   (Since version 7: values_in_force.)
 *   current_tasks   (ward, task) → state, period, report_id, observed_ms, period_last
 *                   (version 2): the state of the latest period that names the task
 *                   (a back-fill of an older period does not undo a newer "done"); within
 *                   a period, the same rule as values
 *   rejected        id, received_at, received_ms, topic, ward (the topic's), stream, seq
 *                   (NULL when unknown), reason, payload (BLOB, raw, cut at max_payload),
 *                   payload_bytes (size as received); UNIQUE(ward, stream, seq) where seq
 *                   is known, so a re-sent rejected report is stored once
 *   streams         (ward, stream) → acked_through, first_seen_at, last_seen_at
 *
 * A (ward, stream, seq) is "known" once it is in reports or in rejected; it is never
 * stored twice, in either table.
 *
 * Version 2 (the plan's rules; store_alerts.c, store_schedule.c, store_levels.c):
 *
 *   alerts          (rule, scope) → state pending | firing | resolved, since_ms, payload
 *                   (the alert JSON last to be announced, NULL while only pending),
 *                   payload_state (its state), rev (bumped by every change the broker must
 *                   learn), event_rev (the rev of the last transition, announced on
 *                   events/alert too), announced_rev (the last rev the broker
 *                   acknowledged), announced_ms (last announcement on events/alert, for
 *                   repeats), updated_ms
 *   alert_events    every transition: id, rule, scope, state, severity, at_ms, at, payload
 *   schedule_status (rule, ward, period) → due_ms, complete_ms (when the last expected
 *                   indicator arrived; NULL: not yet), on_time (complete by the cut-off);
 *                   one row per period whose cut-off has passed. A cache rebuilt at
 *                   start and on plan reload; the view reporting_rates sums it per rule
 *                   and ward: expected, received, on_time, completeness_pct,
 *                   timeliness_pct (DHIS2's reporting rate and reporting rate on time)
 *   levels          (rule, scope, week) → level, version (criteria id), payload
 *   level_published (rule, scope) → payload retained on level/<district>/<scope>,
 *                   announced (the broker acknowledged it)
 *   and indexes current_values (indicator, ward, period) and report_tasks (ward, task)
 *   for the rules' data.
 *
 * Version 3 (a district's rollup to the city; store_rollup.c):
 *
 *   rollup_sent     (unit, indicator, period) → value, file_id: the value last handed on
 *   rollup_files    id, unit, name, written_ms, written_at, reports: the files written
 *                   into the district agent's spool folder
 *
 * Version 4 (the edges of exactly-once):
 *
 *   reports, rejected   + content_hash (wp_report_content_hash; NULL in older rows): a
 *                   seq names one report. rejected is unique per (ward, stream, seq,
 *                   content_hash), so a reused seq's other content is kept once each
 *   streams         + unacked_from, kept_from: what the agent last said of its outbox
 *   lost_reports    (ward, stream, first_seq) → last_seq, declared_ms, declared_at: seqs
 *                   the aggregator lacked and the agent no longer held (a restored
 *                   backup older than the agent's archive); they count as known
 *   current_values, current_tasks  + stream, seq: within one stream the later seq
 *                   supersedes, whatever observed_at says; across streams observed_at
 *   rejected        + repeats (identical messages without a seq, counted on one row)
 *   rejected_overflow (ward, day) → messages, bytes: rejections over the ward's daily
 *                   bound, counted and not kept
 *
 * Version 5 (on time means when the ward committed it; docs/architecture.md, "When a
 * report counts as on time"):
 *
 *   reports         + committed_at, committed_ms (the report's committed_at: when the
 *                   ward's agent committed it to its outbox; NULL from older agents),
 *                   judged_ms (the instant its timeliness is judged from: committed_ms
 *                   bounded by the start of the period and by received_ms; received_ms
 *                   when there is no committed_at; NULL in rows stored before version 5,
 *                   read as received_ms)
 *   schedule_status + received_ms (when the last expected indicator arrived, beside
 *                   complete_ms, which is now when it was committed, as judged)
 *
 * Version 6 adds (store_control.h):
 *   control_log     every officer's command as received (received_ms/_at, topic,
 *                   requested_by, payload, outcome: "ok …" or "refused: <error>")
 *   silences        id (shown as "s-<id>"), rule and/or scope (NULL: any), until_ms,
 *                   requested_by, comment, created_ms, ended_ms/ended_by (unsilence)
 *
 * Version 7 (a lean store, issue 13; store_intern.c, store_values.c, store_packed.c):
 *   units           id INTEGER PRIMARY KEY, code UNIQUE: each unit (ward) code as an id
 *   indicators      id INTEGER PRIMARY KEY, name UNIQUE: each indicator name as an id
 *   values_in_force (unit, period) → packed: the values in force of that unit and
 *                   period in one blob (format in store_private.h), per indicator: the
 *                   value, the report in force (its stream, seq and observed_ms decide
 *                   who supersedes, as above), the first report to carry it (reports are
 *                   numbered in arrival order) and the earliest judged_ms (received_ms
 *                   when NULL) of any report that carried it
 *   report_values, current_values and their indexes are dropped. report_values is a
 *   view of the same name that reads every value of every report from reports.payload
 *   (json_each of its "values"); the values in force are read through this header and
 *   `wardpulse export --current`.
 *
 * Write functions must be called between store_begin and store_commit/store_rollback.
 * Errors (one mapping, wp_db_error in db_file.h): WP_ERR_FULL when the disk or database
 * is full, WP_ERR_DB otherwise;
 * store_errmsg() then says what SQLite said.
 */
#ifndef WP_AGGREGATOR_STORE_H
#define WP_AGGREGATOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "report.h"

struct store;

/* The schema version the migrations of store.c bring a database to: the newest this
 * program knows. Readers (store_read.h) refuse a newer one from the same constant. */
#define STORE_SCHEMA_VERSION 7

/* Beside the database: the lock file that keeps a second aggregator off it. */
#define STORE_LOCK_SUFFIX ".lock"

/* Opens (creating if missing) and migrates the database at path. The directory must
 * exist. Refuses (err says why) a database or directory it cannot write, and a database
 * whose lock file (path + STORE_LOCK_SUFFIX, an fcntl lock held until store_close)
 * another process holds. On success *out is the store (free with store_close). */
enum wp_err store_open(const char *path, struct store **out, char *err, size_t errlen);

/* Rolls back an open transaction, closes, frees and NULLs *store. Accepts NULL. */
void store_close(struct store **store);

/* Durable (the default): every commit reaches the disk before store_commit returns
 * (synchronous=FULL), as an ack promises. Not durable: commits are not synced — only for
 * tests and replays, where thousands of fsyncs are the cost and power cuts are not the
 * subject; the daemon never calls it. */
void store_set_durable(struct store *store, bool durable);

/* The WAL is checkpointed on a thread of the store's own, over its own connection, once
 * it holds `pages` pages (default 10,000: 40 MB), so that no commit waits for a
 * checkpoint (store_checkpoint.c). Setting it is for tests; passes counts the thread's
 * checkpoints so far. */
void store_set_checkpoint_pages(struct store *store, int pages);
int64_t store_checkpoint_passes(const struct store *store);

/* Schema version of the open database (PRAGMA user_version). */
int store_schema_version(const struct store *store);

/* What SQLite said about the last failure; owned by the store, valid until the next call. */
const char *store_errmsg(const struct store *store);

/* BEGIN IMMEDIATE: takes the write lock now, so that a commit cannot fail on a lock.
 * WP_ERR_REPLACED once store_replaced(). */
enum wp_err store_begin(struct store *store);
/* Checks first that the file at the path is still the one open (store_check_identity);
 * if not, commits nothing and returns WP_ERR_REPLACED (the caller rolls back, acks
 * nothing, and the daemon stops). */
enum wp_err store_commit(struct store *store);

/* WP_OK if the database's path still names the file this store has open (device and
 * inode as at store_open, and SQLite's own view of the open descriptor). Otherwise —
 * deleted, moved away, or another file (a restored backup) moved over it — logs why,
 * makes store_replaced() true for good and returns WP_ERR_REPLACED: from then on nothing
 * is committed, since a commit into the unnamed file would be lost at the next start. */
enum wp_err store_check_identity(struct store *store);
bool store_replaced(const struct store *store);
/* Never fails in a way the caller can act on; logs if SQLite complains. */
void store_rollback(struct store *store);

/* What the database holds under one (ward, stream, seq), given a content hash. */
enum store_identity {
    STORE_IDENTITY_NEW,       /* nothing */
    STORE_IDENTITY_SAME,      /* this very content (stored or rejected): a duplicate */
    STORE_IDENTITY_CONFLICT,  /* other content only: the seq was reused */
};

/* Stores a decoded, valid report: raw payload (len bytes, UTF-8 text), its values and
 * tasks, its content hash (wp_report_content_hash), and the values/tasks now in force.
 * Returns WP_OK; WP_ERR_DUPLICATE (nothing written) if this report is already known
 * under its (ward, stream, seq); WP_ERR_CONFLICT (nothing written) if other content is
 * known under it — the caller stores a rejection instead. */
enum wp_err store_add_report(struct store *store, const struct wp_report *report,
                             const char *topic, const void *payload, size_t len,
                             int64_t received_ms);

/* A message that is not a storable report. ward, stream may be NULL and seq 0 when
 * unknown; payload is stored as given (the caller cuts it to max_payload). */
struct store_rejection {
    int64_t received_ms;
    const char *topic;
    const char *ward;
    const char *stream;
    int64_t seq;
    const char *reason;
    const void *payload;
    size_t len;            /* bytes in payload */
    size_t original_len;   /* bytes as received */
    uint64_t content_hash; /* wp_report_content_hash if it decoded, else wp_bytes_hash */
    bool not_kept;         /* set by store_add_rejected: over the ward's daily bound */
};

/* Bounds the rejections kept per ward (the topic's) and local day: at most max_count
 * rows and max_bytes payload bytes (0: no bound). Beyond them a rejection with a seq is
 * kept without its payload (the ack must name it) and one without is only counted in
 * rejected_overflow. */
void store_set_rejection_bounds(struct store *store, int64_t max_count, int64_t max_bytes);

/* Stores a rejection. Returns WP_OK, or WP_ERR_DUPLICATE (nothing written) when ward,
 * stream and seq are all known and the same content is already under that identity in
 * reports or rejected. Other content under it is stored: once per content hash. A
 * message without a seq identical to one kept (same ward, topic and bytes) is counted on
 * that row (repeats) and WP_ERR_DUPLICATE. Sets rejection->not_kept when over the bound
 * (store_set_rejection_bounds). */
enum wp_err store_add_rejected(struct store *store, struct store_rejection *rejection);

/* How many messages of `ward` (a topic's ward) received on local `day` were refused —
 * rows, their repeats and those only counted — and how many of them were over the daily
 * bound (kept without payload, or only counted): rule_flood_evaluate's figures
 * (store_refusals.c). */
enum wp_err store_refusals_on_day(struct store *store, const char *ward, int64_t day,
                                  int64_t *refused, int64_t *not_kept);

/* What store_advance_ack found for one stream. */
struct store_ack_state {
    int64_t acked_through;   /* every seq 1..acked_through is stored, rejected or lost */
    int64_t unacked_from;    /* the agent's, as last reported; 0: it does not say */
    int64_t resend_from;     /* 0, or the first seq to ask the agent for again */
    int64_t lost_first, lost_last;  /* declared lost by this call (0: none) ... */
    int64_t lost_count;             /* ... how many seqs between them */
};

/* Moves streams.acked_through of (ward, stream) forward while the next seq is known
 * (stored, rejected, or declared lost), creating the stream row if needed. Gaps (reports
 * lost by an aggregator crash between PUBACK and commit, or simply still on their way)
 * stop it, so an ack never covers a report the database does not hold.
 *
 * unacked_from and kept_from are the latest report's delivery fields (0: absent; an
 * older agent): recorded on the stream, then
 *  - the seqs below kept_from the database lacks are declared lost (lost_reports; the
 *    agent holds them no more, they can never arrive) and skipped;
 *  - if a seq below unacked_from is still lacking (the agent deleted it on an ack that
 *    this database no longer remembers: a restored backup), resend_from names the first.
 * now_ms stamps last_seen_at and the declarations. */
enum wp_err store_advance_ack(struct store *store, const char *ward, const char *stream,
                              int64_t now_ms, int64_t unacked_from, int64_t kept_from,
                              struct store_ack_state *out);

/* Calls fn for each rejected seq of (ward, stream) in [from_seq, to_seq], in seq order,
 * at most max times, with the reason of its latest rejection. reason is valid only
 * during the call. */
enum wp_err store_each_rejected(struct store *store, const char *ward, const char *stream,
                                int64_t from_seq, int64_t to_seq, size_t max,
                                void (*fn)(void *ctx, int64_t seq, const char *reason),
                                void *ctx);

/* Calls fn for each range of seqs of `ward` declared lost at or after since_ms, oldest
 * declaration first. stream is valid only during the call. */
enum wp_err store_each_lost(struct store *store, const char *ward, int64_t since_ms,
                            void (*fn)(void *ctx, const char *stream, int64_t first_seq,
                                       int64_t last_seq, int64_t declared_ms),
                            void *ctx);

/* ---- What the rules read: values and tasks in force (store_reports.c) ----
 * Readers need no transaction; inside one they see its writes. Strings handed to a
 * callback are valid during the call only; a callback returning other than WP_OK stops
 * the walk, and that is returned. */

/* When the first report reached this database (received_ms); 0 when none has. */
enum wp_err store_first_report_ms(struct store *store, int64_t *received_ms);

/* The state in force of task for ward (current_tasks) into state (size bytes); "" when
 * no report named it. */
enum wp_err store_task_state(struct store *store, const char *ward, const char *task,
                             char *state, size_t size);

/* Calls fn for each period of ward with a value of indicator in force (values_in_force),
 * in no particular order. */
enum wp_err store_each_value_of(struct store *store, const char *ward, const char *indicator,
                                enum wp_err (*fn)(void *ctx, const char *period, int64_t value),
                                void *ctx);

/* Calls fn for each indicator of ward with a value in force for period. */
enum wp_err store_each_value_in(struct store *store, const char *ward, const char *period,
                                enum wp_err (*fn)(void *ctx, const char *indicator,
                                                  int64_t value),
                                void *ctx);

#endif
