"""Train one of the course's reference networks on MNIST, once, from a cold start.

    python benchmarks/train_mnist.py --model cnn --seed 0
    python benchmarks/train_mnist.py --model cnn --seed 0 --validation

Everything a user waits for is inside the process: importing PyTorch, reading MNIST,
training with the recipe the book uses (``dlcv.recipes``) and testing on all 10,000
test digits. The last line printed is ``test_accuracy=0.xxxx``; ``benchmarks/run.py``
times whole runs of this script.

With ``--validation`` the run is the one a recipe is chosen on: it trains on the 50,000
training images that ``dlcv.data.train_validation_split`` keeps, never loads the test
set, and prints ``validation_accuracy=0.xxxx`` last, measured on the 10,000 held out.
Try other settings (``--epochs``, ``--batch-size``, ``--lr``, ``--label-smoothing``) this
way, and only then measure the chosen recipe on the test set; ``benchmarks/choose_recipe.py``
runs the course's grid of them.

On a CUDA GPU the recipe's ``gpu`` variant runs, after a warm-up of a few steps on a
throwaway copy of the network: ``train_seconds`` is then training alone, and the
warm-up is printed beside it (and counted in ``process_seconds``). ``--epochs``,
``--batch-size``, ``--lr`` and ``--label-smoothing`` try another recipe before it replaces the
course's.
"""

import argparse
import dataclasses
import time

START = time.perf_counter()

from dlcv.data import mnist_tensors, train_validation_split  # noqa: E402  (imports are part of what is timed)
from dlcv.device import choose_device, describe_device  # noqa: E402
from dlcv.recipes import MODELS  # noqa: E402
from dlcv.seeding import seed_everything  # noqa: E402
from dlcv.training import accuracy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    parser.add_argument("--epochs", type=int, help="instead of the recipe's")
    parser.add_argument("--batch-size", type=int, help="instead of the recipe's")
    parser.add_argument("--lr", type=float, help="peak learning rate, instead of the recipe's")
    parser.add_argument("--label-smoothing", type=float, help="instead of the recipe's (0 for none)")
    parser.add_argument("--validation", action="store_true",
                        help="train on 50,000 images, measure the 10,000 held out; leave the test set alone")
    args = parser.parse_args()

    device = choose_device(verbose=False)
    generator = seed_everything(args.seed)
    build, recipe = MODELS[args.model]
    changes = {name: value for name, value in
               [("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr),
                ("label_smoothing", args.label_smoothing)]
               if value is not None}
    recipe = dataclasses.replace(recipe.for_device(device), gpu=None, **changes)
    train_data = mnist_tensors(train=True, device=device)
    if args.validation:
        train_data, (measure_x, measure_y) = train_validation_split(*train_data)
    else:
        measure_x, measure_y = mnist_tensors(train=False, device=device)
    model = build().to(device)
    warm_up_start = time.perf_counter()
    if device.type == "cuda":
        recipe.warm_up(model, train_data)
    warm_up_seconds = time.perf_counter() - warm_up_start
    history = recipe.train(model, train_data, generator=generator, progress=args.progress)
    measured = accuracy(model, measure_x, measure_y)
    print(f"model={args.model} seed={args.seed} device={describe_device(device)!r} "
          f"recipe={recipe} warm_up_seconds={warm_up_seconds:.2f} train_seconds={history.seconds:.2f} "
          f"process_seconds={time.perf_counter() - START:.2f}")
    print(f"{'validation' if args.validation else 'test'}_accuracy={measured:.4f}")


if __name__ == "__main__":
    main()
