/* outbox.h — the agent's durable outbox: reports wait here until an ack covers them.
 *
 * One SQLite file (WAL) per ward, shared by the daemon and any number of concurrent
 * `submit` processes (busy_timeout: a writer waits for the other instead of failing).
 *
 *   meta         one row: ward, stream (16 lowercase hex digits from getrandom(2), drawn
 *                when the store is created), next_seq, created_at, kept_from (every seq
 *                from it on is held in entries, archive or dead_letter)
 *   entries      seq (1, 2, 3 … of the stream), period, payload (the exact JSON text that
 *                is published), created_at, last_sent_at, attempts
 *   dead_letter  stream, seq, period, payload, reason, rejected_at: reports the
 *                aggregator rejected; published again only when the district asks
 *                (outbox_resend_from)
 *   archive      seq, period, payload, created_at, acked_at: acknowledged reports, kept
 *                archive_days (at most archive_max) in case the district's database
 *                goes back in time and asks for them again (version 4)
 *   spool_taken  name, fingerprint, first_seq, last_seq, taken_at: spool files whose
 *                reports are committed but that may still wait to be moved to done/
 *   link         one row: the daemon's link to the broker (connected, since, last_error,
 *                broker) and the time of the last ack, for `status`
 *
 * Times are Unix milliseconds of wp_now_ms(). The schema version is PRAGMA user_version;
 * outbox_open creates a new file at the current version, migrates older files step by
 * step and refuses newer ones.
 *
 * (stream, seq) identify a report for ever: seq is never reused, also after its entry
 * was acked and deleted, because next_seq lives in meta rather than being derived from
 * the entries left.
 */
#ifndef WP_AGENT_OUTBOX_H
#define WP_AGENT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "report.h"

struct outbox;

#define OUTBOX_CREATE 0x1u   /* create the file and draw a stream if there is none */
#define OUTBOX_RELAXED 0x2u  /* synchronous=NORMAL instead of FULL, see outbox_open */
#define OUTBOX_READONLY 0x4u /* for readers (status): never writes, never migrates */

/* Opens the outbox at path for ward. Commits are durable (synchronous=FULL) unless
 * OUTBOX_RELAXED is given: the daemon uses it, since everything it writes (send times,
 * deletions after an ack, dead letters) may be lost on power failure without losing a
 * report — the entry is merely published again. Without OUTBOX_CREATE a missing or
 * never-initialised file is WP_ERR_NOT_FOUND. A store created for another ward is
 * WP_ERR_CONFIG. OUTBOX_READONLY opens the file read-only (safe beside the daemon, WAL)
 * and accepts an older schema version without migrating it; only reads are allowed then.
 * On success *out is owned by the caller (outbox_close). */
enum wp_err outbox_open(struct outbox **out, const char *path, const char *ward, unsigned flags,
                        char *err, size_t errlen);

/* Closes and sets *ob to NULL; rolls back an intake left open. Accepts NULL. */
void outbox_close(struct outbox **ob);

/* True once a commit was refused because the file at the outbox's path is no longer the
 * one this connection opened (deleted, or another file — a restored backup — moved over
 * it): what this connection would write there is lost at the next start, so intake
 * commits and ack applications fail with WP_ERR_REPLACED from then on, and the daemon
 * stops (a restart opens the file now at the path). */
bool outbox_replaced(const struct outbox *ob);

/* The stream of this store, 16 lowercase hex digits; owned by ob. */
const char *outbox_stream(const struct outbox *ob);
const char *outbox_path(const struct outbox *ob);

/* ---- intake: one transaction around any number of reports -------------------------- */

/* BEGIN IMMEDIATE: takes the write lock so that seq numbers are assigned in commit order. */
enum wp_err outbox_intake_begin(struct outbox *ob, char *err, size_t errlen);

/* Assigns the stream and the next seq to report (report->stream, report->seq are
 * overwritten), encodes it with wp_report_to_json and validates the printed text with
 * wp_report_decode — so the outbox holds only what the aggregator accepts — then
 * inserts it. report stays owned by the caller. WP_ERR_INVALID: err is the validator's
 * message (e.g. "values.deaths: must be ≥ 0"), or says the period begins more than a day
 * after today (wp_report_period_not_ahead); the caller should roll back. */
enum wp_err outbox_intake_add(struct outbox *ob, struct wp_report *report, char *err,
                              size_t errlen);

/* COMMIT. Only after WP_OK are the reports accepted. WP_ERR_FULL: the disk is full and
 * nothing of this intake was kept. */
enum wp_err outbox_intake_commit(struct outbox *ob, char *err, size_t errlen);

/* ROLLBACK; harmless when no intake is open. */
void outbox_intake_rollback(struct outbox *ob);

/* Before SQLite is first used in the process (main): SQLite's memory set up for a small
 * resident size rather than for speed (the agent idles far more than it works). */
void outbox_lean_memory(void);

/* Gives back the page cache's unused memory (the daemon going idle); SQLite reads the
 * pages again when needed. Nothing inside a transaction; accepts NULL. */
void outbox_release_memory(struct outbox *ob);

/* ---- publishing -------------------------------------------------------------------- */

/* True when another connection (a `submit`) committed since the last call; cheap
 * (PRAGMA data_version), meant to be polled. The first call returns true. */
bool outbox_changed(struct outbox *ob);

/* The seqs of every entry with seq > after_seq, in ascending order, into *seqs (malloc'd,
 * caller frees; NULL when *count == 0). */
enum wp_err outbox_seqs_after(struct outbox *ob, int64_t after_seq, int64_t **seqs, size_t *count);

/* The payload of entry seq into *payload (malloc'd, NUL-terminated, caller frees) and
 * its length. WP_ERR_NOT_FOUND if the entry is gone (acked meanwhile). */
