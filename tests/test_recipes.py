"""The reference networks, their recipes, and the benchmark scripts that time them."""

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from benchmarks import run as benchmark_run
from dlcv.recipes import CNN_RECIPE, MLP_RECIPE, MODELS, Recipe, lecture_mlp, small_cnn
from tests.helpers.course import COURSE_ROOT


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


def test_a_recipe_names_its_gpu_variant_and_uses_it_only_on_cuda():
    assert CNN_RECIPE.for_device("cpu") is CNN_RECIPE
    assert CNN_RECIPE.for_device(torch.device("cuda")) is CNN_RECIPE.gpu
    assert CNN_RECIPE.gpu.batch_size > CNN_RECIPE.batch_size and CNN_RECIPE.gpu.gpu is None
    assert MLP_RECIPE.for_device("cuda") is MLP_RECIPE  # no GPU variant: the same recipe


def test_warming_up_leaves_the_model_untouched():
    generator = torch.Generator().manual_seed(0)
    model = lecture_mlp()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    x, y = torch.randn(256, 1, 28, 28, generator=generator), torch.randint(0, 10, (256,), generator=generator)
    MLP_RECIPE.warm_up(model, (x, y))
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert all(parameter.grad is None for parameter in model.parameters())


def run_train_mnist(tmp_path, *arguments):
    result = subprocess.run([sys.executable, str(COURSE_ROOT / "benchmarks" / "train_mnist.py"), *arguments],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()


def test_train_mnist_prints_the_accuracy_last(tmp_path):
    *_, details, last = run_train_mnist(tmp_path, "--model", "mlp", "--seed", "0")
    assert last.startswith("test_accuracy=0.") and len(last) == len("test_accuracy=0.xxxx"), last
    assert float(last.split("=")[1]) > 0.97  # the lecture's MLP, trained: far above chance
    assert f"recipe={MLP_RECIPE}" in details  # the course's recipe, unchanged
    for field in ("warm_up_seconds=", " train_seconds=", "process_seconds="):  # what run.py reads
        assert field in details, details


def test_train_mnist_tries_another_recipe_when_asked(tmp_path):
    *_, details, last = run_train_mnist(tmp_path, "--model", "mlp", "--epochs", "1", "--batch-size", "1000",
                                        "--lr", "0.005")
    assert "recipe=Recipe(epochs=1, batch_size=1000, lr=0.005, label_smoothing=0.1, gpu=None)" in details
    assert float(last.split("=")[1]) > 0.9  # one epoch of large batches still learns


def test_train_mnist_measures_on_validation_and_leaves_the_test_set_alone(tmp_path):
    *_, details, last = run_train_mnist(tmp_path, "--model", "mlp", "--epochs", "1", "--batch-size", "1000",
                                        "--validation")
    assert last.startswith("validation_accuracy=0.") and float(last.split("=")[1]) > 0.9, last
    assert "test_accuracy" not in details


def test_benchmark_summary_reports_the_validation_accuracy_beside_the_test_accuracy():
    runs = [{"model": "mlp", "seed": s, "test_accuracy": 0.985, "process_seconds": 9.0, "train_seconds": 6.0}
            for s in range(2)]
    checked = [{"model": "mlp", "seed": s, "validation_accuracy": a} for s, a in [(0, 0.982), (1, 0.984)]]
    summary = benchmark_run.summarise(runs, torch.device("cpu"), checked)["mlp"]
    assert summary["mean_validation_accuracy"] == 0.983 and summary["mean_test_accuracy"] == 0.985
    assert "mean_validation_accuracy" not in benchmark_run.summarise(runs, torch.device("cpu"))["mlp"]


def test_benchmark_summary_checks_the_targets():
    runs = [{"model": "mlp", "seed": s, "test_accuracy": a, "process_seconds": t, "train_seconds": t - 3}
            for s, a, t in [(0, 0.985, 9.0), (1, 0.984, 30.0), (2, 0.986, 10.0)]]
    summary = benchmark_run.summarise(runs, torch.device("cpu"))["mlp"]
    assert summary["mean_test_accuracy"] == 0.985 and summary["median_process_seconds"] == 10.0
    assert summary["target_met"] is True
    slow = [dict(run, process_seconds=20.0) for run in runs]
    assert benchmark_run.summarise(slow, torch.device("cpu"))["mlp"]["target_met"] is False
    json.dumps(summary)  # results.json must be able to hold it


@pytest.mark.parametrize("name", ["01_imagenet.ipynb", "09_pooling_striding.ipynb"])
def test_benchmark_finds_the_chapters_in_book_order(name):
    names = [path.name for path in benchmark_run.book_notebooks()]
    assert name in names and names == sorted(names)


def test_the_benchmark_records_a_failing_chapter_and_runs_the_rest(tmp_path):
    import nbformat

    def notebook(name, source):
        path = tmp_path / name
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
        return path

    failing = notebook("a_claim.ipynb", "assert 1 + 1 == 3, 'the claim no longer holds'")
    healthy = notebook("b_chapter.ipynb", "print(6 * 7)")
    results = benchmark_run.run_notebooks([failing, healthy])
    assert list(results["notebooks"]) == ["b_chapter.ipynb"]
    assert "the claim no longer holds" in results["notebook_failures"]["a_claim.ipynb"]
    assert results["notebooks_target_met"] is False
