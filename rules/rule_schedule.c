/* rule_schedule.c — schedule rules: report_missing per ward and period (rules.h). */
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "calendar.h"
#include "timefmt.h"

#define MS_PER_MINUTE INT64_C(60000)
/* Periods named in one summary; the others are counted. */
#define SCHEDULE_LISTED_MAX 5

int64_t rule_schedule_due_ms(const struct plan *plan, const struct plan_rule *rule,
                             int64_t period_last_day)
{
    const struct plan_schedule *s = &rule->u.schedule;
    return wp_day_start_ms(period_last_day + s->cutoff_day_offset, plan->utc_offset_minutes)
           + s->cutoff_minute * MS_PER_MINUTE;
}

size_t rule_schedule_slots(const struct plan *plan, const struct plan_rule *rule,
                           int64_t from_day, int64_t now_ms, struct schedule_slot *slots,
                           size_t max)
{
    const struct plan_schedule *s = &rule->u.schedule;
    int64_t first = s->from_day != PLAN_DAY_NONE ? s->from_day
                    : plan->valid_from_day != PLAN_DAY_NONE ? plan->valid_from_day : from_day;
    int64_t last = s->to_day != PLAN_DAY_NONE ? s->to_day : plan->valid_to_day;
    int step = s->weekly ? 7 : 1;
    if (first == PLAN_DAY_NONE)
        return 0;
    if (s->weekly) {
        /* A weekly rule starts with the ISO week holding its first day. */
        first = wp_monday_of(first);
    }
    /* Count first, so that only the newest max are written when there are more. */
    size_t total = 0;
    for (int64_t d = first; last == PLAN_DAY_NONE || d <= last; d += step) {
        if (rule_schedule_due_ms(plan, rule, d + step - 1) > now_ms)
            break;
        total++;
    }
    size_t skip = total > max ? total - max : 0, i = 0;
    for (size_t k = skip; k < total; k++) {
        int64_t d = first + (int64_t)k * step;
        struct schedule_slot *slot = &slots[i++];
        memset(slot, 0, sizeof *slot);
        if (s->weekly)
            wp_isoweek_format(d, slot->period, sizeof slot->period, NULL);
        else
            wp_date_format(d, slot->period, sizeof slot->period);
        slot->due_ms = rule_schedule_due_ms(plan, rule, d + step - 1);
        slot->alert_ms = slot->due_ms + s->grace_minutes * MS_PER_MINUTE;
    }
    return total;
}

/* "hạn gửi 17:00" / "due 17:00", with the day when the cut-off is not on the period's day. */
static void schedule_due_text(const struct plan *plan, const struct plan_rule *rule,
                              const struct schedule_slot *slot, struct text *vi,
                              struct text *en)
{
    const struct plan_schedule *s = &rule->u.schedule;
    text_append(vi, "hạn gửi ");
    text_clock_time(vi, slot->due_ms, plan->utc_offset_minutes);
    text_append(en, "due ");
    text_clock_time(en, slot->due_ms, plan->utc_offset_minutes);
    if (s->weekly || s->cutoff_day_offset > 0) {
        int64_t day = wp_local_day_at(slot->due_ms, plan->utc_offset_minutes);
        text_append(vi, " ngày ");
        text_date_vi(vi, day);
        text_append(en, " on ");
        text_date_en(en, day);
    }
}

static bool schedule_missing(const struct schedule_slot *slot, int64_t now_ms)
{
    return slot->complete_ms == 0 && slot->alert_ms <= now_ms;
}

