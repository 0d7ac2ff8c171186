"""Make the Great Expectations Data Docs work without the internet.

GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and the
rest from public CDNs, and the navbar logo from GX's S3 bucket; on the federation's
intranet the pages would show unstyled and without charts. After GX writes the site,
:func:`localize_site` copies the vendored files (``docs_assets/``, see its README.md)
into ``<site>/static/vendor/`` and points every CDN reference of every ``.html`` and
``.css`` file of the site at them by a relative path, so the site works opened from
disk (file://) and served from any sub-path.

:func:`localize` is the rewrite of one file's text; :func:`remote_assets` lists what it
left remote (a script, stylesheet, image or font GX started to load from a URL this
module does not map): :func:`localize_site` logs those, and the tests fail on them.
Plain ``<a href>`` links (GX's documentation, its newsletter) are kept: they load
nothing when a page opens.

Refresh or bump the vendored files with ``python -m pipelines.quality.offline_docs``
(needs ``npm``; not needed at run time).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.files import atomic_write_bytes, atomic_write_text

__all__ = ["ASSETS_DIR", "ASSETS_TAG", "CDN", "VENDOR_DIR", "VENDORED", "localize", "localize_site", "remote_assets"]

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("docs_assets")
VENDOR_DIR = "static/vendor"  # in the site


@dataclass(frozen=True)
class Vendored:
    """Files taken from one npm package's tarball (paths under its ``package/``)."""

    package: str
    version: str
    files: tuple[str, ...]
    license: str | None  # the tarball's license file; None: it has none (kept by hand)

    @property
    def folder(self) -> str:
        return f"{self.package.rsplit('/', 1)[-1]}@{self.version}"


