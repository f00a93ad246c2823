"""The marketplace's read side in a real browser against the real platform: search as
you type, filters and sort in words, paging, the search kept in the URL, a product page
with the chain's view, its provenance and lineage, deep links, keyboard-only use, a
missing product in words, and axe-core on every page."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Locator, Page, expect

from tests import served
from tests.e2e.browser.conftest import check_accessibility, screenshot
from tests.e2e.browser.seed import TRAFFIC, Seeded

MISSING = "0x" + "00" * 32


def found(seeded: Seeded, **query: str) -> int:
    """How many products the API finds for ``query`` (the page must show as many)."""
    page = served.get(f"{seeded.url}/api/v1/products", params={**query, "limit": "100"}).json()
    return len(page["items"])


def cards(page: Page) -> Locator:
    return page.get_by_role("article")


def choose(page: Page, select: str, option: str) -> None:
    page.get_by_role("button", name=re.compile(select)).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_typing_narrows_the_results_and_the_url_keeps_the_search(
    page: Page, seeded: Seeded
) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data products")
    expect(cards(page)).to_have_count(12)  # a full first page
    expect(page.get_by_role("button", name="More results")).to_be_visible()

    page.get_by_role("searchbox", name="Search the catalog").press_sequentially("heart rate")
    expect(page).to_have_url(re.compile(r"\?q=heart\+rate$"))
    matching = found(seeded, q="heart rate")
    assert 5 <= matching < 12  # the hospital's, the runners', the cyclists', 2 summaries...
    expect(cards(page)).to_have_count(matching)
    for text in cards(page).all_inner_texts():
        assert "heart rate" in text.lower()

    choose(page, "Kind of data", "Analytics")
    expect(page).to_have_url(re.compile(r"mode=analytics"))
    analytics = found(seeded, q="heart rate", mode="analytics")
    assert 3 <= analytics < matching
    expect(cards(page)).to_have_count(analytics)
    runners = cards(page).filter(has_text=seeded.runners["title"])
    # the policy and price in words, not codes
    expect(runners).to_contain_text("Research and Public health")
    expect(runners).to_contain_text("Research institutions and Public bodies")
    expect(runners).to_contain_text("European Union and Switzerland")
    expect(runners).to_contain_text("5 DATA per computation")
    expect(cards(page).filter(has_text=seeded.hospital["title"])).to_contain_text(
        "identified company"
    )
    check_accessibility(page)
    screenshot(page, "search")

    page.reload()  # the URL is the search: it survives a reload
    expect(page.get_by_role("searchbox", name="Search the catalog")).to_have_value("heart rate")
    expect(cards(page)).to_have_count(analytics)
    page.go_back()  # and Back undoes the last filter
    expect(page).to_have_url(re.compile(r"\?q=heart\+rate$"))
    expect(cards(page)).to_have_count(matching)


def test_filters_in_words_sort_and_paging(page: Page, seeded: Seeded) -> None:
    page.goto("/?tag=traffic")
    choose(page, "Order", "Price, lowest first")
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    expect(cards(page)).to_have_count(12)
    page.get_by_role("button", name="More results").click()
    expect(cards(page)).to_have_count(TRAFFIC)
    expect(cards(page).nth(12).get_by_role("link")).to_be_focused()  # the first new one
    expect(page.get_by_text(f"{TRAFFIC} results shown, no more")).to_be_visible()
    prices = [
        Decimal(re.search(r"([\d.,]+) DATA per access", text).group(1))  # type: ignore[union-attr]
        for text in cards(page).all_inner_texts()
    ]
    assert prices == sorted(prices) and prices[0] == Decimal("0.1")

    purpose = page.get_by_role("button", name=re.compile("Allowed purpose"))
    choose(page, "Allowed purpose", "Marketing")
    expect(purpose).to_contain_text("Marketing")
    expect(page.get_by_text("No products match")).to_be_visible()
    choose(page, "Allowed purpose", "Commercial use")
    expect(cards(page)).to_have_count(12)

    page.get_by_label("From").fill("1.05")
    page.get_by_label("Up to").fill("1,2")  # a thousands separator: 12 DATA
    expect(page).to_have_url(re.compile(r"price_max=1%2C2"))
    expect(cards(page)).to_have_count(TRAFFIC - 10)  # districts 11 and up (1.1 DATA and up)
    page.get_by_label("From").fill("1.0000000000000000001")  # more decimals than DATA has
    expect(page.get_by_text("at most 18 decimals")).to_be_visible()
    check_accessibility(page)


def box(drawing: Locator, title: str) -> Locator:
    """A product's box in the lineage drawing, by its whole title (its tooltip)."""
    exactly = re.compile(f"^{re.escape(title)}$")
    return drawing.locator(":is(g, a)").filter(has=drawing.page.locator("title", has_text=exactly))


