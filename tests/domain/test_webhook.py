"""The webhook rules: backoff, the give-up window, address classes, URLs, verdicts."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Invalid
from domain.webhook import (
    GIVE_UP_AFTER,
    MAX_RETRY,
    AddressClass,
    Verdict,
    WebhookStatus,
    address_class,
    ensure_settable,
    idle_poll_delay,
    next_attempt_at,
    parse_url,
    refused_addresses,
    retry_delay,
    verdict,
    wants,
    webhook_next,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 5120), (12, 7200), (40, 7200)],
)
def test_the_retry_delay_doubles_from_seconds_up_to_hours(attempt: int, seconds: int) -> None:
    assert retry_delay(attempt) == timedelta(seconds=seconds)


def test_retries_stop_after_24_hours_and_the_last_falls_at_their_end() -> None:
    now, attempt, tries = T0, 1, [T0]
    while (due := next_attempt_at(T0, attempt, now)) is not None:
        assert due - now <= MAX_RETRY
        now, attempt = due, attempt + 1
        tries.append(now)
    assert tries[-1] == T0 + GIVE_UP_AFTER
    assert 15 < len(tries) < 40


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("10.0.0.1", AddressClass.PRIVATE),
        ("172.16.5.4", AddressClass.PRIVATE),
        ("192.168.1.1", AddressClass.PRIVATE),
        ("fd12::1", AddressClass.PRIVATE),
        ("169.254.1.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("169.254.169.254", AddressClass.METADATA),
        ("fd00:ec2::254", AddressClass.METADATA),
        ("0.0.0.0", AddressClass.UNSPECIFIED),
        ("::", AddressClass.UNSPECIFIED),
        ("224.0.0.1", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("100.64.0.1", AddressClass.RESERVED),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address: str, kind: AddressClass | None) -> None:
    assert address_class(address) == kind


def test_one_forbidden_answer_refuses_the_name_unless_private_is_allowed() -> None:
    assert refused_addresses(["93.184.216.34", "10.0.0.1"], allow_private=False) is not None
    assert refused_addresses(["93.184.216.34"], allow_private=False) is None
    assert refused_addresses(["10.0.0.1"], allow_private=True) is None
    assert refused_addresses([], allow_private=True) == "the host does not resolve"


@pytest.mark.parametrize(
    ("url", "allow_private", "ok"),
    [
        ("https://hooks.example.com/x", False, True),
        ("http://hooks.example.com/x", False, False),
        ("http://127.0.0.1:9000/x", True, True),
        ("https://user@hooks.example.com/", False, False),
        ("https:///nohost", False, False),
        ("https://hooks.example.com:99999/", False, False),
        ("gopher://hooks.example.com/", True, False),
    ],
)
def test_urls(url: str, allow_private: bool, ok: bool) -> None:
    if ok:
        assert parse_url(url, allow_private=allow_private).host
    else:
        with pytest.raises(Invalid) as refused:
            parse_url(url, allow_private=allow_private)
        assert refused.value.errors is not None
        assert refused.value.errors[0]["field"] == "url"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (299, Verdict.DELIVERED),
        (301, Verdict.RETRY),
        (404, Verdict.RETRY),
        (410, Verdict.GONE),
        (503, Verdict.RETRY),
        (None, Verdict.RETRY),
    ],
)
def test_verdicts(status: int | None, expected: Verdict) -> None:
    assert verdict(status) == expected


def test_an_operator_cannot_set_disabled() -> None:
    assert ensure_settable(WebhookStatus.PAUSED) == WebhookStatus.PAUSED
    with pytest.raises(Invalid):
        ensure_settable(WebhookStatus.DISABLED)


def test_types_and_idle_polls_and_the_next_step() -> None:
    assert wants(["*"], "x.y")
    assert wants(["a.b", "x.y"], "x.y")
    assert not wants(["a.b"], "x.y")
    assert [idle_poll_delay(n).total_seconds() for n in range(6)] == [1, 2, 4, 8, 10, 10]
    retry = webhook_next(WebhookStatus.ACTIVE, T0)
    assert (retry.waiting_on.value, retry.due_at) == ("timer", T0)
    assert webhook_next(WebhookStatus.PAUSED, T0).due_at is None
