/* test_report.c — wp_report_decode / wp_report_to_json against the embedded schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "report.h"
#include "schema_registry.h"

#define VALID                                                                          \
    "{\"v\":1,\"ward\":\"00001\",\"stream\":\"9f1c2a7e4b5d6c3a\",\"seq\":42,"          \
    "\"period\":\"2022-05-03\",\"observed_at\":\"2022-05-03T17:05:00+07:00\","         \
    "\"values\":{\"cases_new_community\":12,\"vacc_18p_dose3_cum\":12000},"           \
    "\"tasks\":{\"ward-scenario\":\"done\"},\"note\":\"Phường Phúc Xá\"}"

static enum wp_err decode(const char *text, struct wp_report *r, char *err, size_t errlen)
{
    err[0] = '\0';
    return wp_report_decode(text, strlen(text), r, err, errlen);
}

/* Replaces the first occurrence of `from` in VALID by `to`. */
static char *variant(const char *from, const char *to)
{
    const char *base = VALID;
    const char *at = strstr(base, from);
    if (!at) {
        fprintf(stderr, "variant: '%s' not in VALID\n", from);
        exit(2);
    }
    size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    if (!out)
        exit(2);
    snprintf(out, n, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    return out;
}

static void test_round_trip(void)
{
    struct wp_report r, again;
    char err[256];
    CHECK(decode(VALID, &r, err, sizeof err) == WP_OK);
    CHECK(err[0] == '\0');
    CHECK(strcmp(r.ward, "00001") == 0);
    CHECK(strcmp(r.stream, "9f1c2a7e4b5d6c3a") == 0);
    CHECK(r.seq == 42);
    CHECK(strcmp(r.period, "2022-05-03") == 0);
    CHECK(strcmp(r.observed_at, "2022-05-03T17:05:00+07:00") == 0);
    CHECK(r.value_count == 2);
    CHECK(r.value_count == 2 && strcmp(r.values[0].indicator, "cases_new_community") == 0);
    CHECK(r.value_count == 2 && r.values[0].value == 12);
    CHECK(r.value_count == 2 && strcmp(r.values[1].indicator, "vacc_18p_dose3_cum") == 0);
    CHECK(r.value_count == 2 && r.values[1].value == 12000);
    CHECK(r.task_count == 1 && strcmp(r.tasks[0].task, "ward-scenario") == 0);
    CHECK(r.task_count == 1 && strcmp(r.tasks[0].state, "done") == 0);
    CHECK(r.note && strcmp(r.note, "Phường Phúc Xá") == 0);

    cJSON *json = wp_report_to_json(&r);
    CHECK(json != NULL);
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    CHECK(text != NULL);
    if (text) {
        CHECK(decode(text, &again, err, sizeof err) == WP_OK);
        CHECK(strcmp(again.ward, r.ward) == 0 && strcmp(again.stream, r.stream) == 0);
        CHECK(again.seq == r.seq && strcmp(again.period, r.period) == 0);
        CHECK(strcmp(again.observed_at, r.observed_at) == 0);
        CHECK(again.value_count == r.value_count && again.task_count == r.task_count);
        for (size_t i = 0; i < r.value_count && i < again.value_count; i++) {
            CHECK(strcmp(again.values[i].indicator, r.values[i].indicator) == 0);
            CHECK(again.values[i].value == r.values[i].value);
        }
        CHECK(again.note && strcmp(again.note, r.note) == 0);
        wp_report_clear(&again);
    }
    free(text);
    cJSON_Delete(json);

    wp_report_clear(&r);
    CHECK(r.values == NULL && r.value_count == 0 && r.note == NULL);

    /* A week period and a report without tasks or note are valid too. */
    char *week = variant("\"period\":\"2022-05-03\"", "\"period\":\"2020-W53\"");
    CHECK(decode(week, &r, err, sizeof err) == WP_OK);
    CHECK(strcmp(r.period, "2020-W53") == 0);
    wp_report_clear(&r);
    free(week);
}

/* The identity survives a rejection, so that the aggregator can ack it as rejected. */
static void check_rejected(const char *text, const char *must_contain, int64_t seq)
{
    struct wp_report r;
    char err[256];
    CHECK(decode(text, &r, err, sizeof err) == WP_ERR_INVALID);
    CHECK_CONTAINS(err, must_contain);
    CHECK(r.seq == seq);
    CHECK(r.values == NULL && r.tasks == NULL && r.note == NULL);
    wp_report_clear(&r);
}

static void test_negative_count(void)
{
    char *text = variant("\"cases_new_community\":12", "\"cases_new_community\":-1");
    check_rejected(text, "values.cases_new_community", 42);
    check_rejected(text, "≥ 0", 42);
    struct wp_report r;
    char err[256];
    decode(text, &r, err, sizeof err);
    CHECK(strcmp(r.ward, "00001") == 0 && strcmp(r.stream, "9f1c2a7e4b5d6c3a") == 0);
    wp_report_clear(&r);
    free(text);
}

static void test_impossible_periods(void)
{
    char *feb30 = variant("2022-05-03\"", "2022-02-30\"");
    check_rejected(feb30, "period", 42);
    check_rejected(feb30, "2022-02-30", 42);
    free(feb30);

    char *w53 = variant("2022-05-03\"", "2022-W53\"");
    check_rejected(w53, "period", 42);
    check_rejected(w53, "2022-W53", 42);
    free(w53);
}

static void test_observed_at_without_offset(void)
{
    char *local = variant("17:05:00+07:00", "17:05:00");
    check_rejected(local, "observed_at: 2022-05-03T17:05:00 has no UTC offset (RFC 3339 needs "
                          "one, e.g. 2022-05-03T17:05:00+07:00)", 42);
    free(local);
    char *frac = variant("17:05:00+07:00", "17:05:00.250");
    check_rejected(frac, "observed_at: 2022-05-03T17:05:00.250 has no UTC offset", 42);
    free(frac);
    char *hour = variant("17:05:00+07:00", "25:05:00+07:00");
    check_rejected(hour, "observed_at: 2022-05-03T25:05:00+07:00 is not an RFC 3339 date-time "
                         "with offset", 42);
    free(hour);
    /* A real instant, but longer than the report keeps. */
    char *digits = variant("17:05:00+07:00", "17:05:00.123456789012345678901234567+07:00");
    check_rejected(digits, "observed_at: longer than 39 characters", 42);
    free(digits);
    /* Hostile text is not quoted back. */
    char *ctl = variant("17:05:00+07:00\"", "17:05:00\\n\\u001b[2J\"");
    check_rejected(ctl, "observed_at: not an RFC 3339 date-time with offset", 42);
    free(ctl);
    char *number = variant("\"2022-05-03T17:05:00+07:00\"", "1651572300");
    check_rejected(number, "observed_at", 42);
    free(number);
}

static void test_missing_ward(void)
{
    char *text = variant("\"ward\":\"00001\",", "");
    check_rejected(text, "ward", 42);
    free(text);
}

static void test_not_json(void)
{
    check_rejected("{\"v\":1,\"ward\":\"00001\",,}", "not valid JSON at byte 22", 0);
    check_rejected("hello", "not valid JSON at byte 0", 0);
    check_rejected("", "empty", 0);
    check_rejected("[1,2]", "must be an object", 0);
    check_rejected("{\"v\":1} trailing", "not valid JSON at byte 8", 0);

    static const char latin1[] = "{\"v\":1,\"note\":\"Ph\xf9\"}";
    check_rejected(latin1, "not valid UTF-8 at byte 17", 0);
    static const char nul[] = "{\"v\":1,\"note\":\"a\x01\"}";
    check_rejected(nul, "control character", 0);

    /* Strict RFC 8259: what cJSON would accept or silently change is refused here. */
    check_rejected("{\"v\":01}", "at byte 6: leading zero", 0);
    check_rejected("{\"v\":1.}", "at byte 7: digit expected", 0);
    check_rejected("{\"v\":+1}", "at byte 5: unexpected character", 0);
    check_rejected("{\"n\":\"a\\u0000b\"}", "at byte 7: \\u0000", 0);
    check_rejected("{\"n\":\"\\ud800x\"}", "at byte 6: unpaired surrogate", 0);
    check_rejected("{\"n\":\"\\q\"}", "at byte 6: invalid escape", 0);
    check_rejected("{\"n\":\"abc", "at byte 9: unterminated string", 0);
    check_rejected("{\"v\":1", "at byte 6: ',' or '}' expected", 0);
    check_rejected("{\"v\" 1}", "at byte 5: ':' expected", 0);
    char deep[300];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 99);
    deep[299] = '\0';
    check_rejected(deep, "nested too deeply", 0);

    /* Escapes that are fine: a surrogate pair and an accented letter. */
    char *escaped = variant("Phường Phúc Xá", "Ph\\u01b0\\u1eddng \\ud83d\\ude00");
    struct wp_report ok;
    char why[256];
    CHECK(decode(escaped, &ok, why, sizeof why) == WP_OK);
    CHECK_STR(ok.note, "Phường 😀");
    wp_report_clear(&ok);
    free(escaped);

    /* JSON, but the identity is half usable: the seq is kept, the stream is not. */
    char *bad_stream = variant("9f1c2a7e4b5d6c3a", "xyz");
    struct wp_report r;
    char err[256];
    CHECK(decode(bad_stream, &r, err, sizeof err) == WP_ERR_INVALID);
    CHECK(r.seq == 42 && r.stream[0] == '\0' && strcmp(r.ward, "00001") == 0);
    wp_report_clear(&r);
    free(bad_stream);

    /* A seq beyond WP_SEQ_MAX (or not exact) is no identity: it could not be acked. */
    static const char *const unusable[] = {"1000000000000000", "9007199254740993", "1e300",
                                           "0", "-1", "1.5", "\"42\""};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        char *bad_seq = variant("\"seq\":42", "\"seq\":X");
        char *x = strchr(bad_seq, 'X');
        char *text = malloc(strlen(bad_seq) + strlen(unusable[i]) + 1);
        if (!text)
            break;
        sprintf(text, "%.*s%s%s", (int)(x - bad_seq), bad_seq, unusable[i], x + 1);
        check_rejected(text, "seq", 0);
        free(text);
        free(bad_seq);
    }
    char *max_seq = variant("\"seq\":42", "\"seq\":999999999999999");
    CHECK(decode(max_seq, &r, err, sizeof err) == WP_OK && r.seq == WP_SEQ_MAX);
    wp_report_clear(&r);
    free(max_seq);

    char *dup = variant("\"vacc_18p_dose3_cum\":12000", "\"cases_new_community\":13");
    check_rejected(dup, "duplicate key", 42);
    free(dup);
}

