"""``python -m tests.fuzz``: the fuzz at any size (see the package docstring)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from qmsforms.workspace import init_workspace

from .report import render
from .runner import Key, check, mutate, plan, run_pool
from .seeds import build_seeds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz",
                                     description="Seeded mutation fuzz of every issued form.")
    parser.add_argument("--count", type=int, default=1000, help="mutants to run")
    parser.add_argument("--seed", type=int, default=1, help="base random seed")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds one mutant may take before it counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address-space limit per worker, MB (0: none)")
    parser.add_argument("--ops", help="comma-separated operators to run (default: all)")
    parser.add_argument("--forms", help="comma-separated form:format seeds (default: all)")
    parser.add_argument("--only", help="re-run one mutant key, form:format:operator:n")
    parser.add_argument("--save", type=Path, help="with --only: write the mutant here")
    parser.add_argument("--show", type=int, default=3, help="examples listed per group")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz; 1 when a violation, crash, hang or abort was found, else 0."""
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qmsforms-fuzz-ws-") as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        if args.only:
            key = Key.parse(args.only)
            seed = build_seeds(workspace, {f"{key.form}:{key.fmt}"})[0]
            if args.save:
                mutation = mutate(seed, key)
                if mutation is not None:
                    args.save.write_bytes(mutation.data)
            result = check(seed, key, workspace, Path(tmp))
            print(f"{result.key}: {result.outcome} (expect {result.expect})\n  {result.note}")
            print(f"  codes: {', '.join(result.codes) or '-'}")
            print("\n".join(f"  {line}" for line in result.detail.splitlines()))
            return int(result.outcome in ("violation", "crash"))
        only = set(args.forms.split(",")) if args.forms else None
        seeds = build_seeds(workspace, only)
        for seed in seeds:
            for line in seed.misread:
                print(f"SEED MISREAD {seed.name}: {line}")
        keys = plan(seeds, args.count * 50 if args.ops else args.count, args.seed)
        if args.ops:
            wanted = set(args.ops.split(","))
            keys = [k for k in keys if k.op in wanted][:args.count]
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() and (done % 50 == 0 or done == total):
                print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

        results = run_pool(seeds, keys, workspace.root, args.workers, args.timeout,
                           args.memory_mb, progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(f"{len(results)} mutants of {len(seeds)} seeds, base seed {args.seed}, "
              f"{time.monotonic() - started:.1f} s\n")
        print(render(results, args.show))
        bad = any(r.outcome in ("violation", "crash", "hang", "abort") for r in results)
        return int(bad or any(s.misread for s in seeds))


if __name__ == "__main__":
    sys.exit(main())
