"""The embedded default: a moto server on 127.0.0.1 that the CLI starts on demand and keeps between commands.

State folder (`.convier/` of the current folder, or `$CONVIER_HOME`, or `--home`):

    server.json            port and pid of the running server (absent when stopped)
    server.lock            file lock: one start-up at a time, whatever the number of processes
    moto-recording.jsonl   every state-changing request the server received (moto's recorder)
    server.log             the server's own messages
    keys.json              the id and link-signing keys (mode 0600)
    outbox/                sent messages, one folder per campaign

The server is a detached process (`python -m convier.local.embedded serve HOME`), reused while it answers.
When it is gone (stopped, killed, machine restarted), the next command starts a new one, which
replays the recording before it tells its port: tables, queues, identities come back as they were.
Reads are dropped from the recording at each restart so that it grows only with writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from convier.errors import InputError
from convier.local.recording import compact_recording, scrub_entry, worth_recording
from convier.settings import Keys

SERVER_FILE = "server.json"
LOCK_FILE = "server.lock"
RECORDING_FILE = "moto-recording.jsonl"
LOG_FILE = "server.log"
KEYS_FILE = "keys.json"
OUTBOX = "outbox"
START_TIMEOUT = 900.0  # seconds; a long recording takes a while to replay

class EmbeddedUnavailable(InputError):
    """The embedded default cannot run here (moto missing, server failed to start)."""


def moto_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None


@contextlib.contextmanager
def locked(home: Path):
    """An exclusive lock on the state folder, held across processes (fcntl)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_keys(home: Path) -> Path:
    """The keys file, generated on first use with mode 0600 (written whole, then renamed)."""
    path = home / KEYS_FILE
    if path.exists():
        return path
    with locked(home):
        if not path.exists():
            tmp = home / f".{KEYS_FILE}.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(Keys.generate().to_json())
            os.replace(tmp, path)
    return path


