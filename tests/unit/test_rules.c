/* test_rules — each kind of rule as a pure function over a small data view, and the words
 * of their summaries (aggregator/rule_*.c, alert_text.c). The aggregator is not a
 * library, so the units under test are compiled in here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "alert_text.h"
#include "plan.h"
#include "rules.h"
#include "schema_registry.h"
#include "timefmt.h"

static struct plan *plan;
static const struct rule_unit PHUC_XA = {"00001", "00001", "Phường Phúc Xá", "Phuc Xa ward"};

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    if (!wp_datetime_parse(rfc3339, &ms))
        fprintf(stderr, "bad instant %s\n", rfc3339);
    return ms;
}

static int64_t day(const char *date)
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
    IND("facilities_on_time", "Số cơ sở báo cáo đúng hạn", "Facilities reporting on time", "daily", "sum")
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

static bool load_plan(void)
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

/* ---- text ---------------------------------------------------------------------------- */

static void test_text(void)
{
    struct text t;
    text_clear(&t);
    text_date_vi(&t, day("2022-05-03"));
    text_append(&t, " ");
    text_date_en(&t, day("2022-05-03"));
    text_append(&t, " ");
    text_number_vi(&t, 1234567);
    text_append(&t, " ");
    text_number_en(&t, -12000);
    text_append(&t, " ");
    text_number_vi(&t, 999);
    text_append(&t, " ");
    text_percent_vi(&t, 0.715);
    text_append(&t, " ");
    text_percent_en(&t, 1.0);
    text_append(&t, " ");
    text_points_vi(&t, 0.147);
    text_append(&t, " ");
    text_points_en(&t, 0.095);
    text_append(&t, " ");
    text_percent_vi(&t, 0.6);
    CHECK_STR(t.buf, "03/05/2022 3 May 2022 1.234.567 -12,000 999 71,5% 100% "
                     "14,7 điểm phần trăm 9.5 percentage points 60%");
    text_clear(&t);
    text_duration_vi(&t, (2 * 60 + 15) * 60000);
    text_append(&t, "|");
    text_duration_en(&t, (26 * 60 + 5) * 60000);
    text_append(&t, "|");
    text_duration_vi(&t, 30000);
    CHECK_STR(t.buf, "2 giờ 15 phút|1 d 2 h|1 phút");
    text_clear(&t);
    text_period_vi(&t, "2022-W18");
    text_append(&t, "|");
    text_period_en(&t, "2022-W18");
    text_append(&t, "|");
    text_period_en(&t, "2022-W22");
    text_append(&t, "|");
    text_period_vi(&t, "2022-05-03");
    CHECK_STR(t.buf, "tuần 18/2022 (02/05–08/05/2022)|week 18 of 2022 (2–8 May 2022)|"
                     "week 22 of 2022 (30 May – 5 Jun 2022)|ngày 03/05/2022");
    char week[16];
    text_isoweek(day("2022-05-08"), week, sizeof week);
    CHECK_STR(week, "2022-W18");
    text_isoweek(day("2021-01-03"), week, sizeof week);
    CHECK_STR(week, "2020-W53");
    text_isoweek(day("2024-12-30"), week, sizeof week);
    CHECK_STR(week, "2025-W01");
    CHECK(text_local_day(at("2022-05-03T23:59:00+07:00"), 420) == day("2022-05-03"));
    CHECK(text_local_day(at("2022-05-03T00:00:00+07:00"), 420) == day("2022-05-03"));
    CHECK(text_day_start_ms(day("2022-05-03"), 420) == at("2022-05-03T00:00:00+07:00"));
    text_clear(&t);
    text_clock_time(&t, at("2022-05-03T10:00:00Z"), 420);
    CHECK_STR(t.buf, "17:00");
    /* never overflows, never cuts a character in two */
    text_clear(&t);
    for (int i = 0; i < 400; i++)
        text_append(&t, "ễ");
    CHECK(t.len <= TEXT_MAX - 1 && t.len % 3 == 0 && strlen(t.buf) == t.len);
}

/* ---- schedule ------------------------------------------------------------------------ */

