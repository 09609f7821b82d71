"""``python -m training answers FOLDER...``: each checkpoint's answers on its task's pinned inputs, sketched
(``Task.answers``, ``zoo.submissions.answers``); one JSON line per folder. A submission's own answers come with
its evaluation (``evaluate --folder``); the results store runs this for the zoo's checkpoints of the same task
that this machine has not sketched yet."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from zoo.checkpoint_io import load_folder
from zoo.config import strict_dumps
from zoo.models import WEIGHTS_NAME, PyTorchModel, sha256_file
from zoo.submissions import answers

from . import tasks


def sketched_answers(model: PyTorchModel) -> dict:
    """The model's answers' signature (task, version of the pinned inputs, how many) and sketch."""
    model = model.cpu()
    with torch.inference_mode():
        values = tasks.get(model.task).answers(model).double().numpy()
    values = np.nan_to_num(values, nan=0.0, posinf=1e6, neginf=-1e6)  # a broken model fails its evaluation
    return {"signature": answers.signature(model.task, values.size), "sketch": answers.sketch(values).tolist()}


def answers_row(folder: Path) -> dict:
    """The folder's name, weights sha256 and sketched answers."""
    row = {"name": folder.name, "sha256": sha256_file(folder / WEIGHTS_NAME)}
    return row | sketched_answers(load_folder(folder))


def cmd_answers(args: argparse.Namespace) -> int:
    for folder in args.folders:
        print(strict_dumps(answers_row(Path(folder))), flush=True)
    return 0


def add_answers_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("answers", help="sketch each checkpoint's answers on its task's pinned inputs (copy check)")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="checkpoint folders (config.json + weights)")
    p.set_defaults(func=cmd_answers)
