"""``python -m training answers FOLDER...``: each checkpoint's answers on its task's pinned inputs, sketched
(``Task.answers``, ``zoo.submissions.answers``); one JSON line per folder. The results store runs it in a child
process before it evaluates a submission, for the submission and for the zoo's checkpoints of the same task."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from zoo.checkpoint_io import load_folder
from zoo.config import strict_dumps
from zoo.models import WEIGHTS_NAME, sha256_file
from zoo.submissions import answers

from . import tasks


def answers_row(folder: Path) -> dict:
    """The folder's name, weights sha256, answers' signature (task, what was asked, how many) and sketch."""
    model = load_folder(folder).cpu()
    with torch.inference_mode():
        values = tasks.get(model.task).answers(model).double().numpy()
    values = np.nan_to_num(values, nan=0.0, posinf=1e6, neginf=-1e6)  # a broken model fails its evaluation
    return {
        "name": folder.name,
        "sha256": sha256_file(folder / WEIGHTS_NAME),
        "signature": answers.signature(model.task, values.size),
        "sketch": answers.sketch(values).tolist(),
    }


def cmd_answers(args: argparse.Namespace) -> int:
    for folder in args.folders:
        print(strict_dumps(answers_row(Path(folder))), flush=True)
    return 0


def add_answers_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("answers", help="sketch each checkpoint's answers on its task's pinned inputs (copy check)")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="checkpoint folders (config.json + weights)")
    p.set_defaults(func=cmd_answers)
