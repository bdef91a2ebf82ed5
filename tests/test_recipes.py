"""The reference networks, their recipes, and the benchmark scripts that time them."""

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from course import COURSE_ROOT
from dlcv.recipes import CNN_RECIPE, MLP_RECIPE, MODELS, Recipe, lecture_mlp, small_cnn

sys.path.insert(0, str(COURSE_ROOT / "benchmarks"))
import run as benchmark_run  # noqa: E402


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def test_the_networks_have_the_shapes_the_book_states():
    assert count_parameters(lecture_mlp()) == 269_322
    assert count_parameters(small_cnn()) == 80_554
    digits = torch.zeros(3, 1, 28, 28)
    assert lecture_mlp()(digits).shape == small_cnn().eval()(digits).shape == (3, 10)
    assert set(MODELS) == {"mlp", "cnn"}
    assert MODELS["mlp"][1] is MLP_RECIPE and MODELS["cnn"][1] is CNN_RECIPE


def test_the_recipe_loss_is_cross_entropy_with_its_label_smoothing():
    logits, targets = torch.randn(8, 10), torch.randint(0, 10, (8,))
    smooth = Recipe(epochs=1, batch_size=4, lr=1e-3, label_smoothing=0.1)
    plain = Recipe(epochs=1, batch_size=4, lr=1e-3)
    assert torch.allclose(smooth.loss_fn(logits, targets), F.cross_entropy(logits, targets, label_smoothing=0.1))
    assert torch.allclose(plain.loss_fn(logits, targets), F.cross_entropy(logits, targets))
    assert not torch.allclose(smooth.loss_fn(logits, targets), plain.loss_fn(logits, targets))


def test_a_recipe_trains_for_its_epochs_and_lowers_the_loss():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(512, 1, 28, 28, generator=generator)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()  # a learnable rule
    recipe = Recipe(epochs=3, batch_size=64, lr=3e-3, label_smoothing=0.1)
    history = recipe.train(lecture_mlp(), (x, y), generator=generator, progress=False)
    assert len(history.train_loss) == 3
    assert history.train_loss[-1] < history.train_loss[0]


def test_train_mnist_prints_the_accuracy_last(tmp_path):
    result = subprocess.run([sys.executable, str(COURSE_ROOT / "benchmarks" / "train_mnist.py"),
                             "--model", "mlp", "--seed", "0"],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("test_accuracy=0.") and len(last) == len("test_accuracy=0.xxxx"), last
    assert float(last.split("=")[1]) > 0.97  # the lecture's MLP, trained: far above chance


def test_benchmark_summary_checks_the_targets():
    runs = [{"model": "mlp", "seed": s, "test_accuracy": a, "process_seconds": t, "train_seconds": t - 3}
            for s, a, t in [(0, 0.985, 9.0), (1, 0.984, 30.0), (2, 0.986, 10.0)]]
    summary = benchmark_run.summarise(runs, torch.device("cpu"))["mlp"]
    assert summary["mean_test_accuracy"] == 0.985 and summary["median_process_seconds"] == 10.0
    assert summary["target_met"] is True
    slow = [dict(run, process_seconds=20.0) for run in runs]
    assert benchmark_run.summarise(slow, torch.device("cpu"))["mlp"]["target_met"] is False
    json.dumps(summary)  # results.json must be able to hold it


@pytest.mark.parametrize("name", ["01_imagenet.ipynb", "07_pooling_striding.ipynb"])
def test_benchmark_finds_the_chapters_in_book_order(name):
    names = [path.name for path in benchmark_run.book_notebooks()]
    assert name in names and names == sorted(names)
