"""What a template is: sections of elements with checks and failure reasons, and stages."""

import re
from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.values import Code, Title

__all__ = ["Code", "Title"]  # re-exported: templates name their parts with them

DEFAULT_LOQ_DEADLINE_DAYS = 42
MAX_PARTS = 500  # sections, stages, and each section's elements, checks, failure reasons
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS = 21
DEFAULT_LOQ_REMINDER_DAYS_BEFORE = (7, 1)


class ElementType(StrEnum):
    """What kind of answer an element takes."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    EMAIL = "email"


class FailureReasonKind(StrEnum):
    """Whether a failure asks the applicant for more, or declines outright."""

    FURTHER_INFORMATION = "further_information"
    DECLINE = "decline"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Element(_Frozen):
    """One question of a section."""

    code: Code
    title: Title
    type: ElementType
    required: bool = False


class FailureReason(_Frozen):
    """A reason a reviewer may cite when declining an answer."""

    code: Code
    label: Title
    kind: FailureReasonKind


class Section(_Frozen):
    """A group of elements, with the checks and failure reasons of its assessment."""

    code: Code
    title: Title
    preliminary: bool = False
    elements: list[Element] = Field(min_length=1, max_length=MAX_PARTS)
    checks: list[Title] = Field(default_factory=list, max_length=MAX_PARTS)
    failure_reasons: list[FailureReason] = Field(default_factory=list, max_length=MAX_PARTS)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        _ensure_unique("failure reason", [reason.code for reason in self.failure_reasons])
        return self


class Stage(_Frozen):
    """One step of the review, reviewed in `levels` levels."""

    code: Code
    name: Title
    levels: int = Field(ge=1, le=9)
    final_decision: bool = False
    pre_assessment: bool = False
    self_assignable: bool = True


class TemplateDefinition(_Frozen):
    """Everything a template version fixes, as published."""

    name: Title
    sections: list[Section] = Field(min_length=1, max_length=MAX_PARTS)
    stages: list[Stage] = Field(min_length=1, max_length=MAX_PARTS)
    loq_deadline_days: int = Field(default=DEFAULT_LOQ_DEADLINE_DAYS, ge=1, le=365)
    loq_followup_deadline_days: int = Field(
        default=DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS, ge=1, le=365
    )
    loq_reminder_days_before: list[Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: list(DEFAULT_LOQ_REMINDER_DAYS_BEFORE), max_length=10
    )

    @field_validator("sections")
    @classmethod
    def _unique_sections_and_elements(cls, sections: list[Section]) -> list[Section]:
        _ensure_unique("section", [section.code for section in sections])
        _ensure_unique("element", [e.code for section in sections for e in section.elements])
        return sections

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, stages: list[Stage]) -> list[Stage]:
        _ensure_unique("stage", [stage.code for stage in stages])
        return stages

    @model_validator(mode="after")
    def _preliminary_sections_for_pre_assessment(self) -> Self:
        if any(stage.pre_assessment for stage in self.stages) and not any(
            section.preliminary for section in self.sections
        ):
            raise ValueError("a pre_assessment stage needs at least one preliminary section")
        return self

    def element(self, code: str) -> Element | None:
        """The element with `code`, if the template has one."""
        return next((e for s in self.sections for e in s.elements if e.code == code), None)

    def reviewed_sections(self, stage_code: str) -> list[str]:
        """Sections a stage reviews: a pre-assessment stage only the preliminary ones."""
        stage = next(stage for stage in self.stages if stage.code == stage_code)
        return [s.code for s in self.sections if s.preliminary or not stage.pre_assessment]

    def section_of(self, element_code: str) -> Section | None:
        """The section holding the element `element_code`."""
        return next(
            (s for s in self.sections if any(e.code == element_code for e in s.elements)), None
        )


def _ensure_unique(what: str, codes: list[str]) -> None:
    repeated = sorted(code for code, count in Counter(codes).items() if count > 1)
    if repeated:
        raise ValueError(f"{what} codes must be unique; repeated: {', '.join(repeated)}")


def value_problem(element: Element, value: object) -> str | None:
    """Why `value` is not a valid answer to `element`, or None when it is."""
    if value is None or value == "":
        return "an answer is required" if element.required else None
    match element.type:
        case ElementType.TEXT:
            ok = isinstance(value, str) and len(value) <= 20_000
            expected = "text of at most 20,000 characters"
        case ElementType.NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            expected = "a number"
        case ElementType.BOOLEAN:
            ok = isinstance(value, bool)
            expected = "true or false"
        case ElementType.DATE:
            ok = isinstance(value, str) and _is_iso_date(value)
            expected = "a date as YYYY-MM-DD"
        case ElementType.EMAIL:
            ok = isinstance(value, str) and _looks_like_email(value)
            expected = "an email address"
    return None if ok else f"expected {expected}"


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _looks_like_email(text: str) -> bool:
    return len(text) <= 320 and _EMAIL.fullmatch(text) is not None
