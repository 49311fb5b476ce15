"""The Lambda package: its size, and what each handler costs at a cold start before any AWS call.

Builds the package with the Makefile's own target (`build-SendFunction`, the same one `sam build`
runs) twice: for Lambda (arm64, what is deployed: size, files, zip) and for this machine's platform
(so that it can be imported here), then times, in fresh interpreters, the import of each handler and
the creation of the boto3 clients that handler makes on its first event (CPU time of the process, which
other work on a shared machine disturbs less than wall time). Prints figures, asserts nothing.

    make package-report          (or: .venv/bin/python bench/lambda_package.py)
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
HANDLERS = {  # function → (handler module, clients its first event creates)
    "SendFunction": ("convier.handlers.send", ("dynamodb", "sesv2", "sqs", "secretsmanager")),
    "CampaignFunction": ("convier.handlers.campaign", ("dynamodb", "sqs", "sesv2")),
    "WebFunction": ("convier.handlers.web", ("dynamodb", "secretsmanager")),
    "FeedbackFunction": ("convier.handlers.feedback", ("dynamodb", "secretsmanager")),
}


def build(target: Path, platforms: str, python_version: str, compiler: str) -> None:
    subprocess.run(["make", "-s", "-C", str(ROOT), "build-SendFunction", f"ARTIFACTS_DIR={target}",
                    f"LAMBDA_PLATFORMS={platforms}", f"LAMBDA_PYTHON_VERSION={python_version}",
                    f"LAMBDA_COMPILER={compiler}"], check=True)


def python312() -> str | None:
    """A working Python 3.12 (Lambda's), on PATH or in pyenv's versions."""
    candidates = [shutil.which("python3.12") or ""] + sorted(
        str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate
    return None


def size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def zipped(folder: Path, out: Path) -> int:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder))
    return out.stat().st_size


def largest(folder: Path, n: int = 8) -> list[tuple[str, int]]:
    tops = {}
    for child in folder.iterdir():
        if child.name.endswith(".dist-info"):
            continue
        tops[child.name] = size(child)[0] if child.is_dir() else child.stat().st_size
    return sorted(tops.items(), key=lambda kv: -kv[1])[:n]


def timed(python: str, package: Path, module: str, clients: tuple[str, ...]) -> tuple[float, float]:
    code = (f"import sys, time; sys.path.insert(0, {str(package)!r}); t = time.process_time(); "
            f"import {module}; a = time.process_time() - t; "
            "from convier.settings import Clients, Settings; c = Clients(Settings(region='eu-west-3')); "
            f"[c.client(s) for s in {clients!r}]; print(a, time.process_time() - t)")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "eu-west-3"}
    out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, env=env, cwd=package)
    if out.returncode:
        raise RuntimeError(out.stderr)
    a, b = out.stdout.split()
    return float(a), float(b)


def main() -> None:
    python = python312() or sys.executable
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    machine = platform.machine()
    native = {"x86_64": "manylinux_2_28_x86_64 manylinux2014_x86_64",
              "aarch64": "manylinux_2_28_aarch64 manylinux2014_aarch64"}[machine]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(tmp / "arm64", "manylinux_2_28_aarch64 manylinux2014_aarch64", "3.12", python312() or "python3.12")
        unzipped, files = size(tmp / "arm64")
        zip_size = zipped(tmp / "arm64", tmp / "arm64.zip")
        print(f"Lambda package (arm64, Python 3.12), the same for the 4 functions: {unzipped / 1e6:.1f} MB "
              f"unzipped in {files} files, {zip_size / 1e6:.1f} MB zipped (limits: 250 MB / 50 MB)")
        print("  largest parts: " + ", ".join(f"{name} {n / 1e6:.1f} MB" for name, n in largest(tmp / "arm64")))
        print(f"  nothing of the checkout but the package: tests/ {(tmp / 'arm64' / 'tests').exists()}, "
              f".venv/ {(tmp / 'arm64' / '.venv').exists()}, templates in convier/: "
              f"{(tmp / 'arm64' / 'convier' / 'templates' / 'invitation.mjml.j2').is_file()}")
        build(tmp / "native", native, version, python)
        print(f"\nCold start, code part, on this machine ({machine}, Python {version}, CPU time, median of {RUNS} "
              "fresh interpreters, so that other load on the machine counts little; Lambda's arm64 cores are slower):")
        print(f"  {'function':<18} {'import handler':>15} {'+ first clients':>16}")
        for function, (module, clients) in HANDLERS.items():
            runs = [timed(python, tmp / "native", module, clients) for _ in range(RUNS)]
            imp = statistics.median(r[0] for r in runs) * 1000
            total = statistics.median(r[1] for r in runs) * 1000
            print(f"  {function:<18} {imp:>12.0f} ms {total:>13.0f} ms")


if __name__ == "__main__":
    main()
