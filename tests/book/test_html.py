"""The built book in a real browser: headless Chromium over ``_build/html``.

A static parse of the HTML cannot tell whether a figure decodes or an animation plays, so these
tests open every page of ``_toc.yml`` in Debian's ``chromium`` (driven through its own
``chromedriver`` by selenium), served from a local ``http.server`` on 127.0.0.1. Per page they
check that it loads with a title and without a Sphinx or notebook error (a traceback, a cell output
written to stderr, or a warning in a cell's text output), that every ``<img>`` has
decoded (``complete`` and ``naturalWidth > 0``), that every matplotlib ``to_jshtml`` animation is
initialised and plays (its frame changes after a click on Play), that every local link points to
an existing file and, for pages, to an existing anchor, and they save a full-page screenshot to
``_build/screenshots/<page>.png``.

The browser reaches nothing but the local server (every other host name resolves to nothing),
so a page that needs the network to render fails here as it would offline.

Without chromium these tests are skipped on a workstation and fail in CI (``CI`` set):
``apt-get install chromium chromium-driver`` (``.ci/run`` does it).
"""
from __future__ import annotations

import functools
import html.parser
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
TOC = ROOT / "_toc.yml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BUILD_HINT = "build the book first: `make` (or `make notebooks book` after `make setup`)"

#: Pages that must show at least this many matplotlib animations.
EXPECTED_ANIMATIONS = {"book/executed/02_gan": 1}
#: Selectors of what Sphinx, docutils and myst-nb render for an error in a page.
ERROR_SELECTORS = {
    ".system-message": "a docutils/Sphinx error or warning box",
    ".problematic": "an unresolved reference or role",
    ".output.traceback": "a notebook cell that raised an exception",
    ".traceback": "a traceback block",
    ".output.stderr": "a cell output written to stderr (a warning or a log message)",
}
#: Text of a warning or a traceback in a cell's text output (not in the book's own admonitions,
#: such as the simulated-data banner).
OUTPUT_PROBLEM = r"\b\w*Warning\b|Traceback \(most recent call last\)"
#: Time allowed for images to decode and an animation to move after Play.
IMAGE_WAIT_S = 20.0
PLAY_WAIT_S = 5.0