/* committed_at (issue 10): optional, decoded, encoded, part of the content. */
static void test_committed_at(void)
{
    struct wp_report plain, committed, later;
    char err[512];
    char *with = variant("\"values\"", "\"committed_at\":\"2022-05-03T16:40:00+07:00\","
                                         "\"values\"");
    char *other = variant("\"values\"", "\"committed_at\":\"2022-05-03T16:41:00+07:00\","
                                          "\"values\"");
    CHECK(decode(VALID, &plain, err, sizeof err) == WP_OK);
    CHECK_STR(plain.committed_at, "");
    CHECK(decode(with, &committed, err, sizeof err) == WP_OK);
    CHECK_STR(committed.committed_at, "2022-05-03T16:40:00+07:00");
    CHECK(decode(other, &later, err, sizeof err) == WP_OK);
    /* fixed at intake, so part of the report's content */
    CHECK(wp_report_content_hash(&plain) != wp_report_content_hash(&committed));
    CHECK(wp_report_content_hash(&later) != wp_report_content_hash(&committed));
    /* encoded back, and only when present */
    cJSON *j = wp_report_to_json(&committed);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "committed_at")),
              "2022-05-03T16:40:00+07:00");
    cJSON_Delete(j);
    j = wp_report_to_json(&plain);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "committed_at") == NULL);
    cJSON_Delete(j);
    wp_report_clear(&plain);
    wp_report_clear(&committed);
    wp_report_clear(&later);
    free(with);
    free(other);
    /* not an instant: refused */
    char *bad = variant("\"values\"", "\"committed_at\":\"2022-05-03 16:40\",\"values\"");
    CHECK(decode(bad, &plain, err, sizeof err) == WP_ERR_INVALID);
    CHECK_CONTAINS(err, "committed_at");
    wp_report_clear(&plain);
    free(bad);
}

static void test_oversize(void)
{
    size_t len = WP_REPORT_MAX_BYTES + 1;
    char *big = malloc(len);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, ' ', len);
    memcpy(big, VALID, strlen(VALID));
    struct wp_report r;
    char err[256] = "";
    CHECK(wp_report_decode(big, len, &r, err, sizeof err) == WP_ERR_INVALID);
    CHECK_CONTAINS(err, "exceeds");
    CHECK(r.seq == 0);  /* not even parsed */
    /* The same bytes one under the limit are a valid report with trailing blanks. */
    CHECK(wp_report_decode(big, len - 1, &r, err, sizeof err) == WP_OK);
    wp_report_clear(&r);
    free(big);
}

int main(void)
{
    test_committed_at();
    test_round_trip();
    test_negative_count();
    test_observed_at_without_offset();
    test_impossible_periods();
    test_missing_ward();
    test_not_json();
    test_oversize();
    wp_schemas_release();
    return CHECK_DONE();
}
