/* config.c — the table-driven loader of config.h: defaults, file, command line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 4096

static const struct wp_config_option *find_option(const struct wp_config_option *table,
                                                  const char *name, size_t len)
{
    for (const struct wp_config_option *o = table; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

bool wp_config_parse_duration(const char *text, int64_t *ms)
{
    static const struct { const char *suffix; int64_t factor; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1000},
    };
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || errno || n < 0 || !isdigit((unsigned char)text[0]))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            if (n > INT64_MAX / units[i].factor)
                return false;
            *ms = n * units[i].factor;
            return true;
        }
    }
    return false;
}

static bool parse_bool(const char *text, bool *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Stores `value` into the field of `o`. `where` is "file:line" or "command line". */
static enum wp_err set_value(const struct wp_config_option *o, void *target, const char *value,
                             const char *where, char *err, size_t errlen)
{
    char *field = (char *)target + o->offset;
    bool bounded = o->min != 0 || o->max != 0;

    switch (o->type) {
    case WP_CONFIG_STRING: {
        char *copy = strdup(value);
        if (!copy)
            return WP_ERR_NOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return WP_OK;
    }
    case WP_CONFIG_INT: {
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        if (end == value || *end || errno) {
            snprintf(err, errlen, "%s: %s: '%s' is not a whole number", where, o->name, value);
            return WP_ERR_CONFIG;
        }
        if (bounded && (n < o->min || n > o->max)) {
            snprintf(err, errlen, "%s: %s: %lld is out of range (%lld .. %lld)", where, o->name,
                     n, o->min, o->max);
            return WP_ERR_CONFIG;
        }
        *(long long *)field = n;
        return WP_OK;
    }
    case WP_CONFIG_BOOL:
        if (!parse_bool(value, (bool *)field)) {
            snprintf(err, errlen, "%s: %s: '%s' is not yes or no", where, o->name, value);
            return WP_ERR_CONFIG;
        }
        return WP_OK;
    case WP_CONFIG_DURATION: {
        int64_t ms;
        if (!wp_config_parse_duration(value, &ms)) {
            snprintf(err, errlen, "%s: %s: '%s' is not a duration (e.g. 500ms, 30s, 5m, 2h)",
                     where, o->name, value);
            return WP_ERR_CONFIG;
        }
        if (bounded && (ms < o->min || ms > o->max)) {
            snprintf(err, errlen, "%s: %s: %s is out of range (%lldms .. %lldms)", where,
                     o->name, value, o->min, o->max);
            return WP_ERR_CONFIG;
        }
        *(int64_t *)field = ms;
        return WP_OK;
    }
    }
    return WP_ERR_CONFIG;
}

enum wp_err wp_config_parse_args(const struct wp_config_option *table, int argc, char **argv,
                                 struct wp_cmdline *cmd, char *err, size_t errlen)
{
    memset(cmd, 0, sizeof *cmd);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-')
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cmd->help = true;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            cmd->version = true;
        } else if (strcmp(a, "--test-config") == 0) {
            cmd->test_config = true;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s needs a file name", a);
                return WP_ERR_CONFIG;
            }
            cmd->config_path = argv[++i];
        } else if (strncmp(a, "--", 2) == 0) {
            const char *key = a + 2, *eq = strchr(key, '=');
            size_t keylen = eq ? (size_t)(eq - key) : strlen(key);
            const char *value;
            if (!find_option(table, key, keylen)) {
                snprintf(err, errlen, "unknown option --%.*s (see --help)", (int)keylen, key);
                return WP_ERR_CONFIG;
            }
            if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                snprintf(err, errlen, "--%s needs a value", key);
                return WP_ERR_CONFIG;
            }
            if (cmd->override_count == (int)(sizeof cmd->overrides / sizeof cmd->overrides[0])) {
                snprintf(err, errlen, "too many --key value options");
                return WP_ERR_CONFIG;
            }
            /* The key points into argv; its length is recovered from the table entry. */
            cmd->overrides[cmd->override_count].key = key;
            cmd->overrides[cmd->override_count].value = value;
            cmd->override_count++;
        } else {
            snprintf(err, errlen, "unknown option %s (see --help)", a);
            return WP_ERR_CONFIG;
        }
    }
    cmd->command_index = i;
    return WP_OK;
}

