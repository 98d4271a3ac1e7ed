"""One ward cannot hurt the others: what the aggregator keeps of a ward's refused messages
is bounded per day, identical junk is kept once, and the district is told once.

Real mosquitto and aggregator; the flood comes from mosquitto_pub on one ward's topic."""
import json
import sqlite3
import subprocess

from harness import (Aggregator, Broker, Subscriber, TempDir, cli, export_values, publish,
                     quiet_plan, run_tests, wait_for)

ACK = "wardpulse/v1/ack/"
ALERT = "wardpulse/v1/alert/001/"
EVENTS = "wardpulse/v1/events/alert"


def report(seq, ward="00004", **values):
    return {"v": 1, "ward": ward, "stream": "0123456789abcdef", "seq": seq,
            "period": "2022-05-03", "observed_at": "2022-05-03T17:05:00+07:00",
            "values": values or {"cases_new_community": seq}}


def flood(port, ward, lines):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                    "-t", "wardpulse/v1/report/" + ward, "-l"], input="".join(lines).encode(),
                   check=True, timeout=120)


def query(db, sql):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        rows = c.execute(sql).fetchall()
    c.close()
    return rows


def test_a_flood_from_one_ward_is_bounded_and_told_once():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port, rejected_max_per_day=20,
                         rejected_max_bytes_per_day=200000).start().subscribed()
        sub = Subscriber(broker.port, ACK + "#", "wardpulse/v1/aggregator/stats")
        big = "x" * 4000
        # 300 distinct pieces of junk without a seq, 50 copies of one more, and 30
        # refused reports with seqs (they must still be named in acks).
        junk = ["not json %d %s\n" % (i, big) for i in range(300)]
        junk += ["the same junk again\n"] * 50
        junk += [json.dumps(report(seq, ward="00001", cases_new_community=-1)) + "\n"
                 for seq in range(1, 31)]
        flood(broker.port, "00001", junk)
        ack = wait_for(lambda: [a for a in sub.payloads(ACK + "00001")
                                if a["acked_through"] == 30], "refused seqs 1..30 acked")[-1]
        assert [r["seq"] for r in ack["rejected"]] == list(range(1, 31)), ack
        # Another ward is served as ever.
        publish(broker.port, "wardpulse/v1/report/00004", report(1))
        wait_for(lambda: [a for a in sub.payloads(ACK + "00004") if a["acked_through"] == 1],
                 "the other ward acked")
        assert any(r["ward"] == "00004" for r in export_values(agg.db))

        kept = query(agg.db, "SELECT count(*), sum(length(payload)) FROM rejected "
                             "WHERE ward = '00001' AND length(payload) > 0")[0]
        assert kept[0] <= 20 and kept[1] <= 200000, kept
        # Refusals with a seq are all there (without payload past the bound) ...
        seqs = query(agg.db, "SELECT count(*) FROM rejected WHERE ward = '00001' "
                             "AND seq IS NOT NULL")[0][0]
        assert seqs == 30, seqs
        # ... the identical junk is one row that counts its repeats ...
        same = query(agg.db, "SELECT count(*), max(repeats) FROM rejected "
                             "WHERE payload = CAST('the same junk again' AS BLOB)")
        over = query(agg.db, "SELECT messages FROM rejected_overflow WHERE ward = '00001'")
        total_rows = query(agg.db, "SELECT count(*) FROM rejected WHERE ward = '00001'")[0][0]
        assert same in ([(1, 49)], [(0, None)]), same
        # ... and the rest only counted: every message is accounted for.
        repeats = same[0][1] or 0
        counted = over[0][0] if over else 0
        assert total_rows + repeats + counted == 380, (total_rows, repeats, counted)
        assert counted >= 250, counted
        out = agg.output()
        assert out.count("sent more refused messages today than the district keeps") == 1, out
        # What an operator sees: the bounded rows, not 380.
        listed = json.loads(cli("export", "--db", agg.db, "--format", "json",
                                "--rejected").stdout)
        assert len(listed) == total_rows
        # The counters say it too: every refusal past the bound (the 30 with a seq kept
        # without payload, the rest only counted).
        assert agg.stop() == 0
        stats = sub.payloads("wardpulse/v1/aggregator/stats")[-1]
        assert stats["rejected_not_kept"] == counted + 30, stats


def test_a_ward_over_its_bound_is_an_alert_to_the_district_once_until_midnight():
    """Past its daily bound a ward's refusals are only counted: the district hears it as
    one warning on alert/<district>/<ward>/refusals-over-bound (one transition, not one
    per message) in the words of a district officer, and it resolves at midnight."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        # 23:50 local at one simulated minute per real second: midnight in ~10 s.
        agg = Aggregator(tmp, broker.port, plan_dir=quiet_plan(tmp), rejected_max_per_day=5,
                         clock_start="2022-05-03T23:50:00+07:00", clock_rate=60,
                         batch_delay="5ms").start().subscribed()
        sub = Subscriber(broker.port, ALERT + "#", EVENTS)
        flood(broker.port, "00001", ["junk %d\n" % i for i in range(40)])
        topic = ALERT + "00001/refusals-over-bound"
        alert = wait_for(lambda: [a for a in sub.payloads(topic) if a], topic)[-1]
        assert alert["kind"] == "refusals_over_bound" and alert["severity"] == "warning", alert
        assert alert["state"] == "firing" and alert["scope"] == "00001", alert
        vi, en = alert["summary"]["vi"], alert["summary"]["en"]
        assert vi.startswith("Phường Phúc Xá đã gửi ") and "bản tin bị từ chối" in vi, vi
        assert "ngày 03/05/2022" in vi and "vượt mức quận lưu giữ" in vi, vi
        assert "Đề nghị kiểm tra máy và tài khoản gửi báo cáo" in vi, vi
        assert "refused message(s)" in en, en
        # Another ward's refusals within the bound raise nothing.
        flood(broker.port, "00004", ["junk\n", "more junk\n"])
        # Midnight: a new day, a new bound; the alert resolves (events/alert says so, the
        # retained alert is cleared).
        def ours():
            return [e for e in sub.payloads(EVENTS)
                    if e and e.get("rule") == "refusals-over-bound"]
        wait_for(lambda: [e for e in ours() if e["state"] == "resolved"],
                 "resolved at midnight", timeout=40)
        assert [(e["scope"], e["state"]) for e in ours()] == [("00001", "firing"),
                                                             ("00001", "resolved")], ours()
        wait_for(lambda: sub.payloads(topic)[-1] is None, "the retained alert cleared")
        assert not any(a for a in sub.payloads(ALERT + "00004/refusals-over-bound")), \
            sub.payloads(ALERT + "00004/refusals-over-bound")
        assert agg.stop() == 0


if __name__ == "__main__":
    run_tests(globals())
