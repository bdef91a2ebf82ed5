"""Choose a reference network's recipe on the validation images, never on the test set.

    python benchmarks/choose_recipe.py --model cnn
    python benchmarks/choose_recipe.py --model mlp

Each setting of a small grid around the course's recipe (``dlcv.recipes``) takes one trick
out or moves one number: no label smoothing, a constant learning rate instead of the
one-cycle schedule, no batch normalisation (the CNN only), half and twice the peak learning
rate, one more epoch. Every setting trains on the 50,000 images that
``dlcv.data.train_validation_split`` keeps, over two seeds, and is measured on the 10,000
held out. The test set is never loaded.

The rule: the highest mean validation accuracy among the settings whose training fits the
model's time target, with ties (within 0.05 points) going to the cheaper setting: the one with
fewer epochs, and among equal epochs the first in the grid, which puts the course's recipe
first (a change has to beat it by more than a tie). Measured times do not break ties: on a
busy machine they differ by 20% between settings that do the same work.

Whether a setting fits is judged on a clean measurement, not on this run's clock: other work
on the machine can slow training several times over. A setting's cost is the processor time
its training takes (``time.process_time``, which a busy machine barely changes), relative to
the course's recipe in the same run; its whole process is then estimated from the recipe's
median process and training times in ``benchmarks/results.json`` (``benchmarks/run.py``, all
60,000 images, nothing else running): process - training + training x relative cost, against
``dlcv.recipes.CPU_TARGETS``. The wall-clock training time is recorded beside it.

All runs share one process (PyTorch imported once) on the CPU, the device the time targets
are set for; ``--threads 1`` keeps a busy machine from thrashing. Prints a table and writes
``benchmarks/recipe_choice.json`` (device, threads, load average, versions, date, every run;
one entry per model), so that the README's figures can be traced.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from dlcv.data import mnist_tensors, train_validation_split
from dlcv.device import describe_device
from dlcv.recipes import CPU_TARGETS, MODELS, Recipe, small_cnn
from dlcv.seeding import seed_everything
from dlcv.training import accuracy, fit

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "recipe_choice.json"
BENCHMARK = ROOT / "benchmarks" / "results.json"
COURSE_RECIPE = "current recipe"
SEEDS = (0, 1)
TIE = 0.0005  # 0.05 points of accuracy
TARGET_SECONDS = {model: most for model, (_, most) in CPU_TARGETS.items()}  # per whole process, 2 CPU cores


def cnn_without_batchnorm() -> nn.Sequential:
    """``small_cnn`` with its three batch normalisation layers taken out, nothing else changed."""
    return nn.Sequential(*[layer for layer in small_cnn() if not isinstance(layer, nn.modules.batchnorm._BatchNorm)])


@dataclasses.dataclass(frozen=True)
class Setting:
    """One point of the grid: a recipe, whether it uses the one-cycle schedule, and the network."""

    name: str
    recipe: Recipe
    one_cycle: bool = True
    build: Callable[[], nn.Module] | None = None  # None: the model's own network


def grid(model: str) -> list[Setting]:
    """The course's recipe, then one change at a time."""
    recipe = dataclasses.replace(MODELS[model][1], gpu=None)
    settings = [
        Setting(COURSE_RECIPE, recipe),
        Setting("no label smoothing", dataclasses.replace(recipe, label_smoothing=0.0)),
        Setting("constant learning rate", recipe, one_cycle=False),
        Setting("lr x0.5", dataclasses.replace(recipe, lr=recipe.lr / 2)),
        Setting("lr x2", dataclasses.replace(recipe, lr=recipe.lr * 2)),
        Setting(f"{recipe.epochs + 1} epochs", dataclasses.replace(recipe, epochs=recipe.epochs + 1)),
    ]
    if model == "cnn":
        settings.insert(3, Setting("no batch normalisation", recipe, build=cnn_without_batchnorm))
    return settings


def train_once(model: str, setting: Setting, seed: int, train_data, validation_data) -> dict:
    """Train one setting from one seed and measure it on the validation images."""
    generator = seed_everything(seed)
    network = (setting.build or MODELS[model][0])()
    recipe = setting.recipe
    cpu_start = time.process_time()
    history = fit(network, train_data, epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                  loss_fn=recipe.loss_fn, one_cycle=setting.one_cycle, generator=generator, progress=False)
    return {"setting": setting.name, "seed": seed, "epochs": recipe.epochs,
            "validation_accuracy": round(accuracy(network, *validation_data), 4),
            "train_seconds": round(history.seconds, 2),
            "train_cpu_seconds": round(time.process_time() - cpu_start, 2)}


def warm_up(model: str, settings: list[Setting], train_data, validation_data) -> None:
    """Train and measure each network of the grid briefly, untimed, before the timed runs.

    Without it the first setting, the course's recipe, pays more of the process's one-off costs:
    it measured about 20% dearer than settings that do the same work, and 10% to 17% with it
    (2026-12-02, a busy machine), which is why relative costs are read as estimates.
    """
    for build in dict.fromkeys(setting.build or MODELS[model][0] for setting in settings):
        network = build()
        settings[0].recipe.warm_up(network, train_data, steps=50)
        accuracy(network, *validation_data)


