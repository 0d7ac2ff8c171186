"""The Great Expectations Data Docs work without the internet (pipelines/quality/offline_docs.py):
the CDN files GX's pages load are vendored, copied into the site and referenced by
relative paths; a headless Chromium with no network shows the pages styled, with their
scripts running."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import great_expectations
import polars as pl
import pytest

from pipelines.contract import get_dataset
from pipelines.quality.offline_docs import (
    ASSETS_DIR,
    CDN,
    VENDOR_DIR,
    VENDORED,
    localize,
    localize_site,
    remote_assets,
)
from pipelines.quality.runner import QualityRunner

from .test_quality_suites import PARAMS, ROOT, landed

ARTIFACTS = Path(os.environ.get("UNION_TEST_ARTIFACTS", ROOT / ".test-artifacts"))
GX_VIEW = Path(great_expectations.__file__).parent / "render" / "view"

PAGE = """<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" type="text/css"
      href="https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css">
<style>.navbar-brand a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') 0 0 no-repeat; }
.check { background: url("data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e%3c/svg%3e"); }</style>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" integrity="sha384-ApNbgh9B+Y1QKtv3Rn7W3mgPxhU9K/ScQsAP7hUibX39j7fakFPskvXusvfa0b4Q" crossorigin="anonymous"></script>
</head><body>
<img
  class="NO-CACHE"
  src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20250101T000000.000000Z&dataContextId=abc"
  alt="Great Expectations"/>
<p>Learn more at <a href="https://greatexpectations.io">Great Expectations</a>.</p>
</body></html>
"""


# --- the rewrite, a page at a time ---------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_cdn_references_point_at_the_vendored_copies_relative_to_the_page(depth: int) -> None:
    up = "../" * depth
    out = localize(PAGE, depth)
    assert f'href="{up}static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in out
    assert (f'href="{up}static/vendor/bootstrap-table@1.19.0/dist/extensions/filter-control/'
            'bootstrap-table-filter-control.min.css"') in out
    assert f'<script src="{up}static/vendor/vega@5.33.1/build/vega.min.js"></script>' in out
    # the hash and CORS mode a file:// URL cannot satisfy go with the CDN URL
    assert f'<script src="{up}static/vendor/popper.js@1.12.9/dist/umd/popper.min.js"></script>' in out
    assert "integrity" not in out and "crossorigin" not in out
    # the logo (and its dark-mode one in the inline CSS): GX's copy in the site, no tracking query
    assert f'src="{up}static/images/logo-long.png"' in out
    assert f"url('{up}static/images/logo-long.png')" in out
    assert "dataContextId" not in out
    # a link a reader may click, and a data: URI, are left as they are
    assert '<a href="https://greatexpectations.io">' in out and "xmlns='http://www.w3.org/2000/svg'" in out
    assert remote_assets(out) == []


@pytest.mark.parametrize("depth", [0, 2, 4])
def test_rewriting_twice_changes_nothing(depth: int) -> None:
    once = localize(PAGE, depth)
    assert once != PAGE
    assert localize(once, depth) == once


def test_a_url_not_in_the_mapping_is_left_and_reported() -> None:
    page = PAGE.replace("</head>", """<script src="https://cdn.example.org/new-lib@2/new.min.js"></script>
