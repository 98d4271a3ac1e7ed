/* submit.c — `wardpulse-agent submit`: one report into the outbox, durably.
 *
 *   submit --period P [--value IND=N ...] [--task ID=STATE ...] [--note TEXT]
 *   submit --file report.json
 *
 * The report is validated with the aggregator's own decoder before anything is written,
 * and "queued" is printed only after the outbox commit returned, so a clerk who saw it
 * can switch the PC off.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "intake.h"
#include "outbox.h"
#include "report.h"

#define SUBMIT_FILE_MAX (1024 * 1024)
#define SUBMIT_JSON_INT_MAX 9007199254740991LL /* 2^53 - 1: exact in a JSON number */

void submit_usage(FILE *out)
{
    fprintf(out,
            "  submit --period P [--value INDICATOR=N ...] [--task TASK=STATE ...] [--note TEXT]\n"
            "  submit --file REPORT.json\n"
            "      queue one report; P is a day (2022-05-03) or an ISO week (2022-W18);\n"
            "      STATE is not_started, in_progress or done; the file holds a JSON object\n"
            "      with period, values, tasks, note (v, stream, seq, observed_at and\n"
            "      committed_at are assigned by the agent). Prints the report's seq once\n"
            "      it is safely stored.\n");
}

/* Splits "key=value" at the first '='; false if either side is empty. */
static bool submit_split(char *arg, char **key, char **value)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg || eq[1] == '\0')
        return false;
    *eq = '\0';
    *key = arg;
    *value = eq + 1;
    return true;
}

static int submit_add_value(cJSON *values, char *arg)
{
    char copy[512];
    char *name, *text;
    snprintf(copy, sizeof copy, "%s", arg);
    if (!submit_split(copy, &name, &text)) {
        fprintf(stderr, "submit: --value %s: expected INDICATOR=NUMBER\n", arg);
        return 2;
    }
    errno = 0;
    char *end = NULL;
    long long n = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "submit: values.%s: '%s' is not a whole number\n", name, text);
        return 1;
    }
    if (n > SUBMIT_JSON_INT_MAX || n < -SUBMIT_JSON_INT_MAX) {
        fprintf(stderr, "submit: values.%s: %s is too large\n", name, text);
        return 1;
    }
    if (cJSON_GetObjectItemCaseSensitive(values, name)) {
        fprintf(stderr, "submit: values.%s: given more than once\n", name);
        return 1;
    }
    if (!cJSON_AddNumberToObject(values, name, (double)n)) {
        fprintf(stderr, "submit: out of memory\n");
        return 1;
    }
    return 0;
}

static int submit_add_task(cJSON *tasks, char *arg)
{
    char copy[512];
    char *task, *state;
    snprintf(copy, sizeof copy, "%s", arg);
    if (!submit_split(copy, &task, &state)) {
        fprintf(stderr, "submit: --task %s: expected TASK=STATE\n", arg);
        return 2;
    }
    if (cJSON_GetObjectItemCaseSensitive(tasks, task)) {
        fprintf(stderr, "submit: tasks.%s: given more than once\n", task);
        return 1;
    }
    if (!cJSON_AddStringToObject(tasks, task, state)) {
        fprintf(stderr, "submit: out of memory\n");
        return 1;
    }
    return 0;
}

static cJSON *submit_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "submit: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    cJSON *doc = NULL;
    char *buf = malloc(SUBMIT_FILE_MAX + 1);
    if (!buf) {
        fprintf(stderr, "submit: out of memory\n");
        goto cleanup;
    }
    size_t n = fread(buf, 1, SUBMIT_FILE_MAX + 1, f);
    if (ferror(f)) {
        fprintf(stderr, "submit: %s: read error\n", path);
        goto cleanup;
    }
    if (n > SUBMIT_FILE_MAX) {
        fprintf(stderr, "submit: %s: larger than %d bytes\n", path, SUBMIT_FILE_MAX);
        goto cleanup;
    }
    const char *parse_end = NULL;
    doc = cJSON_ParseWithLengthOpts(buf, n, &parse_end, false);
    if (!doc)
        fprintf(stderr, "submit: %s: not valid JSON (near byte %ld)\n", path,
                parse_end ? (long)(parse_end - buf) : 0L);

cleanup:
    free(buf);
    fclose(f);
    return doc;
}

