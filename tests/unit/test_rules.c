/* test_rules — each kind of rule as a pure function over a small data view, and the words
 * of their summaries (rules/rule_*.c, alert_text.c). The aggregator is not a
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
#include "rules_fixture.h"

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

/* Figures not yet expected (no silence), evaluated the evening of 3 May. */
#define NO_SILENCE PLAN_DAY_NONE, at("2022-05-03T20:00:00+07:00")

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
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, NO_SILENCE, &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
    CHECK(o.has_value && fabs(o.value - 0.6) < 1e-9 && o.has_target && o.target == 1.0);
    CHECK(o.deadline_day == PLAN_DAY_NONE);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: mới có 3/5 người bệnh nặng, nguy kịch được điều trị theo "
                        "quy định, chưa đạt chỉ tiêu 100% (ngày 03/05/2022)");
    CHECK_STR(o.en.buf, "Phuc Xa ward: only 3 of 5 severe or critical patients treated per "
                        "regulation, short of the 100% target (3 May 2022)");
    /* two periods in a row */
    treated[0].value = 4;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, NO_SILENCE, &o);
    CHECK_CONTAINS(o.vi.buf, "(ngày 03/05/2022); chưa đạt 2 kỳ báo cáo liên tiếp");
    CHECK_CONTAINS(o.en.buf, "; short for 2 periods in a row");
    /* the latest period meets it: resolved, and said so */
    treated[1].value = 5;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, NO_SILENCE, &o);
    CHECK(o.state == RULE_OK && o.value == 1.0);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: 5/5 người bệnh nặng, nguy kịch được điều trị theo quy "
                        "định, đạt chỉ tiêu 100% (ngày 03/05/2022)");
    /* nobody severe: nothing to count, met, nothing said */
    active[2].value = 0;
    treated[1].value = 0;
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, NO_SILENCE, &o);
    CHECK(o.state == RULE_OK && !o.has_value && o.vi.len == 0);
    /* no period with both figures: nothing said */
    struct rule_series none = {0, NULL};
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &none, &den, NO_SILENCE, &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);

    /* A 90% target: 9 of 10 meets it (no rounding trap), 8 of 10 misses; the share is said,
     * and without "counted" the numerator's name is. */
    const struct plan_rule *on_time = plan_rule(plan, "on-time-90");
    struct rule_point on[] = {point("2022-05-03", 9)}, total[] = {point("2022-05-03", 10)};
    struct rule_series s_on = {1, on}, s_total = {1, total};
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &s_on, &s_total, NO_SILENCE, &o);
    CHECK(o.state == RULE_OK);
    on[0].value = 8;
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &s_on, &s_total, NO_SILENCE, &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: mới có 8/10 Số cơ sở báo cáo đúng hạn (80%), chưa đạt "
                        "chỉ tiêu 90% (ngày 03/05/2022)");
}

/* A ratio rule knows what it expects: after silence_days without both figures, the same
 * silence warning as a coverage rule's, then back to the target once figures come. */
