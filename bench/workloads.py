"""The workloads that run a runbook: each adds its rows to ctx.report."""

import json
import os
import shlex
import shutil
import time

from harness import (
    MIB, Row, alternate, at_least, at_most, below, engine, fmt_list, fmt_mib, fmt_seconds,
    fresh_dir, median, ninja, run_measured,
)


def dag(ctx, name, steps, label, limit):
    """The runbook name.yaml against ninja -j2 on name.ninja, the same DAG of `steps` steps.

    With eatmydata installed, the runbook also runs with fsync made a no-op (LD_PRELOAD; not
    an option the engine has): what the durable audit log costs, for reading the ratio."""
    runbook_file = ctx.paths[name + ".yaml"]
    runs = [
        lambda: engine(ctx, ["run"], runbook_file)[0].seconds,
        lambda: ninja(ctx, ctx.paths[name + ".ninja"]).seconds,
    ]
    unsynced = shutil.which("eatmydata")
    if unsynced:
        runs.append(lambda: engine(ctx, ["run"], runbook_file, wrapper=[unsynced])[0].seconds)
    ours, theirs, *without_fsync = alternate(ctx, *runs)
    ratio = median(ours) / median(theirs)
    ctx.report.rows.append(
        Row(label, fmt_seconds(median(ours)), fmt_seconds(median(theirs)) + " (ninja)",
            f"{ratio:.2f}×", f"≤ {limit}×", at_most(ratio, limit))
    )
    ctx.report.rounds.append(f"{name}: runbook {fmt_list(ours, fmt_seconds)}")
    ctx.report.rounds.append(f"{name}: ninja -j2 {fmt_list(theirs, fmt_seconds)}")
    if without_fsync:
        nosync = without_fsync[0]
        ctx.report.rows.append(
            Row(f"{name}, fsync a no-op (eatmydata)", fmt_seconds(median(nosync)),
                fmt_seconds(median(theirs)) + " (ninja)",
                f"{median(nosync) / median(theirs):.2f}×")
        )
        ctx.report.rounds.append(
            f"{name}: runbook, fsync a no-op {fmt_list(nosync, fmt_seconds)}")
    ctx.report.rounds.append(
        f"{name}: per step, runbook {fmt_seconds(median(ours) / steps)}, "
        f"ninja {fmt_seconds(median(theirs) / steps)}"
    )


def wide(ctx):
    n = ctx.sizes.wide
    dag(ctx, "wide", n, f"wide: {n:,} steps, 2 at once", 1.05)


def chain(ctx):
    n = ctx.sizes.chain
    dag(ctx, "chain", n, f"chain: {n:,} steps", 1.2)


def diamond(ctx):
    s = ctx.sizes
    label = f"diamond: {s.diamond_layers} × {s.diamond_width}, 2 at once"
    dag(ctx, "diamond", s.diamond_layers * s.diamond_width, label, 1.1)


def ansible(ctx):
    """A chain of steps against a playbook of as many tasks; the time per step."""
    tasks = ctx.sizes.ansible
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
    )
    playbook = ["ansible-playbook", "-i", "localhost,", ctx.paths["playbook.yml"]]
    ours, theirs = alternate(
        ctx,
        lambda: engine(ctx, ["run"], ctx.paths["ansible.yaml"])[0].seconds / tasks,
        lambda: run_measured(playbook, env=env).seconds / tasks,
    )
    faster = median(theirs) / median(ours)
    ctx.report.rows.append(
        Row(f"ansible: {tasks} steps, per step", fmt_seconds(median(ours)),
            fmt_seconds(median(theirs)) + " (ansible)", f"{faster:.0f}× faster",
            "≥ 100× faster", at_least(faster, 100))
    )
    ctx.report.rounds.append(f"ansible, per step: runbook {fmt_list(ours, fmt_seconds)}")
    ctx.report.rounds.append(
        f"ansible, per step: ansible-playbook {fmt_list(theirs, fmt_seconds)}"
    )


