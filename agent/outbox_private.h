/* outbox_private.h — internals shared by outbox_store.c and outbox.c; nothing else
 * includes this (the public contract is outbox.h). */
#ifndef WP_AGENT_OUTBOX_PRIVATE_H
#define WP_AGENT_OUTBOX_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db_file.h"
#include "outbox.h"

/* A daemon transaction is a few milliseconds; a submit's is one report. Waiting this long
 * only happens when something is badly wrong, and then a clear error beats a hang. */
#define OUTBOX_BUSY_TIMEOUT_MS 10000

struct outbox {
    sqlite3 *db;
    char *path;
    char ward[16];
    char stream[WP_STREAM_LEN + 1];
    bool in_intake;
    int64_t intake_next_seq;
    bool data_version_known;
    int64_t data_version;
    int version;              /* schema version of the file (older only when read-only) */
    int64_t archive_keep_ms;  /* outbox_set_archive; 0 and 0: keep nothing */
    int64_t archive_max;
    struct wp_db_identity identity;   /* of the file opened at path (writers only) */
    bool replaced;            /* path names another file now: nothing more is committed */
};

/* outbox_open flag for test_outbox only: create a fresh file by running every migration
 * step from version 0, as files made by older agents were, instead of at once. */
#define OUTBOX__BY_STEPS 0x100u

/* Schema versions that added a table, for read-only readers of older files. */
#define OUTBOX_VERSION_SPOOL 2
#define OUTBOX_VERSION_LINK 3
#define OUTBOX_VERSION_ARCHIVE 4

/* Fills err from the connection's last error, naming the outbox and `what`; SQLITE_FULL
 * and an I/O error for want of space (ENOSPC) become WP_ERR_FULL ("the disk is full"),
 * everything else WP_ERR_DB. */
enum wp_err outbox__fail(const struct outbox *ob, int rc, const char *what, char *err,
                         size_t errlen);

/* The same for callers without an err buffer: logs it as an error. */
enum wp_err outbox__fail_logged(const struct outbox *ob, int rc, const char *what);

/* Runs sql and stores the first column of its first row in *value. Returns SQLITE_OK,
 * SQLITE_NOTFOUND when there is no row, or the SQLite error. */
int outbox__query_int(struct outbox *ob, const char *sql, int64_t *value);

/* Draws a new stream id: 16 lowercase hex digits from getrandom(2) (outbox_store.c). */
enum wp_err outbox__draw_stream(char out[WP_STREAM_LEN + 1], char *err, size_t errlen);

/* Reads the stream from meta into ob->stream. Returns SQLITE_OK or the SQLite error. */
int outbox__load_stream(struct outbox *ob);

/* Inside an open transaction: moves every entry with seq <= acked_through into the
 * archive (acked_at = now_ms), drops what the archive keeps no longer, and raises
 * meta.kept_from past what it dropped (outbox_archive.c). *moved = entries moved. */
int outbox__archive_acked(struct outbox *ob, int64_t acked_through, int64_t now_ms,
                          size_t *moved);

/* The text exactly as it will be published, checked by the aggregator's own decoder
 * (outbox.c). */
enum wp_err outbox__encode_checked(const struct wp_report *report, char **text, char *err,
                                   size_t errlen);
/* Before a COMMIT: WP_OK if the path still names the file this connection has open;
 * otherwise WP_ERR_REPLACED with err (logged once), and outbox_replaced() stays true. */
enum wp_err outbox__check_file(struct outbox *ob, char *err, size_t errlen);

#endif
