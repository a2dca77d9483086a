#!/usr/bin/env python3
"""The PyTorch side of bench/throughput_vs_pytorch.sh: trains a `cnn`-space architecture (an
arch JSON file) on Fashion-MNIST for the same steps as build/bench/train_throughput, doing the
same work per step as nascent's trainer (uint8 batch -> float normalised, forward, cross-entropy,
loss.item() for the NaN check, backward, gradient clipping at 5, SGD Nesterov with weight decay,
per-step cosine learning rate). Prints one JSON line {"images_per_s": ...}.

  python3 bench/train_throughput.py --arch FILE [--steps 200] [--warmup 20] [--threads 2]
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def act(name):
    return {"relu": nn.ReLU(), "hswish": nn.Hardswish(), "swish": nn.SiLU(), "gelu": nn.GELU()}[name]


class ConvBn(nn.Sequential):
    def __init__(self, cin, cout, k, stride, a):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=False), nn.BatchNorm2d(cout)]
        if a != "none":
            layers.append(act(a))
        super().__init__(*layers)


class SE(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, r), nn.Linear(r, c)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class Block(nn.Module):
    def __init__(self, residual, k, se, a, cin, cout, stride):
        super().__init__()
        self.residual, self.a = residual, act(a)
        self.conv1 = ConvBn(cin, cout, k, stride, a)
        self.conv2 = ConvBn(cout, cout, k, 1, "none") if residual else None
        self.short = ConvBn(cin, cout, 1, stride, "none") if residual and (stride != 1 or cin != cout) else None
        self.se = SE(cout, max(8, cout // 4)) if se else None

    def forward(self, x):
        y = self.conv1(x)
        if self.residual:
            y = self.conv2(y)
        if self.se is not None:
            y = self.se(y)
        if not self.residual:
            return y
        return self.a(y + (self.short(x) if self.short is not None else x))


class CnnNet(nn.Module):
    """nascent's `cnn` space (src/nascent/space/cnn.cpp), layer for layer."""

    def __init__(self, ch, classes=10):
        super().__init__()
        stem = int(ch["stem"])
        self.stem = ConvBn(1, stem, 3, 1, ch["act"])
        self.blocks, self.pool = nn.ModuleList(), []
        c, s = stem, 1
        while f"s{s}_blocks" in ch:
            p = f"s{s}_"
            down = ch.get(p + "down", "")
            out = int(ch[p + "width"])
            for b in range(int(ch[p + "blocks"])):
                self.pool.append(b == 0 and down == "maxpool")
                stride = 2 if b == 0 and down == "stride" else 1
                self.blocks.append(Block(ch[p + "kind"] == "residual", int(ch[p + "kernel"]), ch[p + "se"] == "yes",
                                         ch["act"], c, out, stride))
                c = out
            s += 1
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        x = self.stem(x)
        for pool, b in zip(self.pool, self.blocks):
            if pool:
                x = F.max_pool2d(x, 2, 2)
            x = b(x)
        return self.head(x.mean((2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    arch = json.load(open(a.arch))
    assert arch["space"] == "cnn", "train_throughput.py builds cnn-space architectures"
    x_all = torch.from_numpy(read_idx(f"{FMNIST}/train-images-idx3-ubyte.gz").copy()).unsqueeze(1)
    y_all = torch.from_numpy(read_idx(f"{FMNIST}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xf = x_all.float() / 255
    mean, std = xf.mean().item(), xf.std().item()
    bs = 128

    def run(steps):
        torch.manual_seed(0)
        net = CnnNet(arch["choices"])
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
        order = torch.randperm(x_all.shape[0])
        t0 = time.perf_counter()
        for step in range(steps):
            for g in opt.param_groups:
                g["lr"] = 0.5 * 0.05 * (1 + math.cos(math.pi * step / steps))
            idx = order[step * bs:(step + 1) * bs]
            x = (x_all.index_select(0, idx).float().div_(255) - mean) / std
            y = y_all.index_select(0, idx)
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            if not math.isfinite(loss.item()):
                raise RuntimeError("loss is not finite")
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        return time.perf_counter() - t0

    run(a.warmup)
    secs = run(a.steps)
    print(json.dumps({"images_per_s": a.steps * bs / secs, "steps": a.steps, "seconds": secs}))


if __name__ == "__main__":
    main()
