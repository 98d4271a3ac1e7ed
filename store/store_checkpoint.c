/* store_checkpoint.c — the WAL's checkpoints, on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that
 * commit then copies the whole WAL (up to 40 MB here) into the database file before it
 * returns, and every report of the batch waits for it to be acked. At a steady half of
 * the aggregator's capacity that was the whole tail of the ack latency (p99 ~140 ms;
 * ~40 ms with no checkpoint during the run; bench/RESULTS.md). So the writer's
 * connection has no automatic checkpoint; its WAL hook wakes a thread that checkpoints
 * over a connection of its own (SQLITE_CHECKPOINT_PASSIVE: it copies what it can without
 * waiting for any lock, while the writer goes on appending to the WAL). Durability does
 * not change: a commit is on disk when it is in the WAL (synchronous=FULL).
 *
 * The WAL starts again from its beginning at the first write after a checkpoint that
 * caught up with it. A writer that never pauses could keep the thread from ever catching
 * up; past STORE_CHECKPOINT_BACKSTOP times the threshold the writer checkpoints inline,
 * as SQLite would, so the WAL stays bounded whatever happens. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_private.h"

/* WAL pages (4 KB) before a checkpoint: 40 MB. SQLite's own default of 1,000 made the
 * writer slower on a large database (issue 13's measurements: +35-50 % at 10,000). */
#define STORE_CHECKPOINT_PAGES 10000
#define STORE_CHECKPOINT_BACKSTOP 4

struct store_checkpointer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool requested;           /* the WAL crossed the threshold since the last pass began */
    bool stopping;
    int64_t passes;           /* checkpoints the thread ran */
    bool failing;             /* the last pass failed (said once, until one succeeds) */
    sqlite3 *db;              /* the thread's own connection */
    char *path;
    int threshold;            /* pages */
};

static void *checkpointer_main(void *arg)
{
    struct store_checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->requested && !c->stopping)
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping)
            break;
        c->requested = false;
        pthread_mutex_unlock(&c->lock);
        int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL,
                                           NULL);
        /* A failure here (the disk full) loses nothing: the frames stay in the WAL, the
         * next pass or the writer's own backstop tries again. Said when it starts and
         * when it ends, not at every batch's pass. */
        bool failed = rc != SQLITE_OK && rc != SQLITE_BUSY;
        if (failed && !c->failing)
            wp_log(WP_LOG_WARNING, "checkpointing %s: %s; the WAL grows until a checkpoint "
                   "succeeds", c->path, sqlite3_errmsg(c->db));
        else if (!failed && c->failing)
            wp_log(WP_LOG_NOTICE, "checkpointing %s works again", c->path);
        c->failing = failed;
        pthread_mutex_lock(&c->lock);
        c->passes++;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* The writer's WAL hook, after each of its commits: pages = frames now in the WAL. */
static int checkpointer_wal_hook(void *ctx, sqlite3 *db, const char *schema, int pages)
{
    struct store_checkpointer *c = ctx;
    if (pages >= c->threshold * STORE_CHECKPOINT_BACKSTOP) {
        wp_log(WP_LOG_DEBUG, "the WAL of %s holds %d pages: checkpointing it here", c->path,
               pages);
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= c->threshold) {
        pthread_mutex_lock(&c->lock);
        c->requested = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

enum wp_err store__checkpointer_start(struct store *store)
{
    struct store_checkpointer *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(store->path))) {
        free(c);
        snprintf(store->errmsg, sizeof store->errmsg, "out of memory");
        return WP_ERR_NOMEM;
    }
    c->threshold = STORE_CHECKPOINT_PAGES;
    int rc = sqlite3_open_v2(store->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(store->errmsg, sizeof store->errmsg, "opening the checkpoint connection: %s",
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c->path);
        free(c);
        return WP_ERR_DB;
    }
    /* Its own connection never writes a transaction: no checkpoint at its close either
     * (the writer's close makes the last one, under the store's lock). */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    /* Signals are the main thread's (its ppoll waits with them unblocked): the thread
     * starts with every signal blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&c->thread, NULL, checkpointer_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        snprintf(store->errmsg, sizeof store->errmsg, "starting the checkpoint thread: %s",
                 strerror(prc));
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        sqlite3_close(c->db);
        free(c->path);
        free(c);
        return WP_ERR_NOMEM;
    }
    store->checkpointer = c;
    sqlite3_wal_hook(store->db, checkpointer_wal_hook, c);
    return WP_OK;
}

void store__checkpointer_stop(struct store *store)
{
    struct store_checkpointer *c = store->checkpointer;
    if (!c)
        return;
    sqlite3_wal_hook(store->db, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->path);
    free(c);
    store->checkpointer = NULL;
}

void store_set_checkpoint_pages(struct store *store, int pages)
{
    /* Read by the WAL hook only, which runs on the writer's thread, as this does. */
    if (store->checkpointer && pages >= 1)
        store->checkpointer->threshold = pages;
}

int64_t store_checkpoint_passes(const struct store *store)
{
    struct store_checkpointer *c = store->checkpointer;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    int64_t n = c->passes;
    pthread_mutex_unlock(&c->lock);
    return n;
}