static void test_schedule(void)
{
    const struct plan_rule *daily = plan_rule(plan, "daily");
    struct schedule_slot slots[16];
    struct rule_outcome o;

    /* 17:30 on 3 May: the 1st, 2nd and 3rd are due (cut-off 17:00). */
    int64_t now = at("2022-05-03T17:30:00+07:00");
    size_t n = rule_schedule_slots(plan, daily, PLAN_DAY_NONE, now, slots, 16);
    CHECK(n == 3);
    CHECK_STR(slots[0].period, "2022-05-01");
    CHECK_STR(slots[2].period, "2022-05-03");
    CHECK(slots[2].due_ms == at("2022-05-03T17:00:00+07:00"));
    CHECK(slots[2].alert_ms == at("2022-05-03T18:00:00+07:00"));
    CHECK(rule_schedule_slots(plan, daily, PLAN_DAY_NONE, at("2022-05-03T16:59:59+07:00"),
                              slots, 16) == 2);
    CHECK(rule_schedule_slots(plan, daily, PLAN_DAY_NONE, now, slots, 2) == 3);
    CHECK_STR(slots[0].period, "2022-05-02");   /* the newest are kept */

    n = rule_schedule_slots(plan, daily, PLAN_DAY_NONE, now, slots, 16);
    slots[0].complete_ms = at("2022-05-01T16:00:00+07:00");
    slots[1].complete_ms = at("2022-05-02T16:00:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_PENDING);             /* the 3rd is in its grace */
    slots[2].complete_ms = at("2022-05-03T17:10:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);  /* late but within grace: no alert */

    /* 18:00: missing */
    now = at("2022-05-03T18:00:00+07:00");
    slots[2].complete_ms = 0;
    slots[2].missing_count = 2;
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_FIRING);
    CHECK(o.since_ms == at("2022-05-03T18:00:00+07:00"));
    CHECK(o.has_value && o.value == 1);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa gửi báo cáo ngày 03/05/2022 (hạn gửi 17:00)");
    CHECK_STR(o.en.buf, "Phuc Xa ward has not sent its report for 3 May 2022 (due 17:00)");

    /* part of a report */
    slots[2].missing_count = 1;
    slots[2].missing_first = "deaths";
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK_STR(o.vi.buf, "Báo cáo ngày 03/05/2022 của Phường Phúc Xá còn thiếu chỉ tiêu: Tử vong "
                        "(hạn gửi 17:00)");
    CHECK_STR(o.en.buf, "The report of Phuc Xa ward for 3 May 2022 lacks an indicator: Deaths "
                        "(due 17:00)");

    /* several days */
    slots[1].complete_ms = 0;
    slots[1].missing_count = 2;
    slots[2].missing_count = 2;
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.value == 2);
    CHECK(o.since_ms == at("2022-05-02T18:00:00+07:00"));   /* the oldest missing */
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa gửi báo cáo 2 ngày: 02/05/2022, 03/05/2022 "
                        "(hạn gửi 17:00 mỗi ngày)");
    CHECK_STR(o.en.buf, "Phuc Xa ward has not sent its reports for 2 days: 2 May 2022, 3 May 2022 "
                        "(due 17:00 each day)");
    n = rule_schedule_slots(plan, daily, PLAN_DAY_NONE, at("2022-05-10T18:00:00+07:00"), slots, 16);
    CHECK(n == 10);
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, at("2022-05-10T18:00:00+07:00"), &o);
    CHECK_CONTAINS(o.vi.buf, "chưa gửi báo cáo 10 ngày: 06/05/2022, 07/05/2022, 08/05/2022, "
                             "09/05/2022, 10/05/2022 và 5 ngày trước đó");

    /* a late report resolves it and says how late */
    n = rule_schedule_slots(plan, daily, PLAN_DAY_NONE, at("2022-05-03T21:00:00+07:00"), slots, 16);
    for (size_t i = 0; i < n; i++)
        slots[i].complete_ms = at("2022-05-01T10:00:00+07:00");
    slots[2].complete_ms = at("2022-05-03T19:40:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, at("2022-05-03T21:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá đã gửi báo cáo ngày 03/05/2022 lúc 19:40 cùng ngày, "
                        "chậm 2 giờ 40 phút so với hạn (17:00)");
    CHECK_STR(o.en.buf, "Phuc Xa ward sent its report for 3 May 2022 at 19:40 the same day, "
                        "2 h 40 min after the cut-off (17:00)");

    /* An episode of two missing days: 2 May missing from 18:00 on 2 May until 19:00 on
     * 3 May, 3 May from 18:00 until 19:40. The report that ended it names both. */
    slots[1].complete_ms = at("2022-05-03T19:00:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, at("2022-05-03T21:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá đã gửi đủ báo cáo 2 ngày còn thiếu; báo cáo cuối cùng, "
                        "ngày 03/05/2022 lúc 19:40 cùng ngày, chậm 2 giờ 40 phút so với hạn (17:00)");
    CHECK_STR(o.en.buf, "Phuc Xa ward has sent its reports for the 2 missing days; the last, "
                        "3 May 2022 at 19:40 the same day, 2 h 40 min after the cut-off (17:00)");
    /* A late day long before, closed before this episode began, is not part of it. */
    slots[1].complete_ms = at("2022-05-02T19:00:00+07:00");
    slots[0].complete_ms = at("2022-05-01T19:00:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, at("2022-05-03T21:00:00+07:00"), &o);
    CHECK_CONTAINS(o.vi.buf, "Phường Phúc Xá đã gửi báo cáo ngày 03/05/2022 lúc 19:40");

    /* weekly, due on Monday 10:00 */
    const struct plan_rule *weekly = plan_rule(plan, "weekly");
    now = at("2022-05-16T13:00:00+07:00");
    n = rule_schedule_slots(plan, weekly, PLAN_DAY_NONE, now, slots, 16);
    CHECK(n == 2);
    CHECK_STR(slots[0].period, "2022-W18");
    CHECK_STR(slots[1].period, "2022-W19");
    CHECK(slots[1].due_ms == at("2022-05-16T10:00:00+07:00"));
    slots[0].complete_ms = at("2022-05-09T09:00:00+07:00");
    rule_schedule_evaluate(plan, weekly, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_FIRING && o.since_ms == at("2022-05-16T12:00:00+07:00"));
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa gửi báo cáo tuần 19/2022 (09/05–15/05/2022) "
                        "(hạn gửi 10:00 ngày 16/05/2022)");
    CHECK(rule_schedule_due_ms(plan, weekly, day("2022-05-15")) == at("2022-05-16T10:00:00+07:00"));
}

