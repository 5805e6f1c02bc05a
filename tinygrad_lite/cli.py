"""The ``tinygrad-lite`` command: demo, steps, train, graph."""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from . import curvature, seed, viz
from . import functional as F
from .data import DATASETS
from .errors import NonFiniteWarning
from .explanation import explain
from .naming import fmt
from .tensor_explanation import demo_text as batch_demo_text
from .train import INITS, TrainingError, build_model, plot_histories, saturate, train
from .value import Value


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 1."""


def _out_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write to --out {out}: {e.strerror or e}") from None
    return out


def _wrote(paths: list[Path]) -> None:
    print("\nwrote:")
    for p in paths:
        print(f"  {p}")


def _try_render(fn: Any, *args: Any, **kwargs: Any) -> Path | None:
    try:
        return fn(*args, **kwargs)
    except RuntimeError as e:  # no Graphviz: keep going with what can be written
        print(f"note: {str(e).splitlines()[0]}")
        return None


# ---------------------------------------------------------------- demo

def cmd_demo(args: argparse.Namespace) -> None:
    out = _out_dir(args.out)
    p = seed.TARGET
    written: list[Path] = []
    z_ce, yhat, L_ce = seed.softmax_example("ce")
    z_mse, _, L_mse = seed.softmax_example("mse")
    L_ce.backward()
    L_mse.backward()
    probs = np.array([v.data for v in yhat])
    closed = seed.closed_forms(probs, p)

    print(f"Seed example: logits z = {list(seed.LOGITS)}, target class p = {p}, softmax ŷ = {np.round(probs, 4).tolist()}")
    print(f"CE  = −log ŷ_p = {L_ce.item():.6f}    MSE = Σ_k (ŷ_k − y_k)² = {L_mse.item():.6f}\n")
    print("∂L/∂z by backprop, next to the closed forms (CE: ŷ_k − y_k; MSE: 2ŷ_k(ŷ_k − y_k) − 2ŷ_k Σ_j ŷ_j(ŷ_j − y_j)):")
    print(f"  {'k':>2}  {'CE backprop':>12}  {'ŷ_k − y_k':>12}  {'MSE backprop':>13}  {'closed form':>12}")
    for k in range(len(z_ce)):
        print(f"  {k:>2}  {z_ce[k].grad:>12.6f}  {closed['ce'][k]:>12.6f}  {z_mse[k].grad:>13.6f}  {closed['mse'][k]:>12.6f}")
    yp = probs[p]
    rest = sum(probs[k] ** 2 for k in range(len(probs)) if k != p)
    print(f"\n  MSE at p: −2ŷ_p(1−ŷ_p)² − 2ŷ_p Σ_(k≠p) ŷ_k² = {-2 * yp * (1 - yp) ** 2:.6f} {-2 * yp * rest:+.6f}"
          f" = {-2 * yp * (1 - yp) ** 2 - 2 * yp * rest:.6f}\n")
    for name, L, z in (("cross-entropy", L_ce, z_ce), ("MSE", L_mse, z_mse)):
        print(f"Why, for {name}:")
        print("  " + str(explain(L, z[p])).replace("\n", "\n  ") + "\n")
    print(batch_demo_text() + "\n")

    print("Sweep: ∂L/∂z_p as ŷ_p goes from 0.999 down to 0.001 (the rest spread evenly):")
    print(f"  {'ŷ_p':>6}  {'CE':>10}  {'MSE':>10}")
    rows = []
    for q in (0.999, 0.9, 0.7, 0.5, 0.3, 0.1, 0.03, 0.01, 0.001):
        grads = []
        for loss in ("ce", "mse"):
            z, _, L = seed.softmax_example(loss, seed.sweep_point(q), 0)
            L.backward()
            grads.append(z[0].grad)
        rows.append((q, *grads))
        print(f"  {q:>6}  {grads[0]:>10.5f}  {grads[1]:>10.5f}")
    print("  → CE's gradient grows toward −1 as the prediction gets worse; MSE's vanishes.\n")
    sweep_csv = out / "sweep.csv"
    with open(sweep_csv, "w", newline="") as f:
        csv.writer(f).writerows([("yhat_p", "dL_dzp_ce", "dL_dzp_mse"), *rows])
    written.append(sweep_csv)
    written += plot_sweep(out)

    print("MSE prefers spreading the wrong probability evenly (label [1, 0, 0]):")
    for pred in ([0.8, 0.1, 0.1], [0.8, 0.15, 0.05]):
        probs_v = [Value(v) for v in pred]
        mse = F.mse_loss(probs_v, [1.0, 0.0, 0.0], reduction="sum").item()
        ce = (-probs_v[0].log()).item()
        print(f"  ŷ = {pred}:  MSE = {mse:.3f}   CE = −log ŷ_p = {ce:.4f}")
    print("\n" + curvature.report() + "\n")

    for path in (
        _try_render(viz.render, L_ce, out / "ce.svg", explain=z_ce[p]),
        _try_render(viz.render, L_mse, out / "mse.svg", explain=z_mse[p]),
        _try_render(viz.render_comparison, {"softmax + cross-entropy": L_ce, "softmax + MSE": L_mse},
                    out / "ce_vs_mse.svg", explain={"softmax + cross-entropy": z_ce[p], "softmax + MSE": z_mse[p]}),
        _try_render(viz.backprop_html, L_ce, out / "ce_steps.html", explain=z_ce[p]),
        _try_render(viz.backprop_html, L_mse, out / "mse_steps.html", explain=z_mse[p]),
        _try_render(viz.backprop_html, {"softmax + cross-entropy": L_ce, "softmax + MSE": L_mse},
                    out / "ce_vs_mse_steps.html",
                    explain={"softmax + cross-entropy": z_ce[p], "softmax + MSE": z_mse[p]}),
    ):
        if path is not None:
            written.append(path)
    _wrote(written)


def plot_sweep(out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib (a dependency) is missing: pip install matplotlib for the sweep plot; sweep.csv has the numbers")
        return []
    qs = np.linspace(0.001, 0.999, 200)
    ce = qs - 1
    mse = -2 * qs * (1 - qs) ** 2 - qs * (1 - qs) ** 2  # K = 3, the rest spread evenly
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(qs, ce, label="cross-entropy: ŷ_p − 1")
    ax.plot(qs, mse, label="MSE: −2ŷ_p(1−ŷ_p)² − 2ŷ_p Σ ŷ_k²")
    ax.set_xlabel("ŷ_p (probability of the true class)")
    ax.set_ylabel("∂L/∂z_p")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend()
    ax.set_title("A wrong prediction: CE pushes hard, MSE barely moves")
    fig.tight_layout()
    path = out / "sweep.png"
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return [path]


# ---------------------------------------------------------------- steps

def cmd_steps(args: argparse.Namespace) -> None:
    out = _out_dir(args.out)
    if args.loss in ("ce", "mse"):
        leaves, _, L = seed.softmax_example(args.loss)
    else:
        w, _, L = seed.sigmoid_example("bce" if args.loss == "bce" else "mse")
        leaves = [w]
    print(f"Backprop through L = {L.item():.6f} ({args.loss}), one chain-rule application a line:\n")
    steps = L.backward_steps()
    for step in steps:
        print(step)
        if args.interactive:
            try:
                input("  [Enter for the next step] ")
            except EOFError:
                pass
    grads = steps.view.grads
    print("\nresult: " + ", ".join(f"∂L/∂{v.label} = {fmt(grads[v], 6)}" for v in leaves))
    path = _try_render(viz.backprop_html, L, out / f"{args.loss}_steps.html", explain=leaves[0])
    _wrote([path] if path else [])


# ---------------------------------------------------------------- train

def cmd_train(args: argparse.Namespace) -> None:
    out = _out_dir(args.out)
    for flag, value, least in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1), ("--seed", args.seed, 0)):
        if value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    losses = ["ce", "mse"] if args.loss == "both" else [args.loss]
    X, y = DATASETS[args.dataset](seed=args.seed)
    base = build_model(int(y.max()) + 1, args.hidden, args.seed)
    if args.init == "saturated":
        median = saturate(base, X, y, seed=args.seed)
        print(f"saturated start: median initial ŷ_p = {median:.2g} (confidently wrong)")
    start = base.state_dict()
    histories = {}
    for loss in losses:
        model = build_model(int(y.max()) + 1, args.hidden, args.seed).load_state_dict(start)
        bar = _progress(args.epochs, f"{loss:>3} {args.dataset}")

        def on_epoch(epoch: int, h: Any, bar: Any = bar) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{h.loss[-1]:.4f}", acc=f"{h.accuracy[-1]:.3f}")

        try:
            _, hist = train(loss, args.dataset, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                            seed=args.seed, model=model, X=X, y=y, on_epoch=on_epoch)
        finally:
            bar.close()
        histories[loss] = hist
    for loss, h in histories.items():
        first = ", ".join(f"{g:+.4f}" for g in h.grad_zp[:3])
        print(f"{loss:>3}: final accuracy {h.accuracy[-1]:.3f}, loss {h.loss[-1]:.4f}; "
              f"mean ∂L/∂z_p in the first epochs: {first}")
    stem = f"train_{args.loss}_{args.dataset}_{args.init}"
    csv_path = out / f"{stem}.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch"] + [f"{k}_{loss}" for loss in histories for k in ("loss", "accuracy", "grad_zp")])
        for e in range(args.epochs):
            w.writerow([e + 1] + [v for h in histories.values() for v in (h.loss[e], h.accuracy[e], h.grad_zp[e])])
    _wrote([csv_path] + plot_histories(histories, out / stem, f"{args.dataset}, {args.init} start"))


def _progress(total: int, desc: str) -> Any:
    from tqdm import tqdm  # a runtime dependency; imported here to keep other commands light

    return tqdm(total=total, desc=desc, unit="epoch", file=sys.stderr)


# ---------------------------------------------------------------- graph

def cmd_graph(args: argparse.Namespace) -> None:
    from .expr import ExprError, parse

    try:
        root, inputs, typed = parse(args.expr)
    except ExprError as e:
        raise UsageError(f"graph: {e}") from None
    if root._prev:
        root.label = "out"
    root.backward()
    print(f"value: {fmt(root.item(), 6)}")
    for v, text in zip(inputs, typed):
        print(f"  ∂{root.label}/∂{v.label} ({v.label} = {text.replace('-', '−')}): {fmt(v.grad, 6)}")
    out = _out_dir(args.out)
    path = _try_render(viz.render, root, out / "graph.svg")
    _wrote([path] if path else [])


class UsageError(UserError):
    """Bad arguments: exit status 2, as argparse uses."""


# ---------------------------------------------------------------- entry point

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tinygrad-lite", description="See why a gradient is what it is.")
    ap.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = ap.add_subparsers(dest="command", required=True, metavar="{demo,steps,train,graph}")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--out", default="tinygrad_lite_out", help="output folder (default: %(default)s)")
        return p

    add("demo", "softmax + cross-entropy vs softmax + MSE on the seed example: graphs, steps, tables")
    p = add("steps", "backprop of the seed example printed step by step")
    p.add_argument("--loss", choices=["ce", "mse", "bce", "sigmoid-mse"], default="ce")
    p.add_argument("--interactive", action="store_true", help="wait for Enter between steps")
    p = add("train", "train a small MLP and plot loss and accuracy")
    p.add_argument("--loss", choices=["ce", "mse", "both"], default="both")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    p.add_argument("--init", choices=INITS, default="default")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p = add("graph", "render a small expression, e.g. \"-log(softmax([2.0, 1.0, 0.1])[0])\"")
    p.add_argument("expr")
    return ap


COMMANDS = {"demo": cmd_demo, "steps": cmd_steps, "train": cmd_train, "graph": cmd_graph}


def _protect_expression(argv: list[str]) -> list[str]:
    """Let ``graph "-log(...)"`` work: an expression starting with − is not an option."""
    first = next((k for k, a in enumerate(argv) if a != "--debug"), None)  # the command's position
    if first is None or argv[first] != "graph":
        return argv
    i = first + 1
    while i < len(argv):
        if argv[i] == "--out":
            i += 2
        elif argv[i].startswith("--out=") or argv[i] == "--debug":
            i += 1
        else:
            if argv[i].startswith("-") and argv[i] not in ("-h", "--help", "--"):
                return argv[:i] + argv[i + 1:] + ["--", argv[i]]
            break
    return argv


@contextlib.contextmanager
def _warnings_as_lines(debug: bool) -> Iterator[None]:
    """Under the command each NaN/Inf warning is one line ``warning: …``, printed once.

    Python's format points at the console-script shim and echoes its source; here the
    command is the user's program, and a warning is a message to them (never an error,
    whatever the filters say). ``--debug`` keeps Python's format and filters. Library
    users are unaffected: the display and the filters are restored on the way out.
    """
    if debug:
        yield
        return
    seen: set[str] = set()

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"warning: {text}", file=sys.stderr if file is None else file)

    with warnings.catch_warnings():
        warnings.filterwarnings("default", category=NonFiniteWarning)
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    argv = _protect_expression(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    with _warnings_as_lines(args.debug):
        try:
            COMMANDS[args.command](args)
        except UsageError as e:
            if args.debug:
                raise
            print(f"tinygrad-lite: error: {e}", file=sys.stderr)
            return 2
        except (UserError, TrainingError, ValueError) as e:
            if args.debug:
                raise
            print(f"tinygrad-lite: error: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
