"""`cli.py seed-demo` with nothing to talk to: one line naming the step, exit code 3."""

from core.demo.seed import run
from tests.support.infra import free_port
from tests.support.tokens import SECRET


def test_an_api_that_does_not_answer_stops_the_seed_with_one_line_and_code_3() -> None:
    lines: list[str] = []

    code = run(f"http://127.0.0.1:{free_port()}", SECRET, wait_s=0, say=lines.append)

    assert code == 3
    assert len(lines) == 1
    assert lines[0].startswith("seed-demo stopped: POST /v1/templates (template:qts)")
    assert "did not answer" in lines[0]