/* ---- task ---------------------------------------------------------------------------- */

static void test_task(void)
{
    const struct plan_rule *r = plan_rule(plan, "scenario");
    struct rule_outcome o;
    rule_task_evaluate(plan, r, &PHUC_XA, NULL, at("2022-06-15T23:59:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK(rule_task_due_end_ms(plan, r) == at("2022-06-16T00:00:00+07:00"));
    rule_task_evaluate(plan, r, &PHUC_XA, "in_progress", at("2022-06-18T08:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.value == 3);
    CHECK(o.since_ms == at("2022-06-16T00:00:00+07:00"));
    CHECK(o.deadline_day == day("2022-06-15"));
    /* Who must do it, apart from who guides it. */
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa hoàn thành nhiệm vụ \"Xây dựng kịch bản\" (hạn "
                        "15/06/2022, quá hạn 3 ngày; trạng thái: đang thực hiện). Chủ trì: UBND "
                        "phường Phúc Xá; hướng dẫn: Phòng Y tế, Trung tâm Y tế quận; phối hợp: "
                        "Công an phường.");
    CHECK_STR(o.en.buf, "Phuc Xa ward has not completed the task \"Build the scenario\" (due "
                        "15 Jun 2022, 3 day(s) overdue; state: in progress). Lead: People's "
                        "Committee of Phuc Xa ward; guidance: Phòng Y tế, Trung tâm Y tế quận; "
                        "support: Công an phường.");
    CHECK(r->u.task.assignee_count == 4 && r->u.task.roles[0] == PLAN_ROLE_LEAD
          && r->u.task.roles[1] == PLAN_ROLE_GUIDE && r->u.task.roles[3] == PLAN_ROLE_SUPPORT);
    rule_task_evaluate(plan, r, &PHUC_XA, "done", at("2022-06-18T08:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá đã hoàn thành nhiệm vụ \"Xây dựng kịch bản\"");
}

/* ---- check --------------------------------------------------------------------------- */

static struct rule_point point(const char *period, int64_t value)
{
    struct rule_point p;
    int64_t first;
    int days;
    memset(&p, 0, sizeof p);
    snprintf(p.period, sizeof p.period, "%s", period);
    wp_period_parse(period, &first, &days);
    p.first_day = first;
    p.last_day = first + days - 1;
    p.value = value;
    return p;
}

static void test_check(void)
{
    struct rule_outcome o;
    struct rule_point treated[] = {point("2022-05-02", 5), point("2022-05-03", 3),
                                   point("2022-05-04", 4)};
    struct rule_point active[] = {point("2022-05-01", 9), point("2022-05-02", 5),
                                  point("2022-05-03", 5), point("2022-05-04", 4)};
    struct rule_series left = {3, treated}, right = {4, active};
    const struct plan_rule *severe = plan_rule(plan, "severe");
    rule_check_evaluate(plan, severe, &PHUC_XA, &left, &right, 0, &o);
    CHECK(o.state == RULE_FIRING && o.value == -2);
    CHECK(o.severity == PLAN_SEVERITY_WARNING);
    /* a data error, said as one, with a request to review */
    CHECK_STR(o.vi.buf, "Số liệu ngày 03/05/2022 của Phường Phúc Xá chưa hợp lý: \"Người bệnh "
                        "nặng được điều trị\" (3) nhỏ hơn \"Người bệnh nặng\" (5). Đề nghị rà soát.");
    CHECK_STR(o.en.buf, "Figures of Phuc Xa ward for 3 May 2022 look wrong: \"Severe patients "
                        "treated\" (3) is less than \"Severe patients\" (5). Please review.");
    treated[1].value = 6;   /* corrected */
    rule_check_evaluate(plan, severe, &PHUC_XA, &left, &right, 0, &o);
    CHECK(o.state == RULE_OK);
    treated[0].value = 1;
    treated[2].value = 0;
    rule_check_evaluate(plan, severe, &PHUC_XA, &left, &right, 0, &o);
    CHECK_CONTAINS(o.vi.buf, "ngày 04/05/2022");   /* the latest is shown */
    CHECK_CONTAINS(o.vi.buf, "; và 1 kỳ báo cáo khác. Đề nghị rà soát.");

    const struct plan_rule *pop = plan_rule(plan, "dose1-pop");
    struct rule_point dose1[] = {point("2022-05-02", 14000), point("2022-05-03", 15100),
                                 point("2022-05-04", 14900)};
    struct rule_series d1 = {3, dose1};
    rule_check_evaluate(plan, pop, &PHUC_XA, &d1, NULL, 15000, &o);
    CHECK(o.state == RULE_FIRING && o.value == 100);
    CHECK_STR(o.vi.buf, "Số liệu ngày 03/05/2022 của Phường Phúc Xá chưa hợp lý: \"Người 18+ "
                        "tiêm mũi 1\" (15.100) lớn hơn dân số từ 18 tuổi (15.000, số ước tính). "
                        "Đề nghị rà soát.");
    CHECK_CONTAINS(o.en.buf, "is greater than the population aged 18+ (15,000, an estimate). "
                             "Please review.");

    const struct plan_rule *mono = plan_rule(plan, "dose1-mono");
    rule_check_evaluate(plan, mono, &PHUC_XA, &d1, NULL, 0, &o);
    CHECK(o.state == RULE_FIRING && o.value == -200);
    CHECK_STR(o.vi.buf, "Số liệu của Phường Phúc Xá chưa hợp lý: số cộng dồn \"Người 18+ tiêm "
                        "mũi 1\" giảm từ 15.100 (ngày 03/05/2022) xuống 14.900 (ngày 04/05/2022). "
                        "Đề nghị rà soát.");
    CHECK_STR(o.en.buf, "Figures of Phuc Xa ward look wrong: the cumulative count \"People 18+ "
                        "with dose 1\" went down from 15,100 (3 May 2022) to 14,900 (4 May 2022). "
                        "Please review.");
    dose1[2].value = 15200;   /* a corrected report */
    rule_check_evaluate(plan, mono, &PHUC_XA, &d1, NULL, 0, &o);
    CHECK(o.state == RULE_OK);
}

/* ---- ratio: a target per period ------------------------------------------------------- */

static void test_ratio(void)
{
    struct rule_outcome o;
    const struct plan_rule *severe = plan_rule(plan, "severe-treated");
    CHECK(severe && severe->kind == PLAN_RULE_RATIO);
    CHECK_STR(plan_rule_kind_name(severe->kind), "ratio");
    /* 3 of 5 treated on 3 May: a target missed, not a data error. */
    struct rule_point treated[] = {point("2022-05-02", 5), point("2022-05-03", 3)};
    struct rule_point active[] = {point("2022-05-01", 9), point("2022-05-02", 5),
                                  point("2022-05-03", 5)};
    struct rule_series num = {2, treated}, den = {3, active};
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
    CHECK(o.has_value && fabs(o.value - 0.6) < 1e-9 && o.has_target && o.target == 1.0);
    CHECK(o.deadline_day == PLAN_DAY_NONE);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: mới có 3/5 người bệnh nặng, nguy kịch được điều trị theo "
                        "quy định, chưa đạt chỉ tiêu 100% (ngày 03/05/2022)");
    CHECK_STR(o.en.buf, "Phuc Xa ward: only 3 of 5 severe or critical patients treated per "
                        "regulation, short of the 100% target (3 May 2022)");
    /* two periods in a row */
    treated[0].value = 4;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, &o);
    CHECK_CONTAINS(o.vi.buf, "(ngày 03/05/2022); chưa đạt 2 kỳ báo cáo liên tiếp");
    CHECK_CONTAINS(o.en.buf, "; short for 2 periods in a row");
    /* the latest period meets it: resolved, and said so */
    treated[1].value = 5;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, &o);
    CHECK(o.state == RULE_OK && o.value == 1.0);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: 5/5 người bệnh nặng, nguy kịch được điều trị theo quy "
                        "định, đạt chỉ tiêu 100% (ngày 03/05/2022)");
    /* nobody severe: nothing to count, met, nothing said */
    active[2].value = 0;
    treated[1].value = 0;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, &o);
    CHECK(o.state == RULE_OK && !o.has_value && o.vi.len == 0);
    /* no period with both figures: nothing said */
    struct rule_series none = {0, NULL};
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &none, &den, &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);

    /* A 90% target: 9 of 10 meets it (no rounding trap), 8 of 10 misses; the share is said,
     * and without "counted" the numerator's name is. */
    const struct plan_rule *on_time = plan_rule(plan, "on-time-90");
    struct rule_point on[] = {point("2022-05-03", 9)}, total[] = {point("2022-05-03", 10)};
    struct rule_series s_on = {1, on}, s_total = {1, total};
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &s_on, &s_total, &o);
    CHECK(o.state == RULE_OK);
    on[0].value = 8;
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &s_on, &s_total, &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: mới có 8/10 Số cơ sở báo cáo đúng hạn (80%), chưa đạt "
                        "chỉ tiêu 90% (ngày 03/05/2022)");
}

