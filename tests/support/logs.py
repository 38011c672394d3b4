"""The service's log configuration, writing JSON lines to a buffer a test can read."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.logging import configure_logging
from core.settings import Settings


class JsonLines:
    """The JSON log lines written so far."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        """Every line, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def where(self, **fields: object) -> list[dict[str, Any]]:
        """The lines carrying every one of `fields`."""
        return [line for line in self.all() if all(line.get(k) == v for k, v in fields.items())]


@contextmanager
def json_logs(process: str, level: str = "DEBUG") -> Iterator[JsonLines]:
    """Configure logging as a process would (JSON), into a buffer; undo it afterwards."""
    root = logging.getLogger()
    before = root.level
    stream = io.StringIO()
    handler = configure_logging(
        Settings(log_format="json", log_level=level), process=process, stream=stream
    )
    try:
        yield JsonLines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        logging.getLogger("uvicorn.access").disabled = False
