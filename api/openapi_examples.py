"""Example request bodies for the docs, one per body schema (checked against it by the tests)."""

from typing import Any

_ID = "0192b7a4-5c3e-7d21-9f60-4b8e2a1c7d35"
_OTHER_ID = "0192b7a4-5c3e-7d21-9f60-4b8e2a1c7d36"

REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "TemplateCreate": {
        "code": "qts",
        "name": "Qualified teacher status",
        "sections": [
            {
                "code": "personal",
                "title": "Personal information",
                "elements": [
                    {"code": "full_name", "title": "Full name", "type": "text", "required": True},
                    {"code": "birth_date", "title": "Date of birth", "type": "date"},
                ],
                "checks": ["Name matches the ID document"],
                "failure_reasons": [
                    {
                        "code": "id_mismatch",
                        "label": "ID does not match",
                        "kind": "further_information",
                    }
                ],
            }
        ],
        "stages": [
            {"code": "assessment", "name": "Assessment", "levels": 2, "final_decision": True}
        ],
        "loq_deadline_days": 42,
        "loq_reminder_days_before": [7, 2],
    },
    "ApplicationCreate": {"template_code": "qts"},
    "ResponseWrite": {"value": "Ada Lovelace"},
    "ReviewResponseWrite": {
        "decision": "DECLINE",
        "comment": "Please give your name as it is on your passport.",
        "failure_reason": "id_mismatch",
        "recommended_applicant_visibility": True,
    },
    "ReviewSubmitBody": {"decision": "CONFORM", "comment": "Every section passes."},
    "ProviderCreate": {"name": "Northern Training Partnership", "auto_release_outcomes": False},
    "CandidateCreate": {
        "name": "Sam Taylor",
        "uln": "1234567890",
        "provider_id": _ID,
        "standard": "ST0116",
        "cohort": "2026-A",
        "status": "IN_ASSESSMENT",
    },
    "CandidateUpdate": {"status": "COMPLETED", "gateway_approved_at": "2026-05-04T09:00:00Z"},
    "ElementCreate": {
        "candidate_id": _ID,
        "component": "practical",
        "scheduled_at": "2026-06-10T09:30:00+01:00",
    },
    "ResultCreate": {"element_id": _ID, "grade": "MERIT", "sampled_for_qa": True},
    "CertificationCreate": {"candidate_id": _ID, "grade": "PASS"},
    "QaSignoff": {"passed": True, "release_with_qa": False},
    "Amendment": {"grade": "DISTINCTION"},
    "ReleaseRequest": {
        "outcomes": [{"kind": "result", "id": _ID}, {"kind": "certification", "id": _OTHER_ID}],
        "mode": "scheduled",
        "release_at": "2030-08-20T08:00:00Z",
    },
    "ReleaseChange": {"mode": "now"},
    "SchoolReportCreate": {
        "school_id": "school-100321",
        "appropriate_body_id": "ab-7",
        "programme_type": "provider_led",
        "start_date": "2026-09-01",
    },
    "AbClaimCreate": {
        "appropriate_body_id": "ab-7",
        "programme_type": "provider_led",
        "started_on": "2026-09-01",
    },
    "AbReleaseCreate": {"appropriate_body_id": "ab-7"},
}
