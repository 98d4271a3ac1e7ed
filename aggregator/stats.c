/* stats.c — the payload of aggregator/stats (stats.h). */
#include "stats.h"

#include <cjson/cJSON.h>

#include "report.h"
#include "timefmt.h"

/* Counters stay within what JSON numbers carry exactly (as seq does). */
static double stats_count(uint64_t n)
{
    return (double)(n > WP_SEQ_MAX ? WP_SEQ_MAX : n);
}

char *stats_json(const struct ingest_stats *s, size_t alerts_firing, const char *since,
                 int64_t now_ms)
{
    char at[40];
    wp_datetime_format_local(now_ms, at, sizeof at);
    double mean = s->commits ? (double)s->total_commit_ms / (double)s->commits : 0.0;
    mean = (double)(int64_t)(mean * 10.0 + 0.5) / 10.0;   /* one decimal is plenty */
    cJSON *j = cJSON_CreateObject();
    cJSON *commit = cJSON_CreateObject();
    char *text = NULL;
    if (j && commit && cJSON_AddNumberToObject(j, "v", 1)
        && cJSON_AddStringToObject(j, "at", at)
        && cJSON_AddStringToObject(j, "since", since)
        && cJSON_AddStringToObject(j, "version", WARDPULSE_VERSION)
        && cJSON_AddNumberToObject(j, "received", stats_count(s->received))
        && cJSON_AddNumberToObject(j, "stored", stats_count(s->stored))
        && cJSON_AddNumberToObject(j, "duplicates", stats_count(s->duplicates))
        && cJSON_AddNumberToObject(j, "rejected", stats_count(s->rejected))
        && cJSON_AddNumberToObject(j, "rejected_not_kept", stats_count(s->rejected_not_kept))
        && cJSON_AddNumberToObject(j, "resend_requests", stats_count(s->resend_requests))
        && cJSON_AddNumberToObject(j, "lost", stats_count(s->lost))
        && cJSON_AddNumberToObject(j, "acks", stats_count(s->acks))
        && cJSON_AddNumberToObject(j, "commits", stats_count(s->commits))
        && cJSON_AddNumberToObject(j, "commit_failures", stats_count(s->commit_failures))
        && cJSON_AddNumberToObject(j, "alerts_firing", stats_count(alerts_firing))
        && cJSON_AddNumberToObject(commit, "last", stats_count((uint64_t)s->last_commit_ms))
        && cJSON_AddNumberToObject(commit, "max", stats_count((uint64_t)s->max_commit_ms))
        && cJSON_AddNumberToObject(commit, "mean", mean)) {
        cJSON_AddItemToObject(j, "commit_ms", commit);
        commit = NULL;
        text = cJSON_PrintUnformatted(j);
    }
    cJSON_Delete(commit);
    cJSON_Delete(j);
    return text;
}
