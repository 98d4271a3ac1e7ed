"""`wardpulse report`: the weekly district summary, on a database the real aggregator made
(cli_fixture), as Markdown and as HTML rendered by headless Chromium (Debian's
`chromium`, installed by scripts/install-deps.sh).

The HTML page must hold, once the browser has parsed it, the 14 wards in its tables and
one SVG chart per coverage target with a line per ward and for the district, the target
line and the deadline; it must load nothing from outside, and text from the plan must
come out as text, never as markup.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import cli_fixture
from harness import BA_DINH_WARDS, CLI_BIN, SRC, TempDir, cli, run_tests

PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
NOW = cli_fixture.NOW
TMP = TempDir()
DB = None

with open(os.path.join(PLAN, "orgunits.json"), encoding="utf-8") as _f:
    NAMES = {u["code"]: u["name_vi"] for u in json.load(_f)["units"]}
with open(os.path.join(PLAN, "plan.json"), encoding="utf-8") as _f:
    TARGETS = [r for r in json.load(_f)["rules"] if r["kind"] == "coverage"]


def setup():
    global DB
    if DB is None:
        DB = cli_fixture.build(TMP.__enter__())
    return DB


def report(*extra, plan=PLAN):
    return cli("report", "--db", setup(), "--plan", plan, "--week", "2022-W19", "--now", NOW,
               "--config", "/dev/null", *extra).stdout


class Dom(HTMLParser):
    """The elements of a document: (tag, attrs, text inside) in document order."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elements.append(e)
        if tag not in ("meta", "br", "line", "circle", "input", "img", "link"):
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        if any(e[0] == tag for e in self.stack):
            while self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        for e in self.stack:
            e[2] += data

    def all(self, tag, **attrs):
        return [e for e in self.elements if e[0] == tag
                and all(e[1].get(k) == v for k, v in attrs.items())]


def chromium_dom(path):
    """The DOM as headless Chromium renders the file (--dump-dom)."""
    binary = shutil.which("chromium")
    assert binary, "chromium is missing: run scripts/install-deps.sh (make check does)"
    profile = tempfile.mkdtemp(prefix="wardpulse-chromium-")
    try:
        r = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + profile, "--dump-dom", "file://" + path],
            capture_output=True, text=True, timeout=90,
            env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS="disabled:"))
        assert r.returncode == 0 and "</html>" in r.stdout, r.stderr[-2000:]
        return r.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_markdown_has_the_14_wards_targets_and_alerts_of_the_week():
    md = report("--format", "md")
    assert md.startswith("# Báo cáo tuần 19/2022 — Quận Ba Đình\n"), md[:200]
    assert "<svg" not in md and "](" not in md, "markdown must be link- and chart-free"
    rows = [l for l in md.splitlines() if l.startswith("| 000")]
    for ward in BA_DINH_WARDS:
        mine = [l for l in rows if l.startswith("| %s | %s |" % (ward, NAMES[ward]))]
        assert len(mine) == 2, (ward, mine)          # reporting and coverage tables
    assert "| **001** | **Quận Ba Đình** |" in md, md
    # Phúc Xá, W19: 7 reports due and in, 40 community cases a day, level 4.
    phuc_xa = [l for l in rows if l.startswith("| 00001 |")][0]
    cells = [c.strip() for c in phuc_xa.strip("|").split("|")]
    assert cells[2] == "7 / 7" and cells[4] == "280" and cells[-2] == "4 (đỏ)", cells
    silent = [l for l in rows if l.startswith("| 00034 |")][0]
    assert "| 1 / 7 |" in silent, silent
    for t in TARGETS:
        assert "### %s (" % t["id"].replace("_", "\\_") in md, t["id"]
    assert "tuần 19: 38,3%" in md, md                # district, 5–11, end of W19
    assert "## 4. Cảnh báo trong tuần" in md and "| phát sinh |" in md, md
    assert "cảnh báo phát sinh" in md and "cảnh báo chưa xử lý" in md, md
    assert "Phường Thành Công chưa gửi báo cáo" in md, md


