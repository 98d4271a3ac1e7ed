"""make demo — wardpulse end to end on one machine, on the embedded defaults.

Starts a local mosquitto (broker-config/mosquitto-dev.conf) on a free loopback port,
the aggregator and the 14 Ba Đình ward agents, submits one day of reports from every
ward, waits until the district has stored them all, prints them with
`wardpulse export`, and stops everything it started. All files stay in BUILD/demo/.

Usage: /usr/bin/python3 scripts/demo.py BUILD_DIR
"""
import json
import os
import random
import shutil
import sys
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ["WP_BUILD_DIR"] = BUILD
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
from harness import (BA_DINH_WARDS, Agent, Aggregator, Broker, Process, Subscriber,  # noqa: E402
                     cli, export_values, wait_for)

WARD_NAMES = {
    "00001": "Phúc Xá", "00004": "Trúc Bạch", "00006": "Vĩnh Phúc", "00007": "Cống Vị",
    "00008": "Liễu Giai", "00010": "Nguyễn Trung Trực", "00013": "Quán Thánh",
    "00016": "Ngọc Hà", "00019": "Điện Biên", "00022": "Đội Cấn", "00025": "Ngọc Khánh",
    "00028": "Kim Mã", "00031": "Giảng Võ", "00034": "Thành Công",
}
PERIOD = "2022-05-03"


def day_of_reports(ward, rng):
    """Plausible figures of one ward for one day of May 2022 (Ba Đình had ~480 new
    cases a day in early April, falling through May)."""
    adults = rng.randint(11000, 17000)
    return {
        "cases_new_community": rng.randint(0, 25),
        "cases_new_quarantined": rng.randint(0, 15),
        "f0_active_home": rng.randint(20, 200),
        "deaths": 0,
        "vacc_18p_dose3_cum": int(adults * rng.uniform(0.55, 0.8)),
        "vacc_5_11_dose1_cum": rng.randint(800, 1500),
    }


def main():
    run_dir = os.path.join(BUILD, "demo")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    rng = random.Random(2022)
    try:
        broker = Broker(run_dir).start()
        print("broker      mosquitto on 127.0.0.1:%d (development config)" % broker.port)
        aggregator = Aggregator(run_dir, broker.port, client_id="wardpulse-aggregator").start()
        print("aggregator  database %s" % aggregator.db)
        watch = Subscriber(broker.port, "wardpulse/v1/ack/#", "wardpulse/v1/status/#")
        agents = [Agent(run_dir, ward, broker.port, ack_timeout="5s").start()
                  for ward in BA_DINH_WARDS]
        print("agents      14 ward agents of Ba Đình (001)\n")

        print("Ward offices submit their figures for %s:" % PERIOD)
        for agent in agents:
            agent.submit(PERIOD, day_of_reports(agent.ward, rng), {"ward-scenario": "done"})
            print("  %s %-20s queued in the ward's outbox" % (agent.ward, WARD_NAMES[agent.ward]))

        def stored():
            return {row["ward"] for row in export_values(aggregator.db)}
        wait_for(lambda: len(stored()) == 14, "all 14 wards stored", timeout=60)
        wait_for(lambda: len(watch.payloads()) >= 28, "acks and birth statuses", timeout=30)
        acked = {json.loads(payload)["ward"] for topic, payload, _ in watch.messages
                 if topic.startswith("wardpulse/v1/ack/")}
        print("\nThe district acknowledged reports of %d wards.\n" % len(acked))

        print("wardpulse export --db %s --format csv:" % os.path.relpath(aggregator.db))
        sys.stdout.write(cli("export", "--db", aggregator.db, "--format", "csv").stdout)
        watch.close()
    finally:
        stopped = 0
        for p in reversed(list(Process.running)):
            p.stop()
            stopped += 1
        print("\nStopped %d processes; logs and databases are in %s" % (stopped, run_dir))


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print("demo finished in %.1fs" % (time.monotonic() - start))
