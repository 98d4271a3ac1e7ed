/* test_jsonschema — the validator (common/jsonschema*.c) against the official
 * JSON-Schema-Test-Suite (Debian package json-schema-test-suite, draft 7), for every
 * keyword we support, then wardpulse's own promises: error messages naming the path,
 * the depth limit, $ref cycles, and the ECMA → POSIX pattern translation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonschema.h"
#include "schema_registry.h"

#ifndef SUITE_DIR   /* overridable to check the message below */
#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"
#endif


/* The suite files of the keywords we support (additionalItems too, as it is supported). */
static const struct {
    const char *keyword;
    const char *file;
} suite_files[] = {
    {"type", "type.json"},
    {"properties", "properties.json"},
    {"required", "required.json"},
    {"additionalProperties", "additionalProperties.json"},
    {"patternProperties", "patternProperties.json"},
    {"items", "items.json"},
    {"additionalItems", "additionalItems.json"},
    {"enum", "enum.json"},
    {"const", "const.json"},
    {"minimum", "minimum.json"},
    {"maximum", "maximum.json"},
    {"exclusiveMinimum", "exclusiveMinimum.json"},
    {"exclusiveMaximum", "exclusiveMaximum.json"},
    {"minLength", "minLength.json"},
    {"maxLength", "maxLength.json"},
    {"pattern", "pattern.json"},
    {"minItems", "minItems.json"},
    {"maxItems", "maxItems.json"},
    {"ref", "ref.json"},
    {"definitions", "definitions.json"},
    {"anyOf", "anyOf.json"},
    {"oneOf", "oneOf.json"},
    {"allOf", "allOf.json"},
    {"not", "not.json"},
    {"boolean_schema", "boolean_schema.json"},
    {"format date", "optional/format/date.json"},
    {"format date-time", "optional/format/date-time.json"},
};

/* Test groups that exercise features we deliberately do not support. Each must still be
 * present in the suite (a stale entry fails the test), and each is printed. */
static struct {
    const char *file;
    const char *group;           /* the group's "description" */
    const char *reason;
    int used;
} skips[] = {
    {"ref.json", "remote ref, containing refs itself",
     "remote $ref to http://json-schema.org/draft-07/schema: only same-document refs", 0},
    {"ref.json", "Recursive references between schemas",
     "$ref resolved against $id base URIs (\"node\", \"tree\"): $id is not supported", 0},
    {"definitions.json", "valid definition",
     "validates against the draft-07 metaschema, a remote $ref", 0},
    {"definitions.json", "invalid definition",
     "validates against the draft-07 metaschema, a remote $ref", 0},
};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
        && (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, f) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = '\0';
        }
    }
    fclose(f);
    return text;
}

static const char *skip_reason(const char *file, const char *group)
{
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++)
        if (strcmp(skips[i].file, file) == 0 && strcmp(skips[i].group, group) == 0) {
            skips[i].used++;
            return skips[i].reason;
        }
    return NULL;
}

struct tally {
    int run, passed, skipped;
};

