#!/usr/bin/python3
"""The Debian packages: `cpack -G DEB` in the build tree, then each .deb inspected with dpkg-deb.

  - three packages, named the Debian way: wardpulse-agent, wardpulse-aggregator (with the
    `wardpulse` command) and wardpulse-common (schemas, documentation; both depend on it);
  - Depends: every shared library the programs load (dpkg-shlibdeps), at least libmosquitto1,
    libsqlite3-0 and libcjson1, and libsystemd0 as soon as a program calls sd_notify; the
    aggregator Recommends mosquitto;
  - files: programs in /usr/bin, units in /lib/systemd/system (or /usr/lib/…) naming
    /usr/bin and /etc/wardpulse, example configurations in /etc/wardpulse listed as
    conffiles, schemas, plans and the broker configuration in /usr/share/wardpulse;
  - no file in two packages (a district server installs both daemons), and maintainer
    scripts that are executable, parse, and handle the units with deb-systemd-helper and
    deb-systemd-invoke (never systemctl but for daemon-reload), as dh_installsystemd does;
  - lintian (Debian's package checker) reports no error and no warning on the .debs and
    the -dbgsym .ddebs, and every override in them says why (a comment before it);
  - man pages for every program (1 or 8) and each daemon's configuration file (5), gzip'd
    at maximum compression, that man renders without a warning and that list every setting
    of the program's --help with the same default, and the bounds of the option tables;
  - /usr/share/doc/<package>/copyright in the machine-readable format and
    changelog.Debian.gz whose newest entry is the package's version;
  - programs stripped, their debug symbols in -dbgsym .ddebs under the Build ID.

All of it holds for a sanitizer build's packages too (make check-asan), lintian included.

Needs dpkg-deb, dpkg-shlibdeps (Debian package dpkg-dev), file, lintian and man-db. Run:
WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_packaging.py
"""
import atexit
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile

from harness import BUILD, run_tests

PACKAGES = ("wardpulse-agent", "wardpulse-aggregator", "wardpulse-common")
LIBRARIES = ("libmosquitto1", "libsqlite3-0", "libcjson1")
UNIT_DIRS = ("/lib/systemd/system/", "/usr/lib/systemd/system/")

_built = {}          # name: Package, or "error": the message of a failed build
_dbgsym = {}         # name: Package of the -dbgsym .ddebs of the same build
_out = []            # the directory the packages were built into


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        m = re.search(r"^%s:\w+=(.*)$" % re.escape(name), f.read(), re.M)
    return m.group(1) if m else None


