"""aggregator/stats: the aggregator's counters, retained on the broker for any MQTT client.

Against a real mosquitto: reports stored, a duplicate and a rejection are counted as the
database has them; the payload follows schemas/stats.schema.json (checked by the
project's validator through `wardpulse validate` and by python3-jsonschema); the last
counts stay retained after the aggregator stops; stats_interval 0 publishes nothing.
"""
import json
import os
import sqlite3

from harness import (SRC, Aggregator, Broker, Subscriber, TempDir, cli, publish, run_tests,
                     wait_for)

STATS = "wardpulse/v1/aggregator/stats"
STREAM = "5a1c2a7e4b5d6c3a"


def report(seq, **values):
    return {"v": 1, "ward": "00001", "stream": STREAM, "seq": seq, "period": "2022-05-03",
            "observed_at": "2022-05-03T17:05:00+07:00",
            "values": values or {"cases_new_community": seq}}


def schema_check(tmp, payload):
    """Both validators accept the payload."""
    import jsonschema
    with open(os.path.join(SRC, "schemas", "stats.schema.json"), encoding="utf-8") as f:
        jsonschema.Draft7Validator(json.load(f),
                                   format_checker=jsonschema.FormatChecker()).validate(payload)
    path = os.path.join(tmp, "stats.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    r = cli("validate", "stats", path)
    assert r.returncode == 0, r


def test_counters_follow_what_is_stored_and_stay_retained():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, STATS, client_id="stats-live")
        agg = Aggregator(tmp, broker.port, stats_interval="300ms").start()
        first = wait_for(lambda: sub.payloads(STATS), "the first stats")[0]
        assert first["received"] == 0 and first["stored"] == 0, first
        assert first["commit_ms"] == {"last": 0, "max": 0, "mean": 0}, first
        schema_check(tmp, first)

        for seq in (1, 2):
            publish(broker.port, "wardpulse/v1/report/00001", report(seq))
        publish(broker.port, "wardpulse/v1/report/00001", report(2))              # duplicate
        publish(broker.port, "wardpulse/v1/report/00001", report(3, deaths=-1))   # rejected
        latest = wait_for(lambda: next((p for p in reversed(sub.payloads(STATS))
                                        if p["received"] == 4 and p["acks"] >= 1), None),
                          "stats counting four messages")
        with sqlite3.connect("file:%s?mode=ro" % agg.db, uri=True) as db:
            stored = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            rejected = db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]
        assert (stored, rejected) == (2, 1)
        assert latest["stored"] == stored and latest["rejected"] == rejected, latest
        assert latest["duplicates"] == 1 and latest["commits"] >= 1, latest
        assert latest["commit_failures"] == 0 and latest["alerts_firing"] == 0, latest
        c = latest["commit_ms"]
        assert 0 <= c["last"] <= c["max"] and 0 <= c["mean"] <= c["max"], c
        assert latest["since"] == first["since"] and latest["at"] >= first["at"], latest
        schema_check(tmp, latest)
        # Every interval, not only on change.
        n = len(sub.payloads(STATS))
        wait_for(lambda: len(sub.payloads(STATS)) >= n + 2, "two more stats")
        assert agg.stop() == 0, agg.output()
        sub.close()

        # Retained: a client that comes later reads the final counts.
        late = Subscriber(broker.port, STATS, client_id="stats-late")
        final = wait_for(lambda: late.payloads(STATS), "the retained stats")[-1]
        assert {k: final[k] for k in ("received", "stored", "duplicates", "rejected")} \
            == {"received": 4, "stored": 2, "duplicates": 1, "rejected": 1}, final
        late.close()


def test_stats_interval_0_publishes_nothing():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, STATS, "wardpulse/v1/ack/#", client_id="stats-none")
        agg = Aggregator(tmp, broker.port, stats_interval="0").start().subscribed()
        publish(broker.port, "wardpulse/v1/report/00001", report(1))
        wait_for(lambda: sub.payloads("wardpulse/v1/ack/00001"), "the ack")
        assert agg.stop() == 0, agg.output()
        assert sub.payloads(STATS) == [], sub.payloads(STATS)
        sub.close()


if __name__ == "__main__":
    run_tests(globals())
