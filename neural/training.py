"""What the trainers share (``hybridsolve train bq``, ``forge``, ``forge-gap``, ``hints``).

- :class:`TrainingConfig`: the base of their frozen configuration dataclasses: paths taken
  relative to a working folder (``workdir``) and refused outside it, the portable command
  line that reproduces a run (:meth:`~TrainingConfig.command`), and the settings a resumed
  run must share with its checkpoint (:meth:`~TrainingConfig.settings`);
- :func:`config_parser`: an argument parser with one option per field of such a config;
- :func:`save_checkpoint` / :func:`load_checkpoint`: atomic checkpoint files, checked
  against the run's settings when read;
- :func:`warmup_cosine` (learning-rate schedule) and :func:`describe_device` (the
  manifest's ``device`` field);
- :func:`publish` (save the weights with their manifest entry and register them) and
  :func:`run_command_line` (the trainers' ``main``: parse, train, one-line errors);
- :class:`StepLoop`: the bookkeeping of a resumable training loop (step, seconds,
  history, batch order, learning rate, checkpoints, chunk stops, progress).

torch is imported where a function needs it, so that this module stays light.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from hybridsolve.mip.errors import HybridsolveError, UsageError

from .runtime import require_torch
from .weights import WeightsError, register, save

if TYPE_CHECKING:
    import torch

__all__ = [
    "Parser",
    "StepLoop",
    "TrainingConfig",
    "chunk_ends",
    "config_parser",
    "describe_device",
    "load_checkpoint",
    "publish",
    "run_command_line",
    "save_checkpoint",
    "stopped_line",
    "warmup_cosine",
]


class TrainingConfig:
    """Base of the frozen dataclasses that configure a trainer.

    Subclasses are dataclasses with a ``workdir: str | None`` field and set the class
    attributes below. The working folder is ``workdir`` when given, else the current
    directory: the fields named in :attr:`PATHS` are taken relative to it, must lie inside
    it, and the recorded command (:meth:`command`) writes them relative to it and leaves
    ``workdir`` out, so the command runs unchanged from any copy of the working folder.
    """

    #: The command's first words, e.g. ``"hybridsolve train bq"``.
    COMMAND: ClassVar[str] = ""
    #: Fields that name files or folders (a tuple field: several of them).
    PATHS: ClassVar[frozenset[str]] = frozenset()
    #: Fields that may change between the chunks of one resumed run.
    RESUMABLE: ClassVar[frozenset[str]] = frozenset()

    workdir: str | None

    def path(self, value: str | os.PathLike[str]) -> Path:
        """``value`` taken relative to the working folder (``workdir``, else the current one)."""
        return Path(self.workdir or ".").expanduser() / Path(value).expanduser()

    def relative(self, field: str, value: str | os.PathLike[str]) -> str:
        """``value`` of a path field written relative to the working folder, ``/`` separated.

        Raises
        ------
        UsageError
            ``value`` lies outside the working folder.
        """
        root = Path(os.path.abspath(self.path(".")))
        target = Path(os.path.abspath(self.path(value)))
        if not target.is_relative_to(root):  # symbolic links: compare the real paths too
            root, target = root.resolve(), target.resolve()
        if not target.is_relative_to(root):
            raise UsageError(
                f"{type(self).__name__}: {field} {str(value)!r} lies outside the working folder "
                f"{root}; the recorded command writes paths relative to it: set workdir "
                "(--workdir) to a folder that holds every path"
            )
        return target.relative_to(root).as_posix()

    def command(self) -> str:
        """The shell command that reproduces this run, run from the working folder.

        Fields that differ from the defaults, except ``progress`` and ``workdir``; the paths
        (:attr:`PATHS`) relative to the working folder; a tuple field as one option per
        value.

        Raises
        ------
        UsageError
            One of the paths lies outside the working folder.
        """
        words = self.COMMAND.split()
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if value == field.default or field.name in ("progress", "workdir"):
                continue
            flag = "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                words.append(flag if value else "--no-" + flag[2:])
            elif isinstance(value, tuple):
                for item in value:
                    text = self.relative(field.name, item) if field.name in self.PATHS else item
                    words += [flag, str(text)]
            elif field.name in self.PATHS and value is not None:
                words += [flag, self.relative(field.name, value)]
            else:
                words += [flag, "none" if value is None else str(value)]
        return shlex.join(words)

    def settings(self) -> dict[str, Any]:
        """The fields a resumed run must share with its checkpoint (all but :attr:`RESUMABLE`)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()  # type: ignore[call-overload]
            if key not in self.RESUMABLE
        }


class Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def config_parser(
    config: type[TrainingConfig], prog: str, description: str, *, resumable: bool = True
) -> argparse.ArgumentParser:
    """An argument parser with one option per field of a :class:`TrainingConfig` dataclass.

    ``bool`` fields become ``--x/--no-x``; ``int``, ``float`` and ``str`` fields take a
    value, ``'none'`` clearing an optional one; ``tuple[str, ...]`` fields are repeatable.
    ``--resume`` is added for a ``resumable`` trainer.

    Parameters
    ----------
    config : type
        The dataclass.
    prog, description : str
        The parser's.
    resumable : bool
        Add ``--resume`` (continue from a checkpoint).

    Returns
    -------
    argparse.ArgumentParser
        ``config(**vars(args))`` builds the run once ``resume`` is popped.
    """
    parser = Parser(prog=prog, description=description)
    kinds = {"int": int, "float": float, "str": str}
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        flag = "--" + field.name.replace("_", "-")
        annotation = str(field.type)
        if annotation == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default)
            continue
        text = f"default: {field.default}"
        if field.name in config.PATHS:
            text += "; relative to --workdir, recorded so"
        elif field.name == "workdir":
            text = (
                "the working folder: the paths are taken relative to it, must lie in it "
                "and are recorded relative to it (default: the current directory)"
            )
        if annotation.startswith("tuple["):
            base = annotation[len("tuple[") :].split(",")[0].strip()
            parser.add_argument(flag, type=kinds[base], action="append", default=[],
                                metavar=base.upper(), help=text + "; repeatable")  # fmt: skip
            continue
        base = annotation.split("|")[0].strip()
        convert = kinds[base]
        if "None" in annotation:

            def convert(text: str, _kind=kinds[base]) -> Any:
                return None if text.lower() == "none" else _kind(text)

        parser.add_argument(flag, type=convert, default=field.default, metavar=base.upper(),
                            help=text)  # fmt: skip
    if resumable:
        parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    return parser


