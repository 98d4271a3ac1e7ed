#!/usr/bin/python3
"""The systemd units, as `cmake --install` writes them, are correct and say what the issue asks.

The build tree is installed into a temporary DESTDIR (never onto this machine), with a prefix
that is a symlink into it, so that the units' ExecStart= programs exist where they say and
`systemd-analyze verify` (which checks that) can run on them without a running systemd:
  - verify prints nothing for either unit, nor for mosquitto.service with our drop-in.
    verify exits 0 on most mistakes (an unknown key, a bad value: "…, ignoring."), so any
    line it prints about our files is a failure; test_verify_catches_broken_units shows on
    broken copies that this check fails where it must;
  - the directives of the issue are there (Type=notify, watchdog, sandbox, ordering…);
  - `systemd-analyze security --offline` rates the sandbox at most EXPOSURE_MAX;
  - the example configurations the units start with pass --test-config, and put the outbox
    and the database in the units' state directories.

Needs systemd-analyze (Debian package systemd). Run:
WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_systemd.py
"""
import os
import re
import shutil
import subprocess

from harness import AGENT_BIN, AGGREGATOR_BIN, BUILD, TempDir, run_tests

UNITS = ("wardpulse-agent.service", "wardpulse-aggregator.service")
# systemd-analyze security's overall exposure, on its 0.0 (locked down) .. 10.0 scale. The
# units score 1.4; dropping ProtectSystem=, the syscall filter or the capability bounding
# set would push them past it.
EXPOSURE_MAX = 2.0


def systemd_analyze():
    path = shutil.which("systemd-analyze")
    assert path, "systemd-analyze is missing: apt-get install systemd (scripts/install-deps.sh)"
    return path


def cmake_command():
    """The cmake that configured the build tree (CMakeCache.txt), else the one on PATH."""
    with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        m = re.search(r"^CMAKE_COMMAND:INTERNAL=(.+)$", f.read(), re.M)
    return m.group(1) if m else "cmake"


