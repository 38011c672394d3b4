"""Name resolution for outgoing requests (webhook deliveries check every address first)."""

import socket
from collections.abc import Callable

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, once each (an IP literal resolves to itself)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))
