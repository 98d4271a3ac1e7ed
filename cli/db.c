/* db.c — the aggregator's database, read-only, through the store (db.h). */
#include "db.h"

#include <stdio.h>

struct store *cli_db_open(const char *command, const char *path, int min_version)
{
    struct store *store = NULL;
    char err[1024];
    if (store_open_readonly(path, min_version, &store, err, sizeof err) != WP_OK)
        fprintf(stderr, "wardpulse %s: %s\n", command, err);
    return store;
}

int cli_db_fail(struct store *store, const char *command, enum wp_err err)
{
    fprintf(stderr, "wardpulse %s: %s\n", command,
            err == WP_ERR_NOMEM ? "out of memory" : store_read_error(store));
    return 1;
}
