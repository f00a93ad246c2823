"""The harness catches what it promises to: an unhandled promise rejection, an
uncaught error and a style the Content-Security-Policy refuses (what react-aria would
inject) are each recorded against the page, so that a test meeting one fails; the
search page on a phone; the first page's JavaScript stays small."""

from __future__ import annotations

import gzip

from playwright.sync_api import Page, Response, expect

from tests.e2e.browser.conftest import check_accessibility, screenshot


def test_the_page_fixture_records_rejections_errors_and_csp_refusals(
    page: Page, page_problems: list[str]
) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data products")
    assert page_problems == []
    page.evaluate("() => { Promise.reject(new Error('probe rejection')); }")
    page.evaluate("() => { setTimeout(() => { throw new Error('probe error'); }); }")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { color: red }";
            document.head.append(style);
        }"""
    )
    page.wait_for_timeout(300)
    recorded = "\n".join(page_problems)
    assert "unhandled rejection: Error: probe rejection" in recorded
    assert "page error: probe error" in recorded
    assert "Content Security Policy" in recorded
    page_problems.clear()  # recorded as they should be: the test itself passes


def test_the_search_page_on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/?q=heart")
    expect(page.get_by_role("article").first).to_be_in_viewport()  # results first
    filters = page.get_by_role("region", name="Filters")
    expect(filters).to_be_hidden()  # folded away until asked for
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    check_accessibility(page)
    screenshot(page, "search-phone")
    toggle = page.get_by_role("button", name="Filters and order")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(filters).to_be_visible()
    expect(page.get_by_role("button", name="Hide filters")).to_have_attribute(
        "aria-expanded", "true"
    )
    check_accessibility(page)


def test_the_first_page_loads_at_most_250_kb_of_javascript_gzipped(page: Page) -> None:
    """Code splitting holds: the search page loads its own code only (the product page
    and the lineage come in their own chunks when visited)."""
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/")
    expect(page.get_by_role("article").first).to_be_visible()
    scripts = [r.body() for r in responses if r.request.resource_type == "script"]
    assert scripts, "no script was loaded"
    size = sum(len(gzip.compress(body)) for body in scripts)
    assert size <= 250_000, f"{size} bytes of JavaScript gzipped on the first page"
    urls = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in urls if "ProductPage" in u or "LineageSection" in u]
