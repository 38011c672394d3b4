"""Webhooks: pure rules for subscriptions and their deliveries.

The retry schedule and the give-up window, which addresses a delivery may reach (SSRF
guard), what an attempt's answer means, and which status an operator may set.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain.access import Role, held_by
from domain.console import NOBODY, NextStep, WaitingOn
from domain.errors import Invalid, field_error

FIRST_RETRY = timedelta(seconds=5)
MAX_RETRY = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
ATTEMPT_TIMEOUT_S = 10.0
# One delivery call sends a run of events for at most this long, then hands back to the
# workflow (which then sees a pause or a replay sent meanwhile).
BATCH_BUDGET_S = 15.0
# A retry due this soon waits inside the delivery call (every attempt still recorded); only
# a rehearsal's lowered first retry (WEBHOOK_FIRST_RETRY_S) is ever this short.
INLINE_RETRY_S = 1.0
MAX_ANSWER_BYTES = 4096  # what is kept of an answer's body (for the error column)
MAX_URL_CHARS = 2000
MAX_EVENT_TYPES = 50
# Cloud metadata endpoints that are not link-local (AWS IPv6, Alibaba, Oracle's is link-local).
METADATA = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200"})


class WebhookStatus(StrEnum):
    """Where a subscription stands."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"  # by an operator, or after the give-up window
    DISABLED = "DISABLED"  # the receiver answered 410 Gone


class AddressClass(StrEnum):
    """Why an address is out of a delivery's reach."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    METADATA = "metadata"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"


def address_class(address: str) -> AddressClass | None:
    """The forbidden class of an IP address, or None when it is a public unicast one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (str(ip) in METADATA, AddressClass.METADATA),
        (ip.is_unspecified, AddressClass.UNSPECIFIED),
        (ip.is_loopback, AddressClass.LOOPBACK),
        (ip.is_link_local, AddressClass.LINK_LOCAL),
        (ip.is_multicast, AddressClass.MULTICAST),
        (ip.is_private, AddressClass.PRIVATE),
        (not ip.is_global, AddressClass.RESERVED),  # shared (CGNAT), documentation, …
    )
    return next((kind for hit, kind in checks if hit), None)


@dataclass(frozen=True)
class Target:
    """Where a URL points: scheme, host and port (the default one when absent)."""

    scheme: str
    host: str
    port: int


def parse_url(url: str, *, allow_private: bool) -> Target:
    """The URL's target; 422 naming `url` unless it is an absolute https (or, when private
    addresses are allowed, http) URL without credentials."""
    if len(url) > MAX_URL_CHARS or not url.isascii():
        raise _bad_url(f"at most {MAX_URL_CHARS} ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad_url(str(exc)) from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        raise _bad_url(f"the scheme must be {' or '.join(sorted(schemes))}")
    if not parts.hostname:
        raise _bad_url("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("credentials do not belong in the URL")
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default)


def refused_addresses(addresses: Iterable[str], *, allow_private: bool) -> str | None:
    """Why a delivery may not go to these resolved addresses (any forbidden one refuses all,
    so a name cannot mix a public and a private answer), or None when it may."""
    resolved = list(addresses)
    if not resolved:
        return "the host does not resolve"
    if allow_private:
        return None
    for address in resolved:
        kind = address_class(address)
        if kind is not None:
            return f"the host resolves to a {kind.value} address ({address})"
    return None


def _bad_url(reason: str) -> Invalid:
    return Invalid("the webhook URL is not allowed", errors=[field_error("url", reason)])


def retry_delay(attempt: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """How long after failed attempt number `attempt` (1, 2, …) the next one goes:
    `first` (5 s), doubling, at most 2 h."""
    doublings = min(max(attempt - 1, 0), 20)
    return min(first * (1 << doublings), MAX_RETRY)


def next_attempt_at(
    failing_since: datetime, attempt: int, now: datetime, first: timedelta = FIRST_RETRY
) -> datetime | None:
    """When to try again after failed attempt `attempt` at `now`; None once the 24 h since
    the first failure are over (the last try falls at their end)."""
    give_up_at = failing_since + GIVE_UP_AFTER
    if now >= give_up_at:
        return None
    return min(now + retry_delay(attempt, first), give_up_at)


class Verdict(StrEnum):
    """What an attempt's answer means for the subscription."""

    DELIVERED = "DELIVERED"  # 2xx
    GONE = "GONE"  # 410: disable at once
    RETRY = "RETRY"  # anything else, or no answer


def verdict(status_code: int | None) -> Verdict:
    """An attempt's meaning from its HTTP status (None: no answer, refused or timed out)."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 410:
        return Verdict.GONE
    return Verdict.RETRY


def ensure_settable(status: WebhookStatus) -> WebhookStatus:
    """An operator sets ACTIVE (resume, also after a 410) or PAUSED; DISABLED is the
    receiver's word only."""
    if status == WebhookStatus.DISABLED:
        raise Invalid(
            "a subscription is disabled only by its receiver (410 Gone)",
            errors=[field_error("status", "must be ACTIVE or PAUSED")],
        )
    return status


def wants(event_types: Iterable[str], event_type: str) -> bool:
    """Whether a subscription to `event_types` gets an event of `event_type` (`*` = all)."""
    return any(wanted in ("*", event_type) for wanted in event_types)


def idle_poll_delay(idle_polls: int) -> timedelta:
    """How long an idle delivery loop sleeps before it looks at the feed again:
    1 s, doubling, at most 10 s (so new events go out within seconds)."""
    return min(timedelta(seconds=1) * (1 << min(max(idle_polls, 0), 4)), timedelta(seconds=10))


def webhook_next(status: WebhookStatus, retry_at: datetime | None) -> NextStep:
    """A subscription: a retry waits on its timer; a paused or disabled one on nobody (its
    `CaseStatus` and the admins' action say why)."""
    if status != WebhookStatus.ACTIVE:
        return NOBODY
    if retry_at is not None:
        return NextStep(WaitingOn.TIMER, retry_at, "next retry")
    return NOBODY


can_manage_webhooks = held_by("can_manage_webhooks", Role.ADMIN)
