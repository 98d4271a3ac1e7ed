/* options.c — the reading commands' shared options and their defaults (options.h). */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "file.h"
#include "timefmt.h"
#include "topic.h"

const char cli_common_help[] =
    "  --db PATH        the aggregator's database (default: db_path of the aggregator's\n"
    "                   configuration, else " CLI_DEFAULT_DB_PATH "); opened\n"
    "                   read-only, never created, safe while the daemon runs\n"
    "  --plan DIR       the plan (names, populations, targets; default: plan_dir of the\n"
    "                   configuration)\n"
    "  --district CODE  the district, three digits (default: the configuration's, else\n"
    "                   the plan's)\n"
    "  --config FILE    the aggregator's configuration to take those defaults from\n"
    "                   (default " CLI_DEFAULT_CONFIG ", if it exists)\n"
    "  --now TIME       measure ages and today against TIME (RFC 3339, e.g.\n"
    "                   2022-05-20T18:00:00+07:00), for a database made on a simulated\n"
    "                   clock (default: now)\n";

int cli_option(const char *command, int argc, char **argv, int *i, const char *name,
               const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wardpulse %s: %s needs a value\n", command, name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_common_option(struct cli_common *c, int argc, char **argv, int *i)
{
    static const char *const names[] = {"--db", "--plan", "--district", "--config", "--now"};
    const char **fields[] = {&c->db_path, &c->plan_dir, &c->district, &c->config_path,
                             &c->now_text};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int rc = cli_option(c->command, argc, argv, i, names[k], fields[k]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Reads db_path, plan_dir and district from an aggregator configuration ("key value"
 * lines, '#' comments); the daemon itself checks the rest. */
static int cli_read_config(struct cli_common *c, const char *path, bool must_exist,
                           char *values[3])
{
    static const char *const keys[] = {"db_path", "plan_dir", "district"};
    const char *why;
    errno = 0;
    FILE *f = wp_file_open(path, &why);
    if (!f) {
        if (!must_exist && (errno == ENOENT || errno == EACCES))
            return 0;
        fprintf(stderr, "wardpulse %s: --config %s: %s\n", c->command, path, why);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || *s == '\0')
            continue;
        size_t klen = strcspn(s, " \t\r\n");
        char *v = s + klen;
        v += strspn(v, " \t");
        size_t vlen = strcspn(v, "\r\n");
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        for (int k = 0; k < 3; k++) {
            if (strlen(keys[k]) != klen || strncmp(s, keys[k], klen) != 0 || vlen == 0)
                continue;
            free(values[k]);
            values[k] = strndup(v, vlen);
            if (!values[k]) {
                fclose(f);
                fprintf(stderr, "wardpulse %s: out of memory\n", c->command);
                return 1;
            }
        }
    }
    fclose(f);
    return 0;
}

int cli_common_finish(struct cli_common *c)
{
    const char *config = c->config_path ? c->config_path : CLI_DEFAULT_CONFIG;
    if (cli_read_config(c, config, c->config_path != NULL, c->owned) != 0)
        return 1;
    if (!c->db_path)
        c->db_path = c->owned[0] ? c->owned[0] : CLI_DEFAULT_DB_PATH;
    if (!c->plan_dir)
        c->plan_dir = c->owned[1];
    if (c->plan_dir && !*c->plan_dir)
        c->plan_dir = NULL;   /* --plan "": no plan, whatever the configuration says */
    if (!c->district)
        c->district = c->owned[2];
    if (c->district && (strlen(c->district) != 3 || !wp_unit_code_valid(c->district))) {
        fprintf(stderr, "wardpulse %s: --district: '%s' is not a district code (three "
                "digits, e.g. 001)\n", c->command, c->district);
        return 2;
    }
    if (c->now_text) {
        if (!wp_datetime_parse(c->now_text, &c->now_ms)) {
            fprintf(stderr, "wardpulse %s: --now: '%s' is not an RFC 3339 time (e.g. "
                    "2022-05-20T18:00:00+07:00)\n", c->command, c->now_text);
            return 2;
        }
    } else {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        c->now_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    }
    return 0;
}

void cli_common_free(struct cli_common *c)
{
    for (int k = 0; k < 3; k++) {
        free(c->owned[k]);
        c->owned[k] = NULL;
    }
}