static void test_ratio_silence(void)
{
    struct rule_outcome o;
    const struct plan_rule *severe = plan_rule(plan, "severe-treated");     /* warning */
    const struct plan_rule *on_time = plan_rule(plan, "on-time-90");
    CHECK(severe->u.ratio.silence_days == PLAN_SILENCE_DAYS);
    struct rule_series none = {0, NULL};
    int64_t from = day("2022-05-01");
    /* Never sent either figure: quiet for 6 days, silent from the 7th (8 May). */
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &none, &none, from,
                        at("2022-05-07T23:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &none, &none, from,
                        at("2022-05-08T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING && !o.has_value);
    CHECK(o.since_ms == at("2022-05-08T00:00:00+07:00"));
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa gửi số liệu \"Số cơ sở báo cáo đúng hạn\" từ ngày "
                        "01/05/2022 (7 ngày, chưa gửi lần nào), cần cho chỉ tiêu \"Quy tắc "
                        "on-time-90\"");
    CHECK_STR(o.en.buf, "Phuc Xa ward has sent no figures for \"Facilities reporting on time\" "
                        "since 1 May 2022 (7 days, never sent), needed for the target \"Rule "
                        "on-time-90\"");
    /* Nothing expected yet (no report in the database): nothing said. */
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &none, &none, PLAN_DAY_NONE,
                        at("2022-06-08T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);
    /* Only the denominator comes: still silent on the numerator. */
    struct rule_point total[] = {point("2022-05-08", 5)};
    struct rule_series s_total = {1, total};
    rule_ratio_evaluate(plan, on_time, &PHUC_XA, &none, &s_total, from,
                        at("2022-05-08T18:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_CONTAINS(o.vi.buf, "chưa gửi số liệu \"Số cơ sở báo cáo đúng hạn\"");
    /* Both figures, 3 of 5 treated on 3 May, then nothing: the miss until the silence,
     * which names the latest figures and wins over a miss it makes stale. */
    struct rule_point treated[] = {point("2022-05-03", 3)};
    struct rule_point active[] = {point("2022-05-03", 5)};
    struct rule_series num = {1, treated}, den = {1, active};
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, from,
                        at("2022-05-10T23:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.has_value && fabs(o.value - 0.6) < 1e-9);
    CHECK_CONTAINS(o.vi.buf, "mới có 3/5");
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num, &den, from,
                        at("2022-05-11T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && !o.has_value && o.severity == PLAN_SEVERITY_WARNING);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá chưa gửi số liệu \"Người bệnh nặng được điều trị\" từ "
                        "ngày 04/05/2022 (7 ngày; số liệu gần nhất ngày 03/05/2022), cần cho "
                        "chỉ tiêu \"Quy tắc severe-treated\"");
    CHECK_CONTAINS(o.en.buf, "(7 days; the latest for 3 May 2022), needed for the target");
    /* The figures come again, all treated: OK, the target met. */
    struct rule_point treated2[] = {point("2022-05-03", 3), point("2022-05-11", 4)};
    struct rule_point active2[] = {point("2022-05-03", 5), point("2022-05-11", 4)};
    struct rule_series num2 = {2, treated2}, den2 = {2, active2};
    rule_ratio_evaluate(plan, severe, &PHUC_XA, &num2, &den2, from,
                        at("2022-05-11T17:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.vi.buf, "4/4 người bệnh nặng");
}

/* ---- coverage ------------------------------------------------------------------------ */

/* A coverage rule on Phúc Xá with a population denominator, nothing expected of it yet
 * (no silence). */
static void coverage(const struct plan_rule *rule, const struct rule_series *numerator,
                     double denominator, int64_t now_ms, struct rule_outcome *o)
{
    struct coverage_input in = {numerator, denominator, NULL, PLAN_DAY_NONE};
    rule_coverage_evaluate(plan, rule, &PHUC_XA, &in, now_ms, o);
}

static void test_coverage(void)
{
    const struct plan_rule *kids = plan_rule(plan, "kids");
    struct rule_outcome o;
    /* 1000 children; 600 by 1 Jul, +5 a day since 17 Jun (14 days: 530 → 600). */
    struct rule_point pts[] = {point("2022-06-10", 500), point("2022-06-17", 530),
                               point("2022-06-24", 565), point("2022-07-01", 600)};
    struct rule_series s = {4, pts};
    coverage(kids, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
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
    coverage(kids, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);
    /* no progress */
    pts[3].value = 530;
    coverage(kids, &s, 1000, at("2022-07-01T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING);
    CHECK_CONTAINS(o.vi.buf, "không tăng trong 14 ngày qua; còn thiếu 470 người");
    /* too little history (nothing in force 14 days before today): nothing said */
    struct rule_series one = {1, pts};
    coverage(kids, &one, 1000, at("2022-06-23T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    /* a figure 14 days old has no figure trend_days before it: still no trend (the
     * projection starts from the last figure, not from today) */
    coverage(kids, &one, 1000, at("2022-06-24T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    /* after the deadline: missed, critical */
    struct rule_point late[] = {point("2022-08-20", 900), point("2022-08-31", 950),
                                point("2022-09-05", 960)};
    struct rule_series l = {3, late};
    coverage(kids, &l, 1000, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_CRITICAL);
    CHECK(o.since_ms == at("2022-09-01T00:00:00+07:00"));
    CHECK(fabs(o.value - 0.96) < 1e-9);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá không đạt mục tiêu \"Quy tắc kids\" (mục tiêu 100% "
                        "đến hết ngày 31/08/2022): đến hạn đạt 95%, còn thiếu 5 điểm phần trăm; "
                        "hiện nay 96%");
    /* met: resolves, even late */
    late[2].value = 1000;
    coverage(kids, &l, 1000, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.vi.buf, "Phường Phúc Xá đã đạt mục tiêu");
    /* unknown denominator: nothing */
    coverage(kids, &l, 0, at("2022-09-06T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && !o.has_value);
}

/* On time means when the ward committed it (issue 10): a report committed at 16:40 and
 * delivered at 22:40 after an outage was missing at 18:00 (the district did not have
 * it), and is on time once it came. */
static void test_schedule_delivered_late(void)
{
    const struct plan_rule *daily = plan_rule(plan, "daily");
    struct schedule_slot slots[16];
    struct rule_outcome o;
    int64_t now = at("2022-05-03T20:00:00+07:00");
    size_t n = rule_schedule_slots(plan, daily, PLAN_DAY_NONE, now, slots, 16);
    CHECK(n == 3);
    for (size_t i = 0; i < 2; i++)
        slots[i].complete_ms = slots[i].received_ms = at("2022-05-01T16:00:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_FIRING);
    now = at("2022-05-03T22:41:00+07:00");
    slots[2].complete_ms = at("2022-05-03T16:40:00+07:00");
    slots[2].received_ms = at("2022-05-03T22:40:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, now, &o);
    CHECK(o.state == RULE_OK);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá đã gửi báo cáo ngày 03/05/2022: lập lúc 16:40 cùng "
                        "ngày, đúng hạn (hạn gửi 17:00), nhưng đến quận lúc 22:40 cùng ngày "
                        "(chuyển muộn, có thể do mất kết nối)");
    CHECK_STR(o.en.buf, "Phuc Xa ward sent its report for 3 May 2022: committed at 16:40 the "
                        "same day, on time (due 17:00), delivered at 22:40 the same day "
                        "(delivered late, the link was likely down)");
    /* Delivered the next morning: that day is named. */
    slots[2].received_ms = at("2022-05-04T07:15:00+07:00");
    rule_schedule_evaluate(plan, daily, &PHUC_XA, slots, n, at("2022-05-04T07:16:00+07:00"), &o);
    CHECK_CONTAINS(o.vi.buf, "nhưng đến quận lúc 07:15 ngày 04/05/2022 (chuyển muộn");
}

/* A ward that says nothing is not a ward that is fine (issue 10). */
static void test_coverage_silence(void)
{
    const struct plan_rule *kids = plan_rule(plan, "kids");
    const struct plan_rule *frontline = plan_rule(plan, "frontline");
    CHECK(kids->u.coverage.silence_days == 7 && frontline->u.coverage.silence_days == 10);
    struct rule_outcome o;
    int64_t may1 = day("2022-05-01");
    struct rule_series none = {0, NULL};
    struct coverage_input in = {&none, 1000, NULL, may1};
    /* never sent: quiet for the first 7 days from when figures are expected … */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-05-07T23:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    /* … then a warning, from that midnight */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-05-08T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
    CHECK(o.since_ms == at("2022-05-08T00:00:00+07:00") && !o.has_value);
    CHECK_CONTAINS(o.vi.buf, "Phường Phúc Xá chưa gửi số liệu \"Trẻ 5-11 tiêm đủ liều\" từ ngày "
                             "01/05/2022 (7 ngày, chưa gửi lần nào), cần cho mục tiêu \"Quy tắc "
                             "kids\"");
    CHECK_CONTAINS(o.en.buf, "Phuc Xa ward has sent no figures for \"Children 5-11 fully "
                             "vaccinated\" since 1 May 2022 (7 days, never sent), needed for the "
                             "target \"Rule kids\"");
    /* at the deadline with no figures: the rule's critical "missed — no figures" */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-09-01T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_CRITICAL);
    CHECK(o.since_ms == at("2022-09-01T00:00:00+07:00"));
    CHECK_CONTAINS(o.vi.buf, "Phường Phúc Xá không đạt mục tiêu \"Quy tắc kids\"");
    CHECK_CONTAINS(o.vi.buf, ": không có số liệu (chưa gửi số liệu \"Trẻ 5-11 tiêm đủ liều\")");
    CHECK_CONTAINS(o.en.buf, ": no figures (\"Children 5-11 fully vaccinated\" never sent)");
    /* nothing expected (no report ever reached this database; or wardpulse started after
     * the deadline): nothing said */
    in.expected_from_day = PLAN_DAY_NONE;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-09-01T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    in.expected_from_day = day("2022-09-05");
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-09-20T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);

    /* figures that stopped: silent from the day after the last one */
    struct rule_point pts[] = {point("2022-06-10", 500)};
    struct rule_series one = {1, pts};
    in.numerator = &one;
    in.expected_from_day = may1;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-06-17T12:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-06-18T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING && o.has_value);
    CHECK(o.since_ms == at("2022-06-18T00:00:00+07:00"));
    CHECK_CONTAINS(o.vi.buf, "chưa gửi số liệu \"Trẻ 5-11 tiêm đủ liều\" từ ngày 11/06/2022 "
                             "(7 ngày; số liệu gần nhất ngày 10/06/2022)");
    CHECK_CONTAINS(o.en.buf, "since 11 Jun 2022 (7 days; the latest for 10 Jun 2022)");
    /* a target met stays met */
    pts[0].value = 1000;
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at("2022-07-18T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);

    /* frontline-full without frontline_staff: the denominator's silence, its own 10 days */
    struct rule_point vacc[] = {point("2022-05-01", 90), point("2022-05-12", 95)};
    struct rule_series v = {2, vacc};
    struct coverage_input f = {&v, 0, &none, may1};
    rule_coverage_evaluate(plan, frontline, &PHUC_XA, &f, at("2022-05-10T12:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    rule_coverage_evaluate(plan, frontline, &PHUC_XA, &f, at("2022-05-11T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
    CHECK_CONTAINS(o.vi.buf, "chưa gửi số liệu \"Lực lượng tuyến đầu\" từ ngày 01/05/2022 "
                             "(10 ngày, chưa gửi lần nào)");
    rule_coverage_evaluate(plan, frontline, &PHUC_XA, &f, at("2022-07-01T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_CRITICAL);
    CHECK_CONTAINS(o.vi.buf, "không có số liệu (chưa gửi số liệu \"Lực lượng tuyến đầu\")");
    /* with the denominator sent, the ratio speaks */
    struct rule_point staff[] = {point("2022-05-01", 95)};
    struct rule_series st = {1, staff};
    f.denominator_series = &st;
    f.denominator = 95;
    rule_coverage_evaluate(plan, frontline, &PHUC_XA, &f, at("2022-07-01T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.has_value && fabs(o.value - 1.0) < 1e-9);
}

/* Forecasts from the figures as they are (issue 10). */
static void test_coverage_projection(void)
{
    const struct plan_rule *kids = plan_rule(plan, "kids");
    struct rule_outcome o;
    /* 400 on 1 Jun, 495 on 20 Jun: 95 in 19 real days = 5 a day, projected from 20 Jun:
     * 72 days × 5 = 360 → 855, 145 people short; 505 more at 5 a day = 101 days after
     * 20 Jun = 29 Sep. Today's date moves none of it. */
    struct rule_point pts[] = {point("2022-06-01", 400), point("2022-06-20", 495)};
    struct rule_series s = {2, pts};
    struct coverage_input in = {&s, 1000, NULL, day("2022-05-01")};
    const char *days[] = {"2022-06-22T09:00:00+07:00", "2022-06-26T09:00:00+07:00"};
    for (int i = 0; i < 2; i++) {
        rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at(days[i]), &o);
        CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
        CHECK(fabs(o.value - 0.495) < 1e-9);
        CHECK_CONTAINS(o.vi.buf, "ngày 20/06/2022");
        CHECK_CONTAINS(o.vi.buf, "với tốc độ 19 ngày qua (5 người/ngày)");
        CHECK_CONTAINS(o.vi.buf, "(khoảng 145 người)");
        CHECK_CONTAINS(o.vi.buf, "sẽ đạt mục tiêu vào khoảng ngày 29/09/2022");
        CHECK_CONTAINS(o.en.buf, "(about 145 people) short; it would reach the target around "
                                 "29 Sep 2022");
    }
    /* 2 days after the last figure it is not dated; 6 days after, it is */
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at(days[0]), &o);
    CHECK(strstr(o.vi.buf, "số liệu gần nhất") == NULL);
    rule_coverage_evaluate(plan, kids, &PHUC_XA, &in, at(days[1]), &o);
    CHECK_CONTAINS(o.vi.buf, "ngày 20/06/2022 (số liệu gần nhất, đã 6 ngày)");
    CHECK_CONTAINS(o.en.buf, "on 20 Jun 2022 (the latest figures, 6 days old)");
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
    test_ratio_silence();
    test_coverage();
    test_coverage_silence();
    test_schedule_delivered_late();
    test_coverage_projection();
    plan_free(&plan);
    wp_schemas_release();
    return CHECK_DONE();
}
