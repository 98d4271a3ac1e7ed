/* status_cmd.c — `wardpulse-agent status`: the outbox as a ward clerk needs to see it.
 *
 * Reads the outbox only (never creates it). Issue 3 adds the link state (connected since,
 * last ack), which the daemon will have to record for this command to show.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "commands.h"
#include "outbox.h"
#include "timefmt.h"

static void status_age(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf(buf, size, "%lld s", (long long)s);
    else if (s < 3600)
        snprintf(buf, size, "%lld min %02lld s", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, size, "%lld h %02lld min", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(buf, size, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

static void status_print_dead(void *ctx, int64_t seq, const char *period, const char *reason,
                              int64_t rejected_at)
{
    (void)ctx;
    char when[40];
    wp_datetime_format_local(rejected_at, when, sizeof when);
    printf("  %-6lld %-11s %-26s %s\n", (long long)seq, period, when, reason);
}

int status_command(const struct agent_config *cfg, int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "status: takes no arguments\n");
        return 2;
    }
    char err[1024];
    struct outbox *ob = NULL;
    enum wp_err e = outbox_open(&ob, cfg->outbox_path, cfg->ward, 0, err, sizeof err);
    if (e == WP_ERR_NOT_FOUND) {
        printf("Ward %s: %s\n", cfg->ward, err);
        return 0;
    }
    if (e != WP_OK) {
        fprintf(stderr, "status: %s\n", err);
        return 1;
    }
    int status = 1;
    struct outbox_summary s;
    if (outbox_summarize(ob, &s) != WP_OK)
        goto cleanup;

    int64_t now = wp_now_ms();
    char when[40], age[32];
    printf("Ward %s   outbox %s   stream %s\n", cfg->ward, outbox_path(ob), outbox_stream(ob));
    if (s.queued == 0) {
        printf("Waiting for the district:  none, every report was acknowledged\n");
    } else {
        status_age(now - s.oldest_created_at, age, sizeof age);
        printf("Waiting for the district:  %lld report(s); oldest is seq %lld for %s, "
               "submitted %s ago\n",
               (long long)s.queued, (long long)s.oldest_seq, s.oldest_period, age);
    }
    if (s.last_sent_at > 0) {
        wp_datetime_format_local(s.last_sent_at, when, sizeof when);
        printf("Last sent to the broker:   %s\n", when);
    }
    printf("Reports submitted so far:  %lld\n", (long long)(s.next_seq - 1));
    if (s.dead_count == 0) {
        printf("Rejected by the district:  none\n");
    } else {
        printf("Rejected by the district:  %lld report(s); they are not sent again, correct "
               "and submit them anew:\n",
               (long long)s.dead_count);
        printf("  %-6s %-11s %-26s %s\n", "SEQ", "PERIOD", "REJECTED AT", "REASON");
        if (outbox_each_dead_letter(ob, status_print_dead, NULL) != WP_OK)
            goto cleanup;
    }
    status = 0;

cleanup:
    outbox_close(&ob);
    return status;
}