def packages():
    """{name: Package} of the .debs cpack builds, once per run, into a temporary directory."""
    if not _built:
        _built["error"] = "the packages could not be built (see the first failure)"
        for tool in ("dpkg-deb", "dpkg-shlibdeps", "file"):
            assert shutil.which(tool), "%s is missing: apt-get install dpkg-dev file " \
                "(scripts/install-deps.sh)" % tool
        out = tempfile.mkdtemp(prefix="wardpulse-test-deb-")
        if not os.environ.get("WP_KEEP_TMP"):
            atexit.register(shutil.rmtree, out, True)
        cpack = os.path.join(os.path.dirname(cache_value("CMAKE_COMMAND") or "/usr/bin/cmake"), "cpack")
        r = subprocess.run([cpack, "-G", "DEB", "-B", out], cwd=BUILD,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, "cpack failed:\n%s%s" % (r.stdout[-4000:], r.stderr[-4000:])
        for path in glob.glob(os.path.join(out, "*.deb")):
            package = Package(path, os.path.join(out, "x", os.path.basename(path)))
            _built[package.fields["Package"]] = package
        for path in glob.glob(os.path.join(out, "*.ddeb")):
            package = Package(path, os.path.join(out, "x", os.path.basename(path)))
            _dbgsym[package.fields["Package"]] = package
        _out.append(out)
        del _built["error"]
    assert "error" not in _built, _built["error"]
    return _built


class Package:
    """One .deb: its control fields, files (with modes), conffiles, maintainer scripts."""

    def __init__(self, path, work):
        self.path = path
        self.fields = dict(re.findall(r"(?m)^([A-Za-z-]+): (.*)$",
                                      run("dpkg-deb", "-f", path)))
        self.modes = {}
        self.links = {}
        for line in run("dpkg-deb", "-c", path).splitlines():
            mode, name = line.split()[0], line.split(None, 5)[5]
            name, _, target = name.partition(" -> ")
            if not name.endswith("/"):
                self.modes[name[1:]] = mode          # "./usr/bin/x" -> "/usr/bin/x"
            if target:
                self.links[name[1:]] = target
        self.root = os.path.join(work, "root")
        self.control = os.path.join(work, "DEBIAN")
        os.makedirs(work)
        run("dpkg-deb", "-x", path, self.root)
        run("dpkg-deb", "-e", path, self.control)

    def relations(self, field):
        """The package names of a Depends-like field, without versions."""
        return [re.split(r"[ (]", alt.strip())[0]
                for rel in self.fields.get(field, "").split(",") if rel.strip()
                for alt in rel.split("|")]

    def text(self, name):
        with open(os.path.join(self.root, name.lstrip("/")), encoding="utf-8") as f:
            return f.read()

    def file(self, name):
        """The path of a packaged file in the unpacked tree."""
        return os.path.join(self.root, name.lstrip("/"))

    def conffiles(self):
        path = os.path.join(self.control, "conffiles")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return f.read().split()

    def unit(self, name):
        found = [d + name for d in UNIT_DIRS if d + name in self.modes]
        assert len(found) == 1, "%s: %s not in %s" % (self.fields["Package"], name, UNIT_DIRS)
        return found[0]


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "%s failed:\n%s" % (" ".join(argv), r.stderr)
    return r.stdout


def test_three_packages_with_debian_names():
    debs = packages()
    assert sorted(debs) == sorted(PACKAGES), sorted(debs)
    version = "%s-1" % cache_value("CMAKE_PROJECT_VERSION")
    arch = run("dpkg", "--print-architecture").strip()
    for name, deb in debs.items():
        want_arch = "all" if name == "wardpulse-common" else arch
        assert deb.fields["Version"] == version, deb.fields
        assert deb.fields["Architecture"] == want_arch, deb.fields
        assert os.path.basename(deb.path) == "%s_%s_%s.deb" % (name, version, want_arch), deb.path
        for field in ("Maintainer", "Description", "Section", "Priority"):
            assert deb.fields.get(field), "%s: no %s" % (name, field)
        assert deb.fields["Description"].split(":")[0].startswith("wardpulse"), deb.fields


def test_depends_cover_every_library_the_programs_load():
    debs = packages()
    version = debs["wardpulse-common"].fields["Version"]
    multiarch = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").strip()
    for name in ("wardpulse-agent", "wardpulse-aggregator"):
        deb = debs[name]
        depends = deb.relations("Depends")
        assert "wardpulse-common (= %s)" % version in deb.fields["Depends"], deb.fields["Depends"]
        for library in LIBRARIES + ("libc6", "adduser"):
            assert library in depends, "%s: Depends lacks %s: %s" % (name, library, deb.fields["Depends"])
        programs = [f for f in deb.modes if f.startswith("/usr/bin/")]
        assert programs, name
        for program in programs:
            dynamic = run("readelf", "-d", os.path.join(deb.root, program.lstrip("/")))
            assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, \
                "%s keeps a run path into the build tree:\n%s" % (program, dynamic)
            for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
                owner = run("dpkg", "-S", "*/%s/%s" % (multiarch, soname)).split(":")[0]
                assert owner in depends, "%s loads %s (package %s), not in Depends: %s" % (
                    program, soname, owner, deb.fields["Depends"])
                if soname.startswith("libsystemd.so"):
                    assert "libsystemd0" in depends, deb.fields["Depends"]
    assert "mosquitto" in debs["wardpulse-aggregator"].relations("Recommends"), \
        debs["wardpulse-aggregator"].fields
    assert not debs["wardpulse-common"].relations("Depends"), debs["wardpulse-common"].fields


def test_files_are_where_debian_expects_them():
    debs = packages()
    agent, aggregator, common = (debs[n] for n in PACKAGES)
    assert agent.modes.get("/usr/bin/wardpulse-agent", "").startswith("-rwxr-xr-x"), agent.modes
    assert aggregator.modes.get("/usr/bin/wardpulse-aggregator", "").startswith("-rwxr-xr-x")
    assert aggregator.modes.get("/usr/bin/wardpulse", "").startswith("-rwxr-xr-x")
    assert "/etc/wardpulse/agent.conf" in agent.modes
    assert "/etc/wardpulse/aggregator.conf" in aggregator.modes
    for path in ("/usr/share/wardpulse/schemas/report.schema.json",
                 "/usr/share/wardpulse/schemas/ack.schema.json",
                 "/usr/share/doc/wardpulse/README.md",
                 "/usr/share/doc/wardpulse/configuration.md"):
        assert path in common.modes, "%s not in wardpulse-common" % path
    assert not any("/examples/" in f for f in common.modes), "schema examples are packaged"
    for path in ("/usr/share/wardpulse/plans/ba-dinh-2022/plan.json",
                 "/usr/share/wardpulse/plans/ba-dinh-2022/catalog.json",
                 "/usr/share/wardpulse/plans/ba-dinh-2022/orgunits.json",
                 "/usr/share/wardpulse/plans/can-tho-2022/plan.json",
                 "/usr/share/wardpulse/broker-config/mosquitto.conf",
                 "/usr/share/wardpulse/broker-config/aclfile"):
        assert path in aggregator.modes, "%s not in wardpulse-aggregator" % path
    assert aggregator.modes["/usr/share/wardpulse/broker-config/provision-ward.sh"].startswith("-rwxr-xr-x")
    assert any(f.endswith("/mosquitto.service.d/wardpulse.conf") and f.startswith(UNIT_DIRS)
               for f in aggregator.modes), "no mosquitto drop-in beside the units"
    for deb in debs.values():
        strays = [f for f in deb.modes if not f.startswith(("/usr/", "/etc/wardpulse/") + UNIT_DIRS)]
        assert not strays, "%s: files outside /usr, /etc/wardpulse and the unit dir: %s" % (
            deb.fields["Package"], strays)
        assert not [f for f in deb.modes if f.startswith("/usr/local/")], deb.modes


def test_units_name_the_packaged_paths():
    debs = packages()
    for name, program in (("wardpulse-agent", "agent"), ("wardpulse-aggregator", "aggregator")):
        deb = debs[name]
        unit = deb.text(deb.unit("wardpulse-%s.service" % program))
        start = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1)
        assert start == "/usr/bin/wardpulse-%s -c /etc/wardpulse/%s.conf" % (program, program), start
        assert "/usr/local" not in unit and "@WP_" not in unit, unit
        assert "/usr/bin/wardpulse-%s" % program in deb.modes
        config = deb.text("/etc/wardpulse/%s.conf" % program)
        assert "@WP_" not in config and "/usr/local" not in config, config
    assert "/var/lib/wardpulse-agent/outbox.db" in debs["wardpulse-agent"].text("/etc/wardpulse/agent.conf")
    assert "/var/lib/wardpulse/wardpulse.db" in debs["wardpulse-aggregator"].text("/etc/wardpulse/aggregator.conf")


