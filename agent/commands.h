/* commands.h — the commands of wardpulse-agent, one file each.
 *
 * main.c loads the configuration and hands it over; a command only reads it. Each takes
 * the words from its own name on (argv[0] is the command name) and returns the process
 * exit status: 0 success, 1 failure (message already printed), 2 usage error.
 */
#ifndef WP_AGENT_COMMANDS_H
#define WP_AGENT_COMMANDS_H

#include <signal.h>
#include <stdio.h>

#include "agent_config.h"

/* The daemon holds a write lock (fcntl) on the side file outbox_path + this suffix while
 * it runs; `status` tests it (F_GETLK) to tell a running daemon from a dead one. */
#define AGENT_DAEMON_LOCK_SUFFIX ".daemon-lock"

/* Set by main.c's signal handlers (which do nothing else), acted on by the daemon loop. */
extern volatile sig_atomic_t agent_stop_requested;   /* SIGTERM, SIGINT */
extern volatile sig_atomic_t agent_reload_requested; /* SIGHUP */

/* publisher.c: the daemon — publish the outbox, apply acks, until SIGTERM/SIGINT. */
int publisher_run(const struct agent_config *cfg);

/* submit.c: commit one report to the outbox; exit 0 only after the commit. */
int submit_command(const struct agent_config *cfg, int argc, char **argv);
void submit_usage(FILE *out);

/* status_cmd.c: what a ward clerk needs to see: the daemon and its link, queued reports,
 * the oldest one's age, the last ack, refused spool files and rejected reports. Opens
 * the outbox read-only. */
int status_command(const struct agent_config *cfg, int argc, char **argv);

#endif
