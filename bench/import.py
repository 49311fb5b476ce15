"""Import speed of `convier lists import` on the embedded default (a moto server on 127.0.0.1).

Generates a semicolon-separated UTF-8 file of N rows (default 100,000), then imports it into a fresh
list R times (default 2) through the same code as the CLI: parsing (pure) and writing (DynamoDB batch
writes) are timed apart. Prints figures; asserts nothing about time.

    .venv/bin/python bench/import.py [--rows 100000] [--runs 2] [--all]

The state folder is a temporary one, deleted at the end (the user's .convier/ is never touched).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def fmt(n: float) -> str:
    return f"{n:,.0f}".replace(",", "\u202f")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--all", action="store_true", help="also time a re-import and a restart with replay (slow)")
    args = p.parse_args()

    from convier.cli.target import resolve
    from convier.inputs import listfile
    from convier.local import embedded
    from convier.services import lists
    from test_lists_volume import write_list

    with tempfile.TemporaryDirectory(prefix="convier-bench-") as tmp:
        home = Path(tmp) / "etat"
        path = Path(tmp) / "liste.csv"
        write_list(path, args.rows)
        print(f"fichier : {args.rows} lignes, {path.stat().st_size / 1e6:.1f} Mo")
        for key in [k for k in os.environ if k.startswith("CONVIER_")]:
            del os.environ[key]
        t0 = time.perf_counter()
        settings, clients = resolve(argparse.Namespace(home=str(home), endpoint_url=None, stack=None))
        print(f"démarrage du serveur local et des ressources : {time.perf_counter() - t0:.1f} s")
        parse_rates, write_rates, total_rates = [], [], []
        try:
            for run in range(args.runs):
                t0 = time.perf_counter()
                parsed = listfile.read(path)
                t1 = time.perf_counter()
                report = lists.import_rows(clients.dynamodb, settings.table, f"bench-{run}", parsed,
                                           clients.keys.id_key, source="bench")
                t2 = time.perf_counter()
                assert report.added == args.rows
                parse_rates.append(args.rows / (t1 - t0))
                write_rates.append(args.rows / (t2 - t1))
                total_rates.append(args.rows / (t2 - t0))
                print(f"essai {run + 1} : lecture {t1 - t0:.1f} s, écriture {t2 - t1:.1f} s, "
                      f"{fmt(total_rates[-1])} lignes/s", flush=True)
            if args.all:
                t0 = time.perf_counter()
                lists.import_rows(clients.dynamodb, settings.table, "bench-0", listfile.read(path),
                                  clients.keys.id_key, source="bench")
                reimport = time.perf_counter() - t0
        finally:
            embedded.stop_server(home)
        if args.all:
            t0 = time.perf_counter()
            embedded.ensure_server(home)
            replay = time.perf_counter() - t0
            embedded.stop_server(home)

    def line(name, rates):
        spread = f" (min {fmt(min(rates))}, max {fmt(max(rates))})" if len(rates) > 1 else ""
        print(f"{name} : médiane {fmt(statistics.median(rates))} lignes/s{spread}")

    print(f"--- {args.rows} lignes, {args.runs} essais, serveur moto local ---")
    line("lecture seule (CSV, validation des adresses)", parse_rates)
    line("écriture seule (DynamoDB moto)", write_rates)
    line("import complet", total_rates)
    if args.all:
        print(f"réimport du même fichier (tout inchangé) : {fmt(args.rows / reimport)} lignes/s")
        print(f"redémarrage du serveur avec rejeu de {args.runs} imports : {replay:.1f} s")


if __name__ == "__main__":
    main()
