"""Markdown + HTML report with plots of a benchmark sweep's run records.

:func:`write_report` turns the run records of the result store into

- ``report.md`` and ``report.html`` (the same content; the HTML page is self-contained apart
  from the PNG files next to it, and is written by a small converter of this module's own
  block and table structures, not by a Markdown parser);
- ``profile.png``: a performance profile (Dolan & Moré 2002, "Benchmarking optimization
  software with performance profiles", Mathematical Programming 91(2):201-213) of the primal
  integral, one panel per collection, because the integral is only compared between solvers on
  the same run (instance, seed, time limit) and collections usually differ in scale;
- ``gap_<collection>.png``: the mean primal gap over time per solver, one file per
  collection;
- ``scatter.png``: the primal integral of one solver against another's, run by run, on
  log-log axes with the diagonal (only with two solvers or more).

With ``best_of``, a section compares every solver with the per-run best of some solvers (a
virtual solver, :func:`~hybridsolve.benchmarks.metrics.best_of`). The measures come from
:mod:`hybridsolve.benchmarks.metrics`. matplotlib is imported inside the plotting functions,
with the Agg backend, so importing this module stays light.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hybridsolve.benchmarks.metrics import (
    FAILED_STATUSES,
    best_of_name,
    effective_trajectory,
    primal_gap_curve,
    run_metrics,
    summary,
    summary_against_best_of,
)
from hybridsolve.mip import UsageError

__all__ = ["PROFILE_FLOOR", "safe_file_stem", "write_report"]

#: Primal integrals below this (gap x seconds, about a timer tick at full gap) are raised to it
#: before taking ratios and logarithms, so that a zero integral does not give an infinite ratio.
PROFILE_FLOOR = 1e-3
_DPI = 110
_GRID = 501


# ----------------------------------------------------------------------------- documents


@dataclass
class _Table:
    """A table of already formatted cells; ``align`` holds ``"l"`` or ``"r"`` per column."""

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    align: list[str] = field(default_factory=list)

    def alignment(self, j: int) -> str:
        return self.align[j] if j < len(self.align) else "l"


# A document is a list of blocks: ("h", (level, text)), ("p", text), ("ul", [text, ...]),
# ("table", _Table), ("img", (alt, src)).
_Block = tuple[str, Any]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _to_markdown(blocks: Sequence[_Block]) -> str:
    lines: list[str] = []
    for kind, payload in blocks:
        if kind == "h":
            level, text = payload
            lines += ["#" * level + " " + text, ""]
        elif kind == "p":
            lines += [payload, ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in payload] + [""]
        elif kind == "table":
            table: _Table = payload
            lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
            marks = [
                "---:" if table.alignment(j) == "r" else ":---" for j in range(len(table.headers))
            ]
            lines.append("| " + " | ".join(marks) + " |")
            for row in table.rows:
                lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            lines.append("")
        elif kind == "img":
            alt, src = payload
            alt = alt.replace("[", "(").replace("]", ")")
            lines += [f"![{alt}]({src})", ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.l, th.l { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0 1.5em; }
"""


