"""Every table, imported so SQLModel.metadata knows them all (Alembic reads it)."""

from models.action import Action
from models.application import Application, ApplicationResponse
from models.assessment import Assessment, AssessmentSection
from models.candidate import Candidate, Element, Employer, Provider
from models.checklist_sync import ChecklistSync, ChecklistSyncChange
from models.event import AuditEntry, OutboxEvent
from models.idempotency import IdempotentChange, IdempotentRequest
from models.induction import (
    Induction,
    InductionClaim,
    InductionDiscrepancy,
    InductionReport,
)
from models.outcome import Outcome, Rebooking, ReleaseBatch, ReleaseBatchItem
from models.review import Assignment, HeldSection, Review, ReviewResponse
from models.sla import SlaDefinition, SlaInstance, SlaLogEntry
from models.template import Template
from models.user import User
from models.webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "Action",
    "Application",
    "ApplicationResponse",
    "Assessment",
    "AssessmentSection",
    "Assignment",
    "AuditEntry",
    "Candidate",
    "ChecklistSync",
    "ChecklistSyncChange",
    "Element",
    "Employer",
    "HeldSection",
    "IdempotentChange",
    "IdempotentRequest",
    "Induction",
    "InductionClaim",
    "InductionDiscrepancy",
    "InductionReport",
    "OutboxEvent",
    "Outcome",
    "Provider",
    "Rebooking",
    "ReleaseBatch",
    "ReleaseBatchItem",
    "Review",
    "ReviewResponse",
    "SlaDefinition",
    "SlaInstance",
    "SlaLogEntry",
    "Template",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