def read_server(home: Path) -> dict | None:
    try:
        return json.loads((home / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def alive(info: dict | None) -> bool:
    """Running and answering. A killed server shows as a zombie before its last thread has closed the socket:
    it still accepts connections for a moment, and is dead all the same."""
    return bool(info) and _still_running(info["pid"]) and _answers(info["port"])


def endpoint(info: dict) -> str:
    return f"http://127.0.0.1:{info['port']}"


def serving(home: Path, url: str | None) -> bool:
    """True while server.json names a live process at `url`: cheap enough to ask before each request (no
    connection is opened; a stopped, restarted or crashed server fails it, a zombie child too)."""
    info = read_server(Path(home))
    return bool(info) and endpoint(info) == url and _still_running(info["pid"])


def ensure_server(home: Path, *, on_start=None) -> str:
    """The endpoint URL of the running server, started (and its state replayed) when needed.

    `on_start(replaying: bool)` is called before a start, to tell the user.
    """
    home = Path(home)
    info = read_server(home)
    if alive(info):
        return endpoint(info)
    if not moto_available():
        raise EmbeddedUnavailable(
            "le serveur local (moto) n'est pas installé : pip install 'convier[local]', "
            "ou visez AWS avec --stack NOM, ou un serveur existant avec --endpoint-url URL")
    with locked(home):
        info = read_server(home)  # another process may have started it while we waited
        if alive(info):
            return endpoint(info)
        (home / SERVER_FILE).unlink(missing_ok=True)
        recording = home / RECORDING_FILE
        if on_start:
            on_start(recording.exists() and recording.stat().st_size > 0)
        env = {**os.environ, "MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(recording)}
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(Path(__file__).resolve().parents[2]),
                                                        env.get("PYTHONPATH", "")] if p)
        with open(home / LOG_FILE, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "convier.local.embedded", "serve", str(home)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True, close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            info = read_server(home)
            if info and info.get("pid") == proc.pid and _answers(info["port"]):
                return endpoint(info)
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        tail = (home / LOG_FILE).read_text(errors="replace")[-2000:]
        raise EmbeddedUnavailable(f"le serveur local n'a pas démarré (journal : {home / LOG_FILE}) :\n{tail}")


def stop_server(home: Path, timeout: float = 10.0) -> dict | None:
    """Stops the server if it runs; returns what server.json said (None when none was running)."""
    home = Path(home)
    if not home.exists():
        return None
    with locked(home):
        return _stop(home, timeout)


def _stop(home: Path, timeout: float = 10.0) -> dict | None:
    """Stops the server; the caller holds the lock."""
    info = read_server(home)
    (home / SERVER_FILE).unlink(missing_ok=True)
    if not info or not _pid_alive(info["pid"]):
        return None
    pid = info["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _still_running(pid):
        time.sleep(0.05)
    if _still_running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _still_running(pid)
    return info


def scrub_recording(home: Path, address: str, sid: str) -> int:
    """Erasure in the embedded default's recording: the server is stopped, and every recorded write on that
    subscriber's own items (and their id in queued send messages) is dropped or rewritten without them. The
    next command replays what is left. Returns how many recorded requests held something of theirs."""
    home = Path(home)
    path = home / RECORDING_FILE
    if not path.exists():
        return 0
    changed = 0
    with locked(home):
        _stop(home)
        kept = []
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # a torn line: replay would skip it anyway
                continue
            new, theirs = scrub_entry(entry, sid)
            changed += theirs
            if new is entry:
                kept.append(line if line.endswith("\n") else line + "\n")
            elif new is not None:
                kept.append(json.dumps(new) + "\n")
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return changed


def _still_running(pid: int) -> bool:
    """True while the process exists and is not a zombie (reaped here when it is our child)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    if not _pid_alive(pid):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def state_files(home: Path) -> list[Path]:
    """What `local reset` deletes: everything in the state folder."""
    home = Path(home)
    return sorted(home.iterdir()) if home.is_dir() else []


def looks_like_home(home: Path) -> bool:
    names = {p.name for p in state_files(home)}
    return not names or bool(names & {SERVER_FILE, LOCK_FILE, RECORDING_FILE, KEYS_FILE, LOG_FILE, OUTBOX})


def reset(home: Path) -> list[Path]:
    """Stops the server and deletes the state folder; returns what was deleted."""
    home = Path(home)
    if not looks_like_home(home):
        raise InputError(f"{home} ne ressemble pas à un dossier d'état convier : rien n'est supprimé")
    if not home.is_dir():
        return []
    with locked(home):
        _stop(home)
        deleted = [p for p in state_files(home) if p.name != LOCK_FILE]
        for path in deleted:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    (home / LOCK_FILE).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        home.rmdir()
    return deleted


def status(home: Path) -> dict:
    home = Path(home)
    info = read_server(home)
    recording = home / RECORDING_FILE
    outbox = home / OUTBOX
    return {
        "home": home,
        "running": alive(info),
        "endpoint": endpoint(info) if alive(info) else "",
        "pid": info.get("pid") if alive(info) else None,
        "recorded_requests": _count_lines(recording),
        "recording_bytes": recording.stat().st_size if recording.exists() else 0,
        "keys": (home / KEYS_FILE).exists(),
        "outbox_files": sum(1 for p in outbox.rglob("*") if p.is_file()) if outbox.is_dir() else 0,
    }


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(1 for _ in f)


# --- the server process -------------------------------------------------------------------------

def serve(home: Path) -> None:
    """Runs in the detached server process: bind a free port, replay the recording, then say where we are."""
    import logging
    import threading

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    home = Path(home)
    recording = home / RECORDING_FILE
    kept, dropped = compact_recording(recording)

    from moto.moto_api import recorder
    from moto.moto_api._internal.recorder.models import Recorder
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    write_lock = threading.Lock()
    record = Recorder._record_request

    def record_whole_lines(self, request, *args, **kwargs):  # the threaded server must not interleave two entries
        if not worth_recording(request):
            return None
        with write_lock:
            return record(self, request, *args, **kwargs)

    Recorder._record_request = record_whole_lines
    from convier.local.motopatch import answer_get_account, forget_what_is_sent, serialise_dynamodb
    from convier.settings import local_ses_account

    forget_what_is_sent()
    answer_get_account(*local_ses_account())
    serialise_dynamodb()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    started = time.monotonic()
    if kept:
        recorder.replay_recording(target_host=f"http://127.0.0.1:{port}")
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} serveur moto sur 127.0.0.1:{port}, pid {os.getpid()}, "
          f"{kept} requêtes rejouées en {time.monotonic() - started:.1f} s ({dropped} lectures écartées)",
          flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tmp = home / f".{SERVER_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": port, "started_at": time.time(), "replayed": kept}))
    os.replace(tmp, home / SERVER_FILE)
    stop.wait()
    server.shutdown()
    thread.join(timeout=5)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(Path(sys.argv[2]))
    else:
        sys.exit("usage : python -m convier.local.embedded serve DOSSIER")
