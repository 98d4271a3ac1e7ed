/* wardpulse-loadgen — the benchmark's load: N simulated wards × M reports × K indicators.
 *
 * Contract (bench/ingest.py relies on it):
 *  - Ward i (0 ≤ i < N) is the code "%05d" of (ward_base + i); its stream is 16 hex digits
 *    derived from --stream-seed and i, so a later run with the same seed and --seq-start
 *    continues the same streams (the `full` scenario does that on a prepared database).
 *  - Report j (0 ≤ j < M) of every ward has seq = seq_start + j and the period
 *    2022-01-01 + (day_start + j) days; observed_at and committed_at are 17:05 local (+07:00)
 *    that day; K integer values, 0 ≤ value < --max-value, named ind_00 … ind_(K-1) (the
 *    schema's indicator pattern: an aggregator without a plan takes any such id) or, with
 *    --ids a,b,c, those ids (a plan's catalog); unacked_from = seq_start, kept_from = 1,
 *    as an agent draining a backlog would send them. Every report is valid and new.
 *  - Reports go out QoS 1 on wardpulse/v1/report/<ward>, round by round (every ward's
 *    j-th report, then the (j+1)-th), either as fast as libmosquitto takes them (burst,
 *    no client-side inflight limit: thousands of agents publishing at once) or paced at
 *    --rate reports per second.
 *  - Before the clock starts, a probe report (ward 99999, its own stream, seq 1) is
 *    published every second until it is acked: the aggregator under test is then
 *    subscribed and ready. The probe is one more stored report and is not measured.
 *  - Acks on wardpulse/v1/ack/+ (QoS 1) are cumulative: an ack for a ward's stream with
 *    acked_through = A covers every seq ≤ A. A report's latency is the time from its
 *    mosquitto_publish() call to the first ack covering it. Seqs listed in `rejected`
 *    are counted as rejected.
 *  - Output: one JSON object on stdout (times in seconds from the first publish,
 *    latencies in milliseconds). Exit 0 when every report was acked before --timeout,
 *    1 otherwise (the JSON is printed either way), 2 on a usage or connection error.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOPIC_ROOT "wardpulse/v1/"
#define PROBE_WARD "99999"

struct opts {
    const char *host;
    int port;
    long wards, reports, indicators, ward_base, seq_start, day_start;
    uint64_t stream_seed;
    double rate, timeout;
    long max_value;
    char *ids[100]; /* --ids, or NULL: ind_NN */
};

