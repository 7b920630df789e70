"""Run every benchmark in bench/ and print one JSON report plus a table of target, measured and pass.

Each script prints one JSON object whose `checks` list holds {name, target, measured, pass}. `--quick` passes
`--quick` on to every script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, each script under 30 s")
    parser.add_argument(
        "-o", "--output", default=str(HERE / "out" / "report.json"), help="where to write the JSON report"
    )
    args = parser.parse_args()
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )
    report: dict[str, object] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "results": {},
    }
    results: dict[str, object] = {}
    rows: list[tuple[str, str, str, str, str]] = []
    for script in scripts:
        command = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True)
        elapsed = round(time.monotonic() - started, 1)
        try:
            data = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
        except json.JSONDecodeError:
            try:
                data = json.loads(done.stdout)
            except json.JSONDecodeError:
                data = None
        if done.returncode != 0 or not isinstance(data, dict):
            results[script.stem] = {
                "error": (done.stderr.strip().splitlines() or ["no output"])[-1],
                "seconds": elapsed,
            }
            rows.append((script.stem, "-", "-", "error", "FAIL"))
            continue
        data["seconds"] = elapsed
        results[script.stem] = data
        for check in data.get("checks", []):
            rows.append(
                (
                    script.stem,
                    str(check.get("name")),
                    str(check.get("target")),
                    str(check.get("measured")),
                    "pass" if check.get("pass") else "FAIL",
                )
            )
    report["results"] = results
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    widths = [
        max(len(r[i]) for r in rows + [("script", "check", "target", "measured", "pass")]) for i in range(5)
    ]
    header = ("script", "check", "target", "measured", "pass")
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"report: {out}")
    return 0 if all(r[4] == "pass" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