/* The summary of n missing slots (n ≥ 1). */
static void schedule_firing(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct schedule_slot *slots,
                            size_t count, size_t n, int64_t now_ms, struct rule_outcome *out)
{
    /* Indices of the oldest missing slot and of the newest SCHEDULE_LISTED_MAX, oldest
     * first: the newest matter most, older ones are counted. */
    size_t missing[SCHEDULE_LISTED_MAX], listed = 0, oldest = 0;
    for (size_t i = count; i-- > 0 && listed < SCHEDULE_LISTED_MAX;)
        if (schedule_missing(&slots[i], now_ms))
            missing[SCHEDULE_LISTED_MAX - 1 - listed++] = i;
    for (size_t i = 0; i < count; i++)
        if (schedule_missing(&slots[i], now_ms)) {
            oldest = i;
            break;
        }
    const size_t *shown = missing + (SCHEDULE_LISTED_MAX - listed);

    const struct plan_schedule *s = &rule->u.schedule;
    const struct schedule_slot *newest = &slots[shown[listed - 1]];
    const struct plan_indicator *ind =
        newest->missing_first ? plan_indicator(plan, newest->missing_first) : NULL;
    bool partial = newest->missing_count > 0 && newest->missing_count < s->indicator_count;

    out->state = RULE_FIRING;
    out->since_ms = slots[oldest].alert_ms;
    out->has_value = true;
    out->value = (double)n;
    if (n == 1 && partial) {
        /* "Báo cáo ngày 03/05/2022 của Phường Phúc Xá còn thiếu chỉ tiêu: Tử vong" */
        size_t others = newest->missing_count - 1;
        text_append(&out->vi, "Báo cáo ");
        text_period_vi(&out->vi, newest->period);
        text_append(&out->vi, " của %s còn thiếu ", unit->name_vi);
        text_append(&out->en, "The report of %s for ", unit->name_en);
        text_period_en(&out->en, newest->period);
        text_append(&out->en, " lacks ");
        if (others > 0) {
            text_append(&out->vi, "%zu chỉ tiêu: %s và %zu chỉ tiêu khác (",
                        newest->missing_count, ind ? ind->name.vi : "?", others);
            text_append(&out->en, "%zu indicators: %s and %zu other%s (", newest->missing_count,
                        ind ? ind->name.en : "?", others, others > 1 ? "s" : "");
        } else {
            text_append(&out->vi, "chỉ tiêu: %s (", ind ? ind->name.vi : "?");
            text_append(&out->en, "an indicator: %s (", ind ? ind->name.en : "?");
        }
    } else if (n == 1) {
        text_append(&out->vi, "%s chưa gửi báo cáo ", unit->name_vi);
        text_period_vi(&out->vi, newest->period);
        text_append(&out->vi, " (");
        text_append(&out->en, "%s has not sent its report for ", unit->name_en);
        text_period_en(&out->en, newest->period);
        text_append(&out->en, " (");
    } else {
        const char *what_vi = s->weekly ? "tuần" : "ngày";
        text_append(&out->vi, "%s chưa gửi báo cáo %zu %s: ", unit->name_vi, n, what_vi);
        text_append(&out->en, "%s has not sent its reports for %zu %s: ", unit->name_en, n,
                    s->weekly ? "weeks" : "days");
        size_t start = n - listed;
        for (size_t k = 0; k < listed; k++) {
            const char *p = slots[shown[k]].period;
            int64_t first;
            wp_period_parse(p, &first, NULL);
            const char *sep = k > 0 ? ", " : "";
            text_append(&out->vi, "%s", sep);
            text_append(&out->en, "%s", sep);
            if (s->weekly) {
                text_append(&out->vi, "%d/%.4s", (int)(p[6] - '0') * 10 + (p[7] - '0'), p);
                text_append(&out->en, "%s", p);
            } else {
                text_date_vi(&out->vi, first);
                text_date_en(&out->en, first);
            }
        }
        if (start > 0) {
            text_append(&out->vi, " và %zu %s trước đó", start, what_vi);
            text_append(&out->en, " and %zu earlier", start);
        }
        text_append(&out->vi, " (");
        text_append(&out->en, " (");
    }
    schedule_due_text(plan, rule, newest, &out->vi, &out->en);
    text_append(&out->vi, "%s)", n > 1 && !s->weekly && s->cutoff_day_offset == 0 ? " mỗi ngày"
                                                                                  : "");
    text_append(&out->en, "%s)", n > 1 && !s->weekly && s->cutoff_day_offset == 0 ? " each day"
                                                                                  : "");
}

