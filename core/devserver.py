"""The Temporal dev server of `make run`: started, adopted from a killed run, or restarted."""

import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from core.supervise import alive, exit_reason, terminate
from core.temporal import dev_server_flags

BIN = Path(sys.executable).parent


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on `port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class DevServer:
    """The dev server on `settings.temporal_port`, its history in DATA_DIR."""

    # Ours when this run started it (`process`) or adopted the one a killed run of the same
    # DATA_DIR left on the port (`adopted_pid`); a server on the port that no run recorded
    # is used, not ours: it is neither restarted nor stopped.
    settings: Settings
    data: Path
    process: subprocess.Popen[bytes] | None = None
    adopted_pid: int | None = None

    @property
    def port(self) -> int:
        return self.settings.temporal_port

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data / f"temporal-{self.port}.pid"

    @property
    def owned(self) -> bool:
        """Whether this run restarts and stops it."""
        return self.process is not None or self.adopted_pid is not None

    def start_or_adopt(self) -> None:
        """Adopt the server a killed run left on the port, or start one."""
        if port_open(self.port):
            previous = int(self.pid_file.read_text()) if self.pid_file.exists() else None
            if previous and alive(previous):
                self.adopted_pid = previous  # left by a killed run: adopt it, stop it at exit
                print(f"reusing the Temporal server (pid {previous}) left on port {self.port}")
            else:
                print(f"using the Temporal server already on port {self.port} (not supervised)")
            return
        self.spawn()

    def spawn(self) -> str:
        """Start the server on the same port and history file; describe it for the log."""
        log = (self.data / f"temporal-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ui-port",
                str(self.settings.temporal_ui_port),
                "--db-filename",
                str(self.data / f"temporal-{self.port}.db"),
                "--log-level",
                "warn",
                "--namespace",
                self.settings.temporal_namespace,
                *dev_server_flags(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.adopted_pid = None
        self.pid_file.write_text(str(self.process.pid))
        return f"pid {self.process.pid}, history {self.data / f'temporal-{self.port}.db'}"

    def died(self) -> str | None:
        """None while it runs, else how it ended."""
        if self.process is not None:
            code = self.process.poll()
            return None if code is None else exit_reason(code)
        if self.adopted_pid is not None and not alive(self.adopted_pid):
            return f"pid {self.adopted_pid} gone; adopted, so no exit status"
        return None

    def stop(self) -> None:
        """Stop it if it is ours."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        elif self.adopted_pid is not None:
            terminate(self.adopted_pid)
        if self.owned:
            self.pid_file.unlink(missing_ok=True)
