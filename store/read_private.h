/* read_private.h — what the store's read files share (store_readonly.c and the
 * *_read.c of each group of tables). Nothing outside store/ includes it: the contract is
 * store_read.h. */
#ifndef WP_STORE_READ_PRIVATE_H
#define WP_STORE_READ_PRIVATE_H

#include <sqlite3.h>

#include "store_private.h"
#include "store_read.h"

/* Prepares sql on the store's connection; NULL (the error recorded for
 * store_read_error) when SQLite refuses it. Finalize with store__read_end. */
sqlite3_stmt *store__read_prepare(struct store *store, const char *sql);

/* Steps stmt, calling row(ctx, stmt) per row until it returns non-zero; finalizes stmt.
 * WP_OK when every row was read, WP_ERR_NOMEM when row stopped, WP_ERR_DB when SQLite
 * failed (recorded), and WP_ERR_DB when stmt is NULL. */
enum wp_err store__read_rows(struct store *store, sqlite3_stmt *stmt,
                             int (*row)(void *ctx, sqlite3_stmt *stmt), void *ctx);

/* Steps stmt as store__read_rows does, handing fn column 0 as text and column 1 as a
 * number. */
enum wp_err store__read_numbers(struct store *store, sqlite3_stmt *stmt,
                                store_read_number_fn fn, void *ctx);

/* The column as text, "" when NULL. */
const char *store__read_text(sqlite3_stmt *stmt, int column);

#endif