/* ---- coverage ------------------------------------------------------------------------ */

static void test_coverage(void)
{
    const struct plan_rule *kids = plan_rule(plan, "kids");
    struct rule_outcome o;
    /* 1000 children; 600 by 1 Jul, +5 a day since 17 Jun (14 days: 530 → 600). */
    struct rule_point pts[] = {point("2022-06-10", 500), point("2022-06-17", 530),
                               point("2022-06-24", 565), point("2022-07-01", 600)};
    struct rule_series s = {4, pts};
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING);
    CHECK(o.severity == PLAN_SEVERITY_WARNING && o.since_ms == 0);
    CHECK(fabs(o.value - 0.6) < 1e-9 && o.target == 1.0 && o.deadline_day == day("2022-08-31"));
    /* 61 days left × 5 = 305 → 905 = 90.5 %, 9.5 points (95 people) short; the target
     * (400 more) at 5 a day: 80 days after 1 Jul = 19 Sep. */
    CHECK_STR(o.vi.buf, "Phường Phúc Xá có nguy cơ không đạt mục tiêu \"Quy tắc kids\" (mục tiêu "
                        "100% đến hết ngày 31/08/2022): đạt 60% ngày 01/07/2022; với tốc độ "
                        "14 ngày qua (5 người/ngày) dự kiến đến hạn đạt 90,5%, còn thiếu 9,5 điểm "
                        "phần trăm (khoảng 95 người); sẽ đạt mục tiêu vào khoảng ngày 19/09/2022");
    CHECK_STR(o.en.buf, "Phuc Xa ward is at risk of missing the target \"Rule kids\" (target "
                        "100% by the end of 31 Aug 2022): 60% on 1 Jul 2022; at the pace of "
                        "the last 14 days (5 people a day) it would reach 90.5% by the deadline, "
                        "9.5 percentage points (about 95 people) short; it would reach the target "
                        "around 19 Sep 2022");
    /* a faster pace is not at risk */
    pts[3].value = 800;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);
    /* no progress */
    pts[3].value = 530;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_CONTAINS(o.vi.buf, "không tăng trong 14 ngày qua; còn thiếu 470 người");
    /* too little history (nothing in force 14 days before today): nothing said */
    struct rule_series one = {1, pts};
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &one, 1000, at("2022-06-23T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    /* at midnight the day's own report has not come: yesterday's value is today's */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &one, 1000, at("2022-06-24T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_CONTAINS(o.vi.buf, "không tăng trong 14 ngày qua");
    /* after the deadline: missed, critical */
    struct rule_point late[] = {point("2022-08-20", 900), point("2022-08-31", 950),
                                point("2022-09-05", 960)};
    struct rule_series l = {3, late};
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &l, 1000, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_CRITICAL);
    CHECK(o.since_ms == at("2022-09-01T00:00:00+07:00"));
    CHECK(fabs(o.value - 0.96) < 1e-9);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá không đạt mục tiêu \"Quy tắc kids\" (mục tiêu 100% "
                        "đến hết ngày 31/08/2022): đến hạn đạt 95%, còn thiếu 5 điểm phần trăm; "
                        "hiện nay 96%");
    /* met: resolves, even late */
    late[2].value = 1000;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &l, 1000, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.vi.buf, "Phường Phúc Xá đã đạt mục tiêu");
    /* unknown denominator: nothing */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &l, 0, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && !o.has_value);
}