def test_configurations_are_conffiles():
    for deb in packages().values():
        etc = sorted(f for f in deb.modes if f.startswith("/etc/"))
        assert sorted(deb.conffiles()) == etc, "%s: conffiles %s, files in /etc %s" % (
            deb.fields["Package"], deb.conffiles(), etc)
    assert packages()["wardpulse-agent"].conffiles() == ["/etc/wardpulse/agent.conf"]


def test_no_file_is_in_two_packages():
    owners = {}
    for name, deb in packages().items():
        for path in deb.modes:
            owners.setdefault(path, []).append(name)
    shared = {path: names for path, names in owners.items() if len(names) > 1}
    assert not shared, "files in more than one package (dpkg would refuse the second): %s" % shared


def test_maintainer_scripts_are_executable_and_parse():
    for name in ("wardpulse-agent", "wardpulse-aggregator"):
        deb = packages()[name]
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(deb.control, script)
            assert os.path.isfile(path), "%s has no %s" % (name, script)
            assert os.stat(path).st_mode & 0o777 == 0o755, "%s/%s mode %o" % (name, script, os.stat(path).st_mode)
            run("sh", "-n", path)
        postinst = open(os.path.join(deb.control, "postinst"), encoding="utf-8").read()
        user = "wardpulse-agent" if name == "wardpulse-agent" else "wardpulse"
        unit = deb.text(deb.unit(name + ".service"))
        assert re.search(r"(?m)^User=%s$" % user, unit), unit
        assert "adduser" in postinst and " %s\n" % user in postinst, postinst
        scripts = {script: open(os.path.join(deb.control, script), encoding="utf-8").read()
                   for script in ("postinst", "prerm", "postrm")}
        for script, text in scripts.items():
            calls = [line for line in text.splitlines()
                     if re.search(r"\bsystemctl\b", line) and not line.lstrip().startswith(("#", "echo", '"'))]
            assert all("daemon-reload" in line for line in calls), \
                "%s/%s calls systemctl for more than daemon-reload: %s" % (name, script, calls)
        unit = name + ".service"
        assert re.search(r"deb-systemd-helper (--quiet )?was-enabled \"?\$UNIT", scripts["postinst"]) and \
            "deb-systemd-helper enable" in scripts["postinst"] and "UNIT=%s" % unit in scripts["postinst"], \
            scripts["postinst"]
        assert re.search(r"deb-systemd-invoke \"\$action\"", scripts["postinst"]), scripts["postinst"]
        assert "deb-systemd-invoke stop %s" % unit in scripts["prerm"], scripts["prerm"]
        for verb in ("mask", "purge", "unmask"):
            assert "deb-systemd-helper %s \"$UNIT\"" % verb in scripts["postrm"], (verb, scripts["postrm"])
        assert "UNIT=%s" % unit in scripts["postrm"], scripts["postrm"]
        state = "/var/lib/wardpulse-agent" if name == "wardpulse-agent" else "/var/lib/wardpulse"
        assert "STATE=%s\n" % state in scripts["postrm"] and 'rm -rf "$STATE"' in scripts["postrm"], \
            scripts["postrm"]


