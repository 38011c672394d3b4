"""Who and what the demo world holds: its users and its templates (plain request bodies)."""

from typing import Any

from core.demo.client import User

JSON = dict[str, Any]

ADMIN = User("demo-admin", ("admin",), name="Dana Admin")
RITA = User("rita", ("reviewer",), name="Rita Reviewer")  # level 1 of qts and npq
RAJ = User("raj", ("reviewer",), name="Raj Reviewer")  # npq's final decision
ASHA = User("asha", ("assigner",), name="Asha Assigner")
ASSESSOR = User("sam-assessor", ("assessor",), name="Sam Assessor")
RELEASER = User("rhea", ("releaser",), name="Rhea Releaser")
STAFF = User("demo-staff", ("reviewer", "assigner", "releaser"), name="Demo Staff")


def applicant(sub: str) -> User:
    """An applicant of the demo."""
    return User(sub, ("applicant",), name=sub.title())


def _section(
    code: str, title: str, elements: list[JSON], checks: list[str], reasons: list[JSON]
) -> JSON:
    return {
        "code": code,
        "title": title,
        "preliminary": False,
        "elements": elements,
        "checks": checks,
        "failure_reasons": reasons,
    }


def _element(code: str, title: str, kind: str = "text", required: bool = True) -> JSON:
    return {"code": code, "title": title, "type": kind, "required": required}


ID_MISMATCH = {
    "code": "id_mismatch",
    "label": "Name differs from the ID document",
    "kind": "further_information",
}
NO_DEGREE = {"code": "no_degree", "label": "No degree at bachelor level", "kind": "decline"}
PERSONAL = _section(
    "personal",
    "Personal information",
    [
        _element("full_name", "Full name"),
        _element("birth_date", "Date of birth", "date"),
        _element("email", "Email", "email", required=False),
    ],
    ["Name matches the ID document"],
    [ID_MISMATCH],
)

TEMPLATES: list[JSON] = [
    {
        "code": "qts",
        "name": "Qualified teacher status",
        "sections": [
            PERSONAL,
            _section(
                "qualifications",
                "Qualifications",
                [_element("degree", "Degree"), _element("years", "Years teaching", "number")],
                ["Degree is at bachelor level"],
                [NO_DEGREE],
            ),
        ],
        "stages": [{"code": "assessment", "name": "Assessment", "levels": 1}],
    },
    {
        "code": "npq",
        "name": "National professional qualification in leadership",
        "sections": [
            PERSONAL,
            _section(
                "leadership",
                "Leadership experience",
                [_element("school_name", "School"), _element("statement", "Statement")],
                ["Leads a team of at least three"],
                [
                    {
                        "code": "thin_evidence",
                        "label": "Too little evidence",
                        "kind": "further_information",
                    }
                ],
            ),
        ],
        "stages": [
            {"code": "assessment", "name": "Assessment", "levels": 1},
            {"code": "final", "name": "Final decision", "levels": 1, "final_decision": True},
        ],
    },
    {
        "code": "eyts",
        "name": "Early years teacher status",
        "sections": [PERSONAL],
        "stages": [{"code": "assessment", "name": "Assessment", "levels": 2}],
    },
]

# Review grants: nobody is granted eyts, so its case shows "no reviewer".
REVIEWERS: list[tuple[User, list[JSON]]] = [
    (
        RITA,
        [
            {"template_code": "qts", "stage": "assessment", "level": 1, "sections": None},
            {"template_code": "npq", "stage": "assessment", "level": 1, "sections": None},
        ],
    ),
    (RAJ, [{"template_code": "npq", "stage": "final", "level": 1, "sections": None}]),
]

ANSWERS: dict[str, JSON] = {
    "qts": {
        "full_name": "Ada Lovelace",
        "birth_date": "1990-12-10",
        "email": "ada@example.org",
        "degree": "BSc Mathematics",
        "years": 4,
    },
    "npq": {
        "full_name": "Ivan Petrov",
        "birth_date": "1984-03-02",
        "school_name": "Oakfield Primary",
        "statement": "I lead the maths department of six teachers.",
    },
    "eyts": {"full_name": "Jo Bloggs", "birth_date": "1995-07-21"},
}