/* Runs one suite file; returns false if the file could not be read. */
static bool run_suite_file(const char *keyword, const char *file, struct tally *total)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", SUITE_DIR, file);
    char *text = read_file(path);
    cJSON *groups = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsArray(groups)) {
        fprintf(stderr, "%s: cannot read or parse\n", path);
        cJSON_Delete(groups);
        return false;
    }
    struct tally t = {0, 0, 0};
    const cJSON *group;
    cJSON_ArrayForEach(group, groups) {
        const char *description = cJSON_GetStringValue(cJSON_GetObjectItem(group, "description"));
        const cJSON *tests = cJSON_GetObjectItem(group, "tests"), *test;
        if (!description || !cJSON_IsArray(tests)) {
            fprintf(stderr, "%s: malformed group\n", path);
            check_failed++;
            continue;
        }
        if (skip_reason(file, description)) {
            t.skipped += cJSON_GetArraySize(tests);
            continue;
        }
        struct wp_schema *schema = wp_schema_compile(cJSON_GetObjectItem(group, "schema"), err,
                                                     sizeof err);
        if (!schema)
            fprintf(stderr, "FAIL %s / %s: schema does not compile: %s\n", file, description,
                    err);
        cJSON_ArrayForEach(test, tests) {
            bool expected = cJSON_IsTrue(cJSON_GetObjectItem(test, "valid"));
            bool got = schema && wp_schema_validate(schema, cJSON_GetObjectItem(test, "data"),
                                                    err, sizeof err);
            t.run++;
            if (schema && got == expected) {
                t.passed++;
            } else {
                check_failed++;
                fprintf(stderr, "FAIL %s / %s / %s: expected %s, got %s%s%s\n", file,
                        description,
                        cJSON_GetStringValue(cJSON_GetObjectItem(test, "description")),
                        expected ? "valid" : "invalid", got ? "valid" : "invalid",
                        got ? "" : ": ", got ? "" : err);
            }
        }
        wp_schema_free(&schema);
        CHECK(schema == NULL);
    }
    cJSON_Delete(groups);
    printf("%s: %d cases passed%s", keyword, t.passed, t.run != t.passed ? " (SOME FAILED)" : "");
    printf(t.skipped ? ", %d skipped\n" : "\n", t.skipped);
    total->run += t.run;
    total->passed += t.passed;
    total->skipped += t.skipped;
    return true;
}

static void run_suite(void)
{
    FILE *probe = fopen(SUITE_DIR "/type.json", "rb");
    if (!probe) {
        fprintf(stderr, "test_jsonschema: %s not found: install the Debian package "
                        "json-schema-test-suite (apt-get install json-schema-test-suite)\n",
                SUITE_DIR);
        check_failed++;
        return;
    }
    fclose(probe);
    struct tally total = {0, 0, 0};
    for (size_t i = 0; i < sizeof suite_files / sizeof suite_files[0]; i++)
        if (!run_suite_file(suite_files[i].keyword, suite_files[i].file, &total))
            check_failed++;
    printf("skipped groups:\n");
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        printf("  %s / \"%s\": %s\n", skips[i].file, skips[i].group, skips[i].reason);
        if (skips[i].used != 1) {
            fprintf(stderr, "skip list entry not found exactly once in the suite: %s / %s\n",
                    skips[i].file, skips[i].group);
            check_failed++;
        }
    }
    printf("json-schema-test-suite draft7: %d cases run, %d passed, %d skipped\n", total.run,
           total.passed, total.skipped);
    CHECK(total.run > 300);
}

/* ---- wardpulse's own promises ---------------------------------------------------------- */

/* Validates instance text against schema text; returns the message ("" if valid). */
static const char *verdict(const char *schema_text, const char *instance_text)
{
    static char err[512];
    char compile_err[256];
    struct wp_schema *schema = wp_schema_compile_text(schema_text, compile_err,
                                                      sizeof compile_err);
    cJSON *instance = cJSON_Parse(instance_text);
    snprintf(err, sizeof err, "%s", !schema ? "SCHEMA DOES NOT COMPILE"
                                    : !instance ? "INSTANCE IS NOT JSON" : "");
    if (schema && instance && wp_schema_validate(schema, instance, err, sizeof err))
        snprintf(err, sizeof err, "%s", "");
    wp_schema_free(&schema);
    cJSON_Delete(instance);
    return err;
}

static bool compiles(const char *schema_text, char *err, size_t errlen)
{
    struct wp_schema *schema = wp_schema_compile_text(schema_text, err, errlen);
    bool ok = schema != NULL;
    wp_schema_free(&schema);
    return ok;
}

