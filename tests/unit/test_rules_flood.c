/* test_rules_flood — wardpulse's own rule on refused messages over the daily bound
 * (rules/rule_flood.c): quiet while every refusal was kept, a warning that names the
 * unit, the day and the counts once some were only counted. */
#include <string.h>

#include "check.h"
#include "calendar.h"
#include "rules.h"

static const struct plan_rule flood_rule = {
    .id = PLAN_RULE_FLOOD_ID,
    .kind = PLAN_RULE_FLOOD,
    .name = {"Bản tin bị từ chối vượt mức", "Refused messages over the bound"},
    .severity = PLAN_SEVERITY_WARNING,
};

int main(void)
{
    const struct rule_unit ward = {"00001", "00001", "Phường Phúc Xá", "Phuc Xa ward"};
    int64_t day = wp_day_from_ymd(2022, 5, 3);
    struct rule_outcome o;

    /* Refusals within the bound: the log and the rejected table say it, no alert. */
    struct rule_flood_day within = {day, 12, 0};
    rule_flood_evaluate(&flood_rule, &ward, &within, &o);
    CHECK(o.state == RULE_OK);

    struct rule_flood_day over = {day, 1040, 40};
    rule_flood_evaluate(&flood_rule, &ward, &over, &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_WARNING);
    CHECK(o.has_value && o.value == 1040.0 && !o.has_target);
    CHECK(o.since_ms == 0);   /* from when it is noticed */
    CHECK_STR(o.vi.buf, "Phường Phúc Xá đã gửi 1040 bản tin bị từ chối trong ngày 03/05/2022, "
                        "vượt mức quận lưu giữ: 40 bản tin chỉ được đếm, không lưu nội dung, "
                        "đến hết ngày. Báo cáo hợp lệ của đơn vị vẫn được nhận. Đề nghị kiểm "
                        "tra máy và tài khoản gửi báo cáo của Phường Phúc Xá.");
    CHECK(strstr(o.en.buf, "Phuc Xa ward sent 1040 refused message(s) on 3 May 2022") != NULL);
    return CHECK_DONE();
}
