"""The Temporal UI as an operator sees it: cases listed by CaseKind, a case's summary, details."""

import re
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import Stack
from tests.browser.visibility import Case, described, listed
from tests.support.tokens import bearer

pytestmark = pytest.mark.e2e

NAMESPACE = "default"
PAGE_SIZE = 100  # the UI's default page of workflows
PAGE_DRAWN_S = 30  # how long the UI may take to draw a panel (a limit, not a measurement)
# Each kind of case `seed-demo` makes, and how its workflow ids begin: the ids tell the
# kind apart independently of the CaseKind search attribute the UI filters on.
KINDS = {
    "application": "application-",
    "result": "result-",
    "certification": "certification-",
    "sla": "sla-",
    "induction": "induction-",
}
WORKFLOW_LINK = re.compile(rf"/namespaces/{NAMESPACE}/workflows/([^/?]+)/([^/?]+)/")
WORD = re.compile(r"[\w.]+")


def _of_kind(stack: Stack, kind: str) -> set[str]:
    """Every workflow of `kind`, known by its id (whatever its search attributes say)."""
    return {wid for wid in listed(stack.temporal_address) if wid.startswith(KINDS[kind])}


def _listed_in_ui(page: Page, stack: Stack, query: str) -> set[str]:
    """Open the UI's workflow list filtered by `query`; the workflow ids of its rows."""
    page.goto(f"{stack.ui}/namespaces/{NAMESPACE}/workflows?query={quote(query)}")
    expect(page.get_by_text(re.compile(r"^\d+ Workflows?$"))).to_be_visible()
    # The table first draws placeholder rows; the rows of one answer then come at once.
    links = page.locator("table tbody a[href*='/workflows/']")
    links.first.wait_for(state="visible")
    hrefs = links.evaluate_all("links => links.map(link => link.getAttribute('href'))")
    return {match.group(1) for href in hrefs if (match := WORKFLOW_LINK.search(href))}


@pytest.mark.parametrize("kind", KINDS)
def test_the_ui_lists_every_case_of_one_kind_and_no_other(
    seeded: Stack, page: Page, artifacts: Path, kind: str
) -> None:
    before = _of_kind(seeded, kind)
    assert before, f"seed-demo made no {kind} case"

    shown = _listed_in_ui(page, seeded, f'CaseKind="{kind}"')
    page.screenshot(path=str(artifacts / f"temporal-ui-list-{kind}.png"))

    after = _of_kind(seeded, kind)  # cases may start while the page loads
    assert shown <= after, f"listed as {kind} but not one: {sorted(shown - after)}"
    if len(before) <= PAGE_SIZE:
        assert before <= shown, f"{kind} cases the UI does not find: {sorted(before - shown)}"


def _breached_slas(stack: Stack) -> set[str]:
    """The workflow ids of the SLAs the database records as breached (the API says which)."""
    answer = httpx.get(
        f"{stack.api}/v1/slas?breached=true&limit=100", headers=bearer("operator", "admin")
    )
    assert answer.status_code == 200, answer.text
    return {f"sla-{sla['definition']}-{sla['subject']}" for sla in answer.json()["items"]}


def test_the_breached_slas_are_one_filter_away(seeded: Stack, page: Page, artifacts: Path) -> None:
    before = _breached_slas(seeded)
    assert before, "seed-demo left no SLA breached"

    shown = _listed_in_ui(page, seeded, 'CaseKind="sla" AND Breached=true')
    page.screenshot(path=str(artifacts / "temporal-ui-list-breached-slas.png"))

    assert before <= shown <= _breached_slas(seeded)


def _words(markdown: str) -> list[str]:
    """The words of `markdown` as a reader sees them (no emphasis or code marks)."""
    return WORD.findall(markdown.replace("`", " ").replace("*", " "))


def _in_order(words: list[str], text: str) -> bool:
    """True when `text` holds `words` one after the other (anything between them)."""
    position = 0
    for word in words:
        position = text.find(word, position)
        if position < 0:
            return False
        position += len(word)
    return True


def _shows(panel: FrameLocator, *markdowns: str) -> None:
    """The UI's rendered `panel` comes to hold every word of one of `markdowns`, in order."""
    expected = [_words(markdown) for markdown in markdowns]
    assert all(expected), "nothing to show"
    body = panel.locator("body")
    body.wait_for(state="attached")
    text = ""
    deadline = time.monotonic() + PAGE_DRAWN_S
    while time.monotonic() < deadline:
        text = body.inner_text()
        if any(_in_order(words, text) for words in expected):
            return
        time.sleep(0.25)
    raise AssertionError(f"the UI shows {text!r}, not {markdowns!r}")


def _running_case(stack: Stack, kind: str) -> Case:
    running = listed(stack.temporal_address, f'CaseKind="{kind}" AND ExecutionStatus="Running"')
    assert running, f"seed-demo left no {kind} case running"
    return described(stack.temporal_address, sorted(running)[0])


@pytest.mark.parametrize("kind", KINDS)
def test_a_case_shows_its_summary_and_details_in_the_ui(
    seeded: Stack, page: Page, artifacts: Path, kind: str
) -> None:
    case = _running_case(seeded, kind)
    assert case.summary, f"{case.workflow_id} has no static summary"
    id_parts = {part for part in re.split(r"[-_]", case.workflow_id) if len(part) >= 4}
    assert id_parts & set(_words(case.summary)), f"{case.summary!r} does not name the case"
    assert case.current_details, f"{case.workflow_id} has no current details"

    page.goto(
        f"{seeded.ui}/namespaces/{NAMESPACE}/workflows/"
        f"{case.workflow_id}/{case.run_id}/user-metadata"
    )
    expect(page.get_by_test_id("user-metadata")).to_be_visible()
    _shows(page.frame_locator("iframe#user-metadata-summary"), case.summary)
    if case.details:
        _shows(page.frame_locator("iframe#user-metadata-details"), case.details)
    current = page.frame_locator("iframe#user-metadata-current-details")
    expect(current.locator("body")).to_contain_text(re.compile(r"\w"))  # the UI asked the case
    # A transition may have come while the page loaded: what it says then is right too.
    later = described(seeded.temporal_address, case.workflow_id).current_details
    _shows(current, case.current_details, later)
    page.screenshot(path=str(artifacts / f"temporal-ui-case-{kind}.png"), full_page=True)