static const char report_schema[] =
    "{\"type\":\"object\",\"required\":[\"ward\",\"seq\"],\"additionalProperties\":false,"
    "\"properties\":{"
    "\"ward\":{\"type\":\"string\",\"pattern\":\"^[0-9]{5}$\"},"
    "\"seq\":{\"type\":\"integer\",\"minimum\":1},"
    "\"period\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"values\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#/definitions/count\"}},"
    "\"tasks\":{\"type\":\"object\",\"additionalProperties\":{\"enum\":"
    "[\"not_started\",\"in_progress\",\"done\"]}},"
    "\"rejected\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"seq\":{\"type\":\"integer\"}}}},"
    "\"level\":{\"type\":[\"integer\",\"string\",\"null\"]},"
    "\"odd key\":{\"const\":1}},"
    "\"definitions\":{\"count\":{\"type\":\"integer\",\"minimum\":0}}}";

static const char *report_verdict(const char *instance_text)
{
    return verdict(report_schema, instance_text);
}

static void test_messages(void)
{
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"values\":{\"deaths\":3},"
                             "\"period\":\"2022-05-03\"}"),
              "");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"values\":{\"deaths\":-1}}"),
              "values.deaths: must be ≥ 0");
    CHECK_STR(report_verdict("{\"ward\":\"0001\",\"seq\":1}"),
              "ward: must match pattern ^[0-9]{5}$");
    CHECK_STR(report_verdict("{\"seq\":1}"), "(root): missing required property \"ward\"");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"tasks\":{\"x\":\"later\"}}"),
              "tasks.x: must be one of \"not_started\", \"in_progress\", \"done\"");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,"
                             "\"rejected\":[{\"seq\":1},{},{\"seq\":2.5}]}"),
              "rejected[2].seq: must be an integer");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"foo\":2}"),
              "(root): unknown property \"foo\"");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"period\":\"2022-02-30\"}"),
              "period: must match format \"date\"");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":0}"), "seq: must be ≥ 1");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1.0}"), "");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1e15}"), "");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":9007199254740993}"), "");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1.5}"), "seq: must be an integer");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"level\":true}"),
              "level: must be an integer, a string or null");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"odd key\":2}"),
              "[\"odd key\"]: must be 1");
    CHECK_STR(report_verdict("{\"ward\":\"00001\",\"seq\":1,\"odd key\":1.0}"), "");
    CHECK_STR(report_verdict("[]"), "(root): must be an object");
    CHECK_STR(verdict("{\"exclusiveMaximum\":0.5}", "0.5"), "(root): must be < 0.5");
    CHECK_STR(verdict("{\"maxLength\":2}", "\"\xe1\xba\xbf\xe1\xba\xbf\""), "");
    CHECK_STR(verdict("{\"maxLength\":1}", "\"\xe1\xba\xbf\xe1\xba\xbf\""),
              "(root): must be at most 1 character long");
    CHECK_STR(verdict("{\"items\":[{},{}],\"additionalItems\":false}", "[1,2,3]"),
              "[2]: is not allowed");
    CHECK_STR(verdict("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "1"),
              "(root): must match exactly one schema of oneOf, but matches #0 and #1");
    CHECK_STR(verdict("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]}", "\"a\""),
              "(root): must match at least one schema of anyOf (the first says: (root): must be "
              "an integer)");
    CHECK_STR(verdict("{\"format\":\"date-time\"}", "\"2022-05-03T17:05:00\""),
              "(root): must match format \"date-time\"");
    CHECK_STR(verdict("{\"format\":\"email\"}", "\"not an email\""), "");
    /* a failure inside "not" (or anyOf, oneOf) is no error: it must not become the message */
    CHECK_STR(verdict("{\"allOf\":[{\"not\":{\"type\":\"string\"}},{\"minimum\":5}]}", "3"),
              "(root): must be ≥ 5");
    CHECK_STR(verdict("{\"allOf\":[{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":0}]},"
                      "{\"minimum\":5}]}", "3"),
              "(root): must be ≥ 5");

    /* the caller's buffer: NULL and tiny ones are fine, truncation keeps the NUL */
    struct wp_schema *schema = wp_schema_compile_text(report_schema, NULL, 0);
    cJSON *doc = cJSON_Parse("{\"seq\":1}");
    char tiny[8] = "xxxxxxx";
    CHECK(schema && doc);
    CHECK(!wp_schema_validate(schema, doc, NULL, 0));
    CHECK(!wp_schema_validate(schema, doc, tiny, sizeof tiny));
    CHECK_STR(tiny, "(root):");
    CHECK(!wp_schema_validate(NULL, doc, tiny, sizeof tiny));
    CHECK(!wp_schema_validate(schema, NULL, NULL, 0));
    cJSON_Delete(doc);
    wp_schema_free(&schema);
    CHECK(schema == NULL);
    wp_schema_free(&schema);
    wp_schema_free(NULL);
}

