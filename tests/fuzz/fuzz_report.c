/* fuzz_report.c — wp_report_decode on arbitrary bytes, as the aggregator's ingest and the
 * agent's intake call it; then the contract of report.h:
 *   - WP_OK: the report encodes (wp_report_to_json) and the encoding decodes again to the
 *     same report (what the agent stores is what the aggregator will accept);
 *   - WP_ERR_INVALID: a reason is given, and the identity left for the ack is either empty
 *     or well-formed (ward 2–5 digits, stream 16 lowercase hex digits, seq ≥ 0).
 */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "report.h"
#include "topic.h"

static int fuzz_stream_ok(const char *s)
{
    if (s[0] == '\0')
        return 1;
    if (strlen(s) != WP_STREAM_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static void fuzz_same_report(const struct wp_report *a, const struct wp_report *b)
{
    FUZZ_CHECK(strcmp(a->ward, b->ward) == 0 && strcmp(a->stream, b->stream) == 0,
               "ward/stream %s/%s became %s/%s in the round trip", a->ward, a->stream, b->ward,
               b->stream);
    FUZZ_CHECK(a->seq == b->seq, "seq %lld became %lld in the round trip", (long long)a->seq,
               (long long)b->seq);
    FUZZ_CHECK(strcmp(a->period, b->period) == 0 && strcmp(a->observed_at, b->observed_at) == 0,
               "period/observed_at %s/%s became %s/%s in the round trip", a->period,
               a->observed_at, b->period, b->observed_at);
    FUZZ_CHECK(a->value_count == b->value_count && a->task_count == b->task_count,
               "%zu/%zu values, %zu/%zu tasks after the round trip", a->value_count,
               b->value_count, a->task_count, b->task_count);
    for (size_t i = 0; i < a->value_count; i++)
        FUZZ_CHECK(strcmp(a->values[i].indicator, b->values[i].indicator) == 0
                       && a->values[i].value == b->values[i].value,
                   "value %s=%lld became %s=%lld in the round trip", a->values[i].indicator,
                   (long long)a->values[i].value, b->values[i].indicator,
                   (long long)b->values[i].value);
    for (size_t i = 0; i < a->task_count; i++)
        FUZZ_CHECK(strcmp(a->tasks[i].task, b->tasks[i].task) == 0
                       && strcmp(a->tasks[i].state, b->tasks[i].state) == 0,
                   "task %zu changed in the round trip", i);
    FUZZ_CHECK((a->note == NULL) == (b->note == NULL)
                   && (a->note == NULL || strcmp(a->note, b->note) == 0),
               "note changed in the round trip");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_report report;
    char err[512];
    memset(err, 0x5a, sizeof err);
    enum wp_err rc = wp_report_decode(data, size, &report, err, sizeof err);

    if (rc == WP_OK) {
        cJSON *json = wp_report_to_json(&report);
        FUZZ_CHECK(json != NULL, "a valid report did not encode");
        char *text = cJSON_PrintUnformatted(json);
        cJSON_Delete(json);
        FUZZ_CHECK(text != NULL, "a valid report did not print");
        struct wp_report again;
        char err2[512];
        enum wp_err rc2 = wp_report_decode(text, strlen(text), &again, err2, sizeof err2);
        FUZZ_CHECK(rc2 == WP_OK, "the encoding of a valid report is refused: %s\n  %s", err2,
                   text);
        fuzz_same_report(&report, &again);
        wp_report_clear(&again);
        free(text);
        wp_report_clear(&report);
        return 0;
    }
    FUZZ_CHECK(rc == WP_ERR_INVALID || rc == WP_ERR_NOMEM, "unexpected result %d", (int)rc);
    FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0', "no reason given");
    if (rc == WP_ERR_INVALID) {
        FUZZ_CHECK(report.values == NULL && report.tasks == NULL && report.note == NULL,
                   "a refused report still holds allocations");
        FUZZ_CHECK(report.ward[0] == '\0' || wp_unit_code_valid(report.ward),
                   "identity ward '%s' is not a unit code", report.ward);
        FUZZ_CHECK(fuzz_stream_ok(report.stream), "identity stream '%s' is malformed",
                   report.stream);
        FUZZ_CHECK(report.seq >= 0, "identity seq %lld", (long long)report.seq);
    }
    wp_report_clear(&report);
    return 0;
}
