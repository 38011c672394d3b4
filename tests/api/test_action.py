"""GET /v1/actions: open to-dos addressed to a role the caller holds, in its organisation."""

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from models.action import ActionStatus, open_action, set_action_status
from tests.support.seed import T0
from tests.support.tokens import bearer


def _seed(db: Engine) -> None:
    with Session(db) as session, session.begin():
        for key, role, org in [
            ("release-1", "releaser", None),
            ("chase-ab", "school", "school-1"),
            ("other-school", "school", "school-2"),
            ("done", "releaser", None),
        ]:
            open_action(
                session,
                key=key,
                kind="test",
                subject_kind="case",
                subject_id=key,
                role=role,
                org=org,
                title=f"do {key}",
                at=T0,
            )
        open_action(
            session,
            key="release-1",
            kind="test",
            subject_kind="case",
            subject_id="again",
            role="releaser",
            title="retried",
            at=T0,
        )
        set_action_status(session, "done", ActionStatus.DONE, T0)


async def test_each_caller_sees_only_its_open_to_dos(api: httpx.AsyncClient, db: Engine) -> None:
    _seed(db)

    releaser = (await api.get("/v1/actions", headers=bearer("r1", "releaser"))).json()
    school = (await api.get("/v1/actions", headers=bearer("s", "school", org="school-1"))).json()
    nobody = (await api.get("/v1/actions", headers=bearer("a", "applicant"))).json()

    assert [(a["subject_id"], a["title"]) for a in releaser["items"]] == [
        ("release-1", "do release-1")
    ]
    assert [a["subject_id"] for a in school["items"]] == ["chase-ab"]
    assert nobody["items"] == []
    assert (await api.get("/v1/actions")).status_code == 401


async def test_actions_carry_opaque_ids_and_page_newest_first(
    api: httpx.AsyncClient, db: Engine
) -> None:
    with Session(db) as session, session.begin():
        for n in range(5):
            open_action(
                session,
                key=f"todo-{n}",
                kind="test",
                subject_kind="case",
                subject_id=f"case-{n}",
                role="releaser",
                title=f"do {n}",
                at=T0 + timedelta(minutes=n // 2),  # pairs share an instant
            )
    releaser = bearer("r1", "releaser")

    pages, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.get(f"/v1/actions{query}", headers=releaser)).json()
        pages.append(page["items"])
        if (cursor := page["next_cursor"]) is None:
            break

    found = [a for items in pages for a in items]
    assert [len(items) for items in pages] == [2, 2, 1]
    assert sorted(a["subject_id"] for a in found) == [f"case-{n}" for n in range(5)]
    assert [a["created_at"] for a in found] == sorted(
        (a["created_at"] for a in found), reverse=True
    )
    assert all(str(uuid.UUID(a["id"])) == a["id"] for a in found)
