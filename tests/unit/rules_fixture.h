/* rules_fixture.h — the plan, unit and helpers the rule tests share (test_rules.c,
 * test_rules_level.c): a small plan of every rule kind, loaded from JSON written to a
 * temporary directory, as the aggregator loads one. Test code only. */
#ifndef WP_TEST_RULES_FIXTURE_H
#define WP_TEST_RULES_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "rules.h"
#include "timefmt.h"

static struct plan *plan;
static const struct rule_unit PHUC_XA = {"00001", "00001", "Phường Phúc Xá", "Phuc Xa ward"};

static inline int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    if (!wp_datetime_parse(rfc3339, &ms))
        fprintf(stderr, "bad instant %s\n", rfc3339);
    return ms;
}

static inline int64_t day(const char *date)
{
    int64_t d = 0;
    wp_date_parse(date, &d);
    return d;
}

/* ---- the plan of these tests --------------------------------------------------------- */

#define IND(id, vi, en, kind, rollup)                                                     \
    "{\"id\":\"" id "\",\"name\":{\"vi\":\"" vi "\",\"en\":\"" en "\"},\"kind\":\"" kind    \
    "\",\"rollup\":\"" rollup "\",\"unit\":\"người\"}"
#define RULE(id, kind, applies)                                                           \
    "{\"id\":\"" id "\",\"kind\":\"" kind "\",\"name\":{\"vi\":\"Quy tắc " id "\","          \
    "\"en\":\"Rule " id "\"},\"severity\":\"warning\",\"applies_to\":\"" applies "\","       \
    "\"source\":{\"document\":\"KH\",\"section\":\"I\"},"

static const char *ORGUNITS =
    "{\"v\":1,\"units\":[{\"code\":\"01\",\"level\":\"city\",\"name_vi\":\"Hà Nội\"},"
    "{\"code\":\"001\",\"level\":\"district\",\"name_vi\":\"Quận Ba Đình\",\"parent\":\"01\"},"
    "{\"code\":\"00001\",\"level\":\"ward\",\"name_vi\":\"Phường Phúc Xá\",\"parent\":\"001\","
    "\"population\":{\"total\":20000,\"18p\":15000,\"5_11\":1000},"
    "\"population_estimated\":[\"18p\",\"5_11\"]}]}";

static const char *CATALOG =
    "{\"v\":1,\"indicators\":["
    IND("cases_new_community", "Ca mắc mới trong cộng đồng", "New community cases", "daily", "sum") ","
    IND("deaths", "Tử vong", "Deaths", "daily", "sum") ","
    IND("severe_active", "Người bệnh nặng", "Severe patients", "gauge", "latest") ","
    IND("severe_treated", "Người bệnh nặng được điều trị", "Severe patients treated", "gauge", "latest") ","
    IND("vacc_18p_dose1_cum", "Người 18+ tiêm mũi 1", "People 18+ with dose 1", "cumulative", "latest") ","
    IND("vacc_5_11_dose2_cum", "Trẻ 5-11 tiêm đủ liều", "Children 5-11 fully vaccinated", "cumulative", "latest") ","
    IND("care_places", "Chỗ chăm sóc", "Care places", "gauge", "latest") ","
    IND("facilities_total", "Số cơ sở", "Facilities", "gauge", "latest") ","
    IND("facilities_on_time", "Số cơ sở báo cáo đúng hạn", "Facilities reporting on time", "daily", "sum") ","
    IND("frontline_staff", "Lực lượng tuyến đầu", "Frontline staff", "gauge", "latest") ","
    IND("frontline_staff_vaccinated_full", "Tuyến đầu tiêm đủ liều", "Frontline fully vaccinated", "gauge", "latest")
    "],\"tasks\":[{\"id\":\"ward-scenario\",\"name\":{\"vi\":\"Xây dựng kịch bản\","
    "\"en\":\"Build the scenario\"}}]}";