/* An array nested `levels` deep, built without the parser's own nesting limit. */
static cJSON *nested_arrays(int levels)
{
    cJSON *root = cJSON_CreateArray(), *at = root;
    for (int i = 1; i < levels; i++) {
        cJSON *inner = cJSON_CreateArray();
        cJSON_AddItemToArray(at, inner);
        at = inner;
    }
    return root;
}

static void test_depth(void)
{
    struct wp_schema *anything = wp_schema_compile_text("true", NULL, 0);
    struct wp_schema *list = wp_schema_compile_text(
        "{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}", NULL, 0);
    char err[2048];
    CHECK(anything && list);
    cJSON *ok = nested_arrays(256), *deep = nested_arrays(257), *very = nested_arrays(20000);
    CHECK(wp_schema_validate(anything, ok, err, sizeof err));
    CHECK(wp_schema_validate(list, ok, err, sizeof err));
    CHECK(!wp_schema_validate(anything, deep, err, sizeof err));
    CHECK(strstr(err, ": nested too deeply") != NULL);
    CHECK(strncmp(err, "[0][0][0]", 9) == 0);
    CHECK(strstr(err, "[0][0]...") && strlen(err) < 200);   /* a long path loses its middle */
    CHECK(!wp_schema_validate(list, very, err, sizeof err));
    CHECK(strstr(err, "nested too deeply") != NULL);
    cJSON *object = cJSON_Parse("{\"a\":{\"b\":[]}}");
    cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(object, "a"), "b"),
                         nested_arrays(255));
    CHECK(!wp_schema_validate(anything, object, err, sizeof err));
    CHECK(strncmp(err, "a.b[0][0]", 9) == 0);
    cJSON_Delete(object);
    cJSON_Delete(ok);
    cJSON_Delete(deep);
    cJSON_Delete(very);
    wp_schema_free(&anything);
    wp_schema_free(&list);
}

