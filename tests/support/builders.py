"""Typed builders for request bodies, one per concept."""

from typing import Any


def make_template(code: str = "qts", **overrides: Any) -> dict[str, Any]:
    """A two-section template with a pre-assessment-free, two-level main stage."""
    body: dict[str, Any] = {
        "code": code,
        "name": "Qualified teacher status",
        "sections": [
            {
                "code": "personal",
                "title": "Personal information",
                "elements": [
                    {"code": "full_name", "title": "Full name", "type": "text", "required": True},
                    {
                        "code": "birth_date",
                        "title": "Date of birth",
                        "type": "date",
                        "required": True,
                    },
                    {"code": "email", "title": "Email", "type": "email", "required": False},
                ],
                "checks": ["Name matches the ID document"],
                "failure_reasons": [
                    {
                        "code": "id_mismatch",
                        "label": "ID does not match",
                        "kind": "further_information",
                    },
                    {"code": "fraud", "label": "Fraudulent document", "kind": "decline"},
                ],
            },
            {
                "code": "qualifications",
                "title": "Qualifications",
                "elements": [
                    {"code": "degree", "title": "Degree", "type": "text", "required": True},
                    {
                        "code": "years",
                        "title": "Years teaching",
                        "type": "number",
                        "required": True,
                    },
                ],
                "checks": ["Degree is at bachelor level"],
                "failure_reasons": [
                    {"code": "no_degree", "label": "No degree", "kind": "decline"},
                ],
            },
        ],
        "stages": [{"code": "assessment", "name": "Assessment", "levels": 2}],
    }
    body.update(overrides)
    return body


def complete_answers() -> dict[str, Any]:
    """Valid answers to every element of `make_template()`."""
    return {
        "full_name": "Ada Lovelace",
        "birth_date": "1990-12-10",
        "email": "ada@example.org",
        "degree": "BSc Mathematics",
        "years": 4,
    }