def summarise(runs: list[dict], target_seconds: float, benchmark: dict) -> list[dict]:
    """One row per setting, in the grid's order: mean accuracy, relative cost, and whether it fits.

    The cost is in processor seconds (``train_cpu_seconds``), relative to the course's recipe,
    which the runs must include; ``benchmark`` is that recipe as ``run.py`` measured it
    (``median_process_seconds`` and ``median_train_seconds``).
    """
    def mean_seconds(name, clock="train_seconds"):
        return statistics.mean(run[clock] for run in runs if run["setting"] == name)

    rows = []
    for name in dict.fromkeys(run["setting"] for run in runs):
        mine = [run for run in runs if run["setting"] == name]
        cost = mean_seconds(name, "train_cpu_seconds") / mean_seconds(COURSE_RECIPE, "train_cpu_seconds")
        process_seconds = (benchmark["median_process_seconds"] - benchmark["median_train_seconds"]
                           + benchmark["median_train_seconds"] * cost)
        rows.append({"setting": name, "epochs": mine[0]["epochs"],
                     "validation_accuracies": [run["validation_accuracy"] for run in mine],
                     "mean_validation_accuracy": round(statistics.mean(run["validation_accuracy"] for run in mine), 4),
                     "mean_train_seconds": round(mean_seconds(name), 2),
                     "relative_cost": round(cost, 2),
                     "estimated_process_seconds": round(process_seconds, 1),
                     "fits": process_seconds <= target_seconds})
    return rows


def choose(rows: list[dict]) -> dict:
    """The best mean validation accuracy among the rows that fit; within ``TIE`` of it, the cheapest.

    The cheapest is the one with the fewest epochs; among equal epochs, the first in the grid
    (the course's recipe comes first, so a change has to beat it by more than a tie).
    """
    fitting = [row for row in rows if row["fits"]]
    if not fitting:
        raise ValueError("no setting fits the time target: widen the grid or the target.")
    best = max(row["mean_validation_accuracy"] for row in fitting)
    close = [row for row in fitting if row["mean_validation_accuracy"] >= best - TIE - 1e-9]
    return min(close, key=lambda row: row["epochs"])  # the first of equals


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--settings", nargs="+", help="run only these settings of the grid, by name")
    parser.add_argument("--limit", type=int, help="train and validate on the first N images of each part (tests)")
    parser.add_argument("--threads", type=int, help="PyTorch's threads (default: its own choice)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    benchmark = json.loads(BENCHMARK.read_text())["models"][args.model]
    train_data, validation_data = train_validation_split(*mnist_tensors(train=True, device=device))
    if args.limit:
        train_data = tuple(part[:args.limit] for part in train_data)
        validation_data = tuple(part[:args.limit] for part in validation_data)
    names = [s.name for s in grid(args.model)]
    if args.settings and not set(args.settings) <= set(names):
        raise SystemExit(f"no such settings; the grid has: {', '.join(names)}")
    settings = [s for s in grid(args.model)  # the course's recipe always: costs are relative to it
                if args.settings is None or s.name in args.settings or s.name == COURSE_RECIPE]

    results = {"device": describe_device(device), "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
               "python": platform.python_version(), "torch": torch.__version__,
               "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "train_images": len(train_data[0]), "validation_images": len(validation_data[0]),
               "load_average_before": [round(load, 2) for load in os.getloadavg()],
               "target_seconds": TARGET_SECONDS[args.model],
               "benchmark": {"date": json.loads(BENCHMARK.read_text())["date"],
                             **{key: benchmark[key] for key in ("median_process_seconds", "median_train_seconds")}},
               "settings": {s.name: {**dataclasses.asdict(s.recipe), "one_cycle": s.one_cycle,
                                     "network": (s.build or MODELS[args.model][0]).__name__} for s in settings},
               "runs": []}
    print(f"{args.model} on {results['device']}, {results['cpu_count']} CPUs, torch {results['torch']}: "
          f"{results['train_images']:,} training and {results['validation_images']:,} validation images")
    warm_up(args.model, settings, train_data, validation_data)
    for setting in settings:
        for seed in SEEDS:
            run = train_once(args.model, setting, seed, train_data, validation_data)
            results["runs"].append(run)
            print(f"  {setting.name}, seed {seed}: {run['validation_accuracy']:.2%} "
                  f"({run['train_seconds']:.1f} s of training)", flush=True)
    results["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    rows = summarise(results["runs"], TARGET_SECONDS[args.model], benchmark)
    results["summary"] = rows
    results["chosen"] = choose(rows)["setting"]

    print()
    print(f"{'setting':<24}{'seeds 0/1':>16}{'mean':>9}{'training':>10}{'cost':>6}{'process (est.)':>16}")
    for row in rows:
        seeds = "/".join(f"{a:.2%}" for a in row["validation_accuracies"])
        fits = "" if row["fits"] else f"  over {TARGET_SECONDS[args.model]:.0f} s"
        print(f"{row['setting']:<24}{seeds:>16}{row['mean_validation_accuracy']:>9.2%}"
              f"{row['mean_train_seconds']:>9.1f}s{row['relative_cost']:>6.2f}"
              f"{row['estimated_process_seconds']:>15.1f}s{fits}")
    print(f"chosen: {results['chosen']}")
    recorded = json.loads(args.output.read_text()) if args.output.is_file() else {}
    args.output.write_text(json.dumps({**recorded, args.model: results}, indent=2) + "\n")
    print(f"written: {args.output} (under \"{args.model}\")")
    return results


if __name__ == "__main__":
    main()