def install_tree(tmp):
    """Installs the build tree into tmp/stage with prefix tmp/prefix, a symlink to where
    the files land; returns (prefix, unit dir)."""
    stage, prefix = os.path.join(tmp, "stage"), os.path.join(tmp, "prefix")
    env = dict(os.environ, DESTDIR=stage)
    r = subprocess.run([cmake_command(), "--install", BUILD, "--prefix", prefix],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "cmake --install failed:\n%s%s" % (r.stdout, r.stderr)
    os.symlink(stage + prefix, prefix)
    unit_dirs = {root for root, _, files in os.walk(stage) if UNITS[0] in files}
    assert len(unit_dirs) == 1, "expected one directory with %s, found %s" % (UNITS[0], unit_dirs)
    unit_dir = unit_dirs.pop()
    for unit in UNITS:
        assert os.path.isfile(os.path.join(unit_dir, unit)), "%s not installed" % unit
    return prefix, unit_dir


def verify_problems(*unit_paths):
    """What systemd-analyze verify says about these unit files: its exit status if not 0,
    and every line it prints, except lines about other units of this machine."""
    r = subprocess.run([systemd_analyze(), "verify"] + list(unit_paths),
                       capture_output=True, text=True, timeout=60)
    ours = [os.path.basename(p) for p in unit_paths]
    problems = [] if r.returncode == 0 else ["exit status %d" % r.returncode]
    for line in (r.stdout + r.stderr).splitlines():
        about = re.match(r"^(\S+?\.(?:service|target|socket|slice|mount|conf))(?::\d+)?: ", line)
        if about and not any(name in about.group(1) for name in ours + ["wardpulse"]):
            continue    # a unit of this machine pulled in as a dependency
        problems.append(line)
    return problems


def read_unit(path):
    """{(section, key): [values]} of a unit file (enough for ours: no continuation lines)."""
    settings, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            settings.setdefault((section, key), []).append(value)
    return settings


def read_config(path):
    """{key: value} of a wardpulse configuration file (commented-out keys too, as '#key')."""
    settings = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^(#?)([a-z_]+)\s+(\S.*)$", line.rstrip("\n"))
            if m:
                settings[m.group(1) + m.group(2)] = m.group(3)
    return settings


def test_installed_units_pass_systemd_analyze_verify():
    with TempDir() as tmp:
        _, unit_dir = install_tree(tmp)
        for unit in UNITS:
            problems = verify_problems(os.path.join(unit_dir, unit))
            assert not problems, "systemd-analyze verify %s:\n%s" % (unit, "\n".join(problems))


def test_mosquitto_drop_in_passes_verify():
    # verify loads drop-ins from beside the unit file: put a stand-in mosquitto.service
    # (Debian's, shortened) next to the installed mosquitto.service.d/wardpulse.conf.
    with TempDir() as tmp:
        _, unit_dir = install_tree(tmp)
        assert os.path.isfile(os.path.join(unit_dir, "mosquitto.service.d", "wardpulse.conf"))
        stand_in = os.path.join(unit_dir, "mosquitto.service")
        with open(stand_in, "w") as f:
            f.write("[Unit]\nDescription=Mosquitto MQTT Broker (stand-in)\n"
                    "[Service]\nType=notify\nNotifyAccess=main\nExecStart=/bin/true\n"
                    "Restart=on-failure\n")
        problems = verify_problems(stand_in)
        assert not problems, "systemd-analyze verify mosquitto.service + drop-in:\n%s" % "\n".join(problems)
        with open(os.path.join(unit_dir, "mosquitto.service.d", "wardpulse.conf"), "a") as f:
            f.write("LimitNOFLE=1\n")
        assert verify_problems(stand_in), "a misspelt key in the drop-in was not noticed"


def test_verify_catches_broken_units():
    """The check of the first test fails on broken units: each mutation below is caught."""
    mutations = [    # (a line of the unit, what it becomes)
        (r"ProtectSystem=strict", "ProtectSytem=strict"),                # unknown key
        (r"Type=notify", "Type=notfy"),                                  # bad value
        (r"WatchdogSec=30s", "WatchdogSec=thirty"),                      # bad time span
        (r"RestrictAddressFamilies=AF_UNIX", "RestrictAddressFamilies=AF_UNX"),
        (r"SystemCallFilter=@system-service", "SystemCallFilter=@system-servce"),
        (r"UMask=0077", "UMask=0778"),
        (r"\[Service\]", "[Servce]"),                                    # no ExecStart left
        (r"(ExecStart=\S+)/wardpulse-agent", r"\1/wardpulse-agnt"),        # program not there
    ]
    with TempDir() as tmp:
        _, unit_dir = install_tree(tmp)
        with open(os.path.join(unit_dir, "wardpulse-agent.service"), encoding="utf-8") as f:
            good = f.read()
        broken_dir = os.path.join(tmp, "broken")
        os.mkdir(broken_dir)
        broken = os.path.join(broken_dir, "wardpulse-agent.service")
        missed = []
        for line, replacement in mutations:
            text, n = re.subn("(?m)^" + line, replacement, good, count=1)
            assert n == 1, "mutation %r does not apply: no line %r in the unit" % (replacement, line)
            with open(broken, "w", encoding="utf-8") as f:
                f.write(text)
            if not verify_problems(broken):
                missed.append(replacement)
        assert not missed, "systemd-analyze verify let these through: %s" % missed


def test_units_have_what_the_issue_asks():
    with TempDir() as tmp:
        prefix, unit_dir = install_tree(tmp)
        for unit, program, state, after in (
                ("wardpulse-agent.service", "wardpulse-agent", "wardpulse-agent",
                 ["network-online.target"]),
                ("wardpulse-aggregator.service", "wardpulse-aggregator", "wardpulse",
                 ["network-online.target", "mosquitto.service"])):
            u = read_unit(os.path.join(unit_dir, unit))
            want = {
                "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s",
                "Restart": "on-failure", "ExecReload": "/bin/kill -HUP $MAINPID",
                "StateDirectory": state, "ConfigurationDirectory": "wardpulse",
                "ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
                "PrivateTmp": "yes", "UMask": "0077", "ProtectKernelTunables": "yes",
                "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
                "SystemCallArchitectures": "native", "LockPersonality": "yes",
            }
            for key, value in want.items():
                assert u.get(("Service", key)) == [value], \
                    "%s: %s=%s, want %s" % (unit, key, u.get(("Service", key)), value)
            assert u.get(("Service", "User")) or u.get(("Service", "DynamicUser")) == ["yes"], unit
            exec_start = u[("Service", "ExecStart")][0].split()
            assert exec_start[:2] == [os.path.join(prefix, "bin", program), "-c"], exec_start
            assert exec_start[2] == os.path.join(prefix, "etc", "wardpulse", program.split("-")[1] + ".conf")
            assert os.path.isfile(exec_start[2]), "%s: config %s not installed" % (unit, exec_start[2])
            ordered = " ".join(u.get(("Unit", "After"), [])).split()
            for target in after:
                assert target in ordered, "%s: After= lacks %s: %s" % (unit, target, ordered)
            assert u.get(("Install", "WantedBy")) == ["multi-user.target"], unit
        wants = " ".join(read_unit(os.path.join(unit_dir, UNITS[1])).get(("Unit", "Wants"), []))
        assert "mosquitto.service" in wants.split(), "aggregator: Wants= lacks mosquitto.service"


def test_sandbox_exposure_stays_low():
    with TempDir() as tmp:
        _, unit_dir = install_tree(tmp)
        for unit in UNITS:
            r = subprocess.run([systemd_analyze(), "security", "--offline=true",
                                "--threshold=%d" % int(EXPOSURE_MAX * 10),
                                os.path.join(unit_dir, unit)],
                               capture_output=True, text=True, timeout=60)
            level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout)
            assert r.returncode == 0 and level, "%s: exposure over %.1f:\n%s%s" % (
                unit, EXPOSURE_MAX, r.stdout[-3000:], r.stderr)


def test_example_configs_match_the_units():
    with TempDir() as tmp:
        prefix, unit_dir = install_tree(tmp)
        conf_dir = os.path.join(prefix, "etc", "wardpulse")
        agent_conf = os.path.join(conf_dir, "agent.conf")
        aggregator_conf = os.path.join(conf_dir, "aggregator.conf")
        agent = read_config(agent_conf)
        aggregator = read_config(aggregator_conf)
        states = {unit: read_unit(os.path.join(unit_dir, unit))[("Service", "StateDirectory")][0]
                  for unit in UNITS}
        # The defaults of docs/configuration.md, inside the units' state directories.
        assert agent["outbox_path"] == "/var/lib/wardpulse-agent/outbox.db", agent
        assert os.path.dirname(agent["outbox_path"]) == "/var/lib/" + states[UNITS[0]]
        assert agent["#spool_dir"].startswith("/var/lib/%s/" % states[UNITS[0]]), agent
        assert aggregator["db_path"] == "/var/lib/wardpulse/wardpulse.db", aggregator
        assert os.path.dirname(aggregator["db_path"]) == "/var/lib/" + states[UNITS[1]]
        assert os.path.isdir(aggregator["#plan_dir"]), "plan_dir example %s not installed" % aggregator["#plan_dir"]
        # The files load as they are (the agent once its ward is set; the aggregator with its
        # database somewhere that exists here), and with the plan they point at.
        for argv in ([AGENT_BIN, "-c", agent_conf, "--ward", "00001", "--test-config"],
                     [AGGREGATOR_BIN, "-c", aggregator_conf, "--db_path", os.path.join(tmp, "w.db"),
                      "--test-config"],
                     [AGGREGATOR_BIN, "-c", aggregator_conf, "--db_path", os.path.join(tmp, "w.db"),
                      "--plan_dir", aggregator["#plan_dir"], "--test-config"]):
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, "%s:\n%s%s" % (" ".join(argv), r.stdout, r.stderr)
        # Without a ward the agent refuses to start, rather than report as somebody else.
        r = subprocess.run([AGENT_BIN, "-c", agent_conf, "--test-config"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "ward" in r.stderr, r


if __name__ == "__main__":
    run_tests(globals())
