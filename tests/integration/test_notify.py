"""systemd notification: each daemon, run with NOTIFY_SOCKET pointed at a datagram socket
this test reads, says READY=1 once its store (and plan) are loaded — also while the
broker is down — reports the broker's state in STATUS=, pings WATCHDOG=1 from its main
loop when WATCHDOG_USEC asks for it, and says STOPPING=1 on SIGTERM."""
import os
import socket
import time

from harness import (SRC, Agent, Aggregator, Broker, TempDir, free_port, run_tests,
                     wait_for)

WATCHDOG_USEC = 300000  # the daemon should ping every 150 ms


class NotifySocket:
    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def env(self):
        env = dict(os.environ)
        env.update(NOTIFY_SOCKET=self.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("WATCHDOG_PID", None)
        return env

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return self.messages
            self.messages.append(dict(line.split("=", 1)
                                      for line in data.decode().splitlines() if "=" in line))

    def seen(self, key, value=None, contains=None):
        for m in self.drain():
            if key in m and (value is None or m[key] == value) \
                    and (contains is None or contains in m[key]):
                return m
        return None

    def count(self, key):
        return sum(1 for m in self.drain() if key in m)


def check_daemon_lifecycle(daemon, notify, ready_word):
    ready = wait_for(lambda: notify.seen("READY", "1"), "READY=1", timeout=15)
    assert ready_word in ready.get("STATUS", ""), ready
    wait_for(lambda: notify.seen("STATUS", contains="connected to broker"),
             "STATUS=connected to broker", timeout=15)
    # It keeps pinging (three more, however slow a loaded machine makes it) ...
    before = notify.count("WATCHDOG")   # every one seen so far
    started = time.monotonic()
    wait_for(lambda: notify.count("WATCHDOG") - before >= 3, "three more WATCHDOG=1",
             timeout=15)
    time.sleep(1.0)
    pings = notify.count("WATCHDOG") - before
    elapsed = time.monotonic() - started
    # ... and not much more often than every half period (a busy machine only makes
    # pings later, never more frequent, so this bound holds under any load).
    bound = elapsed / (WATCHDOG_USEC / 2e6) * 1.5 + 3
    assert pings <= bound, "%d pings in %.1f s" % (pings, elapsed)
    assert daemon.stop() == 0, daemon.output()
    assert notify.seen("STOPPING", "1"), notify.messages[-5:]


def test_aggregator_ready_status_watchdog_stopping():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        notify = NotifySocket(tmp)
        agg = Aggregator(tmp, broker.port, plan_dir=os.path.join(SRC, "plans", "ba-dinh-2022"))
        agg.start(env=notify.env())
        check_daemon_lifecycle(agg, notify, "plan loaded")


def test_agent_ready_status_watchdog_stopping():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        notify = NotifySocket(tmp)
        agent = Agent(tmp, "00001", broker.port)
        agent.start(env=notify.env())
        check_daemon_lifecycle(agent, notify, "outbox")


def test_ready_while_the_broker_is_down_and_status_says_so():
    """READY means store and plan are loaded; a broker that is down is retried, and
    `systemctl status` shows why through STATUS=."""
    with TempDir() as tmp:
        notify = NotifySocket(tmp)
        port = free_port()  # nothing listens here
        agg = Aggregator(tmp, port)
        agg.start(env=notify.env())
        wait_for(lambda: notify.seen("READY", "1"), "READY=1 without a broker", timeout=15)
        wait_for(lambda: notify.seen("STATUS", contains="broker unreachable"),
                 "STATUS=broker unreachable", timeout=15)
        assert agg.alive(), agg.output()
        # The broker comes up: the daemon connects and says so.
        broker = Broker(tmp, port=port).start()
        wait_for(lambda: notify.seen("STATUS", contains="connected to broker"),
                 "STATUS=connected after the broker started", timeout=40)
        assert agg.stop() == 0, agg.output()
        broker.stop()


if __name__ == "__main__":
    run_tests(globals())