def warmup_cosine(peak: float, step: int, total: int) -> float:
    """Linear warm-up over the first 5% of the steps (at most 500), then cosine decay to a tenth.

    Parameters
    ----------
    peak : float
        The learning rate at the end of the warm-up.
    step, total : int
        The step (from 0) and the steps of the whole run.

    Returns
    -------
    float
    """
    warmup = min(500, max(1, total // 20))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.45 * (1.0 + math.cos(math.pi * progress)))


def describe_device(dev: torch.device) -> str:
    """The device in words for a manifest: the GPU's name, or the CPU threads and cores."""
    torch = require_torch()
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    threads = torch.get_num_threads()
    return f"{dev} ({threads} thread{'s' * (threads != 1)}, {os.cpu_count()} cores)"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint through a temporary file, so a stopped run never leaves half of one."""
    torch = require_torch()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def load_checkpoint(
    path: Path, settings: dict[str, Any], *, kind: str, what: str
) -> dict[str, Any]:
    """Read a checkpoint and check that it was written by a run with the same settings.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    settings : dict
        The resuming run's :meth:`TrainingConfig.settings`.
    kind : str
        The trainer that wrote it (the checkpoint's ``kind``; ``"bq"`` when absent).
    what : str
        What it is, for the error message (``"a BQ-NCO training checkpoint"``).

    Returns
    -------
    dict
        The checkpoint (``format`` 1).

    Raises
    ------
    WeightsError
        The file cannot be read or is not such a checkpoint.
    UsageError
        It was written with other settings.
    """
    torch = require_torch()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt files raise many types
        raise WeightsError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}); delete it or train "
            "with resume=False"
        ) from None
    if not isinstance(state, dict) or state.get("format") != 1 or state.get("kind", "bq") != kind:
        raise WeightsError(f"{path} is not {what}")
    saved = state["settings"]
    for key in sorted(set(saved) | set(settings)):
        if saved.get(key) != settings.get(key):
            raise UsageError(
                f"checkpoint {path} was written with {key}={saved.get(key)!r} but this run has "
                f"{key}={settings.get(key)!r}; use the same settings or resume=False"
            )
    return state


def publish(
    state_dict: dict[str, Any], output: Path, name: str, entry: dict[str, Any], *, say: bool
) -> dict[str, Any]:
    """Save trained weights with their manifest entry and register them beside the file.

    Parameters
    ----------
    state_dict : dict
        The model's parameters.
    output : pathlib.Path
        The ``.pt`` file; its folder is the registry.
    name : str
        Registry name.
    entry : dict
        The entry's fields but ``file``, ``sha256``, ``torch_version`` and ``created``,
        which are filled in here.
    say : bool
        Print where the weights went.

    Returns
    -------
    dict
        The completed entry.
    """
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = save(state_dict, output, entry={**entry, "created": created})
    register(name, entry, output.parent)
    if say:
        print(f"weights {output} registered as {name!r}", flush=True)
    return entry


def run_command_line(
    parser: argparse.ArgumentParser,
    config: Callable[..., TrainingConfig],
    train: Callable[..., dict[str, Any] | None],
    argv: Sequence[str] | None,
    prog: str,
) -> int:
    """A trainer's ``main``: parse ``argv``, build the config, train, print the entry.

    ``--resume`` (when the parser has it) is passed to ``train`` as ``resume=``. Errors of
    hybridsolve (bad settings, checkpoints, files, weights) are one line on stderr.

    Returns
    -------
    int
        0 (also when a chunk stopped at its limit and ``train`` returned ``None``), or the
        error's exit code (2 usage, 3 unreadable input).
    """
    args = vars(parser.parse_args(argv))
    options = {"resume": args.pop("resume")} if "resume" in args else {}
    try:
        entry = train(config(**args), **options)
    except HybridsolveError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    if entry is not None:
        print(json.dumps(entry, indent=2))
    return 0


def chunk_ends(config: Any, step: int, seconds: float) -> bool:
    """Whether a chunk of a resumable run stops now: at ``config.max_steps`` (counted over
    the whole run) or after ``config.max_seconds`` of this chunk's training."""
    return (config.max_steps is not None and step >= config.max_steps) or (
        config.max_seconds is not None and seconds >= config.max_seconds
    )


def stopped_line(step: int, total: int, checkpoint: Path) -> str:
    """What a trainer prints when a chunk stops before the end of the run."""
    return (
        f"stopped at step {step}/{total}; checkpoint {checkpoint}: "
        "train(config, resume=True) continues"
    )


#: ``(get, set)`` of more state a :class:`StepLoop` checkpoints (an AMP grad scaler).
ExtraState = tuple[Callable[[], Any], Callable[[Any], None]]


class StepLoop:
    """The bookkeeping every trainer's loop shares, so a chunked run resumes exactly.

    A trainer builds its model and optimizer, then::

        loop = StepLoop(config, "hints", "a hint training checkpoint", model, optimizer,
                        items=len(train_set), history={"loss": []}, device=dev)
        loop.restore(resume)
        while loop.running:
            chosen = loop.batch()             # this step's indices, from (seed, epoch)
            loss = ...; loss.backward(); loop.optimise(loss)
            if loop.epoch_ended:
                loop.write(f"epoch ...")      # validation goes here
            if loop.chunk_ended():
                return None                   # a checkpoint was written
        loop.close()

    Parameters
    ----------
    config : TrainingConfig
        With ``seed``, ``lr``, ``epochs``, ``batch_size``, ``grad_clip``, ``checkpoint``,
        ``checkpoint_every``, ``max_seconds``, ``max_steps`` and ``progress`` fields.
    kind, what : str
        The checkpoint's ``kind`` and what it is, for error messages.
    model, optimizer
        What is trained; their states go into every checkpoint.
    items : int
        Training examples; an epoch is ``ceil(items / batch_size)`` steps.
    history : dict of str to list
        Curves to keep (``"loss"`` is filled here); saved in every checkpoint.
    device : torch.device
        Where the model is (CUDA random states are saved with it).
    extra : tuple of (callable, callable), optional
        ``(get, set)`` of more state to checkpoint (an AMP grad scaler).
    """

    def __init__(self, config: Any, kind: str, what: str, model: Any, optimizer: Any, *,
                 items: int, history: dict[str, list], device: Any,
                 extra: ExtraState | None = None) -> None:  # fmt: skip
        self.config, self.kind, self.what = config, kind, what
        self.model, self.optimizer, self.device, self.extra = model, optimizer, device, extra
        self.path = None if config.checkpoint is None else config.path(config.checkpoint)
        self.per_epoch = math.ceil(items / config.batch_size)
        self.items, self.total = items, config.epochs * self.per_epoch
        self.step, self.seconds, self.history = 0, 0.0, history
        self.bar: Any = None

    @property
    def running(self) -> bool:
        """Steps are left."""
        return self.step < self.total

    @property
    def epoch_ended(self) -> bool:
        """The last step ended an epoch."""
        return self.step > 0 and self.step % self.per_epoch == 0

    @property
    def epoch(self) -> int:
        """Epochs done."""
        return self.step // self.per_epoch

    def restore(self, resume: bool) -> None:
        """Continue from the checkpoint when ``resume`` and it exists; start the clock."""
        torch = require_torch()
        if resume and self.path is not None and self.path.exists():
            state = load_checkpoint(self.path, self.config.settings(), kind=self.kind,
                                    what=self.what)  # fmt: skip
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.extra is not None and state.get("extra"):
                self.extra[1](state["extra"])
            torch.set_rng_state(state["torch_rng"])
            if self.device.type == "cuda" and state["cuda_rng"]:
                torch.cuda.set_rng_state_all(state["cuda_rng"])
            self.step, self.seconds = int(state["step"]), float(state["seconds"])
            self.history = state["history"]
            if self.config.progress:
                print(f"resuming at step {self.step}/{self.total} (epoch {self.epoch + 1})",
                      flush=True)  # fmt: skip
        from .progress import Progress

        self.bar = Progress(self.total, self.step, self.config.progress)
        self.started = self.last = time.perf_counter()
        self.model.train()

    def save(self) -> None:
        """Write a checkpoint (nothing without a checkpoint path)."""
        if self.path is None:
            return
        torch = require_torch()
        save_checkpoint(self.path, {
            "format": 1, "kind": self.kind, "settings": self.config.settings(),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "extra": self.extra[0]() if self.extra is not None else {},
            "step": self.step, "epoch": self.epoch, "seconds": self.seconds,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "history": self.history,
        })  # fmt: skip

    def batch(self) -> Any:
        """This step's example indices (the epoch's permutation from ``(seed, epoch)``), with
        the step's learning rate set and the gradients cleared."""
        import numpy as np

        epoch, place = divmod(self.step, self.per_epoch)
        order = np.random.default_rng([self.config.seed, 0, epoch]).permutation(self.items)
        size = self.config.batch_size
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_cosine(self.config.lr, self.step, self.total)
        self.optimizer.zero_grad(set_to_none=True)
        return order[place * size : (place + 1) * size]

    def optimise(self, loss: Any, *, step: Callable[[], None] | None = None) -> None:
        """Clip the gradients, take the optimizer's step (or ``step()``) and count it.

        Call after ``loss.backward()`` (a grad scaler's ``step`` unscales first).
        """
        torch = require_torch()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        (step or self.optimizer.step)()
        self.step += 1
        self.history["loss"].append(float(loss.detach()))
        now = time.perf_counter()
        self.seconds, self.last, self.now = self.seconds + now - self.last, now, now
        recent = self.history["loss"][-50:]
        self.bar.update(sum(recent) / len(recent))

    def epoch_loss(self) -> float:
        """The mean loss of the last epoch's steps."""
        losses = self.history["loss"][-self.per_epoch :]
        return sum(losses) / len(losses)

    def write(self, line: str) -> None:
        """Print a line above the progress bar; the time it took to make is not counted."""
        self.bar.write(line)
        self.last = time.perf_counter()

    def chunk_ended(self) -> bool:
        """Checkpoint on schedule; at the end of a chunk checkpoint, say so and return True."""
        if not self.running or self.path is None:
            return False
        if chunk_ends(self.config, self.step, self.now - self.started):
            self.save()
            self.bar.close()
            if self.config.progress:
                print(stopped_line(self.step, self.total, self.path), flush=True)
            return True
        if self.step % self.config.checkpoint_every == 0:
            self.save()
        return False

    def close(self) -> None:
        """The run is done: close the bar and write the final checkpoint."""
        self.bar.close()
        self.save()

    def record(self) -> dict[str, Any]:
        """The manifest fields of the run itself: ``device``, ``epochs``, ``seconds``."""
        return {"device": describe_device(self.device), "epochs": self.config.epochs,
                "seconds": round(self.seconds, 3)}  # fmt: skip
