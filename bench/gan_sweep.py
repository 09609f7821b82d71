"""Try DCGAN recipes side by side on a lent GPU: ``python -m bench.gan_sweep NAME JSON OUT.jsonl``.

One process per configuration (``bench/gpu_train.sh`` starts one per line of ``bench/gan_sweep.txt``). JSON
sets ``dcgan-28``'s generator ``width`` (or any of its ``kwargs``, ``classes`` among them), the recipe's
``epochs``/``batch_size``/``lr`` and its ``extra`` (loss, discriminator, EMA), and ``threads`` (2; 1 for two
screens side by side on the CPU); what it leaves out is the recipe's. Each configuration fits 15 CPU minutes
(the per-epoch cost measured on the 2-core machine). What the first run measured is in ``bench/gan_sweep_results.jsonl``
(2026-11-27, one H200 shared by nine processes: every run slowed about sixfold, so only 4-8 epochs each).
Every ``every`` epochs the model that training would return at that point is scored like the zoo's entries
(``eval_latent`` with the zoo's judge) and one JSON line appended to OUT, so a run cut short still reports.
Seeds are the recipe's; a configuration worth keeping is then trained on the CPU by the training CLI.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import torch

from training.__main__ import judge as training_judge
from training.tasks import TRAINERS, Options
from training.tasks.latent import eval_latent
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import embedded_dir


def main(name: str, spec: str, out: str) -> None:
    cfg = json.loads(spec)
    base = ENTRIES["dcgan-28"]
    entry = dataclasses.replace(
        base,
        kwargs={**base.kwargs, "width": cfg.get("width", base.kwargs["width"]), **cfg.get("kwargs", {})},
        recipe=dataclasses.replace(base.recipe, extra=cfg.get("extra", base.recipe.extra)),
    )
    epochs, every = cfg.get("epochs", base.recipe.epochs), cfg.get("every", 4)
    judge, start = training_judge([embedded_dir()]), time.perf_counter()  # the judge `train` scores with

    def score(epoch: int, model) -> None:
        if epoch % every and epoch != epochs:
            return
        metrics = eval_latent(model, judge).metrics
        row = {"name": name, "epoch": epoch, "seconds": round(time.perf_counter() - start, 1), **cfg, **metrics}
        with open(out, "a") as f:
            f.write(json.dumps(row, allow_nan=False) + "\n")
        print(json.dumps(row), flush=True)

    torch.set_num_threads(cfg.get("threads", 2))
    torch.manual_seed(base.recipe.seed)
    options = Options(
        epochs=epochs,
        batch_size=cfg.get("batch_size", base.recipe.batch_size),
        lr=cfg.get("lr", base.recipe.lr),
        seed=base.recipe.seed,
        progress=False,
        on_epoch=score,
    )
    TRAINERS["dcgan"](entry, options)


if __name__ == "__main__":
    main(*sys.argv[1:4])
