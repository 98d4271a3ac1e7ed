/* wardpulse-null-aggregator — the benchmark's baseline: the broker-and-network cost alone.
 *
 * Contract: it takes reports exactly as wardpulse-aggregator's MQTT session does —
 * MQTT 3.1.1, a persistent session (clean_session = false, a fixed client id), a
 * client-side QoS 1 window of 100 (MAX_INFLIGHT in common/mqtt_session.c), keepalive 30 s,
 * a QoS 1 subscription to wardpulse/v1/report/+ — and acks every report at once from its
 * message callback: {"v":1,"ward":W,"stream":S,"acked_through":SEQ,"rejected":[]} at
 * QoS 1 on wardpulse/v1/ack/<ward>, W, S and SEQ read from the payload (parsed with cJSON,
 * as the aggregator does; neither the schema nor anything else is checked). It stores
 * nothing, so acked_through is not cumulative across gaps: it is the yardstick, not a
 * product. Runs until SIGTERM or SIGINT; prints "ready" on stdout once subscribed and
 * the number of reports acked when it stops.
 */
#include <cjson/cJSON.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOPIC_ROOT "wardpulse/v1/"
#define MAX_INFLIGHT 100 /* as common/mqtt_session.c */
#define KEEPALIVE_S 30   /* as common/mqtt_session.c */

static volatile sig_atomic_t stopping;
static long acked;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)obj;
    if (rc) {
        fprintf(stderr, "null-aggregator: connection refused: %s\n", mosquitto_connack_string(rc));
        return;
    }
    mosquitto_subscribe(mosq, NULL, TOPIC_ROOT "report/+", 1);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    (void)mosq, (void)obj, (void)mid, (void)n, (void)granted;
    printf("ready\n");
    fflush(stdout);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)obj;
    cJSON *j = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
    if (!j)
        return;
    const cJSON *ward = cJSON_GetObjectItemCaseSensitive(j, "ward");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(j, "stream");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
    if (cJSON_IsString(ward) && cJSON_IsString(stream) && cJSON_IsNumber(seq) &&
        strlen(ward->valuestring) <= 8 && strlen(stream->valuestring) <= 16) {
        char topic[64], ack[160];
        snprintf(topic, sizeof topic, TOPIC_ROOT "ack/%s", ward->valuestring);
        int len = snprintf(ack, sizeof ack,
                           "{\"v\":1,\"ward\":\"%s\",\"stream\":\"%s\",\"acked_through\":%.0f,"
                           "\"rejected\":[]}",
                           ward->valuestring, stream->valuestring, seq->valuedouble);
        if (mosquitto_publish(mosq, NULL, topic, len, ack, 1, false) == MOSQ_ERR_SUCCESS)
            acked++;
    }
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *client_id = "wardpulse-null-aggregator";
    int port = 1883, c;
    while ((c = getopt(argc, argv, "h:p:i:")) != -1) {
        switch (c) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'i': client_id = optarg; break;
        default:
            fprintf(stderr, "usage: wardpulse-null-aggregator [-h host] [-p port] [-i client_id]\n");
            return 2;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new(client_id, false, NULL);
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(mosq, MAX_INFLIGHT);
    mosquitto_connect_callback_set(mosq, on_connect);
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_message_callback_set(mosq, on_message);
    if (mosquitto_connect(mosq, host, port, KEEPALIVE_S) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "null-aggregator: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    while (!stopping) {
        int rc = mosquitto_loop(mosq, 1000, 1);
        if (rc != MOSQ_ERR_SUCCESS && !stopping) {
            sleep(1);
            mosquitto_reconnect(mosq);
        }
    }
    mosquitto_disconnect(mosq);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    printf("acked %ld\n", acked);
    return 0;
}
