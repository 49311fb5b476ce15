"""The layout's rules, as tests: what each runtime may load.

- `convier.domain` loads only the standard library (every runtime imports it, the send function first);
- `convier.handlers` never load `convier.cli` or `convier.local` (the embedded default is the CLI's);
- `convier.services` never load `convier.local`: what the embedded default adds comes in as hooks;
- only `convier.cli` loads `convier.local`;
- the send function loads no renderer at cold start, and no Lambda handler loads the console's or the CLI's parts.

Static rules read every import of every module, those inside functions included (a lazy import is still an
import); the runtime probes import each handler in a fresh interpreter and look at `sys.modules`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "functions" / "convier"
RENDERERS = ("jinja2", "mjml", "markdown_it", "nh3", "icalendar", "inscriptis", "frontmatter", "yaml",
             "email_validator", "charset_normalizer")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement of this file names (absolute; relative ones resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from convier import local`
    return found


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def within(name: str, part: str) -> bool:
    return name == part or name.startswith(part + ".")


def offenders(part: str, forbidden) -> dict[str, list[str]]:
    bad = {}
    for name, imported in MODULES.items():
        if within(name, part):
            hits = sorted(i for i in imported if forbidden(i))
            if hits:
                bad[name] = hits
    return bad


def test_the_tree_has_the_runtime_folders():
    for part in ("domain", "inputs", "render", "store", "aws", "services", "web", "handlers", "cli", "local"):
        assert (PACKAGE / part / "__init__.py").is_file(), part
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "errors.py", "settings.py"], flat


def test_domain_loads_only_the_standard_library():
    stdlib = sys.stdlib_module_names

    def foreign(name: str) -> bool:
        top = name.split(".")[0]
        return not (top in stdlib or top == "__future__" or within(name, "convier.domain"))

    assert offenders("convier.domain", foreign) == {}


def test_handlers_never_load_the_cli_or_the_embedded_default():
    assert offenders("convier.handlers", lambda i: within(i, "convier.cli") or within(i, "convier.local")) == {}


def test_services_never_load_the_embedded_default_or_the_cli():
    assert offenders("convier.services", lambda i: within(i, "convier.local") or within(i, "convier.cli")) == {}


def test_only_the_cli_loads_the_embedded_default():
    for part in ("convier.domain", "convier.inputs", "convier.render", "convier.store", "convier.aws",
                 "convier.services", "convier.web", "convier.handlers"):
        assert offenders(part, lambda i: within(i, "convier.local")) == {}, part


def test_store_and_domain_never_load_services_or_renderers():
    for part in ("convier.domain", "convier.store"):
        bad = offenders(part, lambda i: within(i, "convier.services") or within(i, "convier.render")
                        or i.split(".")[0] in RENDERERS)
        assert bad == {}, part


def test_the_rule_reader_sees_lazy_imports(tmp_path):
    """The static rules would pass vacuously if imports inside functions were missed."""
    probe = PACKAGE / "services" / "campaigns.py"
    assert any(within(i, "convier.render") for i in imports_of(probe))  # create_campaign renders lazily


PROBE = r"""
import json, sys, importlib
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(",")
                        or any(m == p or m.startswith(p + ".") for p in sys.argv[3].split(",")))))
"""


@pytest.mark.parametrize("handler, allowed_renderers, forbidden_parts", [
    ("convier.handlers.send", (), ("convier.render", "convier.inputs", "convier.web", "convier.cli", "convier.local")),
    ("convier.handlers.feedback", (),
     ("convier.render", "convier.inputs", "convier.web", "convier.cli", "convier.local")),
    ("convier.handlers.web", ("jinja2",), ("convier.render", "convier.inputs", "convier.cli", "convier.local")),
    ("convier.handlers.campaign", (), ("convier.render", "convier.cli", "convier.local")),
])
def test_each_lambda_loads_only_its_share(handler, allowed_renderers, forbidden_parts):
    forbidden_libraries = [r for r in RENDERERS if r not in allowed_renderers]
    out = subprocess.run([sys.executable, "-c", PROBE, handler, ",".join(forbidden_libraries),
                          ",".join(forbidden_parts)], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
