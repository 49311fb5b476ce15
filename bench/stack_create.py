"""`campaign create` as the campaign function runs it on a stack: time and peak memory (sizes the function).

A moto server in its own process stands for the stack (table, queues, configuration set, sender identity, a
list of 3). Each post is created in a fresh Python process, as in a new Lambda sandbox: the handler's import,
the first create (cold: Jinja2 and MJML templates loaded), then `--repeat` warm creates (median), all through
`convier.handlers.campaign.run` with the payload `convier --stack` sends; then the process's peak RSS (moto
excluded: its own process). Also the AWS calls one create makes (what the function's IAM must allow).
Prints figures; asserts nothing about time.

    .venv/bin/python bench/stack_create.py [--repeat 5] [POST ...]

Posts default to the seed and the three largest posts of $CONVIER_CORPUS/posts or ../shared/corpus/posts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CORPUS = Path(os.environ.get("CONVIER_CORPUS") or ROOT.parent / "shared" / "corpus") / "posts"
SEED = ROOT / "examples" / "seed-journee-cloud-2023.md"
SEED_CAMPAIGN = ROOT / "examples" / "campagne-journee-cloud.yaml"

CHILD = r"""
import json, resource, statistics, sys, time, uuid
t0 = time.perf_counter()
from convier.handlers import campaign
imported = time.perf_counter() - t0
from convier.settings import Clients, Settings
settings = Settings.from_env()
clients = Clients(settings)
post, chosen, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
event = {"action": "create", "list": "bench", "post": {"name": post, "text": open(post, encoding="utf-8-sig").read()}}
if chosen:
    event["settings"] = {"name": chosen, "text": open(chosen, encoding="utf-8").read()}
calls = []  # every client of the process is made from this session: its hooks see every call
from convier.settings import _session_unlocked
_session_unlocked().events.register("before-call", lambda model, **kw: calls.append(
    f"{model.service_model.signing_name}:{model.name}"))
def create():
    t = time.perf_counter()
    result = campaign.run({**event, "request_id": uuid.uuid4().hex}, settings, clients)
    assert result["ok"], result
    return time.perf_counter() - t
first = create()
warm = [create() for _ in range(repeat)]
print(json.dumps({"import": imported, "first": first, "warm": statistics.median(warm), "ops": sorted(set(calls)),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def posts(given: list[str]) -> list[Path]:
    if given:
        return [Path(p) for p in given]
    found = [SEED]
    if CORPUS.is_dir():
        found += sorted((p for p in CORPUS.iterdir() if p.suffix in (".md", ".markdown")),
                        key=lambda p: p.stat().st_size, reverse=True)[:3]
    else:
        print(f"pas de corpus dans {CORPUS} : le billet d’exemple seul")
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("posts", nargs="*")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    from convier.aws.resources import ensure_resources
    from convier.settings import Clients, Settings
    from convier.store import subscribers
    from motokit import running_moto

    with running_moto() as url:
        name = f"bench{uuid.uuid4().hex[:8]}"
        base = Settings(endpoint_url=url, table=name, queue_url=f"{url}/123456789012/{name}-send",
                        dead_letter_queue_url=f"{url}/123456789012/{name}-dlq", configuration_set=name,
                        public_url="https://invitations.numerique.gouv.fr",
                        sender="DINUM <invitations@numerique.gouv.fr>")
        settings = ensure_resources(base, Clients(base))
        clients = Clients(settings)
        subscribers.ensure_list(clients.dynamodb, settings.table, "bench")
        keys_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}-keys.json"
        keys_file.write_text(json.dumps({"seed": uuid.uuid4().hex * 2}))  # as the stack's secret holds them
        env = {**os.environ, **settings.with_(keys_file=keys_file).to_env()}
        ops = set()
        print(f"{'billet':58} {'Ko':>5} {'import':>8} {'1re':>8} {'suivantes':>10} {'pic RSS':>9}")
        for post in posts(args.posts):
            chosen = str(SEED_CAMPAIGN) if post == SEED else ""
            out = subprocess.run([sys.executable, "-c", CHILD, str(post), chosen, str(args.repeat)], env=env,
                                 capture_output=True, text=True)
            if out.returncode:
                print(f"{post.name}: échec\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            ops.update(r["ops"])
            print(f"{post.name[:58]:58} {post.stat().st_size / 1024:5.0f} {r['import'] * 1000:6.0f}ms "
                  f"{r['first'] * 1000:6.0f}ms {r['warm'] * 1000:8.0f}ms {r['rss_mb']:6.0f} Mo")
        print("appels AWS des créations : " + ", ".join(sorted(ops)))
        keys_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
