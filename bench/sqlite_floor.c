/* wardpulse-sqlite-floor — what SQLite alone costs a process in memory, the floor under
 * the agent's idle RSS (bench/ingest.py, scenario "agent").
 *
 * Contract: opens the SQLite file named by argv[1] read-write, switches it to WAL and runs
 * one SELECT on sqlite_master, as little as any outbox on SQLite does; prints "ready" on
 * stdout and sleeps until SIGTERM or SIGINT. Its mappings of libsqlite3 and libm (which
 * libsqlite3 loads) are then what any program using Debian's SQLite carries, whatever it
 * does with it: the connection's set-up touches code in nearly every 64 KB stretch of the
 * library (built-in extensions register themselves at each open), and the kernel maps
 * library pages 64 KB around each touched one.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

static void on_signal(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wardpulse-sqlite-floor FILE\n");
        return 2;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_master", NULL,
                     NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "wardpulse-sqlite-floor: %s: %s\n", argv[1], sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    pause();
    sqlite3_close(db);
    return 0;
}