enum wp_err outbox_payload(struct outbox *ob, int64_t seq, char **payload, size_t *len);

/* Records the publications of one publish pass in ONE transaction: for each of the count
 * seqs, last_sent_at = now_ms and attempts + 1 (entries gone meanwhile are skipped).
 * Nothing is written when count is 0. */
enum wp_err outbox_mark_sent(struct outbox *ob, const int64_t *seqs, size_t count,
                             int64_t now_ms);

/* ---- acks -------------------------------------------------------------------------- */

struct outbox_rejection {
    int64_t seq;
    const char *reason;
};

/* Applies one ack of this store's stream in one transaction: every rejected seq still in
 * entries moves to dead_letter with its reason (logged as an error), then every entry
 * with seq <= acked_through moves to the archive (outbox_set_archive), and
 * link.last_ack_at becomes now. A repeated or older ack changes nothing else.
 * *removed (may be NULL) = entries acked, *dead (may be NULL) = entries dead-lettered.
 * WP_ERR_CONFLICT, with nothing applied: acked_through is beyond any seq this store
 * issued — the store went back in time; see outbox_restart_stream. */
enum wp_err outbox_apply_ack(struct outbox *ob, int64_t acked_through,
                             const struct outbox_rejection *rejected, size_t rejected_count,
                             size_t *removed, size_t *dead);

/* ---- the archive and going back in time (outbox_archive.c) -------------------------- */

/* How long acked entries stay in the archive, and at most how many (the daemon's
 * archive_days and archive_max; 0 and 0, the default of a handle: none). */
void outbox_set_archive(struct outbox *ob, int64_t keep_ms, int64_t max_entries);

/* The delivery fields of a report published now (report.h): the lowest unacked seq (the
 * next seq when nothing is queued) and the lowest seq from which on everything is held. */
enum wp_err outbox_delivery_state(struct outbox *ob, int64_t *unacked_from, int64_t *kept_from);

/* The district lacks from_seq on (its database went back in time): every archived entry
 * and dead letter of this stream from from_seq on becomes an entry again, to be
 * published. *restored = how many. */
enum wp_err outbox_resend_from(struct outbox *ob, int64_t from_seq, size_t *restored);

/* The store went back in time (outbox_apply_ack said WP_ERR_CONFLICT): draws a new
 * stream and moves every unacknowledged entry to it as seq 1, 2, … in order (payloads
 * re-encoded and checked), clears the archive of the old stream, and logs it as an error.
 * Every handle's next intake uses the new stream. *renumbered = entries moved. */
enum wp_err outbox_restart_stream(struct outbox *ob, size_t *renumbered, char *err,
                                  size_t errlen);

/* ---- spool bookkeeping (outbox_spool.c) --------------------------------------------- */

/* The daemon may die between committing a spool file's reports and moving the file to
 * done/. So the file's name and fingerprint are recorded inside the intake transaction,
 * and a file found again with a recorded fingerprint is moved without being submitted a
 * second time. The record is forgotten once the file has moved. */

/* Within an open intake: records file `name` (no directory) with its fingerprint and the
 * seqs its reports got, replacing an older record of the same name. */
enum wp_err outbox_spool_record(struct outbox *ob, const char *name, const char *fingerprint,
                                int64_t first_seq, int64_t last_seq, char *err, size_t errlen);

/* *found says whether `name` is recorded; if so its fingerprint is copied to fingerprint
 * (size bytes, NUL-terminated). */
enum wp_err outbox_spool_lookup(struct outbox *ob, const char *name, char *fingerprint,
                                size_t size, bool *found);

/* Deletes the record of `name` (none is fine). */
enum wp_err outbox_spool_forget(struct outbox *ob, const char *name);

/* Calls fn for every recorded name; the string is valid only during the call. */
typedef void (*outbox_spool_fn)(void *ctx, const char *name);
enum wp_err outbox_spool_each(struct outbox *ob, outbox_spool_fn fn, void *ctx);

/* ---- the daemon's link (outbox_link.c) ------------------------------------------------ */

struct outbox_link {
    bool known;            /* false: a store older than the link table, or never written */
    bool connected;
    int64_t since;         /* ms: when the link came up, or went down; 0 if never */
    int64_t last_ack_at;   /* ms of the last ack of this stream; 0 if none yet */
    char last_error[256];  /* why the link is down ("" when up or unknown) */
    char broker[256];      /* host:port */
};

/* The daemon records a change of its link: connected or not since `since`, and why not.
 * Never called inside an intake. */
enum wp_err outbox_link_record(struct outbox *ob, bool connected, int64_t since,
                               const char *last_error, const char *broker);

/* Reads the link row into *out (known = false when the store has none). */
enum wp_err outbox_link_read(struct outbox *ob, struct outbox_link *out);

/* ---- status -------------------------------------------------------------------------- */

struct outbox_summary {
    int64_t queued;               /* entries not yet acked */
    int64_t oldest_seq;           /* 0 when queued == 0 */
    char oldest_period[16];
    int64_t oldest_created_at;    /* ms */
    int64_t last_sent_at;         /* ms of the latest publication, 0 if none */
    int64_t dead_count;
    int64_t next_seq;
    int64_t created_at;           /* of the store (when the stream was drawn) */
};

enum wp_err outbox_summarize(struct outbox *ob, struct outbox_summary *out);

/* Calls fn for every dead letter in seq order; strings valid only during the call. */
typedef void (*outbox_dead_fn)(void *ctx, int64_t seq, const char *period, const char *reason,
                               int64_t rejected_at);
enum wp_err outbox_each_dead_letter(struct outbox *ob, outbox_dead_fn fn, void *ctx);

#endif
