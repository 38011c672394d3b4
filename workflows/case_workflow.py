"""What the case workflows share: busy keys refuse overlapping changes; newest snapshot wins."""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from temporalio import workflow

from domain.errors import Conflict, Refusal
from workflows.console import Console
from workflows.payloads.common import Payload
from workflows.refusal import as_failure, run_recording
from workflows.typevars import A, R


class Revisioned(Protocol):
    """A snapshot of a case; a higher `revision` is newer."""

    @property
    def revision(self) -> int: ...


S = TypeVar("S", bound=Revisioned)
P = TypeVar("P", bound=Payload)


class CaseWorkflow(Generic[S]):
    """Base of a workflow that owns one case: busy keys, refusals and the newest snapshot.

    A change marks its keys busy before its first await (`_record`), so a validator refuses
    an overlapping change before anything reaches the database (`_refuse_if_busy`).
    """

    # Record as local activities (patch `recording-local-activities`, decision 0090).
    LOCAL_RECORDING: ClassVar[bool] = False

    def __init__(self, snapshot: S, *, busy: Iterable[str] = ()) -> None:
        self._snapshot = snapshot
        # Keys of the changes under way (e.g. "application", "assignment:<id>").
        self._in_flight: set[str] = set(busy)
        # While set, every change is refused with this detail (an operator's cancel under way).
        self._closed_to_changes: str | None = None
        self._console = Console()

    async def _record(
        self,
        keys: Iterable[str],
        activity: Callable[[A], Awaitable[R]],
        arg: A,
        summary: str | None = None,
    ) -> R:
        """Run one recording activity while `keys` refuse overlapping changes."""
        held = set(keys)
        self._in_flight |= held
        try:
            return await run_recording(activity, arg, summary, local=self.LOCAL_RECORDING)
        finally:
            self._in_flight -= held

    def _names(self) -> dict[str, Any]:
        """The fields that name this case in every activity input (e.g. its id)."""
        raise NotImplementedError

    def _command(self, command: type[P], **fields: Any) -> P:
        """An activity input for this case: its names, `fields`, and the workflow's now."""
        return command.model_validate({**self._names(), **fields, "at": workflow.now()})

    def _apply(self, snapshot: S, *, force: bool = False) -> S:
        """Keep the newest snapshot (activities may finish out of order) and publish it."""
        if force or snapshot.revision >= self._snapshot.revision:
            self._snapshot = snapshot
            self._publish()
        return self._snapshot

    def _publish(self) -> None:
        """Show the snapshot to operators through `self._console` (search attributes,
        who must act next, current details)."""
        raise NotImplementedError

    def _refuse_if_busy(self, *keys: str) -> None:
        """Refuse (409) while a change holding one of `keys` is under way, or all are closed."""
        if self._closed_to_changes is not None:
            raise as_failure(Conflict(self._closed_to_changes))
        busy = sorted(self._in_flight.intersection(keys))
        if busy:
            raise as_failure(self._busy_refusal(busy))

    def _busy_refusal(self, busy: list[str]) -> Conflict:
        return Conflict(f"another change ({', '.join(busy)}) is in progress")

    @staticmethod
    def _guard(check: Callable[[], R]) -> R:
        """Run a domain check; its refusal becomes the update's failure."""
        try:
            return check()
        except Refusal as refusal:
            raise as_failure(refusal) from None
