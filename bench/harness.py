"""What every workload shares: running a command and measuring it, the engine and
ninja as commands, rounds that alternate, and the rows of the table."""

import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import gen

MIB = 1 << 20
EXE_PATIENCE = 600  # seconds to wait for a runbook binary that is being rebuilt


class BenchError(Exception):
    """A command failed or answered what it should not: the bench stops."""


@dataclass
class Measure:
    seconds: float
    rss_kib: int | None  # peak RSS of the process (or its largest descendant), when asked


@dataclass
class Row:
    """One line of the table. ratio is runbook's time ÷ the peer's unless it says otherwise."""

    workload: str
    engine: str
    peer: str = "—"
    ratio: str = "—"
    target: str = "—"
    result: str = "—"


@dataclass
class Report:
    rows: list = field(default_factory=list)
    rounds: list = field(default_factory=list)  # lines: every round's figures
    notes: list = field(default_factory=list)  # lines under the table: skips, warnings


@dataclass
class Context:
    runbook: str  # the binary measured
    work: str  # the work directory: workloads, state, peers' build dirs
    paths: dict  # from gen.generate()
    sizes: gen.Sizes
    rounds: int
    quick: bool
    server_seconds: int
    wrk_connections: int
    report: Report = field(default_factory=Report)


def run_measured(argv, cwd=None, env=None, patient=False, rss=False):
    """Runs argv to its end, output to /dev/null; its wall time (and peak RSS when rss).

    Raises BenchError unless it exits 0.
    patient: argv[0] may be missing or half-written for a while (being rebuilt); wait for it.
    rss: the peak RSS comes from GNU time, not from our own wait4(): a child that Python
    forks starts with Python's RSS as its high-water mark, and keeps it across exec.
    """
    rss_file = None
    if rss:
        fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
        os.close(fd)
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv]
    with tempfile.TemporaryFile() as err:
        proc, start = start_process(argv, cwd, env, err, patient)
        proc.wait()
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise BenchError(f"`{shlex.join(argv)}` exited {proc.returncode}:\n{tail}")
    rss_kib = None
    if rss_file:
        with open(rss_file, encoding="utf-8") as f:
            rss_kib = int(f.read().split()[-1])
        os.remove(rss_file)
    return Measure(seconds, rss_kib)


def start_process(argv, cwd, env, err, patient):
    deadline = time.monotonic() + EXE_PATIENCE
    while True:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )
            return proc, start
        except OSError as e:
            if not patient or time.monotonic() > deadline:
                raise BenchError(f"cannot start {argv[0]}: {e}") from e
            print(f"bench: {argv[0]}: {e.strerror}; waiting for it", file=sys.stderr)
            time.sleep(5)


def fresh_dir(ctx, prefix):
    return tempfile.mkdtemp(prefix=prefix, dir=ctx.work)


def engine(ctx, command, runbook_file, keep_state=False, rss=False, wrapper=()):
    """`runbook COMMAND... FILE` with a fresh state directory (so history does not grow
    from round to round), under `wrapper` (a command and its arguments) if given.
    Returns (Measure, the state directory if keep_state else None)."""
    state = fresh_dir(ctx, "state-")
    env = dict(os.environ, RUNBOOK_STATE_DIR=state)
    argv = [*wrapper, ctx.runbook, *command, runbook_file]
    measure = run_measured(argv, env=env, patient=True, rss=rss)
    if keep_state:
        return measure, state
    shutil.rmtree(state)
    return measure, None


def ninja(ctx, ninja_file):
    """ninja -j2 in a fresh directory holding a copy of ninja_file as build.ninja."""
    build = fresh_dir(ctx, "ninja-")
    shutil.copy(ninja_file, os.path.join(build, "build.ninja"))
    measure = run_measured(["ninja", "-j2"], cwd=build)
    shutil.rmtree(build)
    return measure


def alternate(ctx, *runs):
    """Calls each of runs ctx.rounds times, in turn; who goes first rotates too, so that a
    machine getting busier or quieter weighs on all alike. One list of results per run."""
    results = [[] for _ in runs]
    for i in range(ctx.rounds):
        for k in range(len(runs)):
            j = (i + k) % len(runs)
            results[j].append(runs[j]())
    return results


def median(values):
    return statistics.median(values)


def fmt_seconds(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 0.01:
        return f"{s * 1000:.0f} ms"
    return f"{s * 1000:.2f} ms"


def fmt_mib(kib):
    return f"{kib / 1024:.1f} MiB"


def fmt_list(values, fmt):
    return ", ".join(fmt(v) for v in values)


def over(value, limit):
    """How far value is over limit, for a target that was missed."""
    if value >= 2 * limit:
        return f"missed: {value / limit:.1f}× the limit"
    return f"missed: {value / limit - 1:.0%} over"


def at_most(value, limit):
    return "met" if value <= limit else over(value, limit)


def below(value, limit):
    return "met" if value < limit else over(value, limit)


def at_least(value, limit):
    return "met" if value >= limit else f"missed: {1 - value / limit:.0%} short"
