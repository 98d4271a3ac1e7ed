/* rule_lost.c — wardpulse's own rule on reports lost in delivery (contract in rules.h).
 *
 * A district database restored from an older backup asks the wards to send again what it
 * lacks (docs/architecture.md, "Healing a gap"); what a ward no longer keeps either is
 * declared lost so that the ward is not blocked for ever. This rule makes that a claim to
 * the district: which unit, which stream, which seqs, and what to do. */
#include "rules.h"

#include <string.h>

void rule_lost_evaluate(const struct plan_rule *rule, const struct rule_unit *unit,
                        const struct rule_lost_range *ranges, size_t count, int64_t total,
                        struct rule_outcome *out)
{
    rule_outcome_init(out, rule);
    if (count == 0)
        return;
    out->state = RULE_FIRING;
    out->severity = PLAN_SEVERITY_CRITICAL;
    out->since_ms = ranges[0].declared_ms;
    out->has_value = true;
    out->value = (double)total;
    text_append(&out->vi, "Mất %lld báo cáo của %s (", (long long)total, unit->name_vi);
    text_append(&out->en, "%lld report(s) of %s lost (", (long long)total, unit->name_en);
    for (size_t i = 0; i < count; i++) {
        const struct rule_lost_range *r = &ranges[i];
        const char *sep = i ? "; " : "";
        if (r->first_seq == r->last_seq) {
            text_append(&out->vi, "%sdòng %s, số thứ tự %lld", sep, r->stream,
                        (long long)r->first_seq);
            text_append(&out->en, "%sstream %s, seq %lld", sep, r->stream,
                        (long long)r->first_seq);
        } else {
            text_append(&out->vi, "%sdòng %s, số thứ tự %lld–%lld", sep, r->stream,
                        (long long)r->first_seq, (long long)r->last_seq);
            text_append(&out->en, "%sstream %s, seq %lld–%lld", sep, r->stream,
                        (long long)r->first_seq, (long long)r->last_seq);
        }
    }
    text_append(&out->vi, "): cơ sở dữ liệu của quận không còn các báo cáo này (đã khôi phục "
                "từ bản sao lưu cũ hơn) và đơn vị cũng không còn lưu. Đề nghị %s gửi lại số "
                "liệu của những ngày liên quan.", unit->name_vi);
    text_append(&out->en, "): the district's database no longer has them (restored from an "
                "older backup) and the unit no longer keeps them. Ask %s to submit the "
                "figures of the days concerned again.", unit->name_en);
}