static void test_compile_errors(void)
{
    char err[256];
    CHECK(!compiles("{\"$ref\":\"#\"}", err, sizeof err) && strstr(err, "cycle"));
    CHECK(!compiles("{\"$ref\":\"#/definitions/a\",\"definitions\":{\"a\":{\"$ref\":"
                    "\"#/definitions/b\"},\"b\":{\"allOf\":[{\"$ref\":\"#/definitions/a\"}]}}}",
                    err, sizeof err) && strstr(err, "cycle"));
    CHECK(compiles("{\"properties\":{\"next\":{\"$ref\":\"#\"}}}", err, sizeof err));
    CHECK_STR(verdict("{\"properties\":{\"next\":{\"$ref\":\"#\"},\"n\":{\"type\":\"integer\"}}}",
                      "{\"next\":{\"next\":{\"n\":\"x\"}}}"),
              "next.next.n: must be an integer");
    CHECK(!compiles("{\"$ref\":\"#/definitions/missing\"}", err, sizeof err)
          && strstr(err, "does not resolve"));
    CHECK(!compiles("{\"$ref\":\"other.json#/a\"}", err, sizeof err));
    CHECK(!compiles("{\"properties\":{\"a\":{\"pattern\":\"(?=a)\"}}}", err, sizeof err)
          && strncmp(err, "properties.a.pattern: ", 22) == 0);
    CHECK(!compiles("{\"pattern\":\"\\\\bword\"}", err, sizeof err));
    CHECK(!compiles("{\"pattern\":\"(a\"}", err, sizeof err));
    CHECK(!compiles("{\"type\":\"float\"}", err, sizeof err) && strstr(err, "type"));
    CHECK(!compiles("{\"minLength\":-1}", err, sizeof err));
    CHECK(!compiles("{\"minimum\":\"0\"}", err, sizeof err));
    CHECK(!compiles("{\"required\":[1]}", err, sizeof err));
    CHECK(!compiles("{\"properties\":{\"a\":3}}", err, sizeof err)
          && strncmp(err, "properties.a: ", 14) == 0);
    CHECK(!compiles("{\"anyOf\":[]}", err, sizeof err));
    CHECK(!compiles("{\"pattern\":\"a\",\"pattern\":\"b\"}", err, sizeof err)
          && strstr(err, "duplicate keyword \"pattern\""));
    CHECK(!compiles("{\"type\":", err, sizeof err) && strstr(err, "not valid JSON"));
    CHECK(!compiles(NULL, err, sizeof err));
    char deep[600 * 9 + 8] = "";
    for (int i = 0; i < 600; i++)
        strcat(deep, "{\"not\":");
    strcat(deep, "true");
    for (int i = 0; i < 600; i++)
        strcat(deep, "}");
    CHECK(!compiles(deep, err, sizeof err) && strstr(err, "nested too deeply"));
    CHECK(wp_schema_compile(NULL, err, sizeof err) == NULL);
    CHECK(compiles("{\"unknownKeyword\":{\"$ref\":\"nowhere\"}}", err, sizeof err));
    /* a $ref replaces its siblings, even malformed ones */
    CHECK(compiles("{\"definitions\":{\"a\":true},\"$ref\":\"#/definitions/a\",\"minimum\":\"x\"}",
                   err, sizeof err));
}

/* "" if text (a JSON string literal) matches the ECMA pattern (given as JSON text). */
static const char *pattern_verdict(const char *pattern, const char *text)
{
    char schema[256];
    snprintf(schema, sizeof schema, "{\"pattern\":\"%s\"}", pattern);
    return verdict(schema, text);
}