def _to_html(blocks: Sequence[_Block], title: str) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    for kind, payload in blocks:
        if kind == "h":
            level, text = payload
            out.append(f"<h{level}>{e(text)}</h{level}>")
        elif kind == "p":
            out.append(f"<p>{e(payload)}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in payload) + "</ul>")
        elif kind == "table":
            table: _Table = payload
            head = "".join(
                f'<th class="{table.alignment(j)}">{e(h)}</th>' for j, h in enumerate(table.headers)
            )
            out.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>")
            for row in table.rows:
                cells = "".join(
                    f'<td class="{table.alignment(j)}">{e(c)}</td>' for j, c in enumerate(row)
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</tbody>\n</table>")
        elif kind == "img":
            alt, src = payload
            out.append(f'<p><img src="{e(src)}" alt="{e(alt)}"></p>')
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- formatting


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) >= 1e5:
        return f"{value:.4g}"
    return f"{value:.{digits}f}"


def _fmt_objective(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _fmt_seconds(value: float) -> str:
    return f"{value:g}"


def safe_file_stem(name: str) -> str:
    """A file name stem made of letters, digits, ``.``, ``_`` and ``-`` only.

    Parameters
    ----------
    name : str
        Any text, such as a collection name or a directory label.

    Returns
    -------
    str
        Runs of other characters become one ``_``; leading and trailing dots, dashes and
        underscores are dropped; ``"collection"`` when nothing is left.

    Examples
    --------
    >>> safe_file_stem("miplib/set cover (hard)")
    'miplib_set_cover_hard'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return stem or "collection"


def _stems(collections: Sequence[str]) -> dict[str, str]:
    used: set[str] = set()
    out = {}
    for collection in collections:
        stem = base = safe_file_stem(collection)
        k = 2
        while stem.lower() in used:
            stem = f"{base}-{k}"
            k += 1
        used.add(stem.lower())
        out[collection] = stem
    return out


# ----------------------------------------------------------------------------- content


def _better(a: float, b: float, sense: str) -> bool:
    return a < b if sense == "minimize" else a > b


def _headline(lines: Sequence[Mapping[str, Any]], baseline: str) -> _Table:
    table = _Table(
        headers=[
            "solver",
            "runs",
            "solved",
            "with solution",
            "errors",
            "sgm time (s)",
            "sgm PI",
            "PI ratio",
            "mean PI",
            "mean gap",
            "W/T/L",
        ],
        align=["l"] + ["r"] * 10,
    )
    for s in lines:
        name = s["solver"] + (" (baseline)" if s["solver"] == baseline else "")
        table.rows.append(
            [
                name,
                str(s["runs"]),
                str(s["solved"]),
                str(s["with_solution"]),
                str(s["errors"]),
                _fmt(s["sgm_runtime"]),
                _fmt(s["sgm_primal_integral"]),
                _fmt(s["integral_ratio"]),
                _fmt(s["mean_primal_integral"]),
                _fmt(s["mean_primal_gap"], 4),
                f"{s['wins']}/{s['ties']}/{s['losses']}",
            ]
        )
    return table


def _best_of_blocks(metrics: Sequence[Mapping[str, Any]], members: Sequence[str]) -> list[_Block]:
    """Every solver against the virtual solver ``best(members)``, per collection and overall."""
    name = best_of_name(members)
    table = _Table(["collection", "solver", "runs", "PI ratio", "W/T/L"], [], list("llrrr"))
    for s in summary_against_best_of(metrics, members):
        wtl = f"{s['wins']}/{s['ties']}/{s['losses']}"
        table.rows.append(
            [s["collection"], s["solver"], str(s["runs"]), _fmt(s["integral_ratio"]), wtl]
        )
    return [
        ("h", (2, f"Against {name}")),
        (
            "p",
            f"{name} is a virtual solver: per instance and seed, the run of whichever of "
            f"{', '.join(members)} has the smaller primal integral (a member that did not run "
            "that seed stands in with its seed-0 run). PI ratio and W/T/L as in the headline, "
            "against it; 'overall' pools the runs of every collection.",
        ),
        ("table", table),
    ]


def _per_instance(metrics: Sequence[Mapping[str, Any]], solvers: Sequence[str]) -> _Table:
    table = _Table(headers=["instance", "best known"], align=["l", "r"])
    for solver in solvers:
        table.headers += [f"{solver} PI", f"{solver} best"]
        table.align += ["r", "r"]
    by_instance: dict[str, list[Mapping[str, Any]]] = {}
    for m in metrics:
        by_instance.setdefault(m["instance"], []).append(m)
    for instance, runs in sorted(by_instance.items()):
        row = [instance, _fmt_objective(runs[0]["best_known"])]
        for solver in solvers:
            mine = [m for m in runs if m["solver"] == solver]
            if not mine:
                row += ["-", "-"]
                continue
            integral = float(np.mean([m["primal_integral"] for m in mine]))
            best = None
            for m in mine:
                if m["has_solution"] and (
                    best is None or _better(m["objective"], best, m["sense"])
                ):
                    best = m["objective"]
            row += [_fmt(integral), _fmt_objective(best)]
        table.rows.append(row)
    return table


# ----------------------------------------------------------------------------- plots


def _operators(rows: Sequence[Mapping[str, Any]]) -> list[_Block] | None:
    """Per solver and collection, the LNS arms' pulls, improvements and time, summed."""
    totals: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in rows:
        for arm, figures in row.get("stats", {}).get("operators", {}).items():
            key = (row["solver"], row["collection"])
            sums = totals.setdefault(key, {}).setdefault(arm, [0, 0, 0.0])
            sums[0] += figures["pulls"]
            sums[1] += figures["improvements"]
            sums[2] += figures["seconds"]
    if not totals:
        return None
    blocks: list[_Block] = [
        ("h", (2, "LNS operators")),
        (
            "p",
            "Per destroy arm (operator and rate), summed over the runs: bandit pulls, pulls "
            "whose sub-MIP improved the incumbent, and seconds spent in its sub-MIPs.",
        ),
    ]
    for (solver, collection), arms in sorted(totals.items()):
        table = _Table(["arm", "pulls", "improved", "improved %", "seconds"], [], list("lrrrr"))
        for arm, (pulls, improved, seconds) in sorted(arms.items(), key=lambda a: -a[1][0]):
            share = f"{100 * improved / pulls:.0f}" if pulls else "-"
            table.rows.append([arm, str(pulls), str(improved), share, f"{seconds:.1f}"])
        blocks += [("h", (3, f"{solver} on {collection}")), ("table", table)]
    return blocks


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_LINESTYLES = ("-", "--", "-.", ":")


def _styles(solvers: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {
        solver: {"color": f"C{k % 10}", "linestyle": _LINESTYLES[k % len(_LINESTYLES)]}
        for k, solver in enumerate(solvers)
    }


def _problems(metrics: Sequence[Mapping[str, Any]]) -> dict[tuple, dict[str, float]]:
    """``(instance, seed, time_limit) -> {solver: primal integral}`` of one collection."""
    out: dict[tuple, dict[str, float]] = {}
    for m in metrics:
        key = (m["instance"], m["seed"], m["time_limit"])
        out.setdefault(key, {})[m["solver"]] = max(m["primal_integral"], PROFILE_FLOOR)
    return out


def _plot_profile(
    by_collection: Mapping[str, Sequence[Mapping[str, Any]]],
    solvers: Sequence[str],
    path: Path,
) -> None:
    plt = _pyplot()
    styles = _styles(solvers)
    n = len(by_collection)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(max(6.4, 4.8 * ncols), 3.8 * nrows + 0.5), squeeze=False, sharey=True
    )
    for ax, (collection, metrics) in zip(axes.flat, by_collection.items()):
        problems = _problems(metrics)
        ratios = {solver: [] for solver in solvers}
        for values in problems.values():
            least = min(values.values())
            for solver in solvers:
                ratios[solver].append(values[solver] / least if solver in values else math.inf)
        finite = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
        right = max(2.0, max(finite, default=1.0) * 1.25)
        for solver in solvers:
            r = np.asarray(ratios[solver])
            taus = np.unique(np.concatenate([[1.0], r[np.isfinite(r)], [right]]))
            rho = [(r <= tau).sum() / len(r) for tau in taus]
            ax.step(taus, rho, where="post", label=solver, linewidth=1.8, **styles[solver])
        ax.set_xscale("log", base=2)
        ax.set_xlim(1.0, right)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{collection} ({len(problems)} runs per solver)", fontsize=10)
        ax.set_xlabel("τ: primal integral / best on the run")
        ax.grid(True, alpha=0.3, which="both")
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction of runs with ratio ≤ τ")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="lower right", fontsize=9)
    fig.suptitle("Performance profile of the primal integral (Dolan & Moré 2002)")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _plot_gap(
    collection: str,
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    solvers: Sequence[str],
    path: Path,
) -> None:
    plt = _pyplot()
    styles = _styles(solvers)
    horizon = max(m["time_limit"] for _, m in pairs)
    times = np.linspace(0.0, horizon, _GRID)
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for solver in solvers:
        mine = [(row, m) for row, m in pairs if m["solver"] == solver]
        if not mine:
            continue
        curves = [
            primal_gap_curve(
                effective_trajectory(row), m["best_known"], m["time_limit"], m["sense"], times
            )
            for row, m in mine
        ]
        mean_integral = float(np.mean([m["primal_integral"] for _, m in mine]))
        ax.plot(
            times,
            np.mean(curves, axis=0),
            drawstyle="steps-post",
            linewidth=1.8,
            label=f"{solver} (mean PI {mean_integral:.2f})",
            **styles[solver],
        )
    ax.set_xlim(0.0, horizon)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean primal gap of the incumbent")
    ax.set_title(f"Primal gap over time: {collection} ({len(pairs)} runs)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _plot_scatter(
    by_collection: Mapping[str, Sequence[Mapping[str, Any]]],
    pair: tuple[str, str],
    path: Path,
) -> None:
    plt = _pyplot()
    a, b = pair
    fig, ax = plt.subplots(figsize=(5.6, 5.4))
    everything: list[float] = []
    lower_a = lower_b = equal = 0
    markers = "osD^v<>P*X"
    for k, (collection, metrics) in enumerate(by_collection.items()):
        points = [v for v in _problems(metrics).values() if a in v and b in v]
        if not points:
            continue
        x = np.array([v[a] for v in points])
        y = np.array([v[b] for v in points])
        lower_a += int((x < y).sum())
        lower_b += int((y < x).sum())
        equal += int((x == y).sum())
        everything += list(x) + list(y)
        ax.scatter(
            x,
            y,
            s=30,
            alpha=0.75,
            marker=markers[k % len(markers)],
            color=f"C{k % 10}",
            label=collection,
        )
    low = min(everything, default=PROFILE_FLOOR) / 1.5
    high = max(everything, default=1.0) * 1.5
    ax.plot([low, high], [low, high], color="0.4", linewidth=1.0, linestyle="--", label="equal")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    ax.set_xlabel(f"primal integral of {a} (gap·s)")
    ax.set_ylabel(f"primal integral of {b} (gap·s)")
    ax.set_title(f"Primal integral per run: {a} vs {b}")
    ax.text(
        0.02,
        0.98,
        f"{b} lower: {lower_b}   {a} lower: {lower_a}   equal: {equal}",
        transform=ax.transAxes,
        va="top",
        fontsize=8.5,
    )
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


# ----------------------------------------------------------------------------- entry point


def write_report(
    rows: Iterable[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    baseline: str | None = None,
    pair: tuple[str, str] | None = None,
    best_of: Sequence[str] = (),
) -> list[Path]:
    """Write the Markdown and HTML report and its plots of a set of run records.

    Parameters
    ----------
    rows : iterable of dict
        Run records, as :meth:`hybridsolve.benchmarks.store.Store.rows` gives them.
    out_dir : str or pathlib.Path
        Folder for the files; created when missing. Files of the same names are replaced.
    baseline : str, optional
        Solver the others are compared with (default: the alphabetically first).
    pair : tuple of (str, str), optional
        Solvers ``(A, B)`` of the scatter plot, A on the x axis (default: the first two
        solvers in alphabetical order). With a single solver there is no scatter plot.
    best_of : sequence of str, optional
        Two or more solvers whose per-run best (the one with the smaller primal integral, see
        :func:`~hybridsolve.benchmarks.metrics.best_of`) every solver is compared with in a
        section after the headline; none by default.

    Returns
    -------
    list of pathlib.Path
        ``report.md``, ``report.html``, ``profile.png``, one ``gap_<collection>.png`` per
        collection (the name reduced by :func:`safe_file_stem`), then ``scatter.png``.

    Raises
    ------
    UsageError
        When there are no rows, or ``baseline``, ``pair`` or ``best_of`` name an unknown
        solver.
    InputError
        When a record is malformed (see :func:`~hybridsolve.benchmarks.metrics.run_metrics`).
    """
    rows = list(rows)
    if not rows:
        raise UsageError("no runs to report")
    metrics = run_metrics(rows)
    solvers = sorted({m["solver"] for m in metrics})
    lines = summary(metrics, baseline=baseline)
    baseline = lines[0]["baseline"]
    if pair is None:
        pair = (solvers[0], solvers[1]) if len(solvers) > 1 else None
    else:
        pair = tuple(pair)
        unknown = [s for s in pair if s not in solvers]
        if len(pair) != 2 or unknown or pair[0] == pair[1]:
            raise UsageError(f"pair must name two different solvers among {', '.join(solvers)}")
    best_of_blocks = _best_of_blocks(metrics, best_of) if best_of else []
    collections = sorted({m["collection"] for m in metrics})
    stems = _stems(collections)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    by_collection = {c: [m for m in metrics if m["collection"] == c] for c in collections}
    pairs_by_collection = {
        c: [(row, m) for row, m in zip(rows, metrics) if m["collection"] == c] for c in collections
    }
    written_png: list[Path] = []
    _plot_profile(by_collection, solvers, out / "profile.png")
    written_png.append(out / "profile.png")
    for c in collections:
        path = out / f"gap_{stems[c]}.png"
        _plot_gap(c, pairs_by_collection[c], solvers, path)
        written_png.append(path)
    if pair is not None:
        _plot_scatter(by_collection, pair, out / "scatter.png")
        written_png.append(out / "scatter.png")

    blocks = _document(metrics, lines, solvers, collections, stems, baseline, pair, best_of_blocks)
    operators = _operators(rows)
    if operators is not None:
        blocks += operators
    title = "Benchmark report"
    md = out / "report.md"
    md.write_text(_to_markdown(blocks), encoding="utf-8")
    page = out / "report.html"
    page.write_text(_to_html(blocks, title), encoding="utf-8")
    return [md, page, *written_png]


def _document(
    metrics: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    solvers: Sequence[str],
    collections: Sequence[str],
    stems: Mapping[str, str],
    baseline: str,
    pair: tuple[str, str] | None,
    versus: Sequence[_Block],
) -> list[_Block]:
    seeds = sorted({m["seed"] for m in metrics})
    limits = sorted({m["time_limit"] for m in metrics})
    failed = {s: sum(1 for m in metrics if m["status"] == s) for s in sorted(FAILED_STATUSES)}
    uncertified = sum(1 for m in metrics if m["objective"] is not None and m["certified"] is False)
    counts = {c: sum(1 for m in metrics if m["collection"] == c) for c in collections}
    blocks: list[_Block] = [
        ("h", (1, "Benchmark report")),
        ("h", (2, "Run set")),
        (
            "ul",
            [
                "Collections: " + ", ".join(f"{c} ({counts[c]} runs)" for c in collections),
                "Solvers: " + ", ".join(solvers) + f" (baseline: {baseline})",
                "Seeds: " + ", ".join(str(s) for s in seeds),
                "Time limits: " + ", ".join(f"{_fmt_seconds(t)} s" for t in limits),
                f"Runs: {len(metrics)}; "
                + ", ".join(f"{name}: {k}" for name, k in failed.items())
                + f"; uncertified solutions: {uncertified}",
            ],
        ),
        (
            "p",
            "PI is the primal integral (Berthold 2013) over [0, time limit], in gap x seconds; "
            "gap is the final primal gap to the best known value (reference or best certified "
            "run). A run with status error, timeout or crashed, or whose solution failed "
            "certification, counts as having no solution: gap 1 and PI equal to its time "
            "limit. sgm = shifted geometric mean (shift 1 s for times, where an unsolved run "
            "counts as its time limit, and 1 gap x s for PI). PI ratio = sgm PI over the runs "
            f"shared with the baseline {baseline} divided by the baseline's. W/T/L = runs "
            "(instance, seed) where the final gap is lower / equal (to 1e-6) / higher than "
            "the baseline's.",
        ),
        ("h", (2, "Headline")),
    ]
    for c in collections:
        blocks += [
            ("h", (3, c)),
            ("table", _headline([s for s in lines if s["collection"] == c], baseline)),
        ]
    blocks += versus
    blocks += [
        ("h", (2, "Per instance")),
        (
            "p",
            "Per solver: mean PI over seeds, and best certified objective over seeds "
            "('-' when none).",
        ),
    ]
    for c in collections:
        mine = [m for m in metrics if m["collection"] == c]
        present = [s for s in solvers if any(m["solver"] == s for m in mine)]
        blocks += [("h", (3, c)), ("table", _per_instance(mine, present))]
    blocks += [
        ("h", (2, "Plots")),
        ("h", (3, "Performance profile of the primal integral")),
        (
            "p",
            "Per collection, the fraction of runs (instance, seed) on which a solver's primal "
            f"integral is within a factor tau of the best solver's (integrals below "
            f"{PROFILE_FLOOR:g} gap x s count as {PROFILE_FLOOR:g}).",
        ),
        ("img", ("Performance profile", "profile.png")),
    ]
    for c in collections:
        blocks += [
            ("h", (3, f"Primal gap over time: {c}")),
            ("img", (f"Primal gap over time, {c}", f"gap_{stems[c]}.png")),
        ]
    if pair is not None:
        blocks += [
            ("h", (3, f"Primal integral per run: {pair[0]} vs {pair[1]}")),
            (
                "p",
                f"Points below the diagonal are runs where {pair[1]} has the smaller primal "
                "integral.",
            ),
            ("img", (f"Primal integral, {pair[0]} vs {pair[1]}", "scatter.png")),
        ]
    return blocks
