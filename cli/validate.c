/* validate.c — `wardpulse validate SCHEMA FILE`: checks a JSON document against one of
 * the schemas built into wardpulse (the very ones the daemons enforce) or a schema file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "report.h"
#include "schema_registry.h"

/* Plans and reports are kilobytes; a cap keeps `validate x /dev/zero` from eating memory. */
#define VALIDATE_MAX_BYTES (32u << 20)

static void validate_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse validate SCHEMA FILE\n"
            "\n"
            "Checks the JSON document FILE (\"-\" for standard input) against SCHEMA, the name\n"
            "of a schema built into wardpulse or the path of a JSON Schema (draft-07) file.\n"
            "Built-in schemas:");
    for (size_t i = 0; wp_embedded_schemas[i].name; i++)
        fprintf(out, "%s %s", i ? "," : "", wp_embedded_schemas[i].name);
    fprintf(out,
            "\n\n"
            "Prints \"FILE: valid\" and exits 0, or prints \"FILE: PATH: MESSAGE\" on standard\n"
            "error and exits 1 (PATH is where in the document, e.g. values.deaths). A FILE\n"
            "that is not JSON gets the byte, line and column where parsing stopped.\n"
            "For SCHEMA \"report\" the file gets exactly the daemons' check (strict JSON and\n"
            "UTF-8, real days and weeks, the payload size limit), so a report that passes\n"
            "here is one the aggregator accepts.\n"
            "Exit status 2: usage error.\n");
}

/* Reads all of `in` into a NUL-terminated buffer (caller frees); NULL on error. */
static char *validate_slurp(FILE *in, size_t *len)
{
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        used += fread(buf + used, 1, cap - used - 1, in);
        if (ferror(in)) {
            free(buf);
            return NULL;
        }
        if (feof(in))
            break;
        if (used >= VALIDATE_MAX_BYTES) {
            free(buf);
            errno = EFBIG;
            return NULL;
        }
        if (cap - used - 1 == 0) {
            char *bigger = realloc(buf, 2 * cap);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf) {
        buf[used] = '\0';
        *len = used;
    }
    return buf;
}

/* Reads path ("-" = stdin); prints why on failure. */
static char *validate_read(const char *path, size_t *len)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "wardpulse validate: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *text = validate_slurp(in, len);
    if (!text)
        fprintf(stderr, "wardpulse validate: %s: cannot read: %s\n", path, strerror(errno));
    if (in != stdin)
        fclose(in);
    return text;
}

/* The named built-in schema, else the schema file at `name`. On failure prints why and
 * sets *status (2: neither a built-in name nor a file; 1: the file is no usable schema). */
static const struct wp_schema *validate_load_schema(const char *name,
                                                    struct wp_schema **owned, int *status)
{
    for (size_t i = 0; wp_embedded_schemas[i].name; i++) {
        if (strcmp(wp_embedded_schemas[i].name, name) == 0) {
            const struct wp_schema *schema = wp_schemas_get(name);
            if (!schema)
                fprintf(stderr, "wardpulse validate: built-in schema %s is broken\n", name);
            *status = 1;
            return schema;
        }
    }
    FILE *probe = fopen(name, "rb");
    if (!probe) {
        fprintf(stderr, "wardpulse validate: %s: not a built-in schema and not a readable "
                        "file (%s)\n", name, strerror(errno));
        *status = 2;
        return NULL;
    }
    fclose(probe);
    size_t len;
    char err[512];
    char *text = validate_read(name, &len);
    *status = 1;
    if (!text)
        return NULL;
    *owned = wp_schema_compile_text(text, err, sizeof err);
    free(text);
    if (!*owned)
        fprintf(stderr, "wardpulse validate: schema %s: %s\n", name, err);
    return *owned;
}

/* Prints where cJSON stopped as byte offset, line and column (all for humans: 1-based
 * line and column, 0-based byte like every hex dump). */
static void validate_report_syntax(const char *file, const char *text, size_t offset)
{
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset; i++) {
        column++;
        if (text[i] == '\n') {
            line++;
            column = 1;
        }
    }
    fprintf(stderr, "%s: not valid JSON: parsing stopped at byte %zu (line %zu, column %zu)\n",
            file, offset, line, column);
}

int cli_validate(int argc, char **argv)
{
    const char *operands[2];
    int operand_count = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            validate_usage(stdout);
            return 0;
        } else if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "wardpulse validate: unknown option %s\n", arg);
            validate_usage(stderr);
            return 2;
        } else if (operand_count == 2) {
            fprintf(stderr, "wardpulse validate: too many arguments\n");
            validate_usage(stderr);
            return 2;
        } else {
            operands[operand_count++] = arg;
        }
    }
    if (operand_count != 2) {
        validate_usage(stderr);
        return 2;
    }
    const char *schema_name = operands[0], *file = operands[1];

    int status = 1;
    struct wp_schema *owned = NULL;
    char *text = NULL;
    cJSON *doc = NULL;
    const struct wp_schema *schema = validate_load_schema(schema_name, &owned, &status);
    size_t len = 0;
    if (!schema || !(text = validate_read(file, &len)))
        goto cleanup;
    if (strcmp(schema_name, "report") == 0) {
        /* The daemons' own decoder: schema plus what a schema cannot say. */
        struct wp_report report = {0};
        char reason[1024];
        if (wp_report_decode(text, len, &report, reason, sizeof reason) == WP_OK) {
            printf("%s: valid\n", file);
            status = 0;
        } else {
            fprintf(stderr, "%s: %s\n", file, reason);
        }
        wp_report_clear(&report);
        goto cleanup;
    }
    const char *end = NULL;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        fprintf(stderr, "%s: not valid JSON: a NUL byte at byte %td\n", file, nul - text);
        goto cleanup;
    }
    /* The length counts the terminating NUL: with require_null_terminated, cJSON wants
     * to see it, or it refuses every document. */
    doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (!doc) {
        validate_report_syntax(file, text, end && end >= text ? (size_t)(end - text) : 0);
        goto cleanup;
    }
    char err[1024];
    if (wp_schema_validate(schema, doc, err, sizeof err)) {
        printf("%s: valid\n", file);
        status = 0;
    } else {
        fprintf(stderr, "%s: %s\n", file, err);
    }

cleanup:
    cJSON_Delete(doc);
    free(text);
    wp_schema_free(&owned);
    wp_schemas_release();
    return status;
}
