"""The per-recipient path must not import the renderer: it runs at every cold start."""

import json
import subprocess
import sys

PROBE = r"""
import json, sys
import convier.handlers.send
from convier.services import sending
from convier.domain import mime
from convier.store import records
print(json.dumps(sorted(m for m in ("jinja2", "mjml", "markdown_it", "nh3", "icalendar", "inscriptis",
                                    "frontmatter", "convier.render", "convier.body") if m in sys.modules)))
"""


def test_send_handler_imports_no_renderer():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
