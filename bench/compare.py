"""
One table from several bench/run.py reports (their .json files), sizes side by side, with
the targets each page misses:

    .venv/bin/python bench/compare.py bench/out/bench-sqlite-10000.json \\
        bench/out/bench-sqlite-100000.json bench/out/bench-sqlite-1000000.json

Per page and report: p50 / p95 in ms. Then, for the largest report: the query count (and
"varies" when the reports disagree), the size in KB, p50 against the smallest report's,
and the targets missed: public p50 over 50 ms or p95 over 100 ms, admin p50 over 300 ms,
more than 150 KB, p50 more than twice the smallest report's.
"""

import json
import sys
from pathlib import Path

PUBLIC_P50, PUBLIC_P95, ADMIN_P50, PAGE_KB, GROWTH = 50, 100, 300, 150, 2


def misses(row, smallest):
    p50, p95 = row["p50_ms"], row["p95_ms"]
    found = []
    if row["admin"] and p50 > ADMIN_P50:
        found.append(f"p50 > {ADMIN_P50}")
    if not row["admin"] and p50 > PUBLIC_P50:
        found.append(f"p50 > {PUBLIC_P50}")
    if not row["admin"] and p95 > PUBLIC_P95:
        found.append(f"p95 > {PUBLIC_P95}")
    if not row["admin"] and (row["bytes"] or 0) > PAGE_KB * 1000:
        found.append(f"> {PAGE_KB} KB")
    if smallest and smallest["p50_ms"] and p50 > GROWTH * smallest["p50_ms"]:
        found.append(f"> {GROWTH}x smallest")
    return ", ".join(found)


def main(paths):
    reports = [json.loads(Path(path).read_text()) for path in paths]
    heads = [f"{r['vendor']} {r['activities']:,}" for r in reports]
    print("| page | " + " | ".join(heads) + " | queries | KB | x smallest | misses |")
    print("|---|" + "---:|" * (len(heads) + 3) + "---|")
    rows = [{row["name"]: row for row in report["results"]} for report in reports]
    for name, last in rows[-1].items():
        cells, counts = [], set()
        for report in rows:
            row = report.get(name)
            if not row or row["p50_ms"] is None:
                cells.append(str(row and row["status"]))
                continue
            counts.add(row["queries"])
            cells.append(f"{row['p50_ms']:,.0f} / {row['p95_ms']:,.0f}")
        smallest = rows[0].get(name)
        growth = ""
        if smallest and smallest["p50_ms"] and last["p50_ms"]:
            growth = f"{last['p50_ms'] / smallest['p50_ms']:.1f}"
        queries = str(last["queries"]) if len(counts) == 1 else "varies"
        kb = f"{(last['bytes'] or 0) / 1000:.0f}"
        missed = misses(last, smallest) if last["p50_ms"] is not None else "no answer"
        print(f"| {name} | " + " | ".join(cells) + f" | {queries} | {kb} | {growth} | {missed} |")


if __name__ == "__main__":
    main(sys.argv[1:])
