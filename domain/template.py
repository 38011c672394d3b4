"""What a template is: sections of elements with checks and failure reasons, and stages."""

import re
from collections import Counter
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.values import Code, Title

__all__ = ["Code", "Title"]  # re-exported: templates name their parts with them

DEFAULT_LOQ_DEADLINE_DAYS = 42
MAX_PARTS = 500  # sections, stages, and each section's elements, checks, failure reasons
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS = 21
DEFAULT_LOQ_REMINDER_DAYS_BEFORE = (7, 1)
DEFAULT_REVIEW_REMINDER_DAYS_BEFORE = (2,)
MIN_SPAN = timedelta(seconds=1)
MAX_SPAN = timedelta(days=730)  # two years
MAX_SPAN_DAYS = MAX_SPAN.days
_ISO_DURATION = re.compile(
    r"P(?=[0-9T])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?"
    r"(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+([.,][0-9]+)?S)?)?"
)
_TIMEDELTA: TypeAdapter[timedelta] = TypeAdapter(timedelta)


def _iso_duration(value: object) -> timedelta:
    """An ISO 8601 duration (`P42D`, `PT90S`) of at least 1 s and at most 2 years."""
    if isinstance(value, timedelta):
        span = value
    elif isinstance(value, str) and _ISO_DURATION.fullmatch(value):
        span = _TIMEDELTA.validate_python(value.replace(",", "."))
    else:
        raise ValueError("expected an ISO 8601 duration such as P42D or PT90S")
    if not MIN_SPAN <= span <= MAX_SPAN:
        raise ValueError("a duration must be at least 1 second and at most 2 years (P730D)")
    return span


# A duration the API takes beside a whole number of days (API.md v1.1, "Durations").
Span = Annotated[timedelta, BeforeValidator(_iso_duration)]
DayCount = Annotated[int, Field(ge=1, le=MAX_SPAN_DAYS)]


# Each ISO 8601 field and the `_days` field it stands beside.
DAYS_TWIN = {
    "review_due": "review_due_days",
    "review_reminder_before": "review_reminder_days_before",
    "auto_unassign_after": "auto_unassign_after_days",
    "loq_deadline": "loq_deadline_days",
    "loq_followup_deadline": "loq_followup_deadline_days",
    "loq_reminder_before": "loq_reminder_days_before",
}


def _one_of(data: Any, days: str, span: str, default: object = None) -> Any:
    """When neither `days` nor its ISO twin `span` is given, `days` takes `default`."""
    if not isinstance(data, dict):
        return data
    if data.get(days) is None and data.get(span) is None and default is not None:
        return {**data, days: default}
    return data


def _not_both(value: Any, info: ValidationInfo) -> Any:
    """An ISO duration field refuses a value when its `_days` twin has one (422 naming it)."""
    twin = DAYS_TWIN[info.field_name or ""]
    if value is not None and info.data.get(twin) is not None:
        raise ValueError(f"give {twin} or {info.field_name}, not both")
    return value


def effective(days: int | list[int] | None, span: timedelta | list[timedelta] | None) -> Any:
    """The span a `_days` field and its ISO twin stand for (None when neither is set)."""
    if span is not None:
        return span
    if isinstance(days, list):
        return [timedelta(days=d) for d in days]
    return None if days is None else timedelta(days=days)


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
    # Reviewer deadlines (decision 0095): each `_days` field or its ISO 8601 twin.
    review_due_days: DayCount | None = None
    review_due: Span | None = None
    review_reminder_days_before: list[DayCount] | None = Field(default=None, max_length=10)
    review_reminder_before: list[Span] | None = Field(default=None, max_length=10)
    auto_unassign_after_days: DayCount | None = None
    auto_unassign_after: Span | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_form_each(cls, data: Any) -> Any:
        data = _one_of(data, "review_due_days", "review_due")
        data = _one_of(
            data,
            "review_reminder_days_before",
            "review_reminder_before",
            list(DEFAULT_REVIEW_REMINDER_DAYS_BEFORE),
        )
        return _one_of(data, "auto_unassign_after_days", "auto_unassign_after")

    @field_validator("review_due", "review_reminder_before", "auto_unassign_after")
    @classmethod
    def _one_form(cls, value: Any, info: ValidationInfo) -> Any:
        return _not_both(value, info)

    @model_validator(mode="after")
    def _deadlines_need_a_due_date(self) -> Self:
        if self.review_due_span is None and self.auto_unassign_span is not None:
            raise ValueError("auto_unassign_after needs review_due_days or review_due")
        return self

    @property
    def review_due_span(self) -> timedelta | None:
        """How long a reviewer has once sections are taken (None: not timed)."""
        return effective(self.review_due_days, self.review_due)  # type: ignore[no-any-return]

    @property
    def review_reminder_spans(self) -> list[timedelta]:
        """How long before the due date the reviewer is reminded."""
        spans = effective(self.review_reminder_days_before, self.review_reminder_before)
        return spans or []

    @property
    def auto_unassign_span(self) -> timedelta | None:
        """The grace after the due date before the sections go back (None: never)."""
        return effective(self.auto_unassign_after_days, self.auto_unassign_after)  # type: ignore[no-any-return]


class TemplateDefinition(_Frozen):
    """Everything a template version fixes, as published."""

    name: Title
    sections: list[Section] = Field(min_length=1, max_length=MAX_PARTS)
    stages: list[Stage] = Field(min_length=1, max_length=MAX_PARTS)
    # Each `_days` field may be given as its ISO 8601 twin instead (API.md v1.1).
    loq_deadline_days: int | None = Field(default=None, ge=1, le=365)
    loq_deadline: Span | None = None
    loq_followup_deadline_days: int | None = Field(default=None, ge=1, le=365)
    loq_followup_deadline: Span | None = None
    loq_reminder_days_before: list[Annotated[int, Field(ge=1, le=365)]] | None = Field(
        default=None, max_length=10
    )
    loq_reminder_before: list[Span] | None = Field(default=None, max_length=10)

    @model_validator(mode="before")
    @classmethod
    def _one_form_each(cls, data: Any) -> Any:
        data = _one_of(data, "loq_deadline_days", "loq_deadline", DEFAULT_LOQ_DEADLINE_DAYS)
        data = _one_of(
            data,
            "loq_followup_deadline_days",
            "loq_followup_deadline",
            DEFAULT_LOQ_FOLLOWUP_DEADLINE_DAYS,
        )
        return _one_of(
            data,
            "loq_reminder_days_before",
            "loq_reminder_before",
            list(DEFAULT_LOQ_REMINDER_DAYS_BEFORE),
        )

    @field_validator("loq_deadline", "loq_followup_deadline", "loq_reminder_before")
    @classmethod
    def _one_form(cls, value: Any, info: ValidationInfo) -> Any:
        return _not_both(value, info)

    @property
    def loq_deadline_span(self) -> timedelta:
        """The first LOQ round's deadline, counted from the list of questions."""
        return effective(self.loq_deadline_days, self.loq_deadline)  # type: ignore[no-any-return]

    @property
    def loq_followup_deadline_span(self) -> timedelta:
        """The follow-up rounds' deadline."""
        return effective(self.loq_followup_deadline_days, self.loq_followup_deadline)  # type: ignore[no-any-return]

    @property
    def loq_reminder_spans(self) -> list[timedelta]:
        """How long before an LOQ deadline the applicant is reminded."""
        return effective(self.loq_reminder_days_before, self.loq_reminder_before) or []

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