VENDORED: tuple[Vendored, ...] = (
    Vendored("bootstrap", "4.3.1", ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"), "LICENSE"),
    Vendored("jquery", "3.7.1", ("dist/jquery.min.js",), "LICENSE.txt"),
    Vendored("popper.js", "1.12.9", ("dist/umd/popper.min.js",), None),
    Vendored("bootstrap-table", "1.19.1", (
        "dist/bootstrap-table.min.css", "dist/bootstrap-table.min.js",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ), "LICENSE"),
    Vendored("bootstrap-table", "1.19.0",
             ("dist/extensions/filter-control/bootstrap-table-filter-control.min.css",), "LICENSE"),
    Vendored("bootstrap-datepicker", "1.9.0",
             ("dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js"), "LICENSE"),
    Vendored("@forevolve/bootstrap-dark", "1.1.0", ("dist/css/bootstrap-prefers-dark.min.css",), "LICENSE"),
    Vendored("@fortawesome/fontawesome-free", "6.6.0", (
        "css/all.min.css", "webfonts/fa-brands-400.woff2", "webfonts/fa-regular-400.woff2",
        "webfonts/fa-solid-900.woff2", "webfonts/fa-v4compatibility.woff2",
    ), "LICENSE.txt"),
    # GX asks for the newest 5.x / 5.x / 6.x; these were the newest when vendored
    Vendored("vega", "5.33.1", ("build/vega.min.js",), None),
    Vendored("vega-lite", "5.23.0", ("build/vega-lite.min.js",), "LICENSE"),
    Vendored("vega-embed", "6.29.0", ("build/vega-embed.min.js",), "LICENSE"),
)


def _vendored(folder: str, path: str) -> str:
    assert any(v.folder == folder and path in v.files for v in VENDORED), (folder, path)
    return f"{VENDOR_DIR}/{folder}/{path}"


# CDN URL (without its query) -> the local copy, relative to the site's root
CDN: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        _vendored("bootstrap@4.3.1", "dist/css/bootstrap.min.css"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        _vendored("bootstrap@4.3.1", "dist/js/bootstrap.min.js"),
    "https://code.jquery.com/jquery-3.7.1.min.js": _vendored("jquery@3.7.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        _vendored("popper.js@1.12.9", "dist/umd/popper.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        _vendored("bootstrap-table@1.19.1", "dist/bootstrap-table.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        _vendored("bootstrap-table@1.19.1", "dist/bootstrap-table.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        _vendored("bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    # the pages ask for the unminified file, the index for the minified one: the same rules
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        _vendored("bootstrap-table@1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        _vendored("bootstrap-table@1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        _vendored("bootstrap-datepicker@1.9.0", "dist/css/bootstrap-datepicker.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        _vendored("bootstrap-datepicker@1.9.0", "dist/js/bootstrap-datepicker.min.js"),
    # unminified in GX's templates; the package's minified build of the same file
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        _vendored("bootstrap-dark@1.1.0", "dist/css/bootstrap-prefers-dark.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        _vendored("fontawesome-free@6.6.0", "css/all.min.css"),
    # jsDelivr serves a package's "jsdelivr" entry (build/*.min.js) for a bare npm/<pkg>@<range>
    "https://cdn.jsdelivr.net/npm/vega@5": _vendored("vega@5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": _vendored("vega-lite@5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": _vendored("vega-embed@6.29.0", "build/vega-embed.min.js"),
    # the navbar logo (GX adds a time stamp, and the data context's id, to the URL) and
    # its dark-mode variant: GX's own copy in the site (the light logo serves both)
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png": "static/images/logo-long.png",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png":
        "static/images/logo-long.png",
}

# changes when the vendored files or the mapping do: the runner renders the site again
ASSETS_TAG = hashlib.sha256(repr((VENDORED, sorted(CDN.items()))).encode()).hexdigest()[:16]

# tags whose src/href loads something when the page opens (``<a href>`` does not)
_TAG = re.compile(r"<(?:script|link|img|source|iframe|embed|video|audio|input)\b[^>]*>", re.I)
_ATTR = re.compile(r"""(\s(?:src|href|srcset|poster|data)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_SRI = re.compile(r"""\s+(?:integrity\s*=\s*(["']).*?\1|crossorigin(?:\s*=\s*(["']).*?\2|(?=[\s/>])))""",
                  re.I | re.S)
_CSS_URL = re.compile(r"""(url\(\s*)(["']?)([^"')\s]+)\2(\s*\))""", re.I)
_CSS_IMPORT = re.compile(r"""(@import\s+)(["'])([^"']+)\2""", re.I)
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)


def _local(url: str, depth: int) -> str | None:
    """The relative path to a CDN URL's local copy from a file ``depth`` folders down."""
    target = CDN.get(re.split(r"[?#]", url.strip(), maxsplit=1)[0])
    return None if target is None else "../" * depth + target


def localize(text: str, depth: int) -> str:
    """Point the CDN references of a page (or stylesheet) ``depth`` folders below the
    site's root at the vendored copies. A rewritten tag loses its ``integrity`` and
    ``crossorigin`` attributes: a browser refuses a CORS fetch of a file:// URL (the
    vendored files are the bytes those hashes name; the tests check it). References
    to URLs :data:`CDN` does not map are left as they are (:func:`remote_assets`)."""

    def tag(m: re.Match[str]) -> str:
        changed = False

        def attr(a: re.Match[str]) -> str:
            nonlocal changed
            local = _local(a[3], depth) if _REMOTE.match(a[3]) else None
            if local is None:
                return a[0]
            changed = True
            return f"{a[1]}{a[2]}{local}{a[2]}"

        out = _ATTR.sub(attr, m[0])
        return _SRI.sub("", out) if changed else out

    def css(m: re.Match[str]) -> str:  # url(...) and @import "...": prefix, quote, URL[, end]
        local = _local(m[3], depth) if _REMOTE.match(m[3]) else None
        return m[0] if local is None else f"{m[1]}{m[2]}{local}{m[2]}{m[4] if m.re is _CSS_URL else ''}"

    text = _TAG.sub(tag, text)
    text = _CSS_URL.sub(css, text)
    return _CSS_IMPORT.sub(css, text)


def remote_assets(text: str) -> list[str]:
    """URLs a page (or stylesheet) would still load from the network when opened:
    scripts, stylesheets, images, fonts. Links a reader may click are not counted."""
    urls = [a[3] for t in _TAG.finditer(text) for a in _ATTR.finditer(t[0])]
    urls += [m[3] for m in _CSS_URL.finditer(text)] + [m[3] for m in _CSS_IMPORT.finditer(text)]
    return [u.strip() for u in urls if _REMOTE.match(u)]


def copy_assets(site_dir: Path) -> None:
    """The vendored files into ``<site>/static/vendor/`` (only those missing or changed)."""
    for src in sorted(ASSETS_DIR.rglob("*")):
        if not src.is_file() or src.parent == ASSETS_DIR:  # README.md stays in the repository
            continue
        dst = site_dir / VENDOR_DIR / src.relative_to(ASSETS_DIR)
        data = src.read_bytes()
        if dst.is_file() and dst.stat().st_size == len(data) and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, data)


def localize_site(site_dir: Path, since: float | None = None) -> list[str]:
    """Copy the vendored assets into the site and rewrite its pages and stylesheets
    (with ``since``, a POSIX time: only those modified since). Returns what is still
    loaded from the network, as ``<file>: <url>``, after logging it."""
    copy_assets(site_dir)
    vendor = site_dir / VENDOR_DIR
    left: list[str] = []
    for path in sorted([*site_dir.rglob("*.html"), *site_dir.rglob("*.css")]):
        if vendor in path.parents or not path.is_file():
            continue
        if since is not None and path.stat().st_mtime < since:
            continue
        rel = path.relative_to(site_dir)
        text = path.read_text(encoding="utf-8")
        new = localize(text, depth=len(rel.parts) - 1)
        if new != text:
            atomic_write_text(path, new)
        left += [f"{rel.as_posix()}: {url}" for url in remote_assets(new)]
    if left:
        log.warning("Data Docs still load %d file(s) from the internet (add them to "
                    "pipelines/quality/offline_docs.py CDN): %s", len(left), "; ".join(sorted(set(left))[:10]))
    return left


def refresh(dest: Path = ASSETS_DIR) -> None:
    """Download :data:`VENDORED` with ``npm pack`` and write its files (and each
    package's license) into ``dest``, replacing what was there; a package whose
    tarball has no license file keeps the LICENSE kept by hand for an earlier version."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        staged = work / "staged"
        for v in VENDORED:
            spec = f"{v.package}@{v.version}"
            out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(work)],
                                 check=True, capture_output=True, text=True).stdout.split()
            with tarfile.open(work / out[-1]) as tar:
                folder = staged / v.folder
                for path in (*v.files, *([v.license] if v.license else [])):
                    member = tar.extractfile(f"package/{path}")
                    if member is None:
                        raise FileNotFoundError(f"{spec}: package/{path}")
                    (folder / path).parent.mkdir(parents=True, exist_ok=True)
                    (folder / path).write_bytes(member.read())
            if v.license is None:
                name = v.folder.split("@")[0]
                kept = sorted(dest.glob(f"{name}@*/LICENSE"))
                if not kept:
                    raise FileNotFoundError(f"{spec} ships no license: add {dest / v.folder / 'LICENSE'}")
                shutil.copyfile(kept[-1], staged / v.folder / "LICENSE")
        for old in dest.iterdir() if dest.exists() else []:
            if old.is_dir():
                shutil.rmtree(old)
        dest.mkdir(parents=True, exist_ok=True)
        for folder in staged.iterdir():
            shutil.copytree(folder, dest / folder.name)


if __name__ == "__main__":
    refresh(Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS_DIR)