/* Builds the clerk's document from the command words; NULL after printing why.
 * *status is the exit status to use on failure. */
static cJSON *submit_parse(int argc, char **argv, int *status)
{
    const char *period = NULL, *note = NULL, *file = NULL;
    cJSON *doc = cJSON_CreateObject();
    cJSON *values = cJSON_CreateObject();
    cJSON *tasks = cJSON_CreateObject();
    *status = 1;
    if (!doc || !values || !tasks) {
        fprintf(stderr, "submit: out of memory\n");
        goto fail;
    }
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            submit_usage(stdout);
            *status = 0;
            goto fail;
        }
        bool known = strcmp(opt, "--period") == 0 || strcmp(opt, "--value") == 0 ||
                     strcmp(opt, "--task") == 0 || strcmp(opt, "--note") == 0 ||
                     strcmp(opt, "--file") == 0;
        if (!known || i + 1 >= argc) {
            fprintf(stderr, known ? "submit: %s needs a value\n" : "submit: unknown option %s\n",
                    opt);
            *status = 2;
            goto fail;
        }
        char *arg = argv[++i];
        int rc = 0;
        if (strcmp(opt, "--period") == 0)
            period = arg;
        else if (strcmp(opt, "--note") == 0)
            note = arg;
        else if (strcmp(opt, "--file") == 0)
            file = arg;
        else if (strcmp(opt, "--value") == 0)
            rc = submit_add_value(values, arg);
        else
            rc = submit_add_task(tasks, arg);
        if (rc != 0) {
            *status = rc;
            goto fail;
        }
    }

    if (file) {
        if (period || note || cJSON_GetArraySize(values) || cJSON_GetArraySize(tasks)) {
            fprintf(stderr, "submit: --file cannot be combined with --period, --value, --task "
                            "or --note\n");
            *status = 2;
            goto fail;
        }
        cJSON_Delete(doc);
        cJSON_Delete(values);
        cJSON_Delete(tasks);
        return submit_read_file(file);
    }
    if (!period) {
        fprintf(stderr, "submit: --period is required (or --file)\n");
        *status = 2;
        goto fail;
    }
    if (!cJSON_AddStringToObject(doc, "period", period))
        goto fail;
    cJSON_AddItemToObject(doc, "values", values);
    values = NULL;
    if (cJSON_GetArraySize(tasks) > 0) {
        cJSON_AddItemToObject(doc, "tasks", tasks);
        tasks = NULL;
    }
    if (note && !cJSON_AddStringToObject(doc, "note", note))
        goto fail;
    cJSON_Delete(tasks);
    return doc;

fail:
    cJSON_Delete(doc);
    cJSON_Delete(values);
    cJSON_Delete(tasks);
    return NULL;
}

int submit_command(const struct agent_config *cfg, int argc, char **argv)
{
    char err[1024];
    int status = 1;
    struct wp_report report;
    struct outbox *ob = NULL;
    memset(&report, 0, sizeof report);

    cJSON *doc = submit_parse(argc, argv, &status);
    if (!doc)
        return status;
    status = 1;
    /* Validated before the outbox is even opened: refused input leaves no trace. */
    enum wp_err e = intake_report_from_json(doc, cfg->ward, &report, err, sizeof err);
    if (e != WP_OK) {
        fprintf(stderr, "submit refused: %s\n", err);
        goto cleanup;
    }
    e = outbox_open(&ob, cfg->outbox_path, cfg->ward, OUTBOX_CREATE, err, sizeof err);
    if (e == WP_OK)
        e = outbox_intake_begin(ob, err, sizeof err);
    if (e == WP_OK) {
        e = outbox_intake_add(ob, &report, err, sizeof err);
        if (e == WP_OK)
            e = outbox_intake_commit(ob, err, sizeof err);
        else
            outbox_intake_rollback(ob);
    }
    if (e != WP_OK) {
        fprintf(stderr, "submit %s: %s\n", e == WP_ERR_INVALID ? "refused" : "failed", err);
        goto cleanup;
    }
    printf("queued report seq %lld for %s\n", (long long)report.seq, report.period);
    if (fflush(stdout) != 0)
        goto cleanup;
    status = 0;

cleanup:
    outbox_close(&ob);
    wp_report_clear(&report);
    cJSON_Delete(doc);
    return status;
}