/* ---- level --------------------------------------------------------------------------- */

struct fake_unit {
    struct rule_series cases, deaths, care, dose1;
};

static const struct rule_series *fake_series(void *ctx, const char *indicator)
{
    struct fake_unit *u = ctx;
    return strcmp(indicator, "cases_new_community") == 0 ? &u->cases
           : strcmp(indicator, "deaths") == 0            ? &u->deaths
           : strcmp(indicator, "care_places") == 0       ? &u->care
           : strcmp(indicator, "vacc_18p_dose1_cum") == 0 ? &u->dose1 : NULL;
}

static bool fake_population(void *ctx, const char *group, double *people)
{
    (void)ctx;
    *people = strcmp(group, "total") == 0 ? 20000 : strcmp(group, "18p") == 0 ? 15000 : 0;
    return *people > 0;
}

static void test_level(void)
{
    const struct plan_rule *r = plan_rule(plan, "level");
    /* 20,000 people: 20/100k/week = 4 cases; 150/100k = 30 cases. W18 (2–8 May) 3 cases
     * → 1; W19 10 cases → 2 (50/100k); W20 40 cases → 3 (200/100k); W21 5 cases → 2 but
     * vaccination unmet keeps W20's 3 (no_lowering); W22 3 cases, vaccination met → 1. */
    struct rule_point cases[] = {point("2022-05-02", 1), point("2022-05-05", 2),
                                 point("2022-05-09", 10), point("2022-05-16", 20),
                                 point("2022-05-22", 20), point("2022-05-23", 5),
                                 point("2022-05-30", 3)};
    struct rule_point care[] = {point("2022-05-02", 30)};   /* 15 per 10,000: met */
    struct rule_point dose1[] = {point("2022-05-02", 12000), point("2022-05-29", 9000),
                                 point("2022-06-05", 12000)};
    struct fake_unit u = {{7, cases}, {0, NULL}, {1, care}, {3, dose1}};
    struct level_data data = {fake_series, fake_population, &u};
    struct level_week weeks[10];
    size_t n = rule_level_weeks(plan, r, &data, at("2022-06-06T00:00:00+07:00"), weeks, 10);
    CHECK(n == 5);
    CHECK_STR(weeks[0].week, "2022-W18");
    int expect[5] = {1, 2, 3, 3, 1};
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK(weeks[i].level == expect[i]);
    CHECK(fabs(weeks[2].rates[0] - 200.0) < 1e-9);
    CHECK(weeks[2].rates[1] < 0);   /* no deaths reported: unknown */
    CHECK(weeks[3].previous == 3);

    struct rule_outcome o;
    rule_level_evaluate(plan, r, &PHUC_XA, weeks, 3, &o);
    CHECK(o.state == RULE_FIRING && o.value == 3 && o.target == 3);
    CHECK(o.since_ms == at("2022-05-23T00:00:00+07:00"));
    CHECK(o.value_is_news);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: cấp độ dịch tuần 20/2022 là cấp độ 3 – nguy cơ cao (màu "
                        "cam), tăng từ cấp độ 2 (màu vàng); Ca mắc mới trong cộng đồng: 200,0 "
                        "ca/100.000 dân/tuần (tiêu chí QĐ 218/QĐ-BYT)");
    CHECK_STR(o.en.buf, "Phuc Xa ward: epidemic level in week 20 of 2022 is level 3 – high risk "
                        "(orange), up from level 2 (yellow); New community cases: 200.0 "
                        "cases/100,000 people/week (criteria of QĐ 218/QĐ-BYT)");
    rule_level_evaluate(plan, r, &PHUC_XA, weeks, 5, &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.en.buf, "is level 1 – low risk (green), down from level 3 (orange)");
    CHECK_CONTAINS(o.vi.buf, ", dưới mức cảnh báo (cấp độ 3)");

    /* capacity unmet: one level up */
    care[0].value = 10;   /* 5 per 10,000 */
    n = rule_level_weeks(plan, r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 2 && weeks[0].level == 2 && weeks[1].level == 3);
    /* a week not over yet is not evaluated; weeks with no figures are not green */
    n = rule_level_weeks(plan, r, &data, at("2022-05-15T23:00:00+07:00"), weeks, 10);
    CHECK(n == 1);
    struct fake_unit empty = {{0, NULL}, {0, NULL}, {0, NULL}, {0, NULL}};
    data.ctx = &empty;
    CHECK(rule_level_weeks(plan, r, &data, at("2022-06-06T00:00:00+07:00"), weeks, 10) == 0);
}