def test_lintian_reports_no_error_and_no_warning():
    assert shutil.which("lintian"), "lintian is missing: apt-get install lintian " \
        "(scripts/install-deps.sh --tests)"
    packages()
    files = sorted(glob.glob(os.path.join(_out[0], "*.deb")) + glob.glob(os.path.join(_out[0], "*.ddeb")))
    assert len(files) == 5, files      # three packages, two -dbgsym
    r = subprocess.run(["lintian", "--tag-display-limit", "0", "--show-overrides"] + files,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode in (0, 1), "lintian failed (%d):\n%s" % (r.returncode, r.stderr[-3000:])
    tags = re.findall(r"(?m)^([EWO]): (\S+): (\S+)(.*)$", r.stdout)
    bad = [t for t in tags if t[0] in "EW"]
    assert not bad, "lintian:\n%s" % "\n".join("%s: %s: %s%s" % t for t in bad)
    # Every override is in a file of ours and has its reason in a comment right above it.
    for deb in packages().values():
        for path in (p for p in deb.modes if p.startswith("/usr/share/lintian/overrides/")):
            lines = open(deb.file(path), encoding="utf-8").read().splitlines()
            for i, line in enumerate(lines):
                if line.strip() and not line.startswith("#"):
                    assert i > 0 and lines[i - 1].startswith("#") and len(lines[i - 1]) > 10, \
                        "%s: override '%s' has no comment saying why" % (path, line)


def man_page(deb, path):
    """A packaged man page: checks its compression and renders it with man; returns the text."""
    with open(deb.file(path), "rb") as f:
        head = f.read(10)
    assert head[:3] == b"\x1f\x8b\x08", "%s is not gzip'd" % path
    assert head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0", "%s: gzip -n keeps no name nor time" % path
    assert head[8] == 2, "%s: not gzip -9 (XFL %d)" % (path, head[8])
    assert shutil.which("man"), "man is missing: apt-get install man-db"
    env = dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", deb.file(path)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0 and not r.stderr.strip(), "man %s: %s" % (path, r.stderr)
    text = re.sub(r".\x08", "", r.stdout)                  # no overstrike bold
    return text.replace("\u2212", "-").replace("\u2010", "-")


def help_settings(deb, program):
    """{name: default or None} of the settings the packaged program's --help lists."""
    out = run(deb.file("/usr/bin/" + program), "--help")
    settings = {}
    for m in re.finditer(r"(?m)^  --(\w+) (TEXT|NUMBER|yes\|no|DURATION) +(.*)$", out):
        default = re.search(r"\(default: ([^()]*)\)$", m.group(3))
        settings[m.group(1)] = default.group(1) if default else None
    assert len(settings) > 10, out
    return settings


def test_man_pages_show_every_setting_with_default_and_bounds():
    debs = packages()
    expected = {
        "wardpulse-agent": ["/usr/share/man/man8/wardpulse-agent.8.gz",
                            "/usr/share/man/man5/wardpulse-agent.conf.5.gz"],
        "wardpulse-aggregator": ["/usr/share/man/man8/wardpulse-aggregator.8.gz",
                                 "/usr/share/man/man5/wardpulse-aggregator.conf.5.gz",
                                 "/usr/share/man/man1/wardpulse.1.gz"],
    }
    for name, pages in expected.items():
        deb = debs[name]
        assert sorted(p for p in deb.modes if p.startswith("/usr/share/man/")) == sorted(pages), deb.modes
        for program in (p for p in deb.modes if p.startswith("/usr/bin/")):
            assert any(os.path.basename(page).startswith(os.path.basename(program) + ".")
                       for page in pages), "%s has no man page" % program
    for name in expected:
        deb = debs[name]
        settings = help_settings(deb, name)
        for page in ("/usr/share/man/man8/%s.8.gz" % name, "/usr/share/man/man5/%s.conf.5.gz" % name):
            text = man_page(deb, page)
            flag = "--" if ".8." in page else ""
            for setting, default in settings.items():
                m = re.search(r"(?m)^ +%s%s (TEXT|NUMBER|yes\|no|DURATION)\n(.*?)\n\n" % (flag, setting),
                              text + "\n\n", re.S)
                assert m, "%s lacks the setting %s%s" % (page, flag, setting)
                entry = " ".join(m.group(2).split())
                if default is not None:
                    # (A description may say it itself: client_id's "(default: the ward code)".)
                    assert "Default: %s." % default in entry or "(default: %s)" % default in entry, \
                        (page, setting, default, entry)
                else:
                    assert "Default: unset." in entry or "Required: no default." in entry, (page, entry)
            assert "Bounds: 1 .. 65535." in " ".join(text.split()), "%s: broker_port bounds" % page
    agent8 = " ".join(man_page(debs["wardpulse-agent"], expected["wardpulse-agent"][0]).split())
    assert "--spool_interval DURATION" in agent8 and "Default: 2s. Bounds: 10ms .. 1h." in agent8, agent8
    assert "Required: no default." in agent8            # ward
    aggregator8 = " ".join(man_page(debs["wardpulse-aggregator"], expected["wardpulse-aggregator"][0]).split())
    assert "Default: 1d." in aggregator8 and "signals: TERM/INT" in aggregator8, aggregator8
    cli = man_page(debs["wardpulse-aggregator"], "/usr/share/man/man1/wardpulse.1.gz")
    for command in ("status", "alerts", "export", "report", "validate"):
        assert re.search(r"(?m)^   wardpulse %s$" % command, cli), "wardpulse(1) lacks %s:\n%s" % (command, cli)


def test_copyright_and_changelog_in_each_package():
    for name, deb in packages().items():
        copyright = deb.text("/usr/share/doc/%s/copyright" % name)
        assert copyright.startswith(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"), copyright
        assert re.search(r"(?m)^Files: \*$", copyright) and re.search(r"(?m)^License: \S+", copyright)
        with gzip.open(deb.file("/usr/share/doc/%s/changelog.Debian.gz" % name), "rt") as f:
            top = f.readline()
        assert top.startswith("wardpulse (%s) " % deb.fields["Version"]), (name, top)


def test_programs_stripped_with_symbols_in_dbgsym():
    debs = packages()
    for name in ("wardpulse-agent", "wardpulse-aggregator"):
        deb = debs[name]
        dbgsym = _dbgsym.get(name + "-dbgsym")
        assert dbgsym, "no %s-dbgsym .ddeb: %s" % (name, sorted(_dbgsym))
        assert dbgsym.fields["Depends"] == "%s (= %s)" % (name, deb.fields["Version"]), dbgsym.fields
        assert dbgsym.fields.get("Package-Type") == "ddeb" and dbgsym.fields["Section"] == "debug"
        assert dbgsym.links.get("/usr/share/doc/%s-dbgsym" % name) == name, dbgsym.links
        for program in (p for p in deb.modes if p.startswith("/usr/bin/")):
            sections = run("readelf", "-S", "-W", deb.file(program))
            assert ".debug_info" not in sections and ".symtab" not in sections, \
                "%s is not stripped" % program
            build_id = re.search(r"Build ID: ([0-9a-f]+)", run("readelf", "-n", deb.file(program))).group(1)
            debug = "/usr/lib/debug/.build-id/%s/%s.debug" % (build_id[:2], build_id[2:])
            assert dbgsym.modes.get(debug, "").startswith("-rw-r--r--"), (debug, dbgsym.modes)
            assert ".debug_info" in run("readelf", "-S", "-W", dbgsym.file(debug)), debug


if __name__ == "__main__":
    run_tests(globals())
