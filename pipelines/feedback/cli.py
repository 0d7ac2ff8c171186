"""``union-warehouse template [--dataset D] [--street S] [--out DIR]``.

Wired into the main command line by ``pipelines.cli`` calling :func:`register` with its
subparsers; the handler follows that module's convention ``func(args, settings) -> int``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipelines.config import Settings
from pipelines.contract import DATASETS_BY_NAME, STREETS_BY_CODE

DEFAULT_OUT = Path("templates")


def register(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add the ``template`` subcommand to ``union-warehouse``."""
    p = subparsers.add_parser(
        "template",
        help="write the fill-in spreadsheet templates for the streets",
        description="Write one .xlsx template per dataset: Chinese headers, dropdowns for "
        "enums and yes/no, date formats, a sheet of instructions. With --street the "
        "street code is pre-filled and the files go to DIR/<street_code>/.",
    )
    p.add_argument("--dataset", choices=sorted(DATASETS_BY_NAME), help="only this dataset")
    p.add_argument("--street", metavar="S", help="pre-fill this 9-digit street code")
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output directory (default: ./{DEFAULT_OUT}/)",
    )
    p.set_defaults(func=cmd_template)
    return p


def cmd_template(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Write the templates; 2 for an unknown street code (nothing written)."""
    from .templates import write_templates

    if args.street is not None and args.street not in STREETS_BY_CODE:
        print(f"unknown street code {args.street!r} (see docs/contract.md)", file=sys.stderr)
        return 2
    written = write_templates(args.out, dataset=args.dataset, street=args.street)
    for path in written:
        print(path)
    print(f"wrote {len(written)} template(s) under {args.out}")
    return 0