/* The level as QĐ 218 reads it: a week with days missing is incomplete (never lower for
 * it); a rate from too few events (one death in 20,000 people) cannot move the level; the
 * version's matrix (transmission × conditions) can lower the level as well as raise it. */
static void test_level_incomplete_min_count_matrix(void)
{
    const struct plan_rule *loaded = plan_rule(plan, "level");
    struct plan_rule r = *loaded;
    struct plan_level_version v = loaded->u.level.versions[0];
    struct plan_level_criterion crit[2] = {v.criteria[0], v.criteria[1]};
    crit[0].expected_daily = crit[1].expected_daily = true;
    crit[1].thresholds[0] = 1;     /* deaths 1 / 5 / 10 per 100,000 */
    crit[1].thresholds[1] = 5;
    crit[1].thresholds[2] = 10;
    crit[1].min_count = 3;
    v.criteria = crit;
    v.condition_count = 0;
    r.u.level.versions = &v;
    r.u.level.version_count = 1;

    /* 20,000 people. W19 (9–15 May): 8 cases/day (56: 280/100k → 3), every day.
     * W20: 1 case on 3 of 7 days (3: 15/100k → 1), the other days missing: incomplete,
     * so not lowered: 3. W21: every day, 1 case/day (35/100k → 2), and one death
     * (5/100k, which alone would be 3) below min_count 3: level 2, lowered since complete. */
    struct rule_point cases[21], deaths[21];
    size_t nc = 0, nd = 0;
    int64_t monday = text_local_day(at("2022-05-09T12:00:00+07:00"), 420);
    for (int d = 0; d < 21; d++) {
        if (d >= 7 && d < 14 && d % 3 != 1)
            continue;   /* W20: figures on 3 days only */
        char date[16];
        wp_date_format(monday + d, date, sizeof date);
        cases[nc++] = point(date, d < 7 ? 8 : 1);
        deaths[nd++] = point(date, d == 17 ? 1 : 0);
    }
    struct fake_unit u = {{nc, cases}, {nd, deaths}, {0, NULL}, {0, NULL}};
    struct level_data data = {fake_series, fake_population, &u};
    struct level_week weeks[10];
    size_t n = rule_level_weeks(plan, &r, &data, at("2022-05-30T00:00:00+07:00"), weeks, 10);
    CHECK(n == 3);
    CHECK(weeks[0].level == 3 && weeks[0].missing_days == 0);
    CHECK(weeks[1].level == 3 && weeks[1].missing_days == 4 && weeks[1].transmission == 1);
    CHECK(weeks[2].level == 2 && weeks[2].missing_days == 0);
    CHECK(weeks[2].counts[1] == 1 && fabs(weeks[2].rates[1] - 5.0) < 1e-9);
    struct rule_outcome o;
    rule_level_evaluate(plan, &r, &PHUC_XA, weeks, 2, &o);
    CHECK(o.state == RULE_FIRING && o.value == 3);
    CHECK_CONTAINS(o.vi.buf, "là ít nhất cấp độ 3 – nguy cơ cao (màu cam)");
    CHECK_CONTAINS(o.vi.buf, "tuần chưa đủ số liệu (thiếu 4 ngày)");
    CHECK_CONTAINS(o.en.buf, "the week is incomplete (4 days missing)");
    /* with min_count 0, the one death alone sets level 3 */
    crit[1].min_count = 0;
    n = rule_level_weeks(plan, &r, &data, at("2022-05-30T00:00:00+07:00"), weeks, 10);
    CHECK(n == 3 && weeks[2].level == 3 && weeks[2].dominant == 1);
    crit[1].min_count = 3;

    /* matrix: capacity (care places ≥ 10 per 10,000) in the matrix; transmission 3 with
     * capacity met gives 2 (lowered), with capacity unmet 4; unknown counts as unmet. */
    struct plan_level_condition cond = loaded->u.level.versions[0].conditions[0];
    cond.in_matrix = true;
    cond.no_lowering = false;
    v.conditions = &cond;
    v.condition_count = 1;
    v.matrix_columns = 2;
    int matrix[4][2] = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
    for (int t = 0; t < 4; t++)
        for (int c = 0; c < 2; c++)
            v.matrix[t][c] = matrix[t][c];
    struct rule_point care[] = {point("2022-05-01", 30)};   /* 15 per 10,000: met */
    u.care = (struct rule_series){1, care};
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].transmission == 3 && weeks[0].level == 2);
    rule_level_evaluate(plan, &r, &PHUC_XA, weeks, n, &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.vi.buf, "là cấp độ 2 – nguy cơ trung bình (màu vàng)");
    CHECK_CONTAINS(o.vi.buf, "mức lây nhiễm cấp 3, điều chỉnh theo năng lực đáp ứng");
    care[0].value = 10;   /* 5 per 10,000: unmet */
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].level == 4);
    u.care = (struct rule_series){0, NULL};
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].level == 4);
}

