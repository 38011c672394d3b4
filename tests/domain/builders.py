"""Typed builders for domain test data: templates, elements and principals."""

from domain.access import Principal, Role
from domain.template import Element, ElementType, FailureReasonKind, TemplateDefinition


def element_data(
    code: str = "q1", *, type: ElementType = ElementType.TEXT, required: bool = False
) -> dict[str, object]:
    """An element as a template author writes it."""
    return {"code": code, "title": f"Question {code}", "type": type.value, "required": required}


def failure_reason_data(
    code: str = "fr1", *, kind: FailureReasonKind = FailureReasonKind.DECLINE
) -> dict[str, object]:
    """A failure reason as a template author writes it."""
    return {"code": code, "label": f"Reason {code}", "kind": kind.value}


def section_data(
    code: str = "s1",
    *,
    elements: list[dict[str, object]] | None = None,
    preliminary: bool = False,
    checks: list[str] | None = None,
    failure_reasons: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """A section holding one text element named after the section unless told otherwise."""
    return {
        "code": code,
        "title": f"Section {code}",
        "preliminary": preliminary,
        "elements": elements if elements is not None else [element_data(f"{code}.q1")],
        "checks": checks if checks is not None else ["Evidence is attached"],
        "failure_reasons": failure_reasons if failure_reasons is not None else [],
    }


def stage_data(
    code: str = "main",
    *,
    levels: int = 1,
    pre_assessment: bool = False,
    final_decision: bool = False,
) -> dict[str, object]:
    """A stage as a template author writes it."""
    return {
        "code": code,
        "name": f"Stage {code}",
        "levels": levels,
        "pre_assessment": pre_assessment,
        "final_decision": final_decision,
    }


def template_data(**overrides: object) -> dict[str, object]:
    """A minimal valid template body; keyword arguments replace top-level fields."""
    data: dict[str, object] = {
        "name": "Approval of a training provider",
        "sections": [section_data("s1")],
        "stages": [stage_data("main")],
    }
    data.update(overrides)
    return data


def make_template(**overrides: object) -> TemplateDefinition:
    """A validated template built from `template_data(**overrides)`."""
    return TemplateDefinition.model_validate(template_data(**overrides))


def make_element(type: ElementType = ElementType.TEXT, *, required: bool = False) -> Element:
    """A single element of `type`."""
    return Element(code="q1", title="Question", type=type, required=required)


def make_principal(*roles: Role, sub: str = "user-1") -> Principal:
    """A caller holding `roles`."""
    return Principal(sub=sub, roles=frozenset(roles))