static void test_patterns(void)
{
    const char *no = "(root): must match pattern ";
    CHECK_STR(pattern_verdict("^\\\\d{5}$", "\"12345\""), "");
    CHECK_STR(pattern_verdict("^\\\\d{5}$", "\"90210\""), "");
    CHECK_STR(pattern_verdict("^\\\\d{5}$", "\"1234a\""), "(root): must match pattern ^\\d{5}$");
    CHECK_CONTAINS(pattern_verdict("^\\\\d{5}$", "\"ddddd\""), no);
    CHECK_STR(pattern_verdict("^\\\\D+$", "\"abc\""), "");
    CHECK_CONTAINS(pattern_verdict("^\\\\D+$", "\"ab1\""), no);
    CHECK_STR(pattern_verdict("^[\\\\w-]+$", "\"a_b-9\""), "");
    CHECK_CONTAINS(pattern_verdict("^[\\\\w-]+$", "\"a b\""), no);
    CHECK_STR(pattern_verdict("^\\\\s*$", "\" \\t \""), "");
    CHECK_CONTAINS(pattern_verdict("^\\\\S+$", "\"a b\""), no);
    CHECK_STR(pattern_verdict("^a\\\\.b$", "\"a.b\""), "");
    CHECK_CONTAINS(pattern_verdict("^a\\\\.b$", "\"axb\""), no);
    CHECK_STR(pattern_verdict("^\\\\/x\\\\-$", "\"/x-\""), "");
    CHECK_STR(pattern_verdict("^(?:ab)+?$", "\"abab\""), "");
    CHECK_CONTAINS(pattern_verdict("^(?:ab)+?$", "\"aba\""), no);
    CHECK_CONTAINS(pattern_verdict("^(?:ab)+?$", "\"\""), no);
    CHECK_CONTAINS(pattern_verdict("^a{2,3}?$", "\"\""), no);
    CHECK_STR(pattern_verdict("^a{2,3}?$", "\"aa\""), "");
    CHECK_CONTAINS(pattern_verdict("^a*?b??$", "\"aabb\""), no);
    CHECK_STR(pattern_verdict("^a*?b??$", "\"aab\""), "");
    CHECK_STR(pattern_verdict("^a{2,3}$", "\"aaa\""), "");
    CHECK_CONTAINS(pattern_verdict("^a{2,3}$", "\"aaaa\""), no);
    CHECK_STR(pattern_verdict("^{x}$", "\"{x}\""), "");           /* ECMA: literal braces */
    CHECK_STR(pattern_verdict("^\\\\u0041\\\\x42$", "\"AB\""), "");
    CHECK_STR(pattern_verdict("^\xc3\xa1+$", "\"\xc3\xa1\xc3\xa1\""), "");
    CHECK_STR(pattern_verdict("^\\\\u00e1+$", "\"\xc3\xa1\xc3\xa1\""), "");
    CHECK_CONTAINS(pattern_verdict("^\xc3\xa1+$", "\"\xc3\xa1\xa1\""), no);
    CHECK_CONTAINS(pattern_verdict("x", "\"abc\""), no);
    CHECK_STR(pattern_verdict("b", "\"abc\""), "");               /* unanchored search */
    CHECK_STR(verdict("{\"patternProperties\":{\"^x-\\\\d+$\":{\"type\":\"integer\"}},"
                      "\"additionalProperties\":false}", "{\"x-12\":3,\"x-1\":\"a\"}"),
              "x-1: must be an integer");
}

/* The schemas' own patterns (anchored, ASCII, classes with bounds, groups of
 * alternatives) are matched without regexec (jsonschema_pattern.c); others, and matches
 * that run out of steps, still go to regexec. Both must give the same verdicts. */