<link rel="stylesheet" href="//cdn.example.org/new.css">
<style>@import "https://fonts.example.org/css?family=Inter"; .x { background: url(https://cdn.example.org/bg.png) }</style>
</head>""")
    out = localize(page, 1)
    assert sorted(remote_assets(out)) == sorted([
        "https://cdn.example.org/new-lib@2/new.min.js", "//cdn.example.org/new.css",
        "https://fonts.example.org/css?family=Inter", "https://cdn.example.org/bg.png",
    ])
    assert '<script src="https://cdn.example.org/new-lib@2/new.min.js"></script>' in out  # untouched
    assert "../static/vendor/bootstrap@4.3.1/" in out  # the known ones are rewritten anyway


def test_the_site_rewrite_reports_what_it_could_not_map(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "expectations").mkdir()
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "expectations" / "x.html").write_text(
        PAGE.replace("</head>", '<script src="https://cdn.example.org/a.js"></script></head>'), encoding="utf-8")
    assert localize_site(tmp_path) == ["expectations/x.html: https://cdn.example.org/a.js"]
    assert "https://cdn.example.org/a.js" in caplog.text
    assert 'href="../static/vendor/bootstrap@4.3.1/' in (tmp_path / "expectations" / "x.html").read_text()
    assert (tmp_path / VENDOR_DIR / "vega@5.33.1" / "build" / "vega.min.js").is_file()


# --- what GX loads, and what is vendored ------------------------------------------------


def test_every_remote_file_in_gx_templates_is_mapped() -> None:
    """A Great Expectations upgrade that loads a new CDN file fails here, naming it."""
    sources = [*(GX_VIEW / "templates").glob("*.j2"), *(GX_VIEW / "static").rglob("*.css")]
    found = {u.split("?")[0] for p in sources for u in remote_assets(p.read_text(encoding="utf-8"))}
    # the logo's URL is put together in top_navbar.j2 (the rendered site's test covers it)
    assert "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/" in (
        GX_VIEW / "templates" / "top_navbar.j2").read_text(encoding="utf-8")
    assert len(found) >= 17
    assert sorted(found - set(CDN)) == []


def test_the_files_gx_pins_by_hash_are_those_bytes() -> None:
    tags = re.findall(r"""src="(https://[^"]+)"\s+integrity="(sha384-[^"]+)\"""",
                      (GX_VIEW / "templates" / "js_script_imports.j2").read_text(encoding="utf-8"))
    assert len(tags) == 2
    for url, sri in tags:
        data = (ASSETS_DIR / CDN[url].removeprefix(VENDOR_DIR + "/")).read_bytes()
        assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == sri, url


def test_the_vendored_files_are_those_the_mapping_and_their_css_need() -> None:
    files = {p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*") if p.is_file()}
    listed = {f"{v.folder}/{f}" for v in VENDORED for f in v.files}
    licenses = {f for f in files if f.rsplit("/", 1)[-1].startswith("LICENSE")}
    assert files == listed | licenses | {"README.md"}
    assert {f.split("/", 1)[0] for f in licenses} == {v.folder for v in VENDORED}  # a license each
    targets = {t.removeprefix(VENDOR_DIR + "/") for t in CDN.values() if t.startswith(VENDOR_DIR)}
    assert targets <= listed
    # the rest are the fonts the vendored CSS loads: the first (woff2) source of each @font-face
    needed = set()
    for css in (f for f in listed if f.endswith(".css")):
        text = (ASSETS_DIR / css).read_text(encoding="utf-8")
        for face in re.findall(r"@font-face\s*{[^}]*}", text):
            first = re.search(r"src:\s*url\(([^)]+)\)", face)
            assert first is not None and first[1].endswith(".woff2")
            needed.add(os.path.normpath(os.path.join(os.path.dirname(css), first[1].strip("'\""))))
        assert remote_assets(text) == []
    assert len(needed) == 4 and listed - targets == needed
    readme = (ASSETS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"{v.package}@{v.version}" in readme for v in VENDORED)
    assert not any(f.endswith(".map") for f in files)
    assert sum((ASSETS_DIR / f).stat().st_size for f in files) < 2_500_000


# --- a site the runner renders, in a browser with no network ------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Data Docs site from the project's runner: the suite pages, and the validation
    page of a members submission held back by a repeated key (critical)."""
    docs = tmp_path_factory.mktemp("srv") / "reports" / "data_docs"
    runner = QualityRunner(ROOT / "expectations", docs)
    members = get_dataset("members")
    good = landed(members, 4)
    runner.document(pl.concat([good, good.head(1)]), members, PARAMS, run_name="held-back")
    # the checkpoint's pages are made offline at once, before the run's build_docs
    assert [p for p in _pages(docs) if remote_assets(p.read_text(encoding="utf-8"))] == []
    assert runner.build_docs() == docs / "index.html"
    return docs


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in [*site.rglob("*.html"), *site.rglob("*.css")] if p.is_file())


def _validation_page(site: Path) -> Path:
    (page,) = (site / "validations").rglob("*.html")
    return page


def test_no_page_or_stylesheet_of_the_site_loads_anything_from_the_internet(site: Path) -> None:
    pages = _pages(site)
    assert len(pages) > 12 and any(VENDOR_DIR in p.as_posix() for p in pages)
    left = {f"{p.relative_to(site)}: {u}" for p in pages for u in remote_assets(p.read_text(encoding="utf-8"))}
    assert left == set()
    for page in (p for p in pages if p.suffix == ".html"):
        text = page.read_text(encoding="utf-8")
        for ref in re.findall(r"""(?:src|href)="((?:\.\./)*static/[^"?#]+)""", text):
            if "favicon.ico" not in ref:  # GX puts a validation page's favicon a folder too high
                assert (page.parent / ref).resolve().is_file(), (page.relative_to(site), ref)
    before = {p: p.stat().st_mtime_ns for p in pages}
    assert localize_site(site) == []  # again: nothing to do, nothing written
    assert {p: p.stat().st_mtime_ns for p in pages} == before


PROBE = """<script>(function () {
  var out = {errors: []};
  function put() { document.body.setAttribute("data-offline-check", JSON.stringify(out)); }
  try {
    var badge = document.createElement("span");
    badge.className = "badge badge-primary";
    badge.textContent = "probe";
    document.body.appendChild(badge);
    var cs = getComputedStyle(badge);
    out.badge = {background: cs.backgroundColor, display: cs.display, radius: cs.borderTopLeftRadius};
    var $ = window.jQuery;
    out.jquery = $ ? $.fn.jquery : null;
    out.bootstrap = $ && $.fn.tooltip && $.fn.tooltip.Constructor ? $.fn.tooltip.Constructor.VERSION : null;
    out.popper = typeof window.Popper;
    out.bootstrapTable = !!($ && $.fn.bootstrapTable);
    out.datepicker = !!($ && $.fn.datepicker);
    out.vega = window.vega ? vega.version : null;
    out.vegaLite = window.vegaLite ? vegaLite.version : null;
    var icon = document.querySelector(".fas");
    out.iconFont = icon ? getComputedStyle(icon, "::before").fontFamily : null;
  } catch (e) { out.errors.push(String(e)); }
  put();
  // jQuery runs its ready handlers (bootstrap-table's for data-toggle="table") in a later task
  var pending = [new Promise(function (done) {
                   window.addEventListener("load", function () { setTimeout(done, 1000); }); }),
                 document.fonts.ready.then(function () {
    out.fontsLoaded = Array.from(document.fonts).filter(function (f) {
      return f.status === "loaded"; }).map(function (f) { return f.family; });
  })];
  if (typeof window.vegaEmbed === "function") {
    var div = document.createElement("div");
    document.body.appendChild(div);
    pending.push(vegaEmbed(div, {data: {values: [{a: "x", b: 1}, {a: "y", b: 2}]}, mark: "bar",
      encoding: {x: {field: "a", type: "nominal"}, y: {field: "b", type: "quantitative"}}},
      {renderer: "svg", actions: false}).then(function () {
        out.vegaSvgs = div.querySelectorAll("svg").length;
      }));
  }
  Promise.all(pending).catch(function (e) { out.errors.push(String(e)); }).then(function () {
    out.bootstrapTables = document.querySelectorAll(".bootstrap-table").length;  // once they ran
    out.loaded = performance.getEntriesByType("resource").map(function (r) { return r.name; });
    out.done = true;
    put();
  });
})();</script>"""


def _browser(profile: Path) -> list[str]:
    return [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
        # no network: no name resolves (but the test's own server's address), and anything
        # else goes to a proxy that is not there
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
    ]


def _check(page: Path, url: str, profile: Path) -> dict[str, object]:
    """What the probe saw on ``page`` (a copy beside it, with the probe appended, opened at
    ``url``): styles applied, scripts loaded, fonts loaded, a Vega chart drawn."""
    probe = page.with_name("offline-check.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        dom = subprocess.run([*_browser(profile), "--virtual-time-budget=15000", "--dump-dom", url],
                             capture_output=True, text=True, timeout=90)
    finally:
        probe.unlink()
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'data-offline-check="([^"]*)"', dom.stdout)
    assert found is not None, dom.stdout[-2000:]
    return json.loads(html.unescape(found[1]))


def _assert_works_offline(seen: dict[str, object]) -> None:
    assert seen["done"] and seen["errors"] == [], seen
    # Bootstrap 4.3.1's CSS: .badge-primary is #007bff, .badge an inline-block with rounded corners
    assert seen["badge"] == {"background": "rgb(0, 123, 255)", "display": "inline-block", "radius": "4px"}
    assert seen["jquery"] == "3.7.1" and seen["bootstrap"] == "4.3.1" and seen["popper"] == "function"
    assert seen["bootstrapTable"] and seen["datepicker"]
    assert seen["vega"] == "5.33.1" and seen["vegaLite"] == "5.23.0" and seen["vegaSvgs"] == 1
    assert seen["iconFont"] == '"Font Awesome 6 Free"' and "Font Awesome 6 Free" in seen["fontsLoaded"]  # type: ignore[operator]
    assert [u for u in seen["loaded"] if not str(u).startswith(("file:", "http://127.0.0.1"))] == []  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site behind a web server, under a sub-path (``/reports/data_docs/``)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            pass

    handler = functools.partial(Quiet, directory=str(site.parents[1]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/reports/data_docs/"
    server.shutdown()
    server.server_close()


def test_the_index_opened_from_disk_is_styled_and_its_scripts_run(site: Path, tmp_path: Path) -> None:
    index = site / "index.html"
    seen = _check(index, (site / "offline-check.html").as_uri(), tmp_path / "profile")
    _assert_works_offline(seen)
    assert seen["bootstrapTables"] == 2  # bootstrap-table drew the index's two tables
    _screenshot(index.as_uri(), "data_docs_index.png", tmp_path / "profile")


def test_a_validation_page_served_from_a_sub_path_is_styled_and_its_scripts_run(
    site: Path, served: str, tmp_path: Path
) -> None:
    page = _validation_page(site)
    rel = page.relative_to(site).parent.as_posix()
    seen = _check(page, f"{served}{rel}/offline-check.html", tmp_path / "profile")
    _assert_works_offline(seen)
    assert seen["bootstrapTables"] > 10  # type: ignore[operator]  # a table per column, drawn by bootstrap-table
    _screenshot(f"{served}{page.relative_to(site).as_posix()}", "data_docs_validation.png", tmp_path / "profile")


def test_the_browser_really_has_no_network(site: Path, tmp_path: Path) -> None:
    """The control: GX's page as GX writes it (CDN URLs) loads none of them here."""
    page = site / "expectations" / "cdn.html"
    page.write_text(PAGE, encoding="utf-8")
    try:
        seen = _check(page, page.with_name("offline-check.html").as_uri(), tmp_path / "profile")
    finally:
        page.unlink()
    assert seen["jquery"] is None and seen["vega"] is None and seen["popper"] == "undefined"
    assert seen["badge"]["background"] == "rgba(0, 0, 0, 0)"  # type: ignore[index]
    assert "https://cdn.jsdelivr.net/npm/vega@5" in seen["loaded"]  # type: ignore[operator]  # tried, failed


def _screenshot(url: str, name: str, profile: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    run = subprocess.run([*_browser(profile), "--window-size=1280,1600", "--virtual-time-budget=10000",
                          f"--screenshot={shot}", url], capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000  # a styled page, not a blank one