struct state {
    struct opts o;
    pthread_mutex_t lock;
    double *pub;         /* [ward * M + j]: publish time, s since t0; < 0: not yet */
    double *ack;         /* [ward * M + j]: ack time; < 0: not acked */
    long *acked_through; /* per ward: highest seq acked so far */
    long n_acked, n_rejected, n_acks;
    double first_ack, half_ack, all_ack;
    bool probe_acked, subscribed;
    double t0_mono;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void ward_code(const struct state *st, long i, char out[8])
{
    snprintf(out, 8, "%05ld", (st->o.ward_base + i) % 100000);
}

static void stream_of(const struct state *st, long i, char out[17])
{
    /* splitmix64 of (seed, ward): distinct per ward and per seed */
    uint64_t z = st->o.stream_seed * 0x9e3779b97f4a7c15ULL + (uint64_t)i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    snprintf(out, 17, "%016" PRIx64, z);
}

/* "YYYY-MM-DD" of 2022-01-01 + days */
static void period_of(long days, char out[11])
{
    struct tm tm = {.tm_year = 122, .tm_mon = 0, .tm_mday = 1 + (int)days, .tm_hour = 12};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The report payload into buf (returns its length). */
static int build_report(const struct state *st, const char *ward, const char *stream, long seq,
                        long day, long salt, char *buf, size_t cap)
{
    char period[11];
    period_of(day, period);
    size_t n = (size_t)snprintf(buf, cap,
                                "{\"v\":1,\"ward\":\"%s\",\"stream\":\"%s\",\"seq\":%ld,"
                                "\"period\":\"%s\",\"observed_at\":\"%sT17:05:00+07:00\","
                                "\"committed_at\":\"%sT17:05:00+07:00\",\"values\":{",
                                ward, stream, seq, period, period, period);
    for (long k = 0; k < st->o.indicators && n < cap; k++) {
        long v = (salt * 131 + seq * 17 + k * 7) % st->o.max_value;
        if (st->o.ids[0])
            n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":%ld", k ? "," : "", st->o.ids[k], v);
        else
            n += (size_t)snprintf(buf + n, cap - n, "%s\"ind_%02ld\":%ld", k ? "," : "", k, v);
    }
    if (n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "},\"unacked_from\":%ld,\"kept_from\":1}",
                              st->o.seq_start);
    return n < cap ? (int)n : -1;
}

static long ward_index(const struct state *st, const char *ward)
{
    char *end;
    long code = strtol(ward, &end, 10);
    if (*end || end == ward)
        return -1;
    long i = code - st->o.ward_base;
    return i >= 0 && i < st->o.wards ? i : -1;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)obj;
    if (rc) {
        fprintf(stderr, "loadgen: connection refused: %s\n", mosquitto_connack_string(rc));
        return;
    }
    mosquitto_subscribe(mosq, NULL, TOPIC_ROOT "ack/+", 1);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    (void)mosq, (void)mid, (void)n, (void)granted;
    struct state *st = obj;
    pthread_mutex_lock(&st->lock);
    st->subscribed = true;
    pthread_mutex_unlock(&st->lock);
}

/* One ack: mark every published seq it covers. Called in libmosquitto's thread. */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    struct state *st = obj;
    double t = now_s() - st->t0_mono;
    cJSON *j = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
    if (!j)
        return;
    const cJSON *ward = cJSON_GetObjectItemCaseSensitive(j, "ward");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(j, "stream");
    const cJSON *through = cJSON_GetObjectItemCaseSensitive(j, "acked_through");
    const cJSON *rejected = cJSON_GetObjectItemCaseSensitive(j, "rejected");
    if (!cJSON_IsString(ward) || !cJSON_IsString(stream) || !cJSON_IsNumber(through))
        goto done;
    pthread_mutex_lock(&st->lock);
    st->n_acks++;
    if (!strcmp(ward->valuestring, PROBE_WARD)) {
        st->probe_acked = true;
        goto unlock;
    }
    long i = ward_index(st, ward->valuestring);
    char want[17];
    if (i < 0)
        goto unlock;
    stream_of(st, i, want);
    if (strcmp(want, stream->valuestring))
        goto unlock;
    long m = st->o.reports, upto = (long)through->valuedouble - st->o.seq_start; /* index */
    if (upto >= m)
        upto = m - 1;
    for (long jx = st->acked_through[i] + 1; jx <= upto; jx++) {
        if (st->pub[i * m + jx] < 0)
            break; /* an ack past what we published: not ours */
        st->ack[i * m + jx] = t;
        st->acked_through[i] = jx;
        st->n_acked++;
        long total = st->o.wards * m;
        if (st->n_acked == 1)
            st->first_ack = t;
        if (st->n_acked == (total + 1) / 2)
            st->half_ack = t;
        if (st->n_acked == total)
            st->all_ack = t;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, rejected)
    {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(r, "seq");
        if (cJSON_IsNumber(seq) && seq->valuedouble >= (double)st->o.seq_start)
            st->n_rejected++;
    }
unlock:
    pthread_mutex_unlock(&st->lock);
