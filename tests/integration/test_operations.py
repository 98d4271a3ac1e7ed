"""What docs/operations.md tells an IT officer to do works as written: a backup of the
running aggregator's database with sqlite3's .backup is complete and readable, and the
troubleshooting commands give the answers the guide says they give."""
import os
import subprocess

from harness import (Agent, Aggregator, Broker, TempDir, cli, export_values, publish,
                     run_tests, wait_for)


def test_backup_while_running_is_complete():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        agent = Agent(tmp, "00001", broker.port).start()
        for day in range(1, 21):
            agent.submit("2022-05-%02d" % day, {"cases_new_community": day})
        wait_for(lambda: len(export_values(agg.db)) == 20, "20 values stored")

        # The documented command, while the aggregator keeps writing.
        backup = os.path.join(tmp, "backup.db")
        for day in range(21, 26):
            agent.submit("2022-05-%02d" % day, {"cases_new_community": day})
        subprocess.run(["sqlite3", agg.db, ".backup '%s'" % backup], check=True, timeout=60)
        check = subprocess.run(["sqlite3", backup, "PRAGMA integrity_check"], capture_output=True,
                               text=True, check=True).stdout.strip()
        assert check == "ok", check
        saved = export_values(backup)
        # A consistent snapshot: at least what was stored before, every report whole.
        assert len(saved) >= 20, len(saved)
        assert sorted(r["seq"] for r in saved) == list(range(1, len(saved) + 1)), saved
        assert agg.alive()
        assert agg.stop() == 0, agg.output()


def test_troubleshooting_trail_for_a_report_the_district_does_not_have():
    """The guide's first case: the ward says it sent a report, the district lacks it.
    The agent's status shows it queued (district down), then delivered; a report that
    the district refused shows up on both sides with its reason."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agent = Agent(tmp, "00001", broker.port, ack_timeout="1s").start()
        agent.submit("2022-05-03", {"cases_new_community": 5})
        status = agent.command("status").stdout
        assert "Waiting for an ack      1 report(s)" in status, status
        assert "seq 1 for 2022-05-03" in status, status

        agg = Aggregator(tmp, broker.port).start()
        wait_for(lambda: len(export_values(agg.db)) == 1, "the queued report delivered")
        wait_for(lambda: "every report was acknowledged" in agent.command("status").stdout,
                 "agent status shows nothing queued")

        # A report the district refuses: the reason is on the agent's status and in
        # the district's rejected list.
        publish(broker.port, "wardpulse/v1/report/00001",
                {"v": 1, "ward": "00004", "stream": "00000000000000ab", "seq": 1,
                 "period": "2022-05-03", "observed_at": "2022-05-03T17:00:00+07:00",
                 "values": {"cases_new_community": 1}})
        rejected = wait_for(lambda: [r for r in _rejected(agg.db) if r["ward"] == "00001"],
                            "the rejected message listed")
        assert "does not match topic ward" in rejected[0]["reason"], rejected
        assert agg.stop() == 0


def _rejected(db):
    import json
    return json.loads(cli("export", "--db", db, "--rejected", "--format", "json").stdout)


if __name__ == "__main__":
    run_tests(globals())
