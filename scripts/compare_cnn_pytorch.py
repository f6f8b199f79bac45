#!/usr/bin/env python3
"""The CNN recipe's epoch in FashionLab against the same network and recipe in PyTorch, side by side.

Alternates one epoch of `fashionlab train --recipe cnn` (the same flags with --model cnn-large) with one
epoch of the same `nn.Sequential` (pytorch_models.py) and recipe in PyTorch: Adam with OneCycleLR (max 0.004,
stepped every batch), batch 64, inputs normalised by the training mean and standard deviation, the whole
dataset in one tensor (PyTorch's fast style), as many threads as cores. Prints each side's training and
test-evaluation seconds, the medians and the ratio. With --device cuda both sides train on the GPU (PyTorch
after a few untimed warm-up steps of a throwaway model, so that its CUDA libraries are loaded and cuDNN has
chosen its algorithms before the clock starts).

    .venv/bin/python scripts/compare_cnn_pytorch.py --rounds 2 [--model cnn-large] [--device cuda]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import torch, torch.nn as nn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_models import cnn, cnn_large, idx

RECIPE = ["--optimizer", "adam", "--lr", "0.004", "--schedule", "onecycle", "--batch-size", "64", "--normalize",
          "--train-metrics", "batches"]
EPOCHS = 6  # the recipe's; one of them is timed


def fashionlab_epoch(binary, model, data, device):
    """The first epoch of the recipe (the process is stopped after it)."""
    with tempfile.TemporaryDirectory() as out:
        process = subprocess.Popen([binary, "train", "--device", device, "--model", model, *RECIPE, "--epochs", str(EPOCHS), "--json", "--quiet",
                                    "--data", data, "--out", out + "/run"], stdout=subprocess.PIPE, text=True)
        line = next(line for line in process.stdout if '"epoch"' in line)
        process.kill()
        process.wait()
    epoch = json.loads(line)
    return epoch["trainSeconds"], epoch["evaluationSeconds"], epoch["validationAccuracy"]


def pytorch_epoch(model_name, data, device):
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    build = cnn if model_name == "cnn" else cnn_large
    x = idx(os.path.join(data, "train-images-idx3-ubyte.gz")).float().div(255).view(-1, 1, 28, 28)
    y = idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).long()
    tx = idx(os.path.join(data, "t10k-images-idx3-ubyte.gz")).float().div(255).view(-1, 1, 28, 28)
    ty = idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).long()
    mean, std = x.mean(), x.std(unbiased=False)
    x, tx = ((x - mean) / std).to(device), ((tx - mean) / std).to(device)
    y, ty = y.to(device), ty.to(device)
    criterion = nn.CrossEntropyLoss()
    if device == "cuda":
        warm_up = build().to(device)
        warm_up_optimizer = torch.optim.Adam(warm_up.parameters(), lr=0.004)
        for i in range(0, 20 * 64, 64):
            warm_up_optimizer.zero_grad()
            criterion(warm_up(x[i:i + 64]), y[i:i + 64]).backward()
            warm_up_optimizer.step()
        torch.cuda.synchronize()
    model = build().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.004)
    steps = (len(x) + 63) // 64
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.004, total_steps=EPOCHS * steps, cycle_momentum=False)
    start = time.perf_counter()
    model.train()
    order = torch.randperm(len(x), device=device)
    for i in range(0, len(x), 64):
        index = order[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        schedule.step()
    if device == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(tx), 256):
            correct += (model(tx[i:i + 256]).argmax(-1) == ty[i:i + 256]).sum().item()  # .item() waits for the GPU
    return train_s, time.perf_counter() - start, correct / len(tx)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default="cnn", choices=["cnn", "cnn-large"])
    ap.add_argument("--fashionlab", default=os.path.join(root, ".build/release/fashionlab"))
    ap.add_argument("--data", default=os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where both sides train")
    a = ap.parse_args()
    ours, theirs = [], []
    for r in range(a.rounds):
        ours.append(fashionlab_epoch(a.fashionlab, a.model, a.data, a.device))
        theirs.append(pytorch_epoch(a.model, a.data, a.device))
        print(f"round {r + 1}/{a.rounds}: FashionLab train {ours[-1][0]:.1f} s, eval {ours[-1][1]:.1f} s "
              f"(val {ours[-1][2] * 100:.2f}%) | PyTorch train {theirs[-1][0]:.1f} s, eval {theirs[-1][1]:.1f} s "
              f"(val {theirs[-1][2] * 100:.2f}%)", flush=True)
    f_train, p_train = statistics.median(o[0] for o in ours), statistics.median(t[0] for t in theirs)
    f_eval, p_eval = statistics.median(o[1] for o in ours), statistics.median(t[1] for t in theirs)
    print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, PyTorch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"--model {a.model}, --device {a.device}, medians of {a.rounds} rounds")
    print("| what | PyTorch | FashionLab | speed-up |")
    print("| --- | --- | --- | --- |")
    print(f"| training epoch (60k images, batch 64, Adam, one-cycle) | {p_train:.1f} s | {f_train:.1f} s | {p_train / f_train:.2f}× |")
    print(f"| end-of-epoch evaluation (10k test images) | {p_eval:.1f} s | {f_eval:.1f} s | {p_eval / f_eval:.2f}× |")


if __name__ == "__main__":
    main()