done:
    cJSON_Delete(j);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, long n, double p)
{
    if (n <= 0)
        return -1;
    long k = (long)(p * (double)(n - 1) + 0.5);
    return sorted[k];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: wardpulse-loadgen [--host H] [--port P] [--wards N] [--reports M]\n"
            "         [--indicators K] [--ward-base B] [--seq-start S] [--day-start D]\n"
            "         [--stream-seed X] [--rate R] [--timeout SECONDS]\n"
            "         [--ids ID,ID,...] [--max-value V]\n"
            "  --rate 0 (default): burst; otherwise R reports per second\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"host", 1, 0, 'h'},       {"port", 1, 0, 'p'},        {"wards", 1, 0, 'n'},
        {"reports", 1, 0, 'm'},    {"indicators", 1, 0, 'k'},  {"ward-base", 1, 0, 'b'},
        {"seq-start", 1, 0, 's'},  {"day-start", 1, 0, 'd'},   {"stream-seed", 1, 0, 'x'},
        {"rate", 1, 0, 'r'},       {"timeout", 1, 0, 't'},     {"help", 0, 0, '?'},
        {"ids", 1, 0, 'I'},        {"max-value", 1, 0, 'V'},
        {0, 0, 0, 0}};
    *o = (struct opts){"127.0.0.1", 1883, 100, 1, 40, 10000, 1, 0, 1, 0, 300, 5000, {0}};
    long n_ids = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'n': o->wards = atol(optarg); break;
        case 'm': o->reports = atol(optarg); break;
        case 'k': o->indicators = atol(optarg); break;
        case 'b': o->ward_base = atol(optarg); break;
        case 's': o->seq_start = atol(optarg); break;
        case 'd': o->day_start = atol(optarg); break;
        case 'x': o->stream_seed = strtoull(optarg, NULL, 0); break;
        case 'r': o->rate = atof(optarg); break;
        case 't': o->timeout = atof(optarg); break;
        case 'V': o->max_value = atol(optarg); break;
        case 'I':
            for (char *save, *id = strtok_r(optarg, ",", &save); id && n_ids < 100;
                 id = strtok_r(NULL, ",", &save))
                o->ids[n_ids++] = id;
            break;
        default: usage(); return -1;
        }
    }
    if (o->wards < 1 || o->reports < 1 || o->indicators < 0 || o->indicators > 100 ||
        o->seq_start < 1 || o->max_value < 1 || o->ward_base < 1 || o->ward_base + o->wards > 99999 || o->rate < 0) {
        usage();
        return -1;
    }
    if (n_ids)
        o->indicators = n_ids;
    return 0;
}

