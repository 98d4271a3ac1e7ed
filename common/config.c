/* config.c — the table-driven loader of config.h: defaults, file, command line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "utf8.h"

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


#define SHOWN_MAX 64   /* bytes of a user's word quoted in a message */

/* A copy of text fit to quote in a message: at most SHOWN_MAX bytes of it, cut on a
 * character boundary and marked "..." when cut; control characters and bytes that are
 * not UTF-8 (possible on the command line) written as \xNN. Returns buf. */
static const char *shown(const char *text, char *buf, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), used = 0, i = 0;
    buf[0] = '\0';
    while (i < len && i < SHOWN_MAX) {
        size_t step = 1;
        char piece[8];
        if (s[i] < 0x20 || s[i] == 0x7f) {
            snprintf(piece, sizeof piece, "\\x%02x", s[i]);
        } else if (s[i] < 0x80) {
            piece[0] = (char)s[i];
            piece[1] = '\0';
        } else {
            size_t n = wp_utf8_sequence_length(s + i, len - i);
            step = n ? n : 1;
            if (n == 0)
                snprintf(piece, sizeof piece, "\\x%02x", s[i]);
            else {
                memcpy(piece, s + i, step);
                piece[step] = '\0';
            }
        }
        size_t n = strlen(piece);
        if (used + n + 4 > size)
            break;
        memcpy(buf + used, piece, n + 1);
        used += n;
        i += step;
    }
    if (i < len && used + 4 <= size)
        memcpy(buf + used, "...", 4);
    return buf;
}

