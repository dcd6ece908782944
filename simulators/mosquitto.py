"""A private Mosquitto for test benches, benchmarks and tests, and the check `make test` runs first.

`python -m simulators.mosquitto ensure` exits 0 when tests can get a broker (one answers on
127.0.0.1:1883, or the `mosquitto` binary is there, installing Debian's package when it can), and
says clearly what is missing otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM_BROKER = ("127.0.0.1", 1883)
_CANDIDATE_BINARIES = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True if an MQTT broker accepts a CONNECT there (not merely a TCP connection)."""
    connect = bytes([0x10, 0x10, 0x00, 0x04]) + b"MQTT" + bytes([0x04, 0x02, 0x00, 0x05, 0x00, 0x04]) + b"hsck"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(connect)
            reply = sock.recv(4)
    except OSError:
        return False
    return len(reply) == 4 and reply[0] == 0x20 and reply[3] == 0x00


def find_binary() -> str | None:
    for candidate in _CANDIDATE_BINARIES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


class MosquittoProcess:
    """A Mosquitto on a free loopback port with TCP_NODELAY on; `stop()`/`start()` simulate outages."""

    def __init__(
        self,
        *,
        port: int | None = None,
        persistence: bool = False,
        password_file: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        extra_config: str = "",
    ) -> None:
        binary = find_binary()
        if binary is None:
            raise RuntimeError("the mosquitto binary is not installed; run `apt-get install mosquitto` "
                               "(Debian/Ubuntu) or `brew install mosquitto`, or `make test`, which installs it")
        self.binary = binary
        self.port = port or free_port()
        self._dir = tempfile.mkdtemp(prefix="homesafe-mosquitto-")
        self.config_path = Path(self._dir) / "mosquitto.conf"
        self.tls = certfile is not None
        lines = [f"listener {self.port} 127.0.0.1"]
        if certfile:
            lines += [f"certfile {certfile}", f"keyfile {keyfile}"]
        lines += ["allow_anonymous false", f"password_file {password_file}"] if password_file else [
            "allow_anonymous true"]
        lines += [
            "set_tcp_nodelay true",
            "max_queued_messages 0",
            "max_inflight_messages 0",
            "log_dest none",
        ]
        if persistence:
            lines += ["persistence true", f"persistence_location {self._dir}/", "autosave_interval 1"]
        if os.geteuid() == 0:
            # Started as root, Mosquitto drops to user `mosquitto`, which cannot write our private
            # directory: persistence would silently save nothing and a restart would forget every session.
            lines.append("user root")
        self.config_path.write_text("\n".join(lines) + "\n" + extra_config)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> MosquittoProcess:
        self._process = subprocess.Popen([self.binary, "-c", str(self.config_path)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while not self._listening():
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {error.strip()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not answer on port {self.port} within {timeout_s} s")
            time.sleep(0.05)
        return self

    def _listening(self) -> bool:
        if self.tls:  # an MQTT handshake would need TLS; a TCP accept is enough to know it is up
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                return False
            return True
        return broker_answers("127.0.0.1", self.port, 0.5)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> MosquittoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def _install_debian_package() -> bool:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    print("mosquitto not found; installing Debian's package", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "mosquitto"],
                          check=False, env=env)
    return done.returncode == 0 and find_binary() is not None


def ensure() -> int:
    """Make sure the tests can have a broker; print what they will use."""
    binary = find_binary() or (find_binary() if _install_debian_package() else None)
    system = broker_answers(*SYSTEM_BROKER)
    if binary:
        print(f"mosquitto binary: {binary} (private brokers for outage tests)", file=sys.stderr)
    if system:
        print("broker answering on 127.0.0.1:1883: shared tests use it", file=sys.stderr)
    if binary or system:
        if not binary:
            print("warning: no mosquitto binary; tests that restart a broker will fail", file=sys.stderr)
        return 0
    print("no MQTT broker for the tests: nothing answers on 127.0.0.1:1883 and the mosquitto binary is "
          "missing (install it: `sudo apt-get install mosquitto`, or `brew install mosquitto`)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        sys.exit("usage: python -m simulators.mosquitto ensure")
    sys.exit(ensure())