int main(int argc, char **argv)
{
    static struct state st;
    if (parse(argc, argv, &st.o))
        return 2;
    long total = st.o.wards * st.o.reports;
    st.pub = malloc(sizeof(double) * (size_t)total);
    st.ack = malloc(sizeof(double) * (size_t)total);
    st.acked_through = malloc(sizeof(long) * (size_t)st.o.wards);
    if (!st.pub || !st.ack || !st.acked_through)
        return 2;
    for (long i = 0; i < total; i++)
        st.pub[i] = st.ack[i] = -1;
    for (long i = 0; i < st.o.wards; i++)
        st.acked_through[i] = -1;
    pthread_mutex_init(&st.lock, NULL);
    st.t0_mono = now_s();

    mosquitto_lib_init();
    char id[64];
    snprintf(id, sizeof id, "wardpulse-loadgen-%d", (int)getpid());
    struct mosquitto *mosq = mosquitto_new(id, true, &st);
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(mosq, 0); /* no client-side window: a burst */
    mosquitto_connect_callback_set(mosq, on_connect);
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_message_callback_set(mosq, on_message);
    if (mosquitto_connect(mosq, st.o.host, st.o.port, 60) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "loadgen: cannot connect to %s:%d\n", st.o.host, st.o.port);
        return 2;
    }

    /* Readiness: subscribed to the acks, and the aggregator acks the probe. */
    char buf[8192], topic[64], ward[8], stream[17];
    double give_up = now_s() + 60;
    bool ready = false;
    for (double next = 0; !ready && now_s() < give_up; sleep_s(0.01)) {
        pthread_mutex_lock(&st.lock);
        bool sub = st.subscribed;
        ready = st.probe_acked;
        pthread_mutex_unlock(&st.lock);
        if (sub && !ready && now_s() >= next) {
            char probe_stream[17];
            snprintf(probe_stream, sizeof probe_stream, "%016" PRIx64,
                     (uint64_t)((st.o.stream_seed * 0x9e3779b97f4a7c15ULL) ^ 0x5eedULL));
            struct opts saved = st.o;
            st.o.seq_start = 1;
            int len = build_report(&st, PROBE_WARD, probe_stream, 1, 0, 0, buf, sizeof buf);
            st.o = saved;
            mosquitto_publish(mosq, NULL, TOPIC_ROOT "report/" PROBE_WARD, len, buf, 1, false);
            next = now_s() + 1.0;
        }
    }
    if (!ready) {
        fprintf(stderr, "loadgen: no ack for the probe report within 60 s\n");
        return 2;
    }

    /* The measured run. */
    double t0 = now_s();
    pthread_mutex_lock(&st.lock);
    st.t0_mono = t0;
    pthread_mutex_unlock(&st.lock);
    long sent = 0;
    for (long j = 0; j < st.o.reports; j++) {
        for (long i = 0; i < st.o.wards; i++, sent++) {
            if (st.o.rate > 0)
                sleep_s(t0 + (double)sent / st.o.rate - now_s());
            ward_code(&st, i, ward);
            stream_of(&st, i, stream);
            long seq = st.o.seq_start + j;
            int len = build_report(&st, ward, stream, seq, st.o.day_start + j, i, buf, sizeof buf);
            snprintf(topic, sizeof topic, TOPIC_ROOT "report/%s", ward);
            pthread_mutex_lock(&st.lock);
            st.pub[i * st.o.reports + j] = now_s() - t0;
            pthread_mutex_unlock(&st.lock);
            int rc = mosquitto_publish(mosq, NULL, topic, len, buf, 1, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "loadgen: publish: %s\n", mosquitto_strerror(rc));
                return 2;
            }
        }
    }
    double published = now_s() - t0;
    double deadline = t0 + st.o.timeout;
    for (;;) {
        pthread_mutex_lock(&st.lock);
        bool done = st.n_acked == total;
        pthread_mutex_unlock(&st.lock);
        if (done || now_s() > deadline)
            break;
        sleep_s(0.005);
    }
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);

    /* Latencies of the acked reports. */
    double *lat = malloc(sizeof(double) * (size_t)total);
    long nl = 0;
    double sum = 0;
    for (long i = 0; i < total; i++)
        if (st.ack[i] >= 0) {
            lat[nl] = (st.ack[i] - st.pub[i]) * 1000.0;
            sum += lat[nl++];
        }
    qsort(lat, (size_t)nl, sizeof(double), cmp_double);
    double span = st.n_acked == total ? st.all_ack : -1;
    printf("{\"wards\":%ld,\"reports\":%ld,\"indicators\":%ld,\"rate_offered\":%.1f,"
           "\"total\":%ld,\"acked\":%ld,\"rejected\":%ld,\"acks\":%ld,\"publish_s\":%.3f,"
           "\"first_ack_s\":%.3f,\"half_acked_s\":%.3f,\"all_acked_s\":%.3f,"
           "\"reports_per_s\":%.1f,\"latency_ms\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f,"
           "\"mean\":%.1f}}\n",
           st.o.wards, st.o.reports, st.o.indicators, st.o.rate, total, st.n_acked,
           st.n_rejected, st.n_acks, published, st.n_acked ? st.first_ack : -1,
           st.n_acked >= (total + 1) / 2 ? st.half_ack : -1, span,
           span > 0 ? (double)total / span : -1, pct(lat, nl, 0.50), pct(lat, nl, 0.99),
           nl ? lat[nl - 1] : -1, nl ? sum / (double)nl : -1);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    free(lat);
    free(st.pub);
    free(st.ack);
    free(st.acked_through);
    return st.n_acked == total ? 0 : 1;
}
