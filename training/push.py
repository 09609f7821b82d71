"""``python -m training push``: one HF model repo per zoo model, one commit each, the embedded files as-is (the
checkpoint's three, and the training curve beside its card)."""

from __future__ import annotations

import argparse
import os

from zoo import hub as zhub
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import CURVE_IMAGE_NAME, TRAINING_LOG_NAME, load_folder
from zoo.hub import hub_error
from zoo.models import sha256_file

from .cli import CLIError, checkpoints_folder, model_names

CURVE_FILES = (TRAINING_LOG_NAME, CURVE_IMAGE_NAME)


def cmd_push(args: argparse.Namespace) -> int:
    from huggingface_hub import HfApi

    hub_dir = checkpoints_folder(args.hub)
    names = model_names(args.names, args.all)
    ns = zhub.resolve_namespace(args.namespace)
    for name in names:
        folder = hub_dir / name
        load_folder(folder)  # never push a checkpoint that does not load and verify
        # the checkpoint's three files, and its training curve (the log and its picture) where it has them
        extras = [folder / f for f in CURVE_FILES if (folder / f).is_file()]
        files = [folder / f for f in zhub.HUB_FILES] + extras
        repo_id = f"{ns}/{name}"
        if args.dry_run:
            print(f"{repo_id} (revision {args.revision or 'main'}):")
            for f in files:
                print(f"  {f.name:20s} {f.stat().st_size:>10,d} bytes  sha256 {sha256_file(f)}")
            continue
        api = HfApi(token=os.environ.get("HF_TOKEN") or None)
        try:
            api.create_repo(repo_id, exist_ok=True, private=args.private, repo_type="model")
            if args.revision:
                api.create_branch(repo_id, branch=args.revision, exist_ok=True)
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=folder,
                revision=args.revision,
                allow_patterns=[f.name for f in files],
                commit_message=f"{name}: {ENTRIES[name].summary}",
            )
        except Exception as e:
            raise CLIError(hub_error(e, f"push {repo_id}")) from None
        print(f"pushed {repo_id}: {info.commit_url if hasattr(info, 'commit_url') else info}")
    return 0


def add_push_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="push checkpoints to the Hugging Face Hub")
    p.add_argument("names", nargs="*", metavar="NAME", help="checkpoints to push")
    p.add_argument("--all", action="store_true", help="push every catalog entry's checkpoint")
    p.add_argument("--namespace", help=f"user or org (default: $DLFS_ZOO_NAMESPACE or {zhub.DEFAULT_NAMESPACE})")
    p.add_argument("--revision", help="branch to commit to (created when missing)")
    p.add_argument("--private", action="store_true", help="create missing Hub repositories as private")
    p.add_argument("--dry-run", action="store_true", help="list files, sizes and sha256; send nothing")
    p.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    p.set_defaults(func=cmd_push)