def startup(ctx):
    """One step, start to exit, against a one-edge ninja build: many runs a round."""
    build = fresh_dir(ctx, "ninja-startup-")
    shutil.copy(ctx.paths["startup.ninja"], os.path.join(build, "build.ninja"))
    ours_cmd = [ctx.runbook, "run", ctx.paths["startup.yaml"]]
    theirs_cmd = ["ninja", "-C", build]
    runs = 10 if ctx.quick else 30
    if shutil.which("hyperfine"):
        how = f"hyperfine, median of {runs} runs per round"
        ours, theirs = hyperfine_rounds(ctx, ours_cmd, theirs_cmd, runs)
    else:
        how = f"median of {runs} runs per round"
        ours, theirs = timed_rounds(ctx, ours_cmd, theirs_cmd, runs)
    ratio = median(ours) / median(theirs)
    ctx.report.rows.append(
        Row("start-up: one step", fmt_seconds(median(ours)),
            fmt_seconds(median(theirs)) + " (ninja)", f"{ratio:.2f}×", "≤ 2×", at_most(ratio, 2))
    )
    ctx.report.rounds.append(f"start-up ({how}): runbook {fmt_list(ours, fmt_seconds)}")
    ctx.report.rounds.append(f"start-up ({how}): ninja {fmt_list(theirs, fmt_seconds)}")


def hyperfine_rounds(ctx, ours_cmd, theirs_cmd, runs):
    """One hyperfine call per round timing both commands (the order alternates); each
    round's medians. The state directory is fresh each round: a round's runs share it."""
    ours, theirs = [], []
    report = os.path.join(ctx.work, "hyperfine.json")
    for i in range(ctx.rounds):
        state = fresh_dir(ctx, "state-")
        commands = [shlex.join(ours_cmd), shlex.join(theirs_cmd)]
        if i % 2:
            commands.reverse()
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", "3", "--runs", str(runs)]
        argv += ["--export-json", report, *commands]
        run_measured(argv, env=dict(os.environ, RUNBOOK_STATE_DIR=state))
        with open(report, encoding="utf-8") as f:
            medians = {r["command"]: r["median"] for r in json.load(f)["results"]}
        ours.append(medians[shlex.join(ours_cmd)])
        theirs.append(medians[shlex.join(theirs_cmd)])
        shutil.rmtree(state)
    return ours, theirs


def timed_rounds(ctx, ours_cmd, theirs_cmd, runs):
    """The same without hyperfine: each round alternates the two commands `runs` times."""
    ours, theirs = [], []
    for _ in range(ctx.rounds):
        state = fresh_dir(ctx, "state-")
        env = dict(os.environ, RUNBOOK_STATE_DIR=state)
        a, b = [], []
        for _ in range(runs):
            a.append(run_measured(ours_cmd, env=env).seconds)
            b.append(run_measured(theirs_cmd).seconds)
        ours.append(median(a))
        theirs.append(median(b))
        shutil.rmtree(state)
    return ours, theirs


SCALE_RUNS = 3  # real runs of the scale workload at most: each is long, and RSS varies little


def scale(ctx):
    """validate, dry-run and run a big runbook: time and peak RSS of each."""
    n = f"{ctx.sizes.scale:,}"
    yaml_file = ctx.paths["scale.yaml"]
    validate, dry, real = [], [], []
    for i in range(ctx.rounds):
        validate.append(engine(ctx, ["validate"], yaml_file, rss=True)[0])
        dry.append(engine(ctx, ["run", "--dry-run"], yaml_file, rss=True)[0])
        if i < SCALE_RUNS:
            real.append(engine(ctx, ["run"], yaml_file, rss=True)[0])

    def secs(ms):
        return median([m.seconds for m in ms])

    def rss(ms):
        return median([m.rss_kib for m in ms])

    rate = ctx.sizes.scale / secs(real)
    ctx.report.rows += [
        Row(f"scale: validate {n} steps", fmt_seconds(secs(validate)),
            target="< 200 ms", result=below(secs(validate), 0.2)),
        Row(f"scale: validate {n} steps, peak RSS", fmt_mib(rss(validate))),
        Row(f"scale: dry-run {n} steps", fmt_seconds(secs(dry))),
        Row(f"scale: dry-run {n} steps, peak RSS", fmt_mib(rss(dry))),
        Row(f"scale: run {n} steps", f"{fmt_seconds(secs(real))} ({rate:,.0f} steps/s)"),
        Row(f"scale: run {n} steps, peak RSS", fmt_mib(rss(real)),
            target="< 64 MiB", result=below(rss(real) / 1024, 64)),
    ]
    for name, ms in (("validate", validate), ("dry-run", dry), ("run", real)):
        figures = ", ".join(f"{fmt_seconds(m.seconds)} {fmt_mib(m.rss_kib)}" for m in ms)
        ctx.report.rounds.append(f"scale {name} (time, peak RSS): {figures}")