static enum wp_err apply_defaults(const struct wp_config_option *table, void *target, char *err,
                                  size_t errlen)
{
    for (const struct wp_config_option *o = table; o->name; o++) {
        if (!o->default_value)
            continue;
        enum wp_err rc = set_value(o, target, o->default_value, "default", err, errlen);
        if (rc != WP_OK)
            return rc;
    }
    return WP_OK;
}

/* Trims leading and trailing white space in place; returns the start. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static enum wp_err load_file(const struct wp_config_option *table, void *target, const char *path,
                             bool *seen, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return WP_ERR_CONFIG;
    }
    char line[LINE_MAX_BYTES], where[512];
    enum wp_err rc = WP_OK;
    for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s: line longer than %d bytes", where, LINE_MAX_BYTES - 1);
            rc = WP_ERR_CONFIG;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *key = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
        char *value = trim(s);
        const struct wp_config_option *o = find_option(table, key, strlen(key));
        if (!o) {
            snprintf(err, errlen, "%s: unknown key '%s'", where, key);
            rc = WP_ERR_CONFIG;
            break;
        }
        if (*value == '\0') {
            snprintf(err, errlen, "%s: %s: missing value", where, key);
            rc = WP_ERR_CONFIG;
            break;
        }
        if (seen[o - table]) {
            snprintf(err, errlen, "%s: %s: set twice", where, key);
            rc = WP_ERR_CONFIG;
            break;
        }
        seen[o - table] = true;
        rc = set_value(o, target, value, where, err, errlen);
        if (rc != WP_OK)
            break;
    }
    if (rc == WP_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = WP_ERR_CONFIG;
    }
    fclose(f);
    return rc;
}

enum wp_err wp_config_load(const struct wp_config_option *table, void *target,
                           const struct wp_cmdline *cmd, char *err, size_t errlen)
{
    size_t count = 0;
    while (table[count].name)
        count++;
    bool *seen = calloc(count + 1, sizeof *seen);
    if (!seen)
        return WP_ERR_NOMEM;

    enum wp_err rc = apply_defaults(table, target, err, errlen);
    if (rc == WP_OK && cmd->config_path)
        rc = load_file(table, target, cmd->config_path, seen, err, errlen);
    for (int i = 0; rc == WP_OK && i < cmd->override_count; i++) {
        const char *key = cmd->overrides[i].key, *eq = strchr(key, '=');
        const struct wp_config_option *o =
            find_option(table, key, eq ? (size_t)(eq - key) : strlen(key));
        if (!o) { /* parse_args checked; a different table was passed */
            snprintf(err, errlen, "command line: unknown option --%s", key);
            rc = WP_ERR_CONFIG;
            break;
        }
        seen[o - table] = true;
        rc = set_value(o, target, cmd->overrides[i].value, "command line", err, errlen);
    }
    for (size_t i = 0; rc == WP_OK && i < count; i++) {
        if ((table[i].flags & WP_CONFIG_REQUIRED) && !seen[i] && !table[i].default_value) {
            if (cmd->config_path)
                snprintf(err, errlen, "%s: required key '%s' is missing", cmd->config_path,
                         table[i].name);
            else
                snprintf(err, errlen, "required setting '%s' is missing (give -c FILE or --%s)",
                         table[i].name, table[i].name);
            rc = WP_ERR_CONFIG;
        }
    }
    free(seen);
    return rc;
}

void wp_config_free(const struct wp_config_option *table, void *target)
{
    for (const struct wp_config_option *o = table; o->name; o++) {
        if (o->type == WP_CONFIG_STRING) {
            char **field = (char **)((char *)target + o->offset);
            free(*field);
            *field = NULL;
        }
    }
}

void wp_config_print_help(FILE *out, const struct wp_config_option *table)
{
    static const char *type_names[] = {"TEXT", "NUMBER", "yes|no", "DURATION"};
    for (const struct wp_config_option *o = table; o->name; o++) {
        char flag[96];
        snprintf(flag, sizeof flag, "--%s %s", o->name, type_names[o->type]);
        fprintf(out, "  %-32s %s", flag, o->description);
        if (o->default_value)
            fprintf(out, " (default: %s)", o->default_value);
        else if (o->flags & WP_CONFIG_REQUIRED)
            fprintf(out, " (required)");
        fputc('\n', out);
    }
}