/* Stores `value` into the field of `o`. `where` is "file:line" or "command line". */
static enum wp_err set_value(const struct wp_config_option *o, void *target, const char *value,
                             const char *where, char *err, size_t errlen)
{
    char *field = (char *)target + o->offset;
    bool bounded = o->min != 0 || o->max != 0;
    char quoted[SHOWN_MAX * 4 + 8];

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
        if (end == value || *end || (errno && errno != ERANGE)) {
            snprintf(err, errlen, "%s: %s: '%s' is not a whole number", where, o->name,
                     shown(value, quoted, sizeof quoted));
            return WP_ERR_CONFIG;
        }
        if (errno == ERANGE) {   /* a whole number, beyond any bound */
            if (bounded)
                snprintf(err, errlen, "%s: %s: %s is out of range (%lld .. %lld)", where,
                         o->name, shown(value, quoted, sizeof quoted), o->min, o->max);
            else
                snprintf(err, errlen, "%s: %s: %s is too large", where, o->name,
                         shown(value, quoted, sizeof quoted));
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
            snprintf(err, errlen, "%s: %s: '%s' is not yes or no", where, o->name,
                     shown(value, quoted, sizeof quoted));
            return WP_ERR_CONFIG;
        }
        return WP_OK;
    case WP_CONFIG_DURATION: {
        int64_t ms;
        if (!wp_config_parse_duration(value, &ms)) {
            snprintf(err, errlen, "%s: %s: '%s' is not a duration (e.g. 500ms, 30s, 5m, 2h)",
                     where, o->name, shown(value, quoted, sizeof quoted));
            return WP_ERR_CONFIG;
        }
        if (bounded && (ms < o->min || ms > o->max)) {
            snprintf(err, errlen, "%s: %s: %s is out of range (%lldms .. %lldms)", where,
                     o->name, shown(value, quoted, sizeof quoted), o->min, o->max);
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

enum line_status { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_READ_ERROR };

/* Reads one line of f into buf (without its newline, NUL-terminated). fgets cannot tell
 * a NUL byte in the file from the end of its buffer, so a binary file would be cut short
 * silently, or called a long line; here a NUL byte is LINE_NUL with *column (1-based) at
 * it. A line that does not fit is LINE_TOO_LONG. */
static enum line_status read_line(FILE *f, char *buf, size_t size, size_t *column)
{
    size_t n = 0;
    int c = EOF;
    bool any = false;
    while ((c = getc(f)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (c == '\0') {
            *column = n + 1;
            return LINE_NUL;
        }
        if (n + 1 >= size)
            return LINE_TOO_LONG;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    if (c == EOF && ferror(f))
        return LINE_READ_ERROR;
    return any ? LINE_OK : LINE_EOF;
}

/* A configuration line is UTF-8 text: no control characters but tab (and the CR of a
 * CRLF file). On failure says where and what, so that a binary file given by mistake is
 * refused at its first line rather than echoed back to the terminal as a "key". */
static bool line_is_text(const char *line, const char *where, char *err, size_t errlen)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t len = strlen(line), bad = wp_utf8_invalid_at(s, len);
    for (size_t i = 0; i < bad; i++) {
        if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r') || s[i] == 0x7f) {
            bad = i;
            break;
        }
    }
    if (bad == len)
        return true;
    snprintf(err, errlen, "%s: not a line of text: byte 0x%02x at column %zu (is this a "
             "configuration file?)", where, s[bad], bad + 1);
    return false;
}

static enum wp_err load_file(const struct wp_config_option *table, void *target, const char *path,
                             bool *seen, char *err, size_t errlen)
{
    const char *why;
    FILE *f = wp_file_open(path, &why);
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, why);
        return WP_ERR_CONFIG;
    }
    char line[LINE_MAX_BYTES], where[512], quoted[SHOWN_MAX * 4 + 8];
    enum wp_err rc = WP_OK;
    for (int lineno = 1;; lineno++) {
        size_t column = 0;
        enum line_status status = read_line(f, line, sizeof line, &column);
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (status == LINE_EOF)
            break;
        if (status == LINE_READ_ERROR) {
            snprintf(err, errlen, "%s: cannot read: %s", where, strerror(errno));
            rc = WP_ERR_CONFIG;
            break;
        }
        if (status == LINE_NUL) {
            snprintf(err, errlen, "%s: not a line of text: a NUL byte at column %zu (is this "
                     "a configuration file?)", where, column);
            rc = WP_ERR_CONFIG;
            break;
        }
        if (status == LINE_TOO_LONG) {
            snprintf(err, errlen, "%s: line longer than %d bytes", where, LINE_MAX_BYTES - 1);
            rc = WP_ERR_CONFIG;
            break;
        }
        /* A byte order mark, as some Windows editors write, is not part of the first key. */
        char *s = line;
        if (lineno == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        if (!line_is_text(s, where, err, errlen)) {
            rc = WP_ERR_CONFIG;
            break;
        }
        s = trim(s);
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
            snprintf(err, errlen, "%s: unknown key '%s'", where, shown(key, quoted, sizeof quoted));
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

const char *wp_config_type_name(enum wp_config_type type)
{
    switch (type) {
    case WP_CONFIG_STRING: return "TEXT";
    case WP_CONFIG_INT: return "NUMBER";
    case WP_CONFIG_BOOL: return "yes|no";
    case WP_CONFIG_DURATION: return "DURATION";
    }
    return "VALUE";
}

void wp_config_print_help(FILE *out, const struct wp_config_option *table)
{
    for (const struct wp_config_option *o = table; o->name; o++) {
        char flag[96];
        snprintf(flag, sizeof flag, "--%s %s", o->name, wp_config_type_name(o->type));
        fprintf(out, "  %-32s %s", flag, o->description);
        if (o->default_value)
            fprintf(out, " (default: %s)", o->default_value);
        else if (o->flags & WP_CONFIG_REQUIRED)
            fprintf(out, " (required)");
        fputc('\n', out);
    }
}

const char *wp_config_where(const struct wp_cmdline *cmd, const char *key, char *buf,
                            size_t size)
{
    size_t keylen = strlen(key);
    for (int i = 0; i < cmd->override_count; i++) {
        const char *k = cmd->overrides[i].key;
        if (strncmp(k, key, keylen) == 0 && (k[keylen] == '\0' || k[keylen] == '=')) {
            snprintf(buf, size, "command line");
            return buf;
        }
    }
    if (!cmd->config_path) {
        snprintf(buf, size, "command line");
        return buf;
    }
    snprintf(buf, size, "%s", cmd->config_path);
    /* The file loaded a moment ago: find the line of the key (it appears once). */
    const char *why;
    FILE *f = wp_file_open(cmd->config_path, &why);
    if (!f)
        return buf;
    char line[LINE_MAX_BYTES];
    size_t column;
    for (int lineno = 1; read_line(f, line, sizeof line, &column) == LINE_OK; lineno++) {
        char *s = line;
        if (lineno == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        s = trim(s);
        if (strncmp(s, key, keylen) == 0 && (s[keylen] == '\0' || isspace((unsigned char)s[keylen]))) {
            snprintf(buf, size, "%s:%d", cmd->config_path, lineno);
            break;
        }
    }
    fclose(f);
    return buf;
}
