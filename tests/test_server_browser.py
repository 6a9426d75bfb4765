"""End to end in a real browser: Debian's chromium, driven by Playwright, against a real uvicorn.

Upload (pick, drop or paste) an edited copy of a catalogued photo and see its source in the grid;
move the distance control and see the grid follow; upload a file that is not an image; open a
result; open the duplicates view and tighten its distance. Screenshots of each state are saved
under .cache/artifacts/."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from folders import photo_folder
from live_server import serve_in_thread
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from pixdex.catalog import Catalog
from pixdex.evaluation.edits import write_edited_copies
from pixdex.pipeline import hash_image
from pixdex.server import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / ".cache" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> Path:
    """Debian's chromium, installed with apt when missing (as `make test` does on CI)."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            "apt-get update -qq && apt-get install -y -qq chromium", shell=True, check=False
        )
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed and cannot be (needs root and apt-get)")
    return CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory, photo_paths: list[Path]):
    """A running server over a catalog of ten photos plus two planted edited copies of one."""
    root = tmp_path_factory.mktemp("site")
    folder = root / "photos"
    photo_folder(folder, photo_paths[:10])
    planted = write_edited_copies(
        folder / "coffee.png", folder / "copies", ["jpeg-30", "shapes-text"]
    )
    db = root / "catalog.db"
    with Catalog(db) as catalog:
        catalog.index([folder], workers=1)
    queries = root / "queries"
    queries.mkdir()
    edited = write_edited_copies(folder / "chelsea.png", queries, ["red-square"])["red-square"]
    not_an_image = queries / "notes.png"
    not_an_image.write_text("this is a shopping list, not a picture\n")
    with serve_in_thread(create_app(db)) as url:
        yield {
            "url": url,
            "folder": folder,
            "edited": edited,
            "planted": planted,
            "not_an_image": not_an_image,
        }


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, site) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.goto(site["url"])
    expect(opened.locator("#stats")).to_contain_text("images")
    yield opened
    context.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"server-{name}.png"), full_page=True)


def test_search_by_edited_copy_then_change_the_distance(page: Page, site, tmp_path):
    source = (site["folder"] / "chelsea.png").resolve()
    distance = hash_image(site["edited"]) - hash_image(source)
    assert 0 < distance <= 10

    page.set_input_files("#file", str(site["edited"]))
    cards = page.locator("[data-testid=match]")
    expect(cards.first).to_have_attribute("data-path", str(source))
    # The distance in the nearest candidate view (whole, trimmed, centre): at most the plain one.
    expect(cards.first).to_contain_text("distance ")
    shown = int(cards.first.locator(".distance-badge").inner_text().split()[-1])
    assert shown <= distance
    expect(page.locator("#status")).to_contain_text("within 10 bits")
    expect(page.locator("#query-preview")).to_be_visible()
    expect(cards.first.locator("img")).to_have_js_property("complete", True)
    assert cards.first.locator("img").evaluate("img => img.naturalWidth") > 0
    _shot(page, "search")

    # A picture that is in no way in the catalog: the "no match" state.
    unrelated = tmp_path / "unrelated.png"
    Image.new("RGB", (300, 200), (20, 140, 60)).save(unrelated)
    page.set_input_files("#file", str(unrelated))
    expect(page.locator("#status")).to_have_attribute("data-state", "no-match")
    expect(page.locator("#status")).to_contain_text("No match within 10 bits")
    expect(cards).to_have_count(0)
    _shot(page, "no-match")
    page.set_input_files("#file", str(site["edited"]))
    expect(cards.first).to_have_attribute("data-path", str(source))

    # The whole range: still only the same picture (the rule verifies every candidate).
    page.locator("#distance").fill("64")
    expect(page.locator("#status")).to_contain_text("within 64 bits")
    expect(cards.first).to_have_attribute("data-path", str(source))
    expect(cards).to_have_count(1)

    # A click opens the catalogued file itself.
    with page.context.expect_page() as opened:
        cards.first.locator("a").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert re.search(r"/api/images/\d+/file$", tab.url)
    tab.close()


_DELIVER = """([how, name, b64]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: "image/png" }));
    if (how === "drop") {
        const zone = document.getElementById("drop");
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
    } else {
        document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer }));
    }
}"""


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_drop_or_paste_an_image(page: Page, site, how):
    """The same query by drag-and-drop and by pasting from the clipboard."""
    source = (site["folder"] / "chelsea.png").resolve()
    data = base64.b64encode(site["edited"].read_bytes()).decode("ascii")
    page.evaluate(_DELIVER, [how, site["edited"].name, data])
    expect(page.locator("#query-name")).to_have_text(site["edited"].name)
    expect(page.locator("[data-testid=match]").first).to_have_attribute("data-path", str(source))


def test_not_an_image_is_shown_as_such(page: Page, site):
    page.set_input_files("#file", str(site["not_an_image"]))
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "not-an-image")
    expect(status).to_contain_text("Not an image")
    expect(status).to_contain_text("notes.png")
    expect(page.locator("[data-testid=match]")).to_have_count(0)
    _shot(page, "not-an-image")


def test_duplicates_view(page: Page, site):
    page.click("#tab-duplicates")
    expect(page.locator("#view-duplicates")).to_be_visible()
    expect(page.locator("#view-search")).to_be_hidden()
    status = page.locator("#dup-status")
    expect(status).to_contain_text("1 group within 10 bits")
    group = page.locator("[data-testid=group]")
    expect(group).to_have_count(1)
    names = {"coffee.png", "coffee.jpeg-30.png", "coffee.shapes-text.png"}
    assert _names(group.first) == names
    expect(group.first.locator(".keeper")).to_have_count(1)
    _shot(page, "duplicates")

    # Below the shapes' distance to the original, that copy leaves the group.
    shapes = hash_image(site["planted"]["shapes-text"]) - hash_image(site["folder"] / "coffee.png")
    page.locator("#dup-distance").fill(str(shapes - 1))
    expect(status).to_contain_text(f"within {shapes - 1} bits")
    expect(group.first.locator("[data-testid=match]")).to_have_count(2)
    assert _names(group.first) == names - {"coffee.shapes-text.png"}


def _names(group) -> set[str]:
    paths = group.locator("[data-testid=match]").evaluate_all(
        "cards => cards.map(c => c.dataset.path)"
    )
    return {Path(p).name for p in paths}
