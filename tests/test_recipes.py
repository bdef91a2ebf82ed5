"""The reference networks, their recipes, and the benchmark scripts that time them."""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import dlcv.data
from benchmarks import choose_recipe
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
                                        "--lr", "0.005", "--label-smoothing", "0")
    assert "recipe=Recipe(epochs=1, batch_size=1000, lr=0.005, label_smoothing=0.0, gpu=None)" in details
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


def made_up_rows(*rows):
    return [{"setting": name, "mean_validation_accuracy": mean, "epochs": epochs, "fits": fits}
            for name, mean, epochs, fits in rows]


def test_the_recipe_choice_takes_the_best_setting_that_fits_and_the_cheaper_of_a_tie():
    choose = choose_recipe.choose
    current, faster_lr = ("current recipe", 0.9920, 2, True), ("lr x2", 0.9930, 2, True)
    assert choose(made_up_rows(current, faster_lr, ("3 epochs", 0.9950, 3, False)))["setting"] == "lr x2"
    assert choose(made_up_rows(current, faster_lr, ("3 epochs", 0.9950, 3, True)))["setting"] == "3 epochs"
    # within 0.05 points of the best: the one with fewer epochs
    assert choose(made_up_rows(current, faster_lr, ("3 epochs", 0.9934, 3, True)))["setting"] == "lr x2"
    # a tie at equal epochs keeps the course's recipe, first in the grid
    assert choose(made_up_rows(("current recipe", 0.9927, 2, True), faster_lr))["setting"] == "current recipe"
    with pytest.raises(ValueError, match="no setting fits"):
        choose(made_up_rows(("3 epochs", 0.9950, 3, False)))


def test_the_recipe_choice_judges_time_against_the_benchmark_not_this_run_s_clock():
    benchmark = {"median_process_seconds": 18.0, "median_train_seconds": 13.0}  # 5 s around training

    def rows(busy_while_the_course_recipe_trained=1):
        runs = [{"setting": name, "seed": seed, "epochs": 2, "validation_accuracy": 0.99, "train_cpu_seconds": seconds,
                 "train_seconds": seconds * (busy_while_the_course_recipe_trained if name == "current recipe" else 1)}
                for name, seconds in [("current recipe", 10.0), ("3 epochs", 15.0), ("4 epochs", 20.0)]
                for seed in (0, 1)]
        return choose_recipe.summarise(runs, 30.0, benchmark)

    # 5 + 13 x 1.5 = 24.5 s fits; 5 + 13 x 2 = 31 s does not
    assert [(row["setting"], row["relative_cost"], row["estimated_process_seconds"], row["fits"])
            for row in rows()] == [("current recipe", 1.0, 18.0, True), ("3 epochs", 1.5, 24.5, True),
                                   ("4 epochs", 2.0, 31.0, False)]
    busy = rows(3)  # the wall clock, slowed by other work, is recorded and changes no verdict
    assert busy[0]["mean_train_seconds"] == 30.0
    assert [{**row, "mean_train_seconds": 0} for row in busy] == [{**row, "mean_train_seconds": 0} for row in rows()]


def test_the_recipe_grid_changes_one_thing_at_a_time_around_the_course_recipe():
    settings = {setting.name: setting for setting in choose_recipe.grid("cnn")}
    assert settings["current recipe"].recipe == dataclasses.replace(CNN_RECIPE, gpu=None)
    assert settings["constant learning rate"].one_cycle is False
    assert settings["lr x2"].recipe.lr == 2 * CNN_RECIPE.lr
    assert settings["no label smoothing"].recipe.label_smoothing == 0
    plain = settings["no batch normalisation"].build()
    assert not any(isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) for layer in plain)
    assert count_parameters(plain) == 80_554 - 2 * (16 + 32 + 128) and plain(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert "no batch normalisation" not in {setting.name for setting in choose_recipe.grid("mlp")}


def test_choose_recipe_never_loads_the_test_set(monkeypatch, tmp_path):
    load_mnist = dlcv.data.load_mnist

    def training_set_only(train=True, **options):
        assert train, "choose_recipe.py loaded the test set"
        return load_mnist(train=train, **options)

    monkeypatch.setattr(dlcv.data, "load_mnist", training_set_only)
    with pytest.raises(AssertionError, match="loaded the test set"):  # the guard is in place
        dlcv.data.mnist_tensors(train=False)
    output = tmp_path / "choice.json"
    output.write_text(json.dumps({"mlp": {"chosen": "kept"}}))
    threads = torch.get_num_threads()
    try:
        choose_recipe.main(["--model", "cnn", "--settings", "no batch normalisation",  # and the course's recipe
                            "--limit", "256", "--threads", "1", "--output", str(output)])
    finally:
        torch.set_num_threads(threads)
    recorded = json.loads(output.read_text())
    assert recorded["mlp"] == {"chosen": "kept"}  # the other model's choice stays
    cnn = recorded["cnn"]
    assert cnn["train_images"] == cnn["validation_images"] == 256
    assert [(run["setting"], run["seed"]) for run in cnn["runs"]] == [
        ("current recipe", 0), ("current recipe", 1), ("no batch normalisation", 0), ("no batch normalisation", 1)]
    assert cnn["chosen"] in {"current recipe", "no batch normalisation"}
