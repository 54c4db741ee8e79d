"""`wambench export OUT --format csv|parquet|jsonl`: the store as flat files, one per table (the store
reads them; `policy_specs` holds each policy's spec per suite)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from harness.store import Store
from harness.store_schema import EXPORTED_TABLES as TABLES


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="write the store's tables as CSV, Parquet or JSON lines")
    p.add_argument("out", help="output directory of a run")
    p.add_argument("--format", choices=["csv", "parquet", "jsonl"], default="csv")
    p.add_argument("--to", help="directory for the files (default: OUT/export)")
    p.set_defaults(func=run)


def export(out: str | Path, fmt: str, to: str | Path | None = None) -> list[Path]:
    dest = Path(to) if to else Path(out) / "export"
    written = []
    with Store.open(out) as store:  # first: a missing store must leave no empty export folder behind
        dest.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            columns, rows = store.table(table)
            df = pd.DataFrame.from_records(rows, columns=columns)
            path = dest / f"{table}.{fmt}"
            if fmt == "csv":
                df.to_csv(path, index=False)
            elif fmt == "parquet":
                df.to_parquet(path, index=False)
            else:
                df.to_json(path, orient="records", lines=True)
            written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    for path in export(args.out, args.format, args.to):
        print(path)
    return 0
