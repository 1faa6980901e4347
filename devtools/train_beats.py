"""Train the learned beat activation (``visualizer/engine/audio/beat_model.npz``).

    python -m devtools.train_data --out ../material/train        # the material (FluidSynth)
    nice -n 10 python -m devtools.train_beats --data ../material/train

Features are computed exactly as at run time: every file goes hop by hop through the analyser's
:class:`BeatOnsetEnvelope` and :func:`model_input`. Targets: 1 on the hop of each annotated beat,
0.5 on its two neighbours, 0 elsewhere (negatives: 0 everywhere). The network (see
``visualizer/engine/audio/activation.py``): dense 128 → H, one GRU layer of H, dense output on
[GRU state, dense features]. Trained with PyTorch on one CPU thread (torch is needed only here,
never at run time, and is not a project dependency: ``pip install torch``). A tenth of the
songs (every tenth seed) is kept out of training as validation. Only our own renders are used:
never the evaluation music (``../material/*.flac``, ``shared/data/beats``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from devtools import MATERIAL
from visualizer.engine.audio.activation import MODEL_PATH, model_input
from visualizer.engine.audio.decode import load_audio, mono
from visualizer.engine.audio.onset_envelope import BeatOnsetEnvelope

SR = 44100
HOP = 512


def features(samples: np.ndarray, sr: int = SR) -> np.ndarray:
    """(n_hops, 128) model inputs, hop by hop through the run-time envelope."""
    env = BeatOnsetEnvelope(sr=sr, hop=HOP)
    out = []
    for start in range(0, samples.size - HOP + 1, HOP):
        env.step(samples[start:start + HOP])
        out.append(model_input(env.rise, env.bands))
    return np.array(out, np.float32)


def targets(beats: np.ndarray, n: int, sr: int = SR) -> np.ndarray:
    """1 on each beat's hop (the hop whose end first passes the beat), 0.5 beside it."""
    y = np.zeros(n, np.float32)
    for t in beats:
        i = int(np.ceil(t * sr / HOP)) - 1
        for j, v in ((i - 1, 0.5), (i + 1, 0.5), (i, 1.0)):
            if 0 <= j < n:
                y[j] = max(y[j], v)
    return y


def load_set(folder: Path, cache: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (features, targets), cached in ``cache`` (an npz per file)."""
    cache.mkdir(parents=True, exist_ok=True)
    data = {}
    for audio in sorted(folder.glob("*.flac")):
        ann = audio.with_suffix(".beats")
        if not ann.exists():  # still being rendered
            continue
        cached = cache / (audio.stem + ".npz")
        if cached.exists():
            with np.load(cached) as z:
                data[audio.stem] = (z["x"], z["y"])
            continue
        samples, sr = load_audio(audio)
        x = features(mono(samples).astype(np.float32), sr)
        beats = np.loadtxt(ann, ndmin=2)[:, 0] if ann.stat().st_size else np.zeros(0)
        y = targets(beats, x.shape[0], sr)
        np.savez(cached, x=x, y=y)
        data[audio.stem] = (x, y)
    return data


def is_validation(name: str) -> bool:
    """Every tenth seed of the songs and grooves (``train_NNNN``, ``groove_NNNN``)."""
    kind, _, seed = name.partition("_")
    return kind in ("train", "groove") and int(seed) % 10 == 9


def build(hidden: int):
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = torch.nn.Linear(128, hidden)
            self.gru = torch.nn.GRU(hidden, hidden, batch_first=True)
            self.out = torch.nn.Linear(2 * hidden, 1)

        def forward(self, x):
            h = torch.relu(self.dense(x))
            g, _ = self.gru(h)
            return self.out(torch.cat([g, h], dim=-1)).squeeze(-1)

    return Net()


def export(net, path: Path) -> None:
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    np.savez(path, w_in=sd["dense.weight"], b_in=sd["dense.bias"], w_ih=sd["gru.weight_ih_l0"],
             b_ih=sd["gru.bias_ih_l0"], w_hh=sd["gru.weight_hh_l0"], b_hh=sd["gru.bias_hh_l0"],
             w_out=sd["out.weight"][0], b_out=sd["out.bias"])


def load_weights(net, path: Path) -> None:
    """The inverse of :func:`export`: start training from saved weights (fine-tuning)."""
    import torch

    with np.load(path) as w:
        state = {"dense.weight": w["w_in"], "dense.bias": w["b_in"], "gru.weight_ih_l0": w["w_ih"],
                 "gru.bias_ih_l0": w["b_ih"], "gru.weight_hh_l0": w["w_hh"], "gru.bias_hh_l0": w["b_hh"],
                 "out.weight": w["w_out"][None], "out.bias": w["b_out"]}
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.train_beats", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MATERIAL / "train")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/beat_features"))
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=30.0, help="stop after this much training time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, help="start from these weights (e.g. the shipped model)")
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = load_set(args.data, args.cache)
    train = [v for k, v in data.items() if not is_validation(k)]
    valid = [v for k, v in data.items() if is_validation(k)]
    print(f"{len(train)} training files, {len(valid)} validation files, "
          f"{sum(x.shape[0] for x, _ in train) / 86.13 / 60:.1f} min of training audio", flush=True)
    net = build(args.hidden)
    if args.init is not None:
        load_weights(net, args.init)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    chunk, batch = 800, 16
    pos_weight = torch.tensor(4.0)

    def chunks(files):
        out = []
        for x, y in files:
            for s in range(0, max(1, x.shape[0] - chunk // 2), chunk // 2):
                xs, ys = x[s:s + chunk], y[s:s + chunk]
                if xs.shape[0] < chunk:
                    xs = np.pad(xs, ((0, chunk - xs.shape[0]), (0, 0)))
                    ys = np.pad(ys, (0, chunk - ys.shape[0]))
                out.append((xs, ys))
        return out

    def loss_of(files) -> float:
        with torch.no_grad():
            total = n = 0.0
            for x, y in files:
                logit = net(torch.from_numpy(x)[None])[0]
                total += float(torch.nn.functional.binary_cross_entropy_with_logits(
                    logit, torch.from_numpy(y), pos_weight=pos_weight, reduction="sum"))
                n += y.size
        return total / n

    started = time.time()
    best = float("inf")
    for epoch in range(args.epochs):
        pieces = chunks(train)
        order = rng.permutation(len(pieces))
        net.train()
        for b in range(0, len(order), batch):
            idx = order[b:b + batch]
            x = torch.from_numpy(np.stack([pieces[i][0] for i in idx]))
            gain = torch.from_numpy(rng.uniform(0.7, 1.3, (len(idx), 1, 1)).astype(np.float32))
            x = torch.cat([x[..., :64] * gain, x[..., 64:]], dim=-1)  # onset strength varies with mixing
            y = torch.from_numpy(np.stack([pieces[i][1] for i in idx]))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y, pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        sched.step()
        v = loss_of(valid)
        print(f"epoch {epoch}: train batch loss {loss.item():.4f}, validation {v:.4f}, "
              f"{(time.time() - started) / 60:.1f} min", flush=True)
        if v < best:
            best = v
            export(net, args.out)
        if time.time() - started > 60 * args.minutes:
            break
    print(f"best validation loss {best:.4f}; weights in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
