/* config.h — table-driven configuration, as in STYLE.md.
 *
 * A program describes its settings in a table of struct wp_config_option (name, type,
 * default, bounds, offset into its own config struct, description). The loader then
 *   1. sets every default,
 *   2. reads the file given with -c/--config: `key value` lines, `#` comments, blank
 *      lines; an unknown key, a repeated key or a bad value is an error naming file:line,
 *   3. applies `--key value` (or `--key=value`) from the command line over the file,
 *   4. checks that every WP_CONFIG_REQUIRED key got a value.
 * The same table prints --help, so the descriptions are the documentation.
 *
 * Command line accepted by wp_config_parse_args():
 *   PROG [-c FILE] [--key value ...] [--test-config] [-h|--help] [-V|--version] [COMMAND [ARGS...]]
 * Options stop at the first word that does not start with '-' (the command) or at "--".
 */
#ifndef WP_CONFIG_H
#define WP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

enum wp_config_type {
    WP_CONFIG_STRING,    /* char *, heap copy owned by the config struct (wp_config_free) */
    WP_CONFIG_INT,       /* long long, within [min, max] */
    WP_CONFIG_BOOL,      /* bool: yes/no, true/false, on/off, 1/0 */
    WP_CONFIG_DURATION,  /* int64_t milliseconds: "250ms", "30s", "5m", "2h", "1d"; bare number = seconds; within [min, max] ms */
};

#define WP_CONFIG_REQUIRED 0x1u

struct wp_config_option {
    const char *name;
    enum wp_config_type type;
    const char *default_value;  /* NULL: unset (STRING stays NULL, others 0) */
    long long min, max;         /* INT and DURATION bounds; ignored when min == max == 0 */
    size_t offset;              /* offsetof(struct your_config, field) */
    unsigned flags;
    const char *description;
};

/* What wp_config_parse_args() found on the command line. */
struct wp_cmdline {
    const char *config_path;    /* -c/--config, or NULL */
    bool test_config;           /* --test-config: load, check, print "configuration OK", exit */
    bool help;
    bool version;
    int command_index;          /* argv index of the command word, or argc if none */
    /* private: --key value overrides, applied by wp_config_load */
    int override_count;
    struct { const char *key, *value; } overrides[64];
};

/* Scans argv (not modified). Unknown `--key` not in table is an error. */
enum wp_err wp_config_parse_args(const struct wp_config_option *table, int argc, char **argv,
                                 struct wp_cmdline *cmd, char *err, size_t errlen);

/* Steps 1–4 above into `target`. On error err says e.g.
 *   "agent.conf:7: broker_port: 70000 is out of range (1 .. 65535)". */
enum wp_err wp_config_load(const struct wp_config_option *table, void *target,
                           const struct wp_cmdline *cmd, char *err, size_t errlen);

/* Where the setting `key` of a loaded configuration came from, for a message about a
 * value only the program can judge (a ward code, a district): "FILE:LINE" when the file
 * set it, "command line" when --key did (which wins), else FILE ("command line" without
 * one). Writes into buf and returns it, e.g.
 *   "agent.conf:1: ward: '0001' is not a ward code (five digits, e.g. 00001)". */
const char *wp_config_where(const struct wp_cmdline *cmd, const char *key, char *buf,
                            size_t size);

/* Frees the STRING fields of target and NULLs them. */
void wp_config_free(const struct wp_config_option *table, void *target);

/* What a value of this type is written as, for --help and the man pages: "TEXT",
 * "NUMBER", "yes|no" or "DURATION". A static string. */
const char *wp_config_type_name(enum wp_config_type type);

/* Prints one entry per option: "  --name VALUE   description (default: x)". */
void wp_config_print_help(FILE *out, const struct wp_config_option *table);

/* Parses a duration as described above; false on a bad value. */
bool wp_config_parse_duration(const char *text, int64_t *ms);

#endif
