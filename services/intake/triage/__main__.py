"""`python -m services.intake.triage train [--seed-only]` | `eval [--db]`: prints JSON (train)
or a table (eval). Reads intake's settings from the environment (MONGODB_URI, MONGODB_DB)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from services.intake.settings import IntakeSettings

from .report import eval_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.intake.triage")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a new version (or the repo's seed model)")
    t.add_argument("--seed-only", action="store_true", help="write data/seed_model.json")
    e = sub.add_parser("eval", help="held-out accuracy and latency")
    e.add_argument("--db", action="store_true", help="the database's promoted model")
    args = parser.parse_args(argv)
    if args.command == "train":
        from . import run  # scikit-learn loads here, in this process only

        if args.seed_only:
            result = run.train_seed()
        else:
            result = asyncio.run(run.train_version(IntakeSettings()))
        print(json.dumps(result, ensure_ascii=False, default=str))
        return 0
    print(asyncio.run(eval_report(IntakeSettings() if args.db else None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
