/* rule_flood.c — wardpulse's own rule on a unit whose refused messages went over the
 * district's daily bound (contract in rules.h).
 *
 * The aggregator keeps a bounded number of refused messages per unit and day
 * (rejected_max_per_day, rejected_max_bytes_per_day); past the bound it only counts them,
 * so that one unit's broken or hostile client cannot fill the district's disk. That is
 * news for the district once, not per message: a computer at the unit sending junk in a
 * loop, or an account in the wrong hands. */
#include "rules.h"

void rule_flood_evaluate(const struct plan_rule *rule, const struct rule_unit *unit,
                         const struct rule_flood_day *today, struct rule_outcome *out)
{
    rule_outcome_init(out, rule);
    if (today->not_kept <= 0)
        return;
    out->state = RULE_FIRING;
    out->severity = PLAN_SEVERITY_WARNING;
    out->has_value = true;
    out->value = (double)today->refused;
    text_append(&out->vi, "%s đã gửi %lld bản tin bị từ chối trong ngày ", unit->name_vi,
                (long long)today->refused);
    text_date_vi(&out->vi, today->day);
    text_append(&out->vi, ", vượt mức quận lưu giữ: %lld bản tin chỉ được đếm, không lưu "
                "nội dung, đến hết ngày. Báo cáo hợp lệ của đơn vị vẫn được nhận. Đề nghị "
                "kiểm tra máy và tài khoản gửi báo cáo của %s.", (long long)today->not_kept,
                unit->name_vi);
    text_append(&out->en, "%s sent %lld refused message(s) on ", unit->name_en,
                (long long)today->refused);
    text_date_en(&out->en, today->day);
    text_append(&out->en, ", more than the district keeps: %lld of them are counted, not "
                "kept, until midnight. The unit's valid reports are still taken. Check the "
                "computer and the account that %s reports from.", (long long)today->not_kept,
                unit->name_en);
}