def test_html_renders_in_chromium_with_the_14_wards_and_the_charts():
    with TempDir() as tmp:
        page = os.path.join(tmp, "w19.html")
        cli("report", "--db", setup(), "--plan", PLAN, "--week", "2022-W19", "--format", "html",
            "--now", NOW, "--config", "/dev/null", "--output", page)
        with open(page, encoding="utf-8") as f:
            source = f.read()
        # Self-contained: nothing to fetch, nothing to run.
        assert not re.search(r"<(script|link|img|iframe|object)\b|\bsrc=|url\(|@import", source)
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\")", source), "external URL"
        assert "default-src 'none'" in source

        dom = Dom(chromium_dom(page))
        wards = dom.all("tr", **{"class": "ward"})
        assert len(wards) == 2 * 14, len(wards)      # reporting and coverage tables
        seen = {e[1]["data-ward"] for e in wards}
        assert seen == set(BA_DINH_WARDS), seen
        for ward in BA_DINH_WARDS:
            assert any(NAMES[ward] in e[2] for e in wards if e[1]["data-ward"] == ward), ward
        assert len(dom.all("tr", **{"class": "district"})) == 2

        svgs = dom.all("svg")
        assert len(svgs) == len(TARGETS) == 6, len(svgs)
        # Per chart: a polyline per ward and one for the district, the target, the deadline.
        svg_blocks = re.findall(r"<svg\b.*?</svg>", source, re.S)
        assert len(svg_blocks) == 6
        for target, block in zip(TARGETS, svg_blocks):
            if target["numerator"] not in ("vacc_5_11_dose2_cum", "vacc_18p_dose3_cum",
                                           "frontline_staff_vaccinated_full"):
                continue    # the fixture's wards do not send these figures
            lines = re.findall(r"<polyline\b[^>]*>", block)
            assert len(lines) == 15, (target["id"], len(lines))
            assert all(re.search(r'points="[0-9.]+,[0-9.]+', l) for l in lines), lines[:2]
            assert block.count('class="target"') == 1 and block.count('class="deadline"') == 1
            assert target["id"] in block
        # 15 lines for each of the three targets whose figures the fixture sends; the other
        # three (catch-up vaccination, organisations assessed) have fewer or none.
        polylines = len(dom.all("polyline"))
        assert 45 <= polylines <= 90, polylines
        assert 3 <= len(dom.all("polyline", **{"class": "district"})) <= 6
        titles = " ".join(e[2] for e in dom.all("polyline"))
        assert all(NAMES[w] in titles for w in BA_DINH_WARDS)
        assert "Quận Ba Đình" in dom.all("h1")[0][2]
        assert any("Cảnh báo trong tuần" in e[2] for e in dom.all("h2"))


def test_html_escapes_text_from_the_plan():
    with TempDir() as tmp:
        plan = os.path.join(tmp, "plan")
        shutil.copytree(PLAN, plan)
        path = os.path.join(plan, "orgunits.json")
        with open(path, encoding="utf-8") as f:
            units = json.load(f)
        evil = 'Phường <script>alert("x")</script> & <b>Xá</b>'
        for u in units["units"]:
            if u["code"] == "00001":
                u["name_vi"] = evil
        with open(path, "w", encoding="utf-8") as f:
            json.dump(units, f, ensure_ascii=False)
        html = report("--format", "html", plan=plan)
        assert "<script" not in html and "<b>Xá" not in html, "markup from the plan"
        assert "Phường &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Xá" \
            in html
        dom = Dom(html)
        assert not dom.all("script") and not any(e[2] == "Xá" for e in dom.all("b"))
        assert any(evil in e[2] for e in dom.all("td"))
        md = report("--format", "md", plan=plan)
        assert "\\<script\\>" in md and "<script>" not in md

        # A plan that does not pass its schema is refused, naming the file.
        with open(path, "w", encoding="utf-8") as f:
            f.write('{"v": 1, "units": "no"}')
        r = cli("report", "--db", setup(), "--plan", plan, "--week", "2022-W19", check=False)
        assert r.returncode == 1 and "orgunits.json" in r.stderr, r


def test_report_arguments():
    r = cli("report", "--db", setup(), "--plan", PLAN, check=False)
    assert r.returncode == 2 and "--week" in r.stderr, r
    r = cli("report", "--db", setup(), "--plan", PLAN, "--week", "2022-W53", check=False)
    assert r.returncode == 2 and "2022-W53" in r.stderr, r
    r = cli("report", "--db", setup(), "--plan", PLAN, "--week", "2022-W19", "--format", "pdf",
            check=False)
    assert r.returncode == 2 and "--format" in r.stderr, r
    r = cli("report", "--db", setup(), "--week", "2022-W19", "--config", "/dev/null",
            check=False)
    assert r.returncode == 2 and "--plan" in r.stderr, r
    assert "--week" in cli("report", "--help").stdout
    # A week before anything was reported: tables with dashes, no failure.
    md = report("--format", "md").replace("2022-W19", "")
    early = cli("report", "--db", setup(), "--plan", PLAN, "--week", "2022-W10", "--format",
                "md", "--config", "/dev/null").stdout
    assert early.count("| 0 / 0 |") == 15 and "chưa có số liệu" in early, early
    assert md


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        TMP.__exit__(None, None, None)
