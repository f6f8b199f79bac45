#!/usr/bin/env python3
"""FashionLab against PyTorch on this machine, side by side.

Alternates `fashionlab bench --json` with the same work in PyTorch (the notebook's MLP in the fast
style: whole dataset in one tensor, batches by indexing), several rounds, and prints the median
seconds of each side and the ratio. PyTorch runs `pytorch_seed.py` (the reference implementation of
the notebook; default ../shared/bench/pytorch_seed.py).

    python3 -m venv .venv && .venv/bin/pip install "torch==2.13.0+cpu" numpy
    swift build -c release
    .venv/bin/python scripts/compare_pytorch.py --rounds 3
    .venv/bin/python scripts/compare_pytorch.py --rounds 3 --unset-coretype   # OpenBLAS picks its own kernels
"""
import argparse, json, os, statistics, subprocess, sys, time


def run_json_lines(command, env):
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2, help="epochs (repetitions) per round on each side")
    ap.add_argument("--fashionlab", default=os.path.join(root, ".build/release/fashionlab"))
    ap.add_argument("--pytorch-script", default=os.path.join(root, "../shared/bench/pytorch_seed.py"))
    ap.add_argument("--python", default=sys.executable, help="the Python that has torch")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="FashionLab's device; PyTorch uses the GPU whenever torch sees one (pytorch_seed.py)")
    ap.add_argument("--unset-coretype", action="store_true",
                    help="unset OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for both sides in this run only")
    a = ap.parse_args()

    env = dict(os.environ)
    if a.unset_coretype:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)

    ours = {"sgd": [], "adam": [], "eval": []}
    theirs = {"sgd": [], "adam": [], "eval": []}
    info = {}
    for round_index in range(a.rounds):
        report = run_json_lines([a.fashionlab, "bench", "--json", "--device", a.device, "--repetitions", str(a.epochs)], env)[-1]
        ours["sgd"] += report["sgdEpoch"]["seconds"]
        ours["adam"] += report["adamEpoch"]["seconds"]
        ours["eval"] += report["evaluation"]["seconds"]
        info = report
        sgd = run_json_lines([a.python, a.pytorch_script, "scaled-sgd", "--style", "fast", "--epochs", str(a.epochs)], env)
        adam = run_json_lines([a.python, a.pytorch_script, "batch32-adam", "--style", "fast", "--epochs", str(a.epochs)], env)
        theirs["sgd"] += [row["train_s"] for row in sgd if "epoch" in row]
        theirs["adam"] += [row["train_s"] for row in adam if "epoch" in row]
        theirs["eval"] += [row["eval_s"] for row in adam if "epoch" in row]
        torch_version = adam[-1].get("torch")
        print(f"round {round_index + 1}/{a.rounds}: FashionLab sgd {statistics.median(report['sgdEpoch']['seconds']):.3f} s, "
              f"adam {statistics.median(report['adamEpoch']['seconds']):.3f} s, eval {statistics.median(report['evaluation']['seconds']):.3f} s | "
              f"PyTorch sgd {statistics.median(theirs['sgd'][-a.epochs:]):.3f} s, adam {statistics.median(theirs['adam'][-a.epochs:]):.3f} s, "
              f"eval {statistics.median(theirs['eval'][-a.epochs:]):.3f} s", flush=True)

    kernel = info.get("blasKernel") or "?"
    print()
    backend = f"FashionLab on {info.get('backend')}" if a.device == "cuda" else f"FashionLab BLAS {info.get('blas')} ({kernel} kernels)"
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"{backend}, PyTorch {torch_version} fast style; medians of {a.rounds} rounds × {a.epochs}")
    print("| what | PyTorch | FashionLab | speed-up |")
    print("| --- | --- | --- | --- |")
    for key, label in [("sgd", "training epoch, SGD, batch 32"), ("adam", "training epoch, Adam, batch 32"),
                       ("eval", "evaluation (60k train + 10k test)")]:
        p, f = statistics.median(theirs[key]), statistics.median(ours[key])
        print(f"| {label} | {p:.3f} s | {f:.3f} s | {p / f:.2f}× |")


if __name__ == "__main__":
    main()