/* ---- the ready plan with Feb–Mar 2022 figures ---------------------------------------- */

struct named_series {
    const char *indicator;
    struct rule_series series;
};

struct real_unit {
    const struct plan *plan;
    const struct plan_unit *unit;
    struct named_series *series;
    size_t count;
};

static const struct rule_series *real_series(void *ctx, const char *indicator)
{
    struct real_unit *u = ctx;
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->series[i].indicator, indicator) == 0)
            return &u->series[i].series;
    return NULL;
}

static bool real_population(void *ctx, const char *group, double *people)
{
    struct real_unit *u = ctx;
    int64_t n;
    if (!plan_population(u->plan, u->unit, group, &n))
        return false;
    *people = (double)n;
    return true;
}

/* plans/ba-dinh-2022 under QĐ 218: a ward of 14,500 people in the week of 7–13 March 2022
 * (≈ 1,500 cases/100,000/week, "very high", as Ba Đình's 481 cases on 03/04/2022 were),
 * with one death, two oxygen cases and four admissions, ready care teams and 2022's
 * vaccination: orange, not red. Without its care teams it is red; a quiet week with one
 * death stays green (one death is not a rate). */
static void test_level_ready_plan_feb_mar_2022(void)
{
    const char *src = getenv("WP_SOURCE_DIR");
    char dir[512], err[1024];
    snprintf(dir, sizeof dir, "%s/plans/ba-dinh-2022", src ? src : "..");
    struct plan *ready = NULL;
    CHECK(plan_load(dir, "001", &ready, err, sizeof err) == WP_OK);
    if (!ready) {
        fprintf(stderr, "ba-dinh-2022: %s\n", err);
        return;
    }
    const struct plan_rule *r = plan_rule(ready, "epidemic-level");
    const struct plan_unit *phuc_xa = plan_unit(ready, "00001");
    CHECK(r != NULL && phuc_xa != NULL);
    if (!r || !phuc_xa) {
        plan_free(&ready);
        return;
    }
    int64_t p18 = 0, p50 = 0;
    CHECK(plan_population(ready, phuc_xa, "18p", &p18) && plan_population(ready, phuc_xa, "50p", &p50));
    struct rule_point cases[7], deaths[7], oxygen[1], admissions[1], care[1], dose2[1], full50[1];
    int64_t monday = text_local_day(at("2022-03-07T12:00:00+07:00"), 420);
    for (int d = 0; d < 7; d++) {
        char date[16];
        wp_date_format(monday + d, date, sizeof date);
        cases[d] = point(date, 31);                 /* 217 a week: 1,497/100,000 */
        deaths[d] = point(date, d == 3 ? 1 : 0);
    }
    oxygen[0] = point("2022-03-09", 2);
    admissions[0] = point("2022-03-10", 4);       /* 27.6/100,000, from 4 ≥ min_count */
    care[0] = point("2022-03-01", 2);             /* 1.4 per 10,000 */
    dose2[0] = point("2022-03-01", p18 * 95 / 100);
    full50[0] = point("2022-03-01", p50 * 95 / 100);
    struct named_series all[] = {
        {"cases_new_community", {7, cases}}, {"deaths", {7, deaths}},
        {"oxygen_cases_new", {1, oxygen}}, {"hospital_admissions_new", {1, admissions}},
        {"care_teams", {1, care}}, {"vacc_18p_dose2_cum", {1, dose2}},
        {"vacc_50p_full_cum", {1, full50}}};
    struct real_unit u = {ready, phuc_xa, all, sizeof all / sizeof all[0]};
    struct level_data data = {real_series, real_population, &u};
    struct level_week weeks[4];
    size_t n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1);
    CHECK_STR(weeks[0].version->id, "218");
    CHECK(weeks[0].transmission == 4 && weeks[0].level == 3 && weeks[0].missing_days == 0);
    struct rule_outcome o;
    struct rule_unit ru = {"00001", "00001", phuc_xa->name_vi, phuc_xa->name_en};
    rule_level_evaluate(ready, r, &ru, weeks, n, &o);
    CHECK_CONTAINS(o.vi.buf, "là cấp độ 3 – nguy cơ cao (màu cam)");
    CHECK_CONTAINS(o.vi.buf, "1.496,6 ca/100.000 dân/tuần");

    /* no care teams reported: unknown counts as unmet: red */
    all[4].series.count = 0;
    n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1 && weeks[0].level == 4);
    all[4].series.count = 1;

    /* a quiet week (2 cases), one death: 6.9/100,000 but one death moves nothing */
    for (int d = 0; d < 7; d++)
        cases[d].value = d < 2 ? 1 : 0;
    all[2].series.count = all[3].series.count = 0;
    n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1 && weeks[0].level == 1);
    CHECK(weeks[0].counts[3] == 1 && weeks[0].rates[3] > 6.8);
    plan_free(&ready);
}

int main(void)
{
    if (!load_plan())
        return 1;
    test_text();
    test_schedule();
    test_task();
    test_check();
    test_ratio();
    test_coverage();
    test_level();
    test_level_incomplete_min_count_matrix();
    test_level_ready_plan_feb_mar_2022();
    plan_free(&plan);
    wp_schemas_release();
    return CHECK_DONE();
}
