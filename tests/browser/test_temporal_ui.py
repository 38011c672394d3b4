"""The Temporal UI as an operator sees it: cases listed by CaseKind, a case's summary, details."""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Stack
from tests.browser.visibility import listed

pytestmark = pytest.mark.e2e

NAMESPACE = "default"
PAGE_SIZE = 100  # the UI's default page of workflows
# The kinds of case the seeded stack holds; each must list on its own in the UI.
KINDS = ("application", "checklist_sync")
WORKFLOW_LINK = re.compile(rf"/namespaces/{NAMESPACE}/workflows/([^/?]+)/([^/?]+)/")


def _listed_in_ui(page: Page, stack: Stack, query: str) -> set[str]:
    """Open the UI's workflow list filtered by `query`; the workflow ids of its rows."""
    page.goto(f"{stack.ui}/namespaces/{NAMESPACE}/workflows?query={quote(query)}")
    page.locator("table tbody tr").first.wait_for(state="visible")
    page.get_by_text(re.compile(r"^\d+ Workflows?$")).wait_for(state="visible")
    ids = set()
    for href in page.locator("table tbody a[href*='/workflows/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    ):
        if match := WORKFLOW_LINK.search(href):
            ids.add(match.group(1))
    return ids


@pytest.mark.parametrize("kind", KINDS)
def test_the_ui_lists_the_cases_of_one_kind_and_no_other(
    seeded: Stack, page: Page, artifacts: Path, kind: str
) -> None:
    query = f'CaseKind="{kind}"'
    before = listed(seeded.temporal_address, query)
    assert before, f"the seeded stack has no {kind} case to list"
    others = set(listed(seeded.temporal_address, f'CaseKind!="{kind}"'))
    assert others, "the seeded stack has only one kind of case"

    shown = _listed_in_ui(page, seeded, query)
    page.screenshot(path=str(artifacts / f"temporal-ui-list-{kind}.png"))

    after = listed(seeded.temporal_address, query)  # cases may start while the page loads
    assert shown <= set(after), f"rows of another kind: {shown - set(after)}"
    assert shown & others == set()
    if len(before) <= PAGE_SIZE:
        assert set(before) <= shown, f"{kind} cases missing: {set(before) - shown}"