def toc_pages(toc: Path = TOC) -> list[str]:
    """Docnames of ``_toc.yml`` in reading order (root first, then parts, chapters and sections)."""
    data = yaml.safe_load(toc.read_text())
    pages = [data["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(data.get("parts"))
    walk(data.get("chapters"))
    walk(data.get("sections"))
    return [str(Path(p).with_suffix("")) if Path(p).suffix in {".md", ".ipynb"} else p for p in pages]


PAGES = toc_pages()


def shot_name(page: str) -> str:
    return Path(page).name


# ----------------------------------------------------------------------------- helpers


class _Ids(html.parser.HTMLParser):
    """Every ``id`` (and ``<a name>``) in one HTML file: the anchors a link may point to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def anchors_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_links(page_url: str, server_url: str, hrefs: list[str]) -> list[str]:
    """The local links among ``hrefs`` (raw ``href`` attributes of ``page_url``) that do not resolve.

    A link is local when it resolves onto ``server_url``; it must name an existing file under
    ``_build/html`` and, when it points to an HTML page with a ``#fragment``, an existing id there.
    """
    server = urllib.parse.urlsplit(server_url)
    bad = []
    for href in hrefs:
        url = urllib.parse.urlsplit(urllib.parse.urljoin(page_url, href))
        if url.scheme not in {"http", "https"} or url.netloc != server.netloc:
            continue  # external, mailto:, javascript: ...
        rel = urllib.parse.unquote(url.path).lstrip("/")
        target = HTML / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            bad.append(f"{href!r}: no file {target.relative_to(ROOT)}")
            continue
        fragment = urllib.parse.unquote(url.fragment)
        if fragment and target.suffix == ".html" and fragment not in anchors_of(target):
            bad.append(f"{href!r}: {target.relative_to(ROOT)} has no element with id {fragment!r}")
    return bad


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@dataclass
class PageReport:
    """What one visit of a page found."""
    page: str
    url: str
    title: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    n_local_links: int = 0
    animations: list[dict] = field(default_factory=list)
    screenshot: Path | None = None
    h1: str = ""
    cut_lines: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)


# JavaScript run in the page -------------------------------------------------------------

JS_IMAGES = """
return Array.from(document.images).map(img => ({
    src: (img.getAttribute('src') || '').slice(0, 120), id: img.id,
    complete: img.complete, width: img.naturalWidth}));
"""
JS_OUTPUT_PROBLEMS = """
const rx = new RegExp(arguments[0]);
return Array.from(document.querySelectorAll('.cell_output pre, .output pre'))
    .filter(e => !e.closest('.admonition'))
    .map(e => e.textContent || '').filter(t => rx.test(t)).map(t => t.trim().slice(0, 300));
"""
# Code and output blocks whose text runs past their box (cut at the page edge instead of wrapping).
JS_CUT_LINES = """
return Array.from(document.querySelectorAll('.cell_input pre, .cell_output pre'))
    .filter(e => e.scrollWidth > e.clientWidth + 2)
    .map(e => (e.textContent || '').trim().split('\\n')[0].slice(0, 120));
"""
JS_H1 = "const h = document.querySelector('article h1, main h1'); return h ? h.textContent.replace('#', '').trim() : '';"
JS_DOWNLOADS = """
return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
    .filter(h => /\\.(ipynb|md)$/.test(h) && h.includes('_sources'));
"""
JS_IMAGES_DONE = "return Array.from(document.images).every(img => img.complete && img.naturalWidth > 0);"
JS_ANIMATIONS = """
return Array.from(document.querySelectorAll('img[id^="_anim_img"]')).map(img => {
    const key = img.id.slice('_anim_img'.length);
    const anim = window['anim' + key];
    const play = document.querySelector('button[onclick="anim' + key + '.play_animation()"]');
    return {key: key, initialised: !!anim, frames: anim ? anim.frames.length : 0,
            has_play: !!play, width: img.naturalWidth};
});
"""
JS_FRAME = """
const anim = window['anim' + arguments[0]];
const img = document.getElementById('_anim_img' + arguments[0]);
return [anim ? anim.current_frame : null, img ? img.src.length + ':' + img.src.slice(-64) : null];
"""
JS_CLICK_PLAY = """
const b = document.querySelector('button[onclick="anim' + arguments[0] + '.play_animation()"]');
b.scrollIntoView({block: 'center'});
b.click();
"""
JS_PAUSE = "const a = window['anim' + arguments[0]]; if (a) { a.pause_animation(); }"


def _poll(fn, timeout: float, interval: float = 0.1):
    """Call ``fn`` until it returns something truthy or ``timeout`` seconds pass; return the last value."""
    end = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < end:
        time.sleep(interval)
        value = fn()
    return value


def _screenshot(driver, path: Path) -> Path:
    """A PNG of the whole page (beyond the window), written atomically."""
    import base64
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": max(1, int(size["width"])), "height": max(1, int(size["height"])),
            "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64decode(shot["data"]))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def visit(driver, server_url: str, page: str) -> PageReport:
    """Load ``page``, wait for its images, collect what the tests check, screenshot it, play its animations."""
    from selenium.webdriver.common.by import By

    url = f"{server_url}/{page}.html"
    rep = PageReport(page=page, url=url)
    driver.get(url)
    _poll(lambda: driver.execute_script("return document.readyState") == "complete", IMAGE_WAIT_S)
    # Animations are built in a setTimeout(0) after load; images decode asynchronously.
    _poll(lambda: driver.execute_script(JS_IMAGES_DONE), IMAGE_WAIT_S)
    rep.title = driver.title.strip()
    for selector, what in ERROR_SELECTORS.items():
        found = [(e.get_attribute("textContent") or "").strip()[:300] or "(no text)"
                 for e in driver.find_elements(By.CSS_SELECTOR, selector)]
        if found:
            rep.errors[what] = found
    problems = list(dict.fromkeys(driver.execute_script(JS_OUTPUT_PROBLEMS, OUTPUT_PROBLEM)))
    if problems:
        rep.errors["a warning or traceback in a cell's output"] = problems
    rep.images = driver.execute_script(JS_IMAGES)
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));")
    rep.broken_links = broken_links(url, server_url, hrefs)
    rep.n_local_links = sum(
        urllib.parse.urlsplit(urllib.parse.urljoin(url, h)).netloc == urllib.parse.urlsplit(server_url).netloc
        for h in hrefs)
    rep.animations = driver.execute_script(JS_ANIMATIONS)
    rep.h1 = driver.execute_script(JS_H1)
    rep.cut_lines = driver.execute_script(JS_CUT_LINES)
    rep.downloads = driver.execute_script(JS_DOWNLOADS)
    rep.screenshot = _screenshot(driver, SCREENSHOTS / f"{shot_name(page)}.png")
    for anim in rep.animations:
        if not (anim["initialised"] and anim["has_play"]):
            anim["plays"] = False
            continue
        before = driver.execute_script(JS_FRAME, anim["key"])
        driver.execute_script(JS_CLICK_PLAY, anim["key"])
        after = _poll(lambda: (lambda now: now if now != before else None)(driver.execute_script(JS_FRAME, anim["key"])),
                      PLAY_WAIT_S, interval=0.05)
        driver.execute_script(JS_PAUSE, anim["key"])
        anim["plays"] = after is not None
        anim["frames_seen"] = [before, after]
    return rep


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def html_dir() -> Path:
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML} does not exist or has no index.html: {BUILD_HINT}", pytrace=False)
    return HTML


@pytest.fixture(scope="module")
def server_url(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def driver():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        msg = (f"headless Chromium not installed ({', '.join(missing)} missing): "
               "apt-get install chromium chromium-driver")
        if os.environ.get("CI"):
            pytest.fail(f"{msg}; CI must run the browser tests (.ci/run installs them)", pytrace=False)
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="book-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--no-proxy-server", "--window-size=1280,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    # An explicit driver path: Selenium Manager is never asked to download a browser or driver.
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def report(driver, server_url):
    """``report(page)``: the :class:`PageReport` of one visit per page, shared by the tests below."""
    cache: dict[str, PageReport] = {}

    def get(page: str) -> PageReport:
        if page not in cache:
            if not (HTML / f"{page}.html").is_file():
                pytest.fail(f"page {page!r} of {TOC.name} was not built ({HTML / page}.html missing): "
                            f"{BUILD_HINT}", pytrace=False)
            cache[page] = visit(driver, server_url, page)
        return cache[page]

    return get


# ----------------------------------------------------------------------------- tests


def test_toc_lists_pages_with_unique_screenshot_names():
    names = [shot_name(p) for p in PAGES]
    assert len(PAGES) > 1, f"{TOC} lists no chapters"
    assert len(set(names)) == len(names), f"two pages of {TOC.name} share a screenshot name: {names}"
    for page in EXPECTED_ANIMATIONS:
        assert page in PAGES, f"{page} should be in {TOC.name} (it is expected to show an animation)"


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(report, page):
    rep = report(page)
    assert rep.title and rep.title not in {"Error response", "404 Not Found"}, \
        f"{rep.url}: no page title (got {rep.title!r})"
    errors, shot = rep.errors, rep.screenshot
    assert not errors, f"{rep.url} shows errors: {errors}"
    assert shot is not None and shot.stat().st_size > 1000, f"{rep.url}: the screenshot {shot} is empty"


@pytest.mark.parametrize("page", PAGES)
def test_images_decode(report, page):
    rep = report(page)
    images = rep.images
    bad = [img for img in images if not (img["complete"] and img["width"] > 0)]
    assert not bad, f"{rep.url}: {len(bad)} of {len(images)} images did not load: {bad}"


@pytest.mark.parametrize("page", PAGES)
def test_local_links_resolve(report, page):
    rep = report(page)
    n_local, broken = rep.n_local_links, rep.broken_links
    assert n_local > 0, f"{rep.url}: no local links at all (navigation missing?)"
    assert not broken, f"{rep.url}: broken links:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("page", PAGES)
def test_animations_play(report, page):
    rep = report(page)
    want, found = EXPECTED_ANIMATIONS.get(page, 0), len(rep.animations)
    assert found >= want, f"{rep.url}: expected at least {want} animation(s) (matplotlib to_jshtml), found {found}"
    for anim in rep.animations:
        assert anim["initialised"] and anim["has_play"] and anim["frames"] > 1 and anim["width"] > 0, \
            f"{rep.url}: animation {anim['key']} is not usable: {anim}"
        assert anim["plays"], f"{rep.url}: animation {anim['key']} did not change frame " \
                              f"within {PLAY_WAIT_S} s of a click on Play: {anim}"


@pytest.mark.parametrize("page", PAGES)
def test_long_lines_wrap_instead_of_being_cut(report, page):
    rep = report(page)
    assert not rep.cut_lines, (f"{rep.url}: code or output lines run past the page edge (book/_static/companion.css "
                               f"should wrap them): {rep.cut_lines[:5]}")


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("book/executed/")])
def test_notebook_pages_offer_their_ipynb(report, page):
    rep = report(page)
    assert any(h.endswith(".ipynb") for h in rep.downloads), \
        f"{rep.url}: no download of the page as .ipynb (html.use_download_button in _config.yml); found {rep.downloads}"


def test_training_chapters_have_their_own_titles(report):
    from skelutils import chapters
    for c in chapters.CHAPTERS.values():
        page = f"book/executed/{c.name}"
        assert page in PAGES, f"{page} is not in {TOC.name}"
        rep = report(page)
        plain = lambda t: t.replace("\u2019", "'")  # noqa: E731 - Sphinx's typographic apostrophe
        assert plain(rep.h1) == c.title, f"{rep.url}: the page's title is {rep.h1!r}, expected {c.title!r}"
        assert c.title in plain(rep.title), f"{rep.url}: the browser title {rep.title!r} does not name the chapter"
