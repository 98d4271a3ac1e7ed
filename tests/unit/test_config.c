/* The table-driven config loader: defaults, file, command line, errors with file:line. */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

struct demo_config {
    char *ward;
    char *host;
    long long port;
    bool tls;
    int64_t timeout_ms;
};

static const struct wp_config_option table[] = {
    {"ward", WP_CONFIG_STRING, NULL, 0, 0, offsetof(struct demo_config, ward), WP_CONFIG_REQUIRED, "ward code"},
    {"broker_host", WP_CONFIG_STRING, "localhost", 0, 0, offsetof(struct demo_config, host), 0, "broker"},
    {"broker_port", WP_CONFIG_INT, "1883", 1, 65535, offsetof(struct demo_config, port), 0, "port"},
    {"tls", WP_CONFIG_BOOL, "no", 0, 0, offsetof(struct demo_config, tls), 0, "use TLS"},
    {"ack_timeout", WP_CONFIG_DURATION, "30s", 100, 86400000, offsetof(struct demo_config, timeout_ms), 0, "timeout"},
    {0},
};

static char tmpl[] = "/tmp/wp-test-config-XXXXXX";

static const char *write_file(const char *text)
{
    int fd = mkstemp(tmpl);
    if (fd < 0)
        abort();
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return tmpl;
}

/* Loads `text` as a config file with extra argv words; returns the error code. */
static enum wp_err load(const char *text, int extra_argc, char **extra, struct demo_config *cfg,
                        char *err, size_t errlen)
{
    char *argv[16] = {"prog", "-c", (char *)write_file(text)};
    int argc = 3;
    for (int i = 0; i < extra_argc; i++)
        argv[argc++] = extra[i];
    struct wp_cmdline cmd;
    memset(cfg, 0, sizeof *cfg);
    err[0] = '\0';
    enum wp_err rc = wp_config_parse_args(table, argc, argv, &cmd, err, errlen);
    if (rc == WP_OK)
        rc = wp_config_load(table, cfg, &cmd, err, errlen);
    unlink(tmpl);
    strcpy(tmpl, "/tmp/wp-test-config-XXXXXX");
    return rc;
}

int main(void)
{
    struct demo_config cfg;
    char err[512];

    /* defaults and file values, comments and blank lines */
    CHECK(load("# a comment\n\nward 00001\nbroker_port 1884   # port\n", 0, NULL, &cfg, err,
               sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":4: broker_port: '1884   # port' is not a whole number");
    wp_config_free(table, &cfg);

    CHECK(load("# a comment\n\nward 00001\n  broker_port 1884\n", 0, NULL, &cfg, err, sizeof err) == WP_OK);
    CHECK_STR(cfg.ward, "00001");
    CHECK_STR(cfg.host, "localhost");
    CHECK(cfg.port == 1884);
    CHECK(cfg.tls == false);
    CHECK(cfg.timeout_ms == 30000);
    wp_config_free(table, &cfg);
    CHECK(cfg.ward == NULL);

    /* the command line overrides the file, in both spellings */
    char *over[] = {"--broker_port", "2000", "--ack_timeout=250ms", "--tls", "yes", "submit", "--period"};
    struct wp_cmdline cmd;
    CHECK(load("ward 00001\nbroker_port 1884\n", 5, over, &cfg, err, sizeof err) == WP_OK);
    CHECK(cfg.port == 2000);
    CHECK(cfg.timeout_ms == 250);
    CHECK(cfg.tls == true);
    wp_config_free(table, &cfg);

    /* the command word ends the options */
    char *argv[] = {"prog", "--broker_port", "2000", "submit", "--period", "x"};
    CHECK(wp_config_parse_args(table, 6, argv, &cmd, err, sizeof err) == WP_OK);
    CHECK(cmd.command_index == 3);

    /* errors name file and line */
    CHECK(load("ward 00001\nbroker_prot 1884\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: unknown key 'broker_prot'");
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\nbroker_port 70000\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: broker_port: 70000 is out of range (1 .. 65535)");
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\ntls maybe\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: tls: 'maybe' is not yes or no");
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\nack_timeout 5 minutes\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: ack_timeout: '5 minutes' is not a duration");
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\nward 00004\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: ward: set twice");
    wp_config_free(table, &cfg);
    CHECK(load("ward\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":1: ward: missing value");
    wp_config_free(table, &cfg);
    CHECK(load("broker_port 1883\n", 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "required key 'ward' is missing");
    wp_config_free(table, &cfg);
    char *bad[] = {"--nope", "1"};
    CHECK(load("ward 00001\n", 2, bad, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "unknown option --nope");
    wp_config_free(table, &cfg);

    /* a missing file */
    char *argv2[] = {"prog", "-c", "/nonexistent/wardpulse.conf"};
    CHECK(wp_config_parse_args(table, 3, argv2, &cmd, err, sizeof err) == WP_OK);
    CHECK(wp_config_load(table, &cfg, &cmd, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "/nonexistent/wardpulse.conf: cannot open");
    wp_config_free(table, &cfg);

    /* durations */
    int64_t ms;
    CHECK(wp_config_parse_duration("90", &ms) && ms == 90000);
    CHECK(wp_config_parse_duration("2h", &ms) && ms == 7200000);
    CHECK(wp_config_parse_duration("1d", &ms) && ms == 86400000);
    CHECK(!wp_config_parse_duration("-1s", &ms));
    CHECK(!wp_config_parse_duration("1y", &ms));
    CHECK(!wp_config_parse_duration("", &ms));
    return CHECK_DONE();
}
