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

static const char *write_file(const char *text, size_t len)
{
    int fd = mkstemp(tmpl);
    if (fd < 0)
        abort();
    if (write(fd, text, len) != (ssize_t)len)
        abort();
    close(fd);
    return tmpl;
}

/* Loads the len bytes of text as a config file with extra argv words; returns the error
 * code. With where_key, also writes wp_config_where(where_key) into where. */
static enum wp_err load_n(const char *text, size_t len, int extra_argc, char **extra,
                          struct demo_config *cfg, char *err, size_t errlen,
                          const char *where_key, char *where, size_t wherelen)
{
    char *argv[16] = {"prog", "-c", (char *)write_file(text, len)};
    int argc = 3;
    for (int i = 0; i < extra_argc; i++)
        argv[argc++] = extra[i];
    struct wp_cmdline cmd;
    memset(cfg, 0, sizeof *cfg);
    err[0] = '\0';
    enum wp_err rc = wp_config_parse_args(table, argc, argv, &cmd, err, errlen);
    if (rc == WP_OK)
        rc = wp_config_load(table, cfg, &cmd, err, errlen);
    if (rc == WP_OK && where_key) {
        const char *w = wp_config_where(&cmd, where_key, where, wherelen);
        /* The path is random: keep what follows it. */
        if (strncmp(w, tmpl, strlen(tmpl)) == 0)
            memmove(where, w + strlen(tmpl), strlen(w + strlen(tmpl)) + 1);
    }
    unlink(tmpl);
    strcpy(tmpl, "/tmp/wp-test-config-XXXXXX");
    return rc;
}

static enum wp_err load(const char *text, int extra_argc, char **extra, struct demo_config *cfg,
                        char *err, size_t errlen)
{
    return load_n(text, strlen(text), extra_argc, extra, cfg, err, errlen, NULL, NULL, 0);
}

/* Hostile files: binary data, NUL bytes, huge lines and keys; and wp_config_where. */
static void test_hostile_files(void)
{
    struct demo_config cfg;
    char err[512], where[256];

    /* A NUL byte is binary data, wherever it is: fgets would have cut the line short. */
    static const char nul_at_end[] = "ward 00001\0junk";
    CHECK(load_n(nul_at_end, sizeof nul_at_end - 1, 0, NULL, &cfg, err, sizeof err, NULL,
                 NULL, 0) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":1: not a line of text: a NUL byte at column 11");
    wp_config_free(table, &cfg);
    static const char nul_line[] = "ward 00001\nbroker_host a\0b\nbroker_port 1\n";
    CHECK(load_n(nul_line, sizeof nul_line - 1, 0, NULL, &cfg, err, sizeof err, NULL, NULL, 0)
          == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: not a line of text: a NUL byte at column 14");
    wp_config_free(table, &cfg);

    /* Control characters and bytes that are not UTF-8 are refused, not echoed. */
    CHECK(load("ward 00001\n\x1b[2Jbroker_host x\n", 0, NULL, &cfg, err, sizeof err)
          == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: not a line of text: byte 0x1b at column 1");
    CHECK(strchr(err, 0x1b) == NULL);
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\nbroker_host caf\xe9\n", 0, NULL, &cfg, err, sizeof err)
          == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: not a line of text: byte 0xe9 at column 16");
    wp_config_free(table, &cfg);
    /* ...but UTF-8 text, tabs and CRLF line ends are fine, and so is a byte order mark. */
    CHECK(load("\xef\xbb\xbfward\t00001\r\nbroker_host m\xc3\xa1y-ch\xe1\xbb\xa7.vn\r\n", 0, NULL,
               &cfg, err, sizeof err) == WP_OK);
    CHECK_STR(cfg.ward, "00001");
    CHECK_STR(cfg.host, "m\xc3\xa1y-ch\xe1\xbb\xa7.vn");
    wp_config_free(table, &cfg);

    /* A huge unknown key or value is quoted short. */
    static char big[3000];
    memset(big, 'k', sizeof big - 1);
    CHECK(load(big, 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":1: unknown key 'kkkk");
    CHECK_CONTAINS(err, "kkk...'");
    CHECK(strlen(err) < 200);
    wp_config_free(table, &cfg);
    memcpy(big, "broker_port ", 12);
    CHECK(load(big, 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":1: broker_port: 'kkk");
    CHECK_CONTAINS(err, "kkk...' is not a whole number");
    wp_config_free(table, &cfg);
    static char longline[9000];
    memset(longline, 'x', sizeof longline - 1);
    memcpy(longline, "broker_host ", 12);
    CHECK(load(longline, 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":1: line longer than 4095 bytes");
    wp_config_free(table, &cfg);
    /* Multi-byte characters are not cut in half when quoted. */
    char wide[400] = "broker_port ";
    for (int i = 0; i < 40; i++)
        strcat(wide, "\xe1\xbb\x87");
    CHECK(load(wide, 0, NULL, &cfg, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "\xe1\xbb\x87...' is not a whole number");
    wp_config_free(table, &cfg);

    /* A whole number too large for any bound is out of range, not "not a number". */
    CHECK(load("ward 00001\nbroker_port 99999999999999999999999\n", 0, NULL, &cfg, err,
               sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, ":2: broker_port: 99999999999999999999999 is out of range (1 .. 65535)");
    wp_config_free(table, &cfg);
    CHECK(load("ward 00001\nbroker_port -99999999999999999999999\n", 0, NULL, &cfg, err,
               sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "is out of range (1 .. 65535)");
    wp_config_free(table, &cfg);

    /* A directory is not a configuration file. */
    char *dir_argv[] = {"prog", "-c", "/"};
    struct wp_cmdline cmd;
    CHECK(wp_config_parse_args(table, 3, dir_argv, &cmd, err, sizeof err) == WP_OK);
    CHECK(wp_config_load(table, &cfg, &cmd, err, sizeof err) == WP_ERR_CONFIG);
    CHECK_CONTAINS(err, "/: cannot open: is a directory, not a file");
    wp_config_free(table, &cfg);

    /* wp_config_where: the line of the file, or the command line that won. */
    CHECK(load_n("# c\n\nward 0001\n", 15, 0, NULL, &cfg, err, sizeof err, "ward", where,
                 sizeof where) == WP_OK);
    CHECK_STR(where, ":3");
    wp_config_free(table, &cfg);
    CHECK(load_n("ward 0001\nbroker_port 1\n", 24, 0, NULL, &cfg, err, sizeof err,
                 "broker_host", where, sizeof where) == WP_OK);
    CHECK_STR(where, "");    /* the default: the file alone */
    wp_config_free(table, &cfg);
    char *over[] = {"--ward=00004"};
    CHECK(load_n("ward 0001\n", 10, 1, over, &cfg, err, sizeof err, "ward", where,
                 sizeof where) == WP_OK);
    CHECK_STR(where, "command line");
    wp_config_free(table, &cfg);
}

int main(void)
{
    test_hostile_files();

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
