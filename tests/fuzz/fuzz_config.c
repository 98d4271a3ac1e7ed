/* fuzz_config.c — configuration loading on arbitrary bytes, through the real option
 * tables and checks of both daemons (agent/agent_config.c, aggregator/aggregator_config.c):
 *   1. the input as the file given with -c;
 *   2. the input's lines as command-line words (`--key value` overrides, -c, --help…),
 *      with any -c pointing at the same file (never at a path the input names).
 * Contract (config.h): success leaves a configuration that passed every check the
 * daemon relies on; failure leaves a reason; nothing leaks either way.
 */
#include <stdint.h>
#include <unistd.h>

#include "agent_config.h"
#include "aggregator_config.h"
#include "fuzz_common.h"

#define FUZZ_MAX_WORDS 48

static char fuzz_path[] = "/tmp/wardpulse-fuzz-config-XXXXXX";

static void fuzz_remove_file(void)
{
    unlink(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    int fd = mkstemp(fuzz_path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(fd);
    atexit(fuzz_remove_file);
    return 0;
}

static void fuzz_write_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(fuzz_path);
        abort();
    }
}

static int fuzz_digits(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void fuzz_agent(int argc, char **argv)
{
    struct wp_cmdline cmd;
    char err[1024] = "";
    if (wp_config_parse_args(agent_config_options, argc, argv, &cmd, err, sizeof err) != WP_OK) {
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0], "no reason for bad arguments");
        return;
    }
    if (cmd.config_path)
        cmd.config_path = fuzz_path;
    struct agent_config cfg;
    enum wp_err rc = agent_config_load(&cfg, &cmd, err, sizeof err);
    if (rc == WP_OK) {
        /* A ward's agent (five digits), or a district's own agent that reports the
         * district's rolled-up figures to the city (three). */
        FUZZ_CHECK(fuzz_digits(cfg.ward, 5) || fuzz_digits(cfg.ward, 3), "ward '%s' accepted",
                   cfg.ward);
        FUZZ_CHECK(cfg.client_id && cfg.client_id[0], "no client id");
        FUZZ_CHECK(cfg.daemon.broker_port >= 1 && cfg.daemon.broker_port <= 65535, "port %lld",
                   cfg.daemon.broker_port);
        FUZZ_CHECK(cfg.outbox_path && cfg.outbox_path[0], "empty outbox path");
        FUZZ_CHECK(cfg.daemon.log_level_value >= 0, "log level");
        FUZZ_CHECK(!cfg.daemon.clock_stop || cfg.daemon.clock_stop_ms > cfg.daemon.clock_start_ms,
                   "clock_stop %s not after clock_start", cfg.daemon.clock_stop);
        FUZZ_CHECK((cfg.daemon.certfile == NULL) == (cfg.daemon.keyfile == NULL), "certfile without keyfile");
    } else {
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0], "no reason for a bad config");
    }
    agent_config_free(&cfg);
}

static void fuzz_aggregator(int argc, char **argv)
{
    struct wp_cmdline cmd;
    char err[1024] = "";
    if (wp_config_parse_args(aggregator_config_options, argc, argv, &cmd, err, sizeof err)
        != WP_OK) {
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0], "no reason for bad arguments");
        return;
    }
    if (cmd.config_path)
        cmd.config_path = fuzz_path;
    struct aggregator_config cfg;
    enum wp_err rc = aggregator_config_load(&cfg, &cmd, err, sizeof err);
    if (rc == WP_OK) {
        /* A district aggregator's district; a city aggregator may have none. */
        FUZZ_CHECK(cfg.district == NULL || fuzz_digits(cfg.district, 3),
                   "district '%s' accepted", cfg.district);
        FUZZ_CHECK(cfg.db_path && cfg.db_path[0] && cfg.client_id && cfg.client_id[0],
                   "empty db_path or client_id");
        FUZZ_CHECK(cfg.batch_max >= 1 && cfg.max_payload >= 256, "bounds");
        FUZZ_CHECK(cfg.daemon.log_level_value >= 0, "log level");
    } else {
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0], "no reason for a bad config");
    }
    aggregator_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(data, size);

    /* 1. The input is the configuration file. */
    char prog[] = "wardpulse", opt_c[] = "-c";
    char *file_argv[] = {prog, opt_c, fuzz_path, NULL};
    fuzz_agent(3, file_argv);
    fuzz_aggregator(3, file_argv);

    /* 2. The input's lines are the command line (after the program name). */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[FUZZ_MAX_WORDS + 2] = {prog};
    int argc = 1;
    for (char *line = copy; line && argc <= FUZZ_MAX_WORDS;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        argv[argc++] = line;
        line = next;
    }
    argv[argc] = NULL;
    fuzz_agent(argc, argv);
    fuzz_aggregator(argc, argv);
    free(copy);
    return 0;
}
