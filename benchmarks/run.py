"""Time the course: both reference networks over three seeds, every book chapter, the test suite.

Each network and seed runs twice: trained on the 50,000-image training part and measured on
the 10,000 validation images (what the recipes are chosen on; untimed against a target), then
trained on all 60,000 and measured once on the test set (the reported accuracy and time).

    python benchmarks/run.py                 # everything (the test suite takes ~15 min on 2 cores)
    python benchmarks/run.py --skip-tests    # training runs and chapters only

Prints a table and writes ``benchmarks/results.json`` (with the device's name), so that
figures in the README can be traced to a run. A benchmark, not a test: it reports
whether each target of the course is met, and fails nothing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import torch
import yaml
from nbclient import NotebookClient

from dlcv.device import choose_device, describe_device
from dlcv.recipes import CPU_TARGETS

ROOT = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = ROOT / "benchmarks" / "train_mnist.py"
RESULTS = ROOT / "benchmarks" / "results.json"

NOTEBOOKS_TARGET_SECONDS = 300.0


def time_training_run(model: str, seed: int, validation: bool = False) -> dict:
    """Run ``train_mnist.py`` in a fresh process; its wall time includes every import.

    With ``validation`` the run trains on the training part and reports the validation
    accuracy (``validation_accuracy``) instead of the test accuracy.
    """
    measure = "validation_accuracy" if validation else "test_accuracy"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(TRAIN_SCRIPT), "--model", model, "--seed", str(seed),
                             *(["--validation"] if validation else [])],
                            capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{model} seed {seed} failed:\n{result.stderr[-3000:]}")
    lines = result.stdout.strip().splitlines()
    accuracy = float(re.fullmatch(measure + r"=([0-9.]+)", lines[-1]).group(1))
    train_seconds = float(re.search(r" train_seconds=([0-9.]+)", lines[-2]).group(1))
    warm_up_seconds = float(re.search(r" warm_up_seconds=([0-9.]+)", lines[-2]).group(1))
    return {"model": model, "seed": seed, measure: accuracy,
            "process_seconds": round(seconds, 2), "train_seconds": train_seconds,
            "warm_up_seconds": warm_up_seconds}


def book_notebooks() -> list[Path]:
    """The chapters in the order of ``_toc.yml``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    return [ROOT / f"{name}.ipynb" for name in files if (ROOT / f"{name}.ipynb").is_file()]


def time_notebook(path: Path) -> float:
    """Execute a notebook top to bottom in a fresh kernel, as the book build does.

    A cell that raises (a claim's ``assert`` among them) raises here too.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return round(time.perf_counter() - start, 2)


def run_notebooks(paths: list[Path]) -> dict:
    """Time every chapter; one that fails is recorded with its error and the rest still run."""
    seconds, failures = {}, {}
    for path in paths:
        try:
            seconds[path.name] = time_notebook(path)
            print(f"  {path.name}: {seconds[path.name]:.1f} s", flush=True)
        except Exception as error:  # noqa: BLE001  (a benchmark reports, the tests fail)
            failures[path.name] = str(error)[-2000:]
            print(f"  {path.name}: FAILED\n{failures[path.name]}", flush=True)
    total = round(sum(seconds.values()), 2)
    return {"notebooks": seconds, "notebook_failures": failures, "notebooks_total_seconds": total,
            "notebooks_target_met": not failures and total <= NOTEBOOKS_TARGET_SECONDS}


def time_test_suite() -> dict:
    """The README's test command minus the install: ``python -m pytest``."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q"], capture_output=True, text=True, cwd=ROOT)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return {"seconds": round(time.perf_counter() - start, 2), "exit_code": result.returncode, "summary": summary}


def summarise(runs: list[dict], device: torch.device, validation_runs: list[dict] = ()) -> dict:
    """Mean accuracy and median process time per model, and whether the targets are met.

    ``validation_runs`` add each model's mean validation accuracy, the figure its recipe was
    checked on; the targets are judged on the test runs.
    """
    summary = {}
    for model in sorted({run["model"] for run in runs}):
        mine = [run for run in runs if run["model"] == model]
        validated = [run["validation_accuracy"] for run in validation_runs if run["model"] == model]
        row = {
            **({"mean_validation_accuracy": round(statistics.mean(validated), 4)} if validated else {}),
            "mean_test_accuracy": round(statistics.mean(r["test_accuracy"] for r in mine), 4),
            "median_process_seconds": round(statistics.median(r["process_seconds"] for r in mine), 2),
            "median_train_seconds": round(statistics.median(r["train_seconds"] for r in mine), 2),
        }
        if device.type == "cpu" and model in CPU_TARGETS:
            least, most = CPU_TARGETS[model]
            row["target"] = f">= {least:.2%} in <= {most:.0f} s"
            row["target_met"] = row["mean_test_accuracy"] >= least and row["median_process_seconds"] <= most
        if device.type == "cuda" and model == "cnn":
            row["target"] = ">= 99.00% in <= 0.5 s of training"
            row["target_met"] = row["mean_test_accuracy"] >= 0.99 and row["median_train_seconds"] <= 0.5
        summary[model] = row
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    device = choose_device(verbose=False)
    results = {
        "device": describe_device(device),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "validation_runs": [],
        "runs": [],
    }
    print(f"device: {results['device']}, {results['cpu_count']} CPUs, torch {results['torch']}")
    for model in ("mlp", "cnn"):
        for seed in args.seeds:
            checked = time_training_run(model, seed, validation=True)
            results["validation_runs"].append(checked)
            print(f"  {model} seed {seed}: {checked['validation_accuracy']:.2%} on validation "
                  f"(trained on 50,000 images)", flush=True)
            run = time_training_run(model, seed)
            results["runs"].append(run)
            print(f"  {model} seed {seed}: {run['test_accuracy']:.2%} in {run['process_seconds']:.1f} s "
                  f"(training {run['train_seconds']:.2f} s, warm-up {run['warm_up_seconds']:.2f} s)",
                  flush=True)
    results["models"] = summarise(results["runs"], device, results["validation_runs"])

    if not args.skip_notebooks:
        results.update(run_notebooks(book_notebooks()))
    if not args.skip_tests:
        print("  test suite: running python -m pytest ...", flush=True)
        results["test_suite"] = time_test_suite()

    print()
    print(f"{'model':<6}{'mean validation':>16}{'mean test':>11}{'median process':>16}{'median training':>17}  target")
    for model, row in results["models"].items():
        verdict = ("met" if row["target_met"] else "NOT met") if "target" in row else "-"
        print(f"{model:<6}{row.get('mean_validation_accuracy', float('nan')):>16.2%}"
              f"{row['mean_test_accuracy']:>11.2%}{row['median_process_seconds']:>15.1f}s"
              f"{row['median_train_seconds']:>16.2f}s  {row.get('target', '')} {verdict}")
    if "notebooks" in results:
        verdict = "met" if results["notebooks_target_met"] else "NOT met"
        failed = f", FAILED: {', '.join(results['notebook_failures'])}" if results["notebook_failures"] else ""
        print(f"book chapters together: {results['notebooks_total_seconds']:.1f} s "
              f"(target <= {NOTEBOOKS_TARGET_SECONDS:.0f} s: {verdict}){failed}")
    if "test_suite" in results:
        suite = results["test_suite"]
        print(f"test suite: {suite['seconds']:.1f} s, exit code {suite['exit_code']}: {suite['summary']}")
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
