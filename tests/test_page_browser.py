"""The analyst's page in a real browser: Debian's chromium driven by selenium, against the service on loopback.

Slow, and skipped (one line) without selenium (``pip install selenium``) or chromium and its driver
(``apt-get install chromium chromium-driver``). Selenium is pointed at those binaries, so it never
downloads a browser of its own. With ``VISTANCE_PAGE_SHOTS=DIR`` the first test also saves screenshots of
the analysed seed article at 1280 and 390 px wide.
"""

import csv
import os
import shutil
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from vistance.inference import StanceClassifier
from vistance.inference.cli import flat_columns
from vistance.inference.serve import ServeLimits, create_app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "raw" / "000_c82fef1677f6dddd.txt"
MAX_CHARS = 20_000


def _need_browser() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("browser test needs selenium: pip install selenium")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("browser test needs chromium and chromedriver: apt-get install chromium chromium-driver")
    return chromium, driver


def start_server(app):
    """uvicorn in a thread on a free loopback port; returns (base URL, stop)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)

    def stop():
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="module")
def binaries():
    return _need_browser()


@pytest.fixture(scope="module")
def classifier(binaries, baseline_run):
    return StanceClassifier.from_pretrained(baseline_run)


@pytest.fixture(scope="module")
def base(classifier):
    url, stop = start_server(create_app(classifier, ServeLimits(max_chars=MAX_CHARS)))
    yield url
    stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(binaries, downloads):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = binaries
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--lang=en-US",
        "--window-size=1280,900",
    ):
        opts.add_argument(arg)
    opts.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    d = webdriver.Chrome(options=opts, service=Service(driver))
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield d
    d.quit()


def wait(d, what, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout).until(lambda _: what())


def by_id(d, id_):
    from selenium.webdriver.common.by import By

    return d.find_element(By.ID, id_)


def all_css(d, css):
    from selenium.webdriver.common.by import By

    return d.find_elements(By.CSS_SELECTOR, css)


def text_of(el) -> str:
    return el.get_attribute("textContent")


def open_page(d, base, query=""):
    d.get(f"{base}/{query}")
    version = httpx.get(f"{base}/health").json()["vistance_version"]
    wait(d, lambda: f"vistance {version}" in by_id(d, "footer").text)


def analysed(d):
    wait(d, lambda: by_id(d, "status").text.endswith("sentence(s).") or by_id(d, "msg").is_displayed())
    assert not by_id(d, "msg").is_displayed(), by_id(d, "msg").text


def page_claims(d):
    out = []
    for span in all_css(d, "#body .s.claim"):
        chip = span.find_elements("css selector", ".chip")
        out.append(
            (
                span.get_attribute("data-id"),
                text_of(span.find_element("css selector", ".lab")),
                text_of(chip[0]) if chip else None,
                "".join(text_of(t) for t in span.find_elements("css selector", ".t")),
            )
        )
    return out


def screenshot(d, path: Path, width: int):
    d.set_window_size(width, 900)
    time.sleep(0.3)
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(width, height + 140)
    time.sleep(0.3)
    d.save_screenshot(str(path))


def test_pasted_article_is_shown_filtered_and_downloaded(browser, base, downloads):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    d = browser
    d.set_window_size(1280, 900)
    open_page(d, base)
    text = SEED.read_text(encoding="utf-8")
    box = by_id(d, "text")
    box.send_keys(text)  # typed as a paste would put it, line breaks included
    assert box.get_attribute("value").replace("\r\n", "\n") == text
    by_id(d, "analyse").click()
    analysed(d)

    expected = httpx.post(f"{base}/analyze", json={"text": text, "id": "article"}, timeout=60).json()
    sentences = expected["sentences"]
    claims = [s for s in sentences if s["claim"] == "claim"]
    assert len(claims) > 5
    assert page_claims(d) == [(s["id"], s["stance"], s["speaker"] or "no speaker", s["text"]) for s in claims]
    assert [s.get_attribute("data-id") for s in all_css(d, "#body .s.nc")] == [
        s["id"] for s in sentences if s["claim"] != "claim"
    ]
    assert all(s.get_attribute("tabindex") == "0" for s in all_css(d, "#body .s"))
    assert text_of(all_css(d, "#body .para.caption .kind")[0]) == "caption"
    # colour AND a written label: each stance has its own highlight colour
    colours = {}
    for span in all_css(d, "#body .s.claim"):
        stance = text_of(span.find_element("css selector", ".lab"))
        colours.setdefault(stance, set()).add(
            span.find_element("css selector", ".t").value_of_css_property("background-color")
        )
    assert all(len(c) == 1 for c in colours.values()) and len(set.union(*colours.values())) == len(colours)
    # summary bar: counts by stance and the speakers
    summary = by_id(d, "summary").text.lower()
    for k, v in expected["counts"].items():
        assert f"{k.replace('_', ' ')} {v}" in summary
    speakers = {s["speaker"] for s in claims if s["speaker"]}
    assert all(name.lower() in summary for name in speakers)

    # probabilities on focus, gone with Escape
    first = all_css(d, "#body .s.claim")[0]
    d.execute_script("arguments[0].focus()", first)
    tip = by_id(d, "tip")
    wait(d, tip.is_displayed)
    assert f"p(claim) {claims[0]['claim_score']:.2f}" in tip.text
    assert f"{claims[0]['stance']} {claims[0]['stance_scores'][claims[0]['stance']]:.2f}" in tip.text
    first.send_keys(Keys.ESCAPE)
    wait(d, lambda: not tip.is_displayed())

    if os.environ.get("VISTANCE_PAGE_SHOTS"):
        shots = Path(os.environ["VISTANCE_PAGE_SHOTS"])
        shots.mkdir(parents=True, exist_ok=True)
        d.execute_script("document.activeElement.blur()")
        for width in (1280, 390):
            screenshot(d, shots / f"seed-{width}.png", width)
        d.set_window_size(1280, 900)

    # filters: stance, speaker, minimum confidence
    def off():
        return [s.get_attribute("data-id") for s in all_css(d, "#body .s.claim.off")]

    all_css(d, 'input[name="stance"][value="neutral"]')[0].click()
    neutral = [s["id"] for s in claims if s["stance"] == "neutral"]
    assert neutral and off() == neutral
    assert by_id(d, "shown").text == f"{len(claims) - len(neutral)} of {len(claims)} claims highlighted"
    top = max(speakers, key=lambda n: sum(s["speaker"] == n for s in claims))
    Select(by_id(d, "speaker")).select_by_value(top)
    assert off() == [s["id"] for s in claims if s["stance"] == "neutral" or s["speaker"] != top]
    Select(by_id(d, "speaker")).select_by_value("")
    all_css(d, 'input[name="stance"][value="neutral"]')[0].click()
    confidence = {s["id"]: s["claim_score"] * s["stance_scores"][s["stance"]] for s in claims}
    cut = next(t / 20 for t in range(20, 0, -1) if 0 < sum(c < t / 20 for c in confidence.values()) < len(claims))
    d.execute_script(
        "const c = document.getElementById('conf'); c.value = arguments[0];"
        "c.dispatchEvent(new Event('input', {bubbles: true}))",
        cut,
    )
    assert off() == [i for i, c in confidence.items() if c < cut]
    assert by_id(d, "conf-out").text == f"{cut:.2f}"

    # download: the predict CLI's CSV columns, one row per sentence
    by_id(d, "dl-csv").click()
    target = downloads / "vistance-results.csv"
    wait(d, lambda: target.exists() and not list(downloads.glob("*.crdownload")), timeout=20)
    with target.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == flat_columns(articles=True, speakers=True)
    assert [r[0] for r in rows[1:]] == [s["id"] for s in sentences]


def test_links_files_and_errors(browser, base, classifier):
    d = browser
    d.set_window_size(1280, 900)
    text = SEED.read_text(encoding="utf-8")
    # a shareable link analyses on load
    open_page(d, base, "?text=" + urllib.parse.quote(text))
    analysed(d)
    assert by_id(d, "text").get_attribute("value") == text
    assert len(all_css(d, "#body .s")) == len(httpx.post(f"{base}/analyze", json={"text": text}).json()["sentences"])
    share = by_id(d, "share").get_attribute("href")
    assert urllib.parse.unquote(share.split("?text=", 1)[1]) == text

    # several files: the table of articles and the actor summary; a row opens its article
    raw = sorted((ROOT / "data" / "raw").glob("*.txt"))
    by_id(d, "clear").click()
    by_id(d, "files").send_keys("\n".join(str(p) for p in raw))
    by_id(d, "analyse").click()
    analysed(d)
    assert len(all_css(d, "#articles tbody tr")) == len(raw)
    assert len(all_css(d, "#actors tbody tr")) > 3
    assert "python -m vistance.actors --min-claims 1" in by_id(d, "actors-note").text
    all_css(d, "#articles button.link")[2].click()
    wait(d, by_id(d, "doc").is_displayed)
    assert all_css(d, "#body .s")[0].get_attribute("data-id") == f"{raw[2].stem}-00"
    by_id(d, "back").click()
    wait(d, by_id(d, "overview").is_displayed)

    # clear messages: empty input, the service's 422, the service gone
    by_id(d, "clear").click()
    by_id(d, "analyse").click()
    assert by_id(d, "msg").text == "Nothing to analyse: paste an article or choose files."
    d.execute_script("document.getElementById('text').value = arguments[0]", "Nga. " * (MAX_CHARS // 5 + 1))
    by_id(d, "analyse").click()
    wait(d, by_id(d, "msg").is_displayed)
    assert by_id(d, "msg").text.startswith("The service cannot analyse this (422): articles[0].text too long")

    other, stop = start_server(create_app(classifier))
    open_page(d, other)
    stop()
    by_id(d, "text").send_keys("Nga sẵn sàng đàm phán.")
    by_id(d, "analyse").click()
    wait(d, by_id(d, "msg").is_displayed)
    assert by_id(d, "msg").text.startswith(f"Cannot reach the vistance service at {other}")