static void test_fast_patterns(void)
{
    const char *no = "(root): must match pattern ";
    const char *ward = "^([0-9]{5}|[0-9]{3})$", *week = "^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$";
    const char *indicator = "^[a-z][a-z0-9_]{0,63}$";
    CHECK_STR(pattern_verdict(ward, "\"00001\""), "");
    CHECK_STR(pattern_verdict(ward, "\"001\""), "");
    CHECK_CONTAINS(pattern_verdict(ward, "\"0001\""), no);
    CHECK_CONTAINS(pattern_verdict(ward, "\"000011\""), no);
    CHECK_CONTAINS(pattern_verdict(ward, "\"\""), no);
    CHECK_STR(pattern_verdict(week, "\"2022-W09\""), "");
    CHECK_STR(pattern_verdict(week, "\"2022-W53\""), "");
    CHECK_CONTAINS(pattern_verdict(week, "\"2022-W54\""), no);
    CHECK_CONTAINS(pattern_verdict(week, "\"2022-W00\""), no);
    CHECK_CONTAINS(pattern_verdict(week, "\"2022-W5\""), no);
    CHECK_STR(pattern_verdict(indicator, "\"a\""), "");
    CHECK_STR(pattern_verdict(indicator, "\"cases_new_2\""), "");
    CHECK_CONTAINS(pattern_verdict(indicator, "\"2cases\""), no);
    CHECK_CONTAINS(pattern_verdict(indicator, "\"cases-new\""), no);
    CHECK_CONTAINS(pattern_verdict(indicator, "\"c\xc3\xa1\""), no);   /* non-ASCII */
    CHECK_STR(pattern_verdict("^a[bc]{0,6}c$", "\"abcbcbc\""), "");
    CHECK_CONTAINS(pattern_verdict("^a[bc]{0,6}c$", "\"abcbcbcbc\""), no);
    CHECK_CONTAINS(pattern_verdict("^a{0,3}$", "\"aaaa\""), no);
    CHECK_STR(pattern_verdict("^a{2,}b$", "\"aaaab\""), "");
    CHECK_CONTAINS(pattern_verdict("^a{2,}b$", "\"ab\""), no);
    /* Backing off: the greedy class gives back what the rest needs. */
    CHECK_STR(pattern_verdict("^[a-z]*z[0-9]+$", "\"abzzz12\""), "");
    CHECK_STR(pattern_verdict("^(ab|a)(bc|c)$", "\"abc\""), "");
    CHECK_STR(pattern_verdict("^x(a|(b|c)d)y$", "\"xcdy\""), "");
    CHECK_CONTAINS(pattern_verdict("^x(a|(b|c)d)y$", "\"xcy\""), no);
    CHECK_STR(pattern_verdict("^[-a]+$", "\"a-a\""), "");
    CHECK_STR(pattern_verdict("^[a-]+$", "\"-\""), "");
    CHECK_STR(pattern_verdict("^[0-9]{2,3}-[0-9]{4}-W[0-9]{2}[.]html$", "\"001-2022-W18.html\""),
              "");
    CHECK_CONTAINS(pattern_verdict("^[0-9]{2,3}-[0-9]{4}-W[0-9]{2}[.]html$",
                                   "\"001-2022-W18xhtml\""), no);
    /* Outside the subset: regexec answers. */
    CHECK_STR(pattern_verdict("^[^0-9]{2}$", "\"ax\""), "");
    CHECK_CONTAINS(pattern_verdict("^[^0-9]{2}$", "\"a1\""), no);
    CHECK_CONTAINS(pattern_verdict("^(ab){2}$", "\"ab\""), no);
    CHECK_STR(pattern_verdict("^(ab){2}$", "\"abab\""), "");
    /* Out of steps: regexec answers, the same. */
    CHECK_CONTAINS(pattern_verdict("^a*a*a*a*a*a*b$", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
                   no);
    CHECK_STR(pattern_verdict("^a*a*a*a*a*a*b$", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\""), "");
}

/* Every schema built into the binaries compiles, and the registry hands out and frees. */
static void test_registry(void)
{
    size_t count = 0;
    char err[256];
    for (; wp_embedded_schemas[count].name; count++) {
        const struct wp_schema *schema = wp_schemas_get(wp_embedded_schemas[count].name);
        if (!schema)
            fprintf(stderr, "embedded schema %s does not compile\n",
                    wp_embedded_schemas[count].name);
        CHECK(schema != NULL);
        CHECK(wp_schemas_get(wp_embedded_schemas[count].name) == schema);   /* cached */
    }
    printf("embedded schemas: %zu compile\n", count);
    CHECK(wp_schemas_get("no-such-schema") == NULL);
    cJSON *doc = cJSON_CreateObject();
    CHECK(!wp_schemas_validate("no-such-schema", doc, err, sizeof err));
    CHECK_STR(err, "(root): no usable schema \"no-such-schema\"");
    if (count > 0) {
        const char *name = wp_embedded_schemas[0].name;
        CHECK(!wp_schemas_validate(name, NULL, err, sizeof err));
        wp_schemas_release();
        CHECK(wp_schemas_get(name) != NULL);          /* compiled again after a release */
    }
    cJSON_Delete(doc);
    wp_schemas_release();
    wp_schemas_release();
}

int main(void)
{
    run_suite();
    test_messages();
    test_fast_patterns();
    test_depth();
    test_compile_errors();
    test_patterns();
    test_registry();
    return CHECK_DONE();
}