def output(ctx):
    """A step printing a lot: the engine's peak RSS, and how fast the output reaches the
    step log, next to the same command writing straight to a file."""
    total = ctx.sizes.output_bytes
    size = f"{total / MIB:,.0f} MiB" if total < 1 << 30 else f"{total / (1 << 30):g} GiB"
    sink = os.path.join(ctx.work, "output.txt")
    shell_cmd = ["bash", "-c", f"{ctx.paths['output.sh']} > {shlex.quote(sink)}"]
    logs = []

    def ours():
        measure, state = engine(ctx, ["run"], ctx.paths["output.yaml"], keep_state=True, rss=True)
        logs.append(tree_size(os.path.join(state, "runs")))
        shutil.rmtree(state)
        return measure

    def theirs():
        measure = run_measured(shell_cmd)
        os.remove(sink)
        return measure

    a, b = alternate(ctx, ours, theirs)
    rate = total / MIB / median([m.seconds for m in a])
    shell_rate = total / MIB / median([m.seconds for m in b])
    rss = median([m.rss_kib for m in a])
    ctx.report.rows += [
        Row(f"output: {size} from a step, peak RSS", fmt_mib(rss),
            target="< 64 MiB", result=below(rss / 1024, 64)),
        Row(f"output: {size} to the step log", f"{rate:,.0f} MiB/s",
            f"{shell_rate:,.0f} MiB/s (shell > file)", f"{shell_rate / rate:.2f}×"),
    ]
    figures = ", ".join(f"{fmt_seconds(m.seconds)} {fmt_mib(m.rss_kib)}" for m in a)
    ctx.report.rounds.append(f"output, runbook (time, peak RSS): {figures}")
    ctx.report.rounds.append(
        f"output, step log sizes: {fmt_list(logs, lambda n: f'{n / MIB:,.0f} MiB')}"
    )
    ctx.report.rounds.append(
        f"output, shell > file: {fmt_list([m.seconds for m in b], fmt_seconds)}"
    )


def tree_size(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def floors(ctx):
    """What a step cannot cost less than on this machine, for reading the ratios above:
    starting `true` and waiting for it (all a step is to ninja), and appending a line to a
    file and fsyncing it (what the durable audit log adds before each batch of starts)."""
    count = 200 if ctx.quick else 1000
    true = shutil.which("true") or "/bin/true"
    spawn, sync = [], []
    for _ in range(ctx.rounds):
        start = time.perf_counter()
        for _ in range(count):
            pid = os.posix_spawn(true, [true], {})
            os.waitpid(pid, 0)
        spawn.append((time.perf_counter() - start) / count)
        path = os.path.join(fresh_dir(ctx, "fsync-"), "log")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        line = b"x" * 400 + b"\n"
        start = time.perf_counter()
        for _ in range(count):
            os.write(fd, line)
            os.fsync(fd)
        sync.append((time.perf_counter() - start) / count)
        os.close(fd)
    ctx.report.rows.append(Row("floor: start `true` and wait for it", fmt_seconds(median(spawn))))
    ctx.report.rows.append(Row("floor: append a line and fsync it", fmt_seconds(median(sync))))
    ctx.report.rounds.append(
        f"floors: spawn and wait {fmt_list(spawn, fmt_seconds)}; "
        f"append and fsync {fmt_list(sync, fmt_seconds)}"
    )
