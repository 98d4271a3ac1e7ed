/* wardpulse-agent — the ward's agent: takes reports in and delivers them to the district.
 *
 *   wardpulse-agent -c agent.conf [--key value ...] [--test-config] [--help] [COMMAND]
 *
 * Without a command it runs the daemon. Signal handlers only set flags (commands.h);
 * the daemon loop acts on them.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent_config.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "outbox.h"
#include "schema_registry.h"

volatile sig_atomic_t agent_stop_requested;
volatile sig_atomic_t agent_reload_requested;

static void main_on_stop(int sig)
{
    (void)sig;
    agent_stop_requested = 1;
}

static void main_on_hangup(int sig)
{
    (void)sig;
    agent_reload_requested = 1;
}

/* No SA_RESTART: a signal must interrupt the poll inside wp_mqtt_loop so that SIGTERM
 * is acted on at once rather than after the next network event. */
static void main_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = main_on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = main_on_hangup;
    sigaction(SIGHUP, &sa, NULL);
}

static void main_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse-agent -c agent.conf [--key value ...] [--test-config] [COMMAND]\n"
            "\n"
            "Keeps a ward's COVID-19 reports in a local outbox and delivers them to the\n"
            "district's aggregator over MQTT until it acknowledges each one.\n"
            "\n"
            "commands:\n"
            "  (none)   run the daemon: publish queued reports, apply acknowledgements,\n"
            "           take in the files dropped into spool_dir (docs/spool.md): each one\n"
            "           once its writer has closed it or renamed it in (inotify), a CSV\n"
            "           only once its last line is complete; exits 1 if outbox_path is\n"
            "           deleted or replaced under it, before it applies another ack (a\n"
            "           restart opens the file then at the path)\n");
    submit_usage(out);
    fprintf(out,
            "  status\n"
            "      whether the daemon runs and is connected (since when), queued reports and\n"
            "      the oldest one's age, the last acknowledgement, refused spool files and\n"
            "      reports the district rejected; opens the outbox read-only\n"
            "\n"
            "options (also 'key value' lines in the config file):\n"
            "  -c, --config FILE                configuration file\n"
            "  --test-config                    check the configuration and exit\n"
            "  -h, --help / -V, --version\n");
    wp_config_print_help(out, agent_config_options);
}

int main(int argc, char **argv)
{
    outbox_lean_memory();
    char err[1024];
    struct wp_cmdline cmd;
    if (wp_config_parse_args(agent_config_options, argc, argv, &cmd, err, sizeof err) != WP_OK) {
        fprintf(stderr, "wardpulse-agent: %s\n", err);
        return 2;
    }
    if (cmd.help) {
        main_usage(stdout);
        return 0;
    }
    if (cmd.version) {
        printf("wardpulse-agent %s\n", WARDPULSE_VERSION);
        return 0;
    }
    const char *command = cmd.command_index < argc ? argv[cmd.command_index] : NULL;
    if (command && strcmp(command, "submit") != 0 && strcmp(command, "status") != 0) {
        fprintf(stderr, "wardpulse-agent: unknown command '%s' (see --help)\n", command);
        return 2;
    }

    if (command && strcmp(command, "submit") == 0) {
        for (int i = cmd.command_index + 1; i < argc; i++) {
            if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                submit_usage(stdout);
                return 0;
            }
        }
    }

    struct agent_config cfg;
    int status = 1;
    if (agent_config_load(&cfg, &cmd, err, sizeof err) != WP_OK) {
        fprintf(stderr, "wardpulse-agent: %s\n", err);
        goto cleanup;
    }
    if (cmd.test_config) {
        printf("configuration OK\n");
        status = 0;
        goto cleanup;
    }
    char component[32];
    snprintf(component, sizeof component, "agent %s", cfg.ward);
    wp_log_init(component, cfg.daemon.log_level_value);
    /* Before any command reads the time: observed_at, created_at and status's ages all
     * come from the (possibly simulated) clock. */
    wp_daemon_config_apply_clock(&cfg.daemon, WP_LOG_DEBUG);

    int sub_argc = argc - cmd.command_index;
    char **sub_argv = argv + cmd.command_index;
    if (!command) {
        main_install_signals();
        status = publisher_run(&cfg);
    } else if (strcmp(command, "submit") == 0) {
        status = submit_command(&cfg, sub_argc, sub_argv);
    } else {
        status = status_command(&cfg, sub_argc, sub_argv);
    }

cleanup:
    agent_config_free(&cfg);
    wp_schemas_release();
    return status;
}