static const char *RULES =
    RULE("daily", "schedule", "ward") "\"period\":\"daily\",\"cutoff\":\"17:00\","
    "\"grace_minutes\":60,\"indicators\":[\"cases_new_community\",\"deaths\"],"
    "\"from\":\"2022-05-01\"},"
    RULE("weekly", "schedule", "ward") "\"period\":\"weekly\",\"cutoff\":\"10:00\","
    "\"cutoff_day_offset\":1,\"grace_minutes\":120,\"indicators\":[\"vacc_18p_dose1_cum\"],"
    "\"from\":\"2022-05-02\"},"
    RULE("scenario", "task", "ward") "\"task\":\"ward-scenario\",\"assignees\":[\"00001\","
    "{\"name\":\"Phòng Y tế\",\"role\":\"guide\"},{\"name\":\"Trung tâm Y tế quận\",\"role\":\"guide\"},"
    "\"Công an phường\"],\"due\":\"2022-06-15\"},"
    RULE("severe-treated", "ratio", "both") "\"numerator\":\"severe_treated\","
    "\"denominator\":\"severe_active\",\"target\":1.0,\"counted\":{\"vi\":\"người bệnh nặng, nguy "
    "kịch được điều trị theo quy định\",\"en\":\"severe or critical patients treated per "
    "regulation\"}},"
    RULE("on-time-90", "ratio", "ward") "\"numerator\":\"facilities_on_time\","
    "\"denominator\":\"facilities_total\",\"target\":0.9},"
    RULE("severe", "check", "both") "\"relation\":{\"left\":\"severe_treated\",\"op\":\">=\","
    "\"right\":\"severe_active\"}},"
    RULE("dose1-pop", "check", "ward") "\"relation\":{\"left\":\"vacc_18p_dose1_cum\",\"op\":\"<=\","
    "\"right\":{\"population\":\"18p\"}}},"
    RULE("dose1-mono", "check", "both") "\"relation\":{\"never_decreases\":\"vacc_18p_dose1_cum\"}},"
    RULE("kids", "coverage", "both") "\"numerator\":\"vacc_5_11_dose2_cum\",\"population\":\"5_11\","
    "\"target\":1.0,\"deadline\":\"2022-08-31\",\"trend_days\":14},"
    RULE("frontline", "coverage", "both") "\"numerator\":\"frontline_staff_vaccinated_full\","
    "\"denominator\":\"frontline_staff\",\"target\":1.0,\"deadline\":\"2022-06-30\","
    "\"silence_days\":10},"
    "{\"id\":\"deaths-announced\",\"kind\":\"announce\",\"name\":{\"vi\":\"Thông báo tử vong\","
    "\"en\":\"Deaths announced\"},\"severity\":\"info\",\"applies_to\":\"ward\","
    "\"source\":{\"document\":\"KH\",\"section\":\"I.3.2\"},\"indicator\":\"deaths\","
    "\"counted\":{\"vi\":\"ca tử vong do COVID-19\",\"en\":\"COVID-19 death(s)\"}},"
    "{\"id\":\"cases-announced\",\"kind\":\"announce\",\"name\":{\"vi\":\"Thông báo ca mắc\","
    "\"en\":\"Cases announced\"},\"severity\":\"info\",\"applies_to\":\"both\","
    "\"source\":{\"document\":\"KH\",\"section\":\"I\"},\"indicator\":\"cases_new_community\"},"
    RULE("level", "level", "both") "\"alert_at_level\":3,\"versions\":[{\"id\":\"218\","
    "\"document\":\"QĐ 218/QĐ-BYT\",\"valid_from\":\"2022-01-27\",\"transmission\":["
    "{\"indicator\":\"cases_new_community\",\"per\":100000,\"thresholds\":[20,150,600],"
    "\"expected_daily\":false},"
    "{\"indicator\":\"deaths\",\"per\":100000,\"thresholds\":[0.5,1,2],"
    "\"expected_daily\":false}],"
    "\"conditions\":[{\"name\":{\"vi\":\"Năng lực\",\"en\":\"Capacity\"},"
    "\"all_of\":[{\"indicator\":\"care_places\",\"per\":10000,\"min\":10}],\"if_unmet\":\"raise_one\"},"
    "{\"name\":{\"vi\":\"Tiêm\",\"en\":\"Vaccination\"},\"all_of\":[{\"indicator\":"
    "\"vacc_18p_dose1_cum\",\"population\":\"18p\",\"min\":0.7}],\"if_unmet\":\"no_lowering\"}]}]}";

static inline bool load_plan(void)
{
    char dir[] = "/tmp/wardpulse-test-rules-XXXXXX", path[256], err[1024];
    if (!mkdtemp(dir))
        return false;
    const char *names[3] = {"orgunits.json", "catalog.json", "plan.json"};
    char plan_json[8192];
    snprintf(plan_json, sizeof plan_json,
             "{\"v\":1,\"id\":\"t\",\"title\":{\"vi\":\"t\",\"en\":\"t\"},\"scope\":{\"city\":\"01\"},"
             "\"utc_offset\":\"+07:00\",\"rules\":[%s]}", RULES);
    const char *texts[3] = {ORGUNITS, CATALOG, plan_json};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        fputs(texts[i], f);
        fclose(f);
    }
    enum wp_err rc = plan_load(dir, "001", &plan, err, sizeof err);
    if (rc != WP_OK)
        fprintf(stderr, "test plan: %s\n", err);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return rc == WP_OK;
}

static inline struct rule_point point(const char *period, int64_t value)
{
    struct rule_point p;
    int64_t first;
    int days;
    memset(&p, 0, sizeof p);
    snprintf(p.period, sizeof p.period, "%.*s", (int)sizeof p.period - 1, period);
    wp_period_parse(period, &first, &days);
    p.first_day = first;
    p.last_day = first + days - 1;
    p.value = value;
    return p;
}

#endif
