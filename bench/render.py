"""Render time per corpus post (post file to HTML, MJML compilation included), with a baseline.

One run = read_post + build_invitation + render_invitation (HTML, and also the text part, the
.ics and the MIME template, which render_invitation produces together).

Prints figures only; asserts nothing about time. The baseline is markdown-it rendering the same
post's body alone, measured in the same process, so the ratio compares across machines.

    .venv/bin/python bench/render.py [--repeat N] [CORPUS_DIR]

CORPUS_DIR defaults to $CONVIER_CORPUS/posts or ../shared/corpus/posts; without either, the seed and the
fixture posts of tests/fixtures/quirks/ (said on the first line).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from markdown_it import MarkdownIt

from convier.inputs.post import read_post
from convier.render.invitation import build_invitation
from convier.render.message import render_invitation

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CONVIER_CORPUS") or ROOT.parent / "shared" / "corpus") / "posts"
FALLBACK = [ROOT / "examples" / "seed-journee-cloud-2023.md",
            *sorted((ROOT / "tests" / "fixtures" / "quirks").glob("*.md"))]


def timings(fn, repeat: int) -> list[float]:
    fn()  # warm-up: template loading, caches
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def quartiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", nargs="?", type=Path)
    p.add_argument("--repeat", type=int, default=15, help="timed runs per post (default 15)")
    args = p.parse_args(argv)
    folder = args.corpus or (CORPUS if CORPUS.is_dir() else None)
    if folder is None:
        print(f"no corpus at {CORPUS}: the seed and the fixture posts instead")
    posts = sorted(x for x in folder.iterdir() if x.suffix in (".md", ".markdown")) if folder else FALLBACK
    md = MarkdownIt("commonmark", {"html": True}).enable("table")

    print(f"{len(posts)} posts, {args.repeat} runs each, Python {sys.version.split()[0]}")
    print(f"{'post':52} {'median':>8} {'IQR':>15} {'min':>7} {'max':>7} {'base':>7} {'ratio':>6} {'KB':>4}")
    total_med = total_base = 0.0
    ratios = []
    for path in posts:
        def full(path=path):
            return render_invitation(build_invitation(read_post(path))).html

        body = read_post(path).body

        def base(body=body):
            return md.render(body)

        t = timings(full, args.repeat)
        b = timings(base, args.repeat)
        med, bmed = statistics.median(t), statistics.median(b)
        q1, q3 = quartiles(t)
        total_med += med
        total_base += bmed
        ratios.append(med / bmed)
        size = len(full().encode()) / 1024
        print(f"{path.stem[:52]:52} {med * 1e3:6.2f}ms {q1 * 1e3:6.2f}–{q3 * 1e3:6.2f}ms "
              f"{min(t) * 1e3:5.2f}ms {max(t) * 1e3:5.2f}ms {bmed * 1e3:5.2f}ms {med / bmed:5.0f}× {size:4.0f}")
    print(f"\ntotal of medians: {total_med * 1e3:.1f} ms for {len(posts)} posts "
          f"({total_med / len(posts) * 1e3:.2f} ms per post); markdown-it alone: {total_base * 1e3:.1f} ms")
    print(f"ratio full render / markdown-it: total {total_med / total_base:.0f}×, "
          f"per post median {statistics.median(ratios):.0f}× (min {min(ratios):.0f}×, max {max(ratios):.0f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
