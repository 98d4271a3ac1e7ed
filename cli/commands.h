/* commands.h — the subcommands of `wardpulse`, one file each (cli/<command>.c).
 *
 * Each takes the words after its name (argv[0] is the command name) and returns the
 * process exit status: 0 success, 1 failure (message already printed), 2 usage error.
 */
#ifndef WP_CLI_COMMANDS_H
#define WP_CLI_COMMANDS_H

int cli_status(int argc, char **argv);    /* status.c:   the district at a glance */
int cli_alerts(int argc, char **argv);    /* alerts.c:   alerts firing and resolved */
int cli_export(int argc, char **argv);    /* export.c:   stored values as csv or json */
int cli_report(int argc, char **argv);    /* report.c:   the weekly district summary */
int cli_validate(int argc, char **argv);  /* validate.c: check a JSON file against a schema */

#endif
