"""Inductions over HTTP: provisional school reports, AB claims that override, releases."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models.event import OutboxEvent
from tests.support.tokens import bearer

SCHOOL = bearer("sam", "school", org="school-1")
AB_1 = bearer("alex", "appropriate_body", org="ab-1")
AB_2 = bearer("bea", "appropriate_body", org="ab-2")
AB_3 = bearer("cal", "appropriate_body", org="ab-3")
ADMIN = bearer("root", "admin")
LEAD_PROVIDER = bearer("lee", "lead_provider", org="lp-1")


def school_report(**overrides: Any) -> dict[str, Any]:
    """What school-1 says: ab-1 supports a school-led induction from 1 September 2025."""
    return {
        "school_id": "school-1",
        "appropriate_body_id": "ab-1",
        "programme_type": "school_led",
        "start_date": "2025-09-01",
        **overrides,
    }


def ab_claim(ab: str, programme_type: str = "provider_led") -> dict[str, Any]:
    """An AB's claim for itself."""
    return {"appropriate_body_id": ab, "programme_type": programme_type, "started_on": "2025-09-03"}


@pytest.fixture
def base() -> str:
    """A teacher of the test's own: registrations outlive a test on the shared dev server."""
    return f"/v1/inductions/{uuid.uuid4().int % 10_000_000:07d}"


def _events(db: Engine, kind: str) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(session.exec(select(OutboxEvent).where(OutboxEvent.type == kind)).all())


async def test_school_report_then_an_overriding_claim_then_a_second_ab(
    api: httpx.AsyncClient, db: Engine, base: str
) -> None:
    reported = await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)
    assert reported.status_code == 201, reported.text
    assert reported.json()["effective"] == {
        "appropriate_body_id": {"value": "ab-1", "source": "school", "confirmed": False},
        "programme_type": {"value": "school_led", "source": "school", "confirmed": False},
        "start_date": {"value": "2025-09-01", "source": "school", "confirmed": False},
    }

    claimed = await api.post(f"{base}/ab-claims", json=ab_claim("ab-2"), headers=AB_2)
    assert claimed.status_code == 201, claimed.text
    view = (await api.get(base, headers=SCHOOL)).json()
    assert view["effective"] == {
        "appropriate_body_id": {"value": "ab-2", "source": "appropriate_body", "confirmed": True},
        "programme_type": {
            "value": "provider_led",
            "source": "appropriate_body",
            "confirmed": True,
        },
        "start_date": {"value": "2025-09-01", "source": "school", "confirmed": False},
    }
    assert view["claimed_by"] == "ab-2"
    assert [(r["kind"], r["reporter"]) for r in view["reports"]] == [
        ("ab_claim", "ab-2"),
        ("school_report", "school-1"),
    ]
    discrepancies = sorted(view["discrepancies"], key=lambda d: d["field"])
    assert [
        (d["field"], d["school"]["value"], d["appropriate_body"]["value"]) for d in discrepancies
    ] == [("appropriate_body_id", "ab-1", "ab-2"), ("programme_type", "school_led", "provider_led")]
    assert {(d["school"]["source"], d["appropriate_body"]["source"]) for d in discrepancies} == {
        ("school", "appropriate_body")
    }
    assert all(d["detected_at"] and d["resolved_at"] is None for d in discrepancies)
    assert all(str(uuid.UUID(d["id"])) == d["id"] for d in discrepancies)  # opaque, not 1, 2
    to_dos = (await api.get("/v1/actions", headers=SCHOOL)).json()["items"]
    assert sorted(a["detail"]["field"] for a in to_dos) == ["appropriate_body_id", "programme_type"]
    assert len(_events(db, "induction.discrepancy")) == 2

    refused = await api.post(f"{base}/ab-claims", json=ab_claim("ab-3"), headers=AB_3)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "appropriate body ab-2 holds an open claim" in refused.json()["detail"]

    released = await api.post(f"{base}/ab-releases", headers=AB_2)
    assert released.status_code == 200, released.text
    assert released.json()["claimed_by"] is None
    assert released.json()["effective"]["appropriate_body_id"]["source"] == "school"
    assert (await api.get("/v1/actions", headers=SCHOOL)).json()["items"] == []

    second = await api.post(f"{base}/ab-claims", json=ab_claim("ab-3", "school_led"), headers=AB_3)
    assert second.status_code == 201, second.text
    assert second.json()["claimed_by"] == "ab-3"
    assert second.json()["open_discrepancies"] == ["appropriate_body_id"]
    final = (await api.get(base, headers=ADMIN)).json()
    assert len(final["reports"]) == 4  # every report kept as received
    assert [d["resolution"] for d in final["discrepancies"]] == [
        None,
        "claim_released",
        "claim_released",
    ]


async def test_lead_providers_see_only_values_the_ab_confirmed(
    api: httpx.AsyncClient, base: str
) -> None:
    await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)
    assert (await api.get(base, headers=LEAD_PROVIDER)).status_code == 404  # nothing confirmed

    await api.post(f"{base}/ab-claims", json=ab_claim("ab-1", "school_led"), headers=AB_1)
    view = (await api.get(base, headers=LEAD_PROVIDER)).json()

    assert view["effective"] == {
        "appropriate_body_id": {"value": "ab-1", "source": "appropriate_body", "confirmed": True},
        "programme_type": {"value": "school_led", "source": "appropriate_body", "confirmed": True},
        "start_date": {"value": None, "source": None, "confirmed": False},
    }
    assert view["reports"] == []
    assert view["discrepancies"] == []


async def test_a_claim_may_come_before_any_school_report(api: httpx.AsyncClient, base: str) -> None:
    claimed = await api.post(f"{base}/ab-claims", json=ab_claim("ab-1"), headers=AB_1)
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["effective"]["start_date"] == {
        "value": None,
        "source": None,
        "confirmed": False,
    }

    reported = await api.post(
        f"{base}/school-reports",
        json=school_report(programme_type="provider_led"),
        headers=SCHOOL,
    )

    assert reported.json()["effective"]["programme_type"]["source"] == "appropriate_body"
    assert reported.json()["effective"]["start_date"]["value"] == "2025-09-01"
    assert reported.json()["open_discrepancies"] == []


async def test_migrated_data_is_a_third_source(api: httpx.AsyncClient, base: str) -> None:
    migrated = await api.post(
        f"{base}/migrated-reports",
        json={"appropriate_body_id": "ab-old", "start_date": "2024-09-01"},
        headers=ADMIN,
    )
    assert migrated.status_code == 201, migrated.text
    assert migrated.json()["effective"]["appropriate_body_id"] == {
        "value": "ab-old",
        "source": "migrated",
        "confirmed": False,
    }

    reported = await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)

    effective = reported.json()["effective"]
    assert effective["appropriate_body_id"]["source"] == "school"
    assert effective["start_date"] == {
        "value": "2025-09-01",
        "source": "school",
        "confirmed": False,
    }
