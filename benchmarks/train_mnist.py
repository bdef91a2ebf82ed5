"""Train one of the course's reference networks on MNIST, once, from a cold start.

    python benchmarks/train_mnist.py --model cnn --seed 0

Everything a user waits for is inside the process: importing PyTorch, reading MNIST,
training with the recipe the book uses (``dlcv.recipes``) and testing on all 10,000
test digits. The last line printed is ``test_accuracy=0.xxxx``; ``benchmarks/run.py``
times whole runs of this script.
"""

import argparse
import time

START = time.perf_counter()

from dlcv.data import mnist_tensors  # noqa: E402  (imports are part of what is timed)
from dlcv.device import choose_device, describe_device  # noqa: E402
from dlcv.recipes import MODELS  # noqa: E402
from dlcv.seeding import seed_everything  # noqa: E402
from dlcv.training import accuracy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args()

    device = choose_device(verbose=False)
    generator = seed_everything(args.seed)
    build, recipe = MODELS[args.model]
    train_data = mnist_tensors(train=True, device=device)
    test_x, test_y = mnist_tensors(train=False, device=device)
    model = build().to(device)
    history = recipe.train(model, train_data, generator=generator, progress=args.progress)
    test_accuracy = accuracy(model, test_x, test_y)
    print(f"model={args.model} seed={args.seed} device={describe_device(device)!r} "
          f"recipe={recipe} train_seconds={history.seconds:.2f} "
          f"process_seconds={time.perf_counter() - START:.2f}")
    print(f"test_accuracy={test_accuracy:.4f}")


if __name__ == "__main__":
    main()
