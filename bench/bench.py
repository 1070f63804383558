#!/usr/bin/env python3
"""Runs runbook and its peers on the benchmark workloads and prints a table.

Started by bench/run.sh, which installs the peers first; see bench/README.md.
Engine and peer run alternately, round after round, and the table shows the
medians. Every engine run gets a fresh state directory and the defaults a user
gets (durable audit log, history on).
"""

import argparse
import os
import shlex
import shutil
import sys
import tempfile

import gen
import report
import server
import workloads
from harness import BenchError, Context, engine, ninja

WORKLOADS = {
    "wide": workloads.wide,
    "chain": workloads.chain,
    "diamond": workloads.diamond,
    "ansible": workloads.ansible,
    "startup": workloads.startup,
    "scale": workloads.scale,
    "output": workloads.output,
    "server": server.server,
    "floors": workloads.floors,
}


def parse_args():
    parser = argparse.ArgumentParser(
        prog="bench/run.sh", description="Benchmarks runbook against ninja, Ansible and wrk."
    )
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 2 rounds, for development")
    parser.add_argument("--rounds", type=int,
                        help="rounds of each workload (default $BENCH_ROUNDS, else 5; 2 with --quick)")
    parser.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown")
    parser.add_argument("--runbook", default=os.path.join(report.REPO, "build", "bin", "runbook"),
                        help="the binary to measure (default build/bin/runbook)")
    parser.add_argument("--workdir", help="where workloads and state go (default: a new temp dir)")
    parser.add_argument("--server-seconds", type=int,
                        help="how long each wrk run lasts (default 10; 3 with --quick)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 2 if args.quick else int(os.environ.get("BENCH_ROUNDS", "5"))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.server_seconds is None:
        args.server_seconds = 3 if args.quick else 10
    args.only = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [w for w in args.only if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    return args


def main():
    args = parse_args()
    command = shlex.join(["./bench/run.sh", *sys.argv[1:]])
    runbook = os.path.abspath(args.runbook)
    if not os.access(runbook, os.X_OK):
        print(f"bench: {runbook} is not there; build it with ./scripts/build.sh", file=sys.stderr)
        return 1
    if args.workdir:
        work = os.path.abspath(args.workdir)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="runbook-bench-")
    sizes = gen.QUICK if args.quick else gen.FULL
    ctx = Context(
        runbook=runbook,
        work=work,
        paths=gen.generate(os.path.join(work, "workloads"), sizes),
        sizes=sizes,
        rounds=args.rounds,
        quick=args.quick,
        server_seconds=args.server_seconds,
        wrk_connections=args.connections,
    )
    info = report.header(ctx, command)
    built = os.stat(runbook).st_mtime
    try:
        # One untimed run of each first, so that the first round does not pay for
        # reading the binaries from disk.
        engine(ctx, ["run"], ctx.paths["startup.yaml"])
        ninja(ctx, ctx.paths["startup.ninja"])
        for name in args.only:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            WORKLOADS[name](ctx)
    except BenchError as e:
        print(f"bench: FAILED: {e}", file=sys.stderr)
        print(f"bench: the work directory is kept: {work}", file=sys.stderr)
        return 1
    info.append(("load average at the end", report.load_average()))
    if not os.path.exists(runbook) or os.stat(runbook).st_mtime != built:
        ctx.report.notes.append(f"warning: {args.runbook} was rebuilt during the bench")
    report.print_report(info, ctx.report)
    if args.markdown:
        report.write_markdown(args.markdown, info, ctx.report)
        print(f"\nbench: wrote {args.markdown}")
    if args.keep:
        print(f"bench: the work directory is kept: {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