def test_a_product_page_shows_the_chain_provenance_and_lineage(page: Page, seeded: Seeded) -> None:
    page.goto(f"/products/{seeded.hospital['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.hospital["title"])
    chain = page.get_by_role("region", name="On the chain")
    expect(chain).to_contain_text("verified")
    expect(chain).to_contain_text("Claims")
    timeline = page.get_by_role("list", name=re.compile("Provenance timeline"))
    expect(timeline).to_contain_text("Listed in the catalog")
    published = timeline.get_by_role("listitem").filter(has_text="Published on the chain")
    expect(published).to_have_count(1)
    full = published.locator("code[title^='0x']").get_attribute("title")
    assert full is not None and len(full) == 66  # the whole hash in the title
    expect(published.locator("code[title^='0x']")).to_have_text(f"{full[:6]}…{full[-4:]}")
    expect(timeline).to_contain_text("Claim filed")
    seller = page.get_by_role("region", name="Seller")
    expect(seller).to_contain_text("Company")
    expect(page.get_by_text("Sign in to see whether you meet it")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "product")
    seller.get_by_role("link", name="More products from this seller").click()
    expect(page).to_have_url(re.compile(r"\?owner=did%3A"))
    expect(cards(page)).to_have_count(found(seeded, owner=seeded.hospital["owner"]))
    expect(cards(page).first).to_contain_text("Demo Hospital")

    page.goto(f"/products/{seeded.summary['id']}")
    lineage = page.get_by_role("region", name="Lineage")
    expect(lineage).to_contain_text("Derived from")
    expect(lineage.get_by_role("link", name=seeded.by_age["title"])).to_be_visible()
    expect(lineage.get_by_role("link", name=seeded.runners["title"])).to_be_visible()
    # the drawing: runners -> summary (this page, not a link) -> by age, left to right
    drawing = lineage.locator("figure svg")
    expect(drawing.locator(".m-graph-line")).to_have_count(2)
    boxes = [box(drawing, p["title"]) for p in (seeded.runners, seeded.summary, seeded.by_age)]
    lefts = [(one.bounding_box() or {"x": -1.0})["x"] for one in boxes]
    assert 0 <= lefts[0] < lefts[1] < lefts[2], lefts
    expect(drawing.locator("a")).to_have_count(2)  # the page's own product is no link
    screenshot(lineage, "lineage")
    boxes[0].click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.runners["title"])
    expect(page.locator("main")).to_be_focused()  # a new page: focus at its start
    expect(page.get_by_role("region", name="Data unions")).to_contain_text("Endurance athletes")
    expect(page.get_by_role("region", name="On the chain")).to_contain_text(
        "Not published on the chain yet"
    )
    schema = page.get_by_role("grid", name="Columns of the data")
    expect(schema).to_contain_text("from 20 to 250 bpm")
    check_accessibility(page)


def test_a_deep_link_survives_a_reload(page: Page, seeded: Seeded) -> None:
    page.goto(f"/products/{seeded.by_age['id']}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(seeded.by_age["title"])
    page.reload()
    expect(heading).to_have_text(seeded.by_age["title"])
    expect(page).to_have_title(re.compile(seeded.by_age["title"]))
    page.goto("/products?q=heart&mode=analytics")  # the catalog's other address
    expect(page).to_have_url(re.compile(r"/\?q=heart&mode=analytics$"))
    expect(cards(page)).to_have_count(found(seeded, q="heart", mode="analytics"))
    page.go_back()
    # announced but not indexed: waiting for the chain, not missing
    expect(page.get_by_role("region", name="On the chain")).to_contain_text(
        "Published, waiting for the chain"
    )


def test_search_with_the_keyboard_only(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    expect(cards(page)).to_have_count(12)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    search = page.get_by_role("searchbox", name="Search the catalog")
    for _ in range(5):
        page.keyboard.press("Tab")
        if search.evaluate("e => e === document.activeElement"):
            break
    expect(search).to_be_focused()
    page.keyboard.type("runners weekly")
    expect(cards(page)).to_have_count(1)
    target = page.get_by_role("link", name=seeded.summary["title"])
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            break
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.summary["title"])
    page.go_back()
    expect(page.get_by_role("searchbox", name="Search the catalog")).to_have_value("runners weekly")


def test_a_missing_product_is_told_in_words(
    page: Page, seeded: Seeded, allowed_errors: list[re.Pattern[str]]
) -> None:
    # the browser reports the API's 404 it was asked for in the console
    allowed_errors.append(re.compile(rf"status of 404 .*{MISSING}"))
    page.goto(f"/products/{MISSING}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Product not found")
    expect(page.get_by_role("alert")).to_contain_text("There is no product with this id")
    check_accessibility(page)
    page.get_by_role("link", name="Search the catalog").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data products")


def test_an_unknown_address_is_a_page_not_found(page: Page, seeded: Seeded) -> None:
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_accessibility(page)
