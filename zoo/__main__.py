"""``python -m zoo`` (``dlfs-zoo``): list models, pull them into the HF cache, print the leaderboard, submit a model,
run an evaluation worker on the requests of a Hub dataset."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from . import hub, submissions
from .board_cache import leaderboard_json
from .catalog import ENTRIES, TASKS, validate_name
from .checkpoint_io import load_folder
from .leaderboard import leaderboard, to_csv, to_markdown
from .sources import list_models
from .submissions import remote_worker
from .submissions.requests_dataset import LEASE_S, MAX_LEASE_S


def cmd_list(args: argparse.Namespace) -> int:
    embedded = set(list_models("embedded"))
    for name, e in ENTRIES.items():
        print(f"{name:28s} {e.task:7s} {'embedded' if name in embedded else '        '}  {e.summary}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    names = list(ENTRIES) if args.all else args.names
    if not names:
        raise ValueError("name at least one model, or use --all")
    for name in names:
        validate_name(name)
        repo_id = f"{hub.resolve_namespace(args.namespace)}/{name}"
        try:
            path = hub.hf_snapshot(name, revision=args.revision, ns=args.namespace)
        except Exception as e:
            raise ValueError(hub.hub_error(e, f"pull {repo_id}")) from None
        load_folder(path)  # refuse what does not verify
        print(f"{repo_id} -> {path}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    if args.json:  # kept whole between processes while none of its files changed
        print(leaderboard_json(args.task, source=args.source, ns=args.namespace, submissions=not args.zoo_only))
        return 0
    rows = leaderboard(args.task, source=args.source, ns=args.namespace, submissions=not args.zoo_only)
    if args.csv:
        Path(args.csv).write_text(to_csv(rows))
        print(f"wrote {len(rows)} rows to {args.csv}")
    else:
        print(to_markdown(rows), end="")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    """Gates, then the project's evaluation, then a result file; the new row's rank at the end."""
    record = submissions.submit(
        args.source, args.name, push=args.push, timeout=args.timeout, progress=lambda line: print(line, flush=True)
    )
    if record["status"] != "finished":
        print(f"{record['model']}: failed: {record['reason']}", file=sys.stderr)
        return 1
    row = next(r for r in leaderboard(record["task"]) if r.model == record["model"])
    shown = ", ".join(f"{k} {row.metrics[k]:.4g}" for k in TASKS[row.task].metrics if k in row.metrics)
    print(f"{record['model']}: finished: {shown}; rank {'=' if row.tied else ''}{row.rank} of {row.task}")
    if record.get("pushed"):
        print(f"result pushed: {record['pushed']}")
    return 0


def cmd_submissions(args: argparse.Namespace) -> int:
    """Every submission in the store with its state (pending, running, finished, failed and why)."""
    records = submissions.Store().requests()
    if args.json:
        print(json.dumps(records, indent=2, allow_nan=False))
    for r in [] if args.json else records:
        why = f": {r['reason']}" if r.get("reason") else ""
        print(f"{r['model']:28s} {r['task']:7s} {r['status']:9s} {r['source']}{why}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Claim the requests of a Hub dataset one at a time, evaluate them, publish the results (until stopped)."""
    if not 0 < args.lease <= MAX_LEASE_S or not args.poll >= 0:
        raise ValueError(f"--lease must be above 0 and at most {MAX_LEASE_S} seconds, and --poll 0 or more")
    say = functools.partial(print, flush=True)
    return remote_worker.run(args.requests, args.results, once=args.once, lease=args.lease, poll=args.poll, say=say)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m zoo", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the zoo's models").set_defaults(func=cmd_list)

    pull = sub.add_parser(
        "pull", help="download models into the HF cache (honours HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE)"
    )
    pull.add_argument("names", nargs="*", metavar="NAME", help="zoo entries to download (see `list`)")
    pull.add_argument("--all", action="store_true", help="every entry of the zoo")
    pull.add_argument("--namespace", help=f"Hub user or org (default: $DLFS_ZOO_NAMESPACE or {hub.DEFAULT_NAMESPACE})")
    pull.add_argument("--revision", help="a branch, tag or commit (default: main)")
    pull.set_defaults(func=cmd_pull)

    lb = sub.add_parser("leaderboard", help="ranked models per task")
    lb.add_argument("--task", choices=list(TASKS), help="one task only (default: every task)")
    lb.add_argument("--source", default="embedded", help="embedded, hf, or a folder of checkpoints")
    lb.add_argument("--namespace", help="with --source hf")
    lb.add_argument("--zoo-only", action="store_true", help="leave out the submissions in the results store")
    fmt = lb.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the rows as JSON")
    fmt.add_argument("--csv", metavar="FILE", help="write timm-style CSV results to FILE")
    fmt.add_argument("--markdown", action="store_true", help="(the default)")
    lb.set_defaults(func=cmd_leaderboard)

    sm = sub.add_parser("submit", help="check, evaluate and rank a checkpoint (a folder or hf:ORG/NAME[@REVISION])")
    sm.add_argument("source", help="a folder with config.json, model.safetensors, README.md; or hf:ORG/NAME[@REV]")
    sm.add_argument("--name", help="the name to rank it under (default: config.json's name)")
    sm.add_argument("--push", metavar="ORG/DATASET", help="also commit the request and result files to this dataset")
    sm.add_argument("--timeout", type=float, default=submissions.TIMEOUT_S, help="seconds the evaluation may take")
    sm.set_defaults(func=cmd_submit)

    ss = sub.add_parser("submissions", help="the submissions in the results store ($DLFS_ZOO_RESULTS) and their state")
    ss.add_argument("--json", action="store_true", help="print the request records as JSON")
    ss.set_defaults(func=cmd_submissions)

    # moderation: flags, the do-not-submit list, withdrawals (zoo.submissions.moderation holds the subcommands)
    submissions.moderation.add_cli(sub)
    wk = sub.add_parser("worker", help="evaluate the requests of a Hub dataset (any machine; see README)")
    wk.add_argument("--requests", required=True, metavar="ORG/DATASET", help="the requests dataset")
    wk.add_argument("--results", metavar="ORG/DATASET", help="where results go (default: the requests dataset)")
    wk.add_argument("--once", action="store_true", help="one request (or none when none waits), then exit")
    wk.add_argument(
        "--lease", type=float, default=LEASE_S, metavar="S", help="seconds a claim holds (env DLFS_ZOO_LEASE_S)"
    )
    wk.add_argument("--poll", type=float, default=30.0, metavar="S", help="seconds between reads of an empty queue")
    wk.set_defaults(func=cmd_worker)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
