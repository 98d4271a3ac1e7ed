"""The docs keep up with the code: every setting that --help lists is documented."""
import os
import re
import subprocess

from harness import AGENT_BIN, AGGREGATOR_BIN, SRC, run_tests


def help_keys(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    keys = re.findall(r"(?m)^\s+--([a-z_]+) (?:TEXT|NUMBER|DURATION|yes\|no)", out)
    assert len(keys) >= 5, "no settings found in %s --help:\n%s" % (binary, out)
    return keys


def documented(text, key):
    return "`%s`" % key in text


def test_every_setting_is_in_docs_configuration():
    with open(os.path.join(SRC, "docs", "configuration.md"), encoding="utf-8") as f:
        doc = f.read()
    missing = ["%s: %s" % (os.path.basename(b), k) for b in (AGENT_BIN, AGGREGATOR_BIN)
               for k in help_keys(b) if not documented(doc, k)]
    assert not missing, "settings missing from docs/configuration.md: %s" % missing


def test_test_config_reports_file_and_line():
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("ward 00001\n# comment\nbroker_port 70000\n")
    try:
        r = subprocess.run([AGENT_BIN, "-c", f.name, "--test-config"], capture_output=True, text=True)
        assert r.returncode != 0, r
        assert "%s:3: broker_port: 70000 is out of range" % f.name in r.stderr, r.stderr
        with open(f.name, "w") as g:
            g.write("db_path /tmp/x.db\nbrokr_host x\n")
        r = subprocess.run([AGGREGATOR_BIN, "-c", f.name, "--test-config"], capture_output=True, text=True)
        assert r.returncode != 0, r
        assert "%s:2: unknown key 'brokr_host'" % f.name in r.stderr, r.stderr
        with open(f.name, "w") as g:
            g.write("ward 00001\noutbox_path /tmp/x.db\n")
        r = subprocess.run([AGENT_BIN, "-c", f.name, "--test-config"], capture_output=True, text=True)
        assert r.returncode == 0, r
        assert "configuration OK" in r.stdout + r.stderr, r
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    run_tests(globals())