/* How many periods the episode that `last` ended had missing: the slots that came in
 * after their alert time and were missing at some moment of one unbroken stretch with
 * at least one period missing, which ends when `last` came in. (An episode that began
 * with 2 May missing, then 3 May too, and ended when both had come is 2 periods.) */
static size_t schedule_episode_periods(const struct schedule_slot *slots, size_t count,
                                       const struct schedule_slot *last)
{
    int64_t start = last->alert_ms;
    bool grew = true;
    while (grew) {   /* an earlier start can take in slots that did not overlap before */
        grew = false;
        for (size_t i = 0; i < count; i++) {
            const struct schedule_slot *s = &slots[i];
            if (s->complete_ms > s->alert_ms && s->complete_ms >= start && s->alert_ms < start
                && s->alert_ms <= last->complete_ms) {
                start = s->alert_ms;
                grew = true;
            }
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += slots[i].complete_ms > slots[i].alert_ms && slots[i].complete_ms >= start
             && slots[i].alert_ms <= last->complete_ms;
    return n;
}

/* What resolved it: a report committed at the ward in time, delivered after the alert
 * time (the link was down): on time, and said so with both times. */
/* "16:40 cùng ngày" when day is the one just named, else "16:40 ngày 04/05/2022". */
static void schedule_clock_on(int64_t ms, int offset, int64_t named_day, struct text *vi,
                              struct text *en)
{
    int64_t day = wp_local_day_at(ms, offset);
    text_clock_time(vi, ms, offset);
    text_clock_time(en, ms, offset);
    if (day == named_day) {
        text_append(vi, " cùng ngày");
        text_append(en, " the same day");
        return;
    }
    text_append(vi, " ngày ");
    text_date_vi(vi, day);
    text_append(en, " on ");
    text_date_en(en, day);
}

static void schedule_delayed_text(const struct plan *plan, const struct plan_rule *rule,
                                  const struct rule_unit *unit,
                                  const struct schedule_slot *slot, struct rule_outcome *out)
{
    int offset = plan->utc_offset_minutes;
    int64_t committed_day = wp_local_day_at(slot->complete_ms, offset);
    int64_t period_day = rule->u.schedule.weekly ? INT64_MIN
                                                 : wp_local_day_at(slot->due_ms, offset)
                                                       - rule->u.schedule.cutoff_day_offset;
    text_append(&out->vi, "%s đã gửi báo cáo ", unit->name_vi);
    text_period_vi(&out->vi, slot->period);
    text_append(&out->vi, ": lập lúc ");
    text_append(&out->en, "%s sent its report for ", unit->name_en);
    text_period_en(&out->en, slot->period);
    text_append(&out->en, ": committed at ");
    schedule_clock_on(slot->complete_ms, offset, period_day, &out->vi, &out->en);
    text_append(&out->vi, ", đúng hạn (");
    text_append(&out->en, ", on time (");
    schedule_due_text(plan, rule, slot, &out->vi, &out->en);
    text_append(&out->vi, "), nhưng đến quận lúc ");
    text_append(&out->en, "), delivered at ");
    schedule_clock_on(slot->received_ms, offset, committed_day, &out->vi, &out->en);
    text_append(&out->vi, " (chuyển muộn, có thể do mất kết nối)");
    text_append(&out->en, " (delivered late, the link was likely down)");
}

void rule_schedule_evaluate(const struct plan *plan, const struct plan_rule *rule,
                            const struct rule_unit *unit, const struct schedule_slot *slots,
                            size_t count, int64_t now_ms, struct rule_outcome *out)
{
    rule_outcome_init(out, rule);
    size_t n = 0;
    bool pending = false;
    const struct schedule_slot *late = NULL, *delayed = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct schedule_slot *slot = &slots[i];
        if (slot->complete_ms > 0 && slot->complete_ms <= slot->alert_ms
            && slot->received_ms > slot->alert_ms
            && (!delayed || slot->received_ms >= delayed->received_ms))
            delayed = slot;   /* committed in time, delivered after the alert time */
        if (slot->complete_ms > 0) {
            if (slot->complete_ms > slot->alert_ms && (!late || slot->complete_ms
                                                                    >= late->complete_ms))
                late = slot;
            continue;
        }
        if (slot->alert_ms <= now_ms)
            n++;
        else if (slot->due_ms <= now_ms)
            pending = true;
    }
    if (n > 0) {
        schedule_firing(plan, rule, unit, slots, count, n, now_ms, out);
        return;
    }
    if (pending) {
        out->state = RULE_PENDING;
        return;
    }
    if (delayed && (!late || delayed->received_ms > late->received_ms)) {
        schedule_delayed_text(plan, rule, unit, delayed, out);
        return;
    }
    if (late) {
        /* What resolved it: the latest report that came after the alert had fired, and
         * how many periods were missing in that episode. */
        int64_t day = wp_local_day_at(late->complete_ms, plan->utc_offset_minutes);
        size_t periods = schedule_episode_periods(slots, count, late);
        const bool weekly = rule->u.schedule.weekly;
        if (periods > 1) {
            text_append(&out->vi, "%s đã gửi đủ báo cáo %zu %s còn thiếu; báo cáo cuối cùng, ",
                        unit->name_vi, periods, weekly ? "tuần" : "ngày");
            text_append(&out->en, "%s has sent its reports for the %zu missing %s; the last, ",
                        unit->name_en, periods, weekly ? "weeks" : "days");
        } else {
            text_append(&out->vi, "%s đã gửi báo cáo ", unit->name_vi);
            text_append(&out->en, "%s sent its report for ", unit->name_en);
        }
        /* "… lúc 19:40 cùng ngày, chậm 2 giờ 40 phút so với hạn (17:00)": the day is
         * said only when it is not the one just named (the period's, then the arrival's). */
        const bool same_day = !weekly && rule->u.schedule.cutoff_day_offset == 0
                              && day == wp_local_day_at(late->due_ms, plan->utc_offset_minutes);
        int64_t due_day = wp_local_day_at(late->due_ms, plan->utc_offset_minutes);
        text_period_vi(&out->vi, late->period);
        text_append(&out->vi, " lúc ");
        text_clock_time(&out->vi, late->complete_ms, plan->utc_offset_minutes);
        text_period_en(&out->en, late->period);
        text_append(&out->en, " at ");
        text_clock_time(&out->en, late->complete_ms, plan->utc_offset_minutes);
        if (same_day) {
            text_append(&out->vi, " cùng ngày");
            text_append(&out->en, " the same day");
        } else {
            text_append(&out->vi, " ngày ");
            text_date_vi(&out->vi, day);
            text_append(&out->en, " on ");
            text_date_en(&out->en, day);
        }
        text_append(&out->vi, ", chậm ");
        text_duration_vi(&out->vi, late->complete_ms - late->due_ms);
        text_append(&out->vi, " so với hạn (");
        text_clock_time(&out->vi, late->due_ms, plan->utc_offset_minutes);
        text_append(&out->en, ", ");
        text_duration_en(&out->en, late->complete_ms - late->due_ms);
        text_append(&out->en, " after the cut-off (");
        text_clock_time(&out->en, late->due_ms, plan->utc_offset_minutes);
        if (due_day != day) {
            text_append(&out->vi, " ngày ");
            text_date_vi(&out->vi, due_day);
            text_append(&out->en, " on ");
            text_date_en(&out->en, due_day);
        }
        text_append(&out->vi, ")");
        text_append(&out->en, ")");
    }
}
