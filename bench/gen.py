#!/usr/bin/env python3
"""Writes the benchmark workloads: runbooks and the same DAGs for the peers.

Every step is the command `true`, so what is measured is the cost of running
a step, not the step's work. For ninja each step is an edge `command = true`
whose output is never created: ninja then runs every edge on every build, and
runs an edge only after the edges it depends on have finished, which is the
same work as the runbook's `needs`.

    python3 bench/gen.py OUTDIR [--quick]
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """How big each workload is. The full sizes are the ones issue targets are for."""

    wide: int = 2000
    chain: int = 2000
    diamond_layers: int = 50
    diamond_width: int = 40
    ansible: int = 50
    scale: int = 10000
    scale_width: int = 100
    output_bytes: int = 1 << 30
    output_line: int = 100


FULL = Sizes()
QUICK = Sizes(
    wide=200,
    chain=200,
    diamond_layers=10,
    diamond_width=20,
    ansible=10,
    scale=2000,
    scale_width=50,
    output_bytes=64 << 20,
)

NINJA_RULE = "rule t\n  command = true\n  description = $out\n\n"


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def runbook(name, steps, max_parallel=None):
    """A runbook as YAML text. steps: list of (id, [needed ids])."""
    lines = ["version: 1", f"name: {name}"]
    if max_parallel is not None:
        lines.append(f"max_parallel: {max_parallel}")
    lines.append("steps:")
    for step_id, needs in steps:
        lines.append(f"  - id: {step_id}")
        lines.append("    exec: [true]")
        if needs:
            lines.append(f"    needs: [{', '.join(needs)}]")
    return "\n".join(lines) + "\n"


def ninja(steps):
    """The same DAG as build.ninja text: one edge per step, named like the step."""
    lines = [NINJA_RULE]
    for step_id, needs in steps:
        deps = (" " + " ".join(needs)) if needs else ""
        lines.append(f"build {step_id}: t{deps}")
    return "\n".join(lines) + "\n"


def wide_steps(n):
    return [(f"s{i}", []) for i in range(n)]


def chain_steps(n):
    return [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(n)]


def layered_steps(layers, width):
    """Layers of `width` steps; each step needs every step of the layer before."""
    steps = []
    for layer in range(layers):
        previous = [f"l{layer - 1}-{j}" for j in range(width)] if layer else []
        steps.extend((f"l{layer}-{i}", previous) for i in range(width))
    return steps


def scale_steps(n, width):
    """n steps in layers of `width`; each needs two steps of the layer before."""
    steps = []
    for i in range(n):
        layer, pos = divmod(i, width)
        needs = []
        if layer:
            base = (layer - 1) * width
            needs = [f"s{base + pos}", f"s{base + (pos + 1) % width}"]
            needs = sorted(set(needs))
        steps.append((f"s{i}", needs))
    return steps


def playbook(tasks):
    lines = [
        "- hosts: localhost",
        "  connection: local",
        "  gather_facts: false",
        "  tasks:",
    ]
    for i in range(tasks):
        lines.append(f"    - name: t{i}")
        lines.append('      command: "true"')
    return "\n".join(lines) + "\n"


def output_runbook(total_bytes, line_bytes):
    # `yes` repeats one line of line_bytes (newline included) as fast as a pipe takes it;
    # it ends by SIGPIPE when head has had enough, which is not a failure here.
    line = "x" * (line_bytes - 1)
    return (
        "version: 1\n"
        "name: output\n"
        "steps:\n"
        "  - id: print\n"
        f"    run: set +o pipefail; yes {line} | head -c {total_bytes}\n"
    )


def output_shell(total_bytes, line_bytes):
    line = "x" * (line_bytes - 1)
    return f"yes {line} | head -c {total_bytes}"


def server_files(out, token):
    """A server config with one alert rule, its runbook, tokens and a payload."""
    os.makedirs(os.path.join(out, "server"), exist_ok=True)
    write(
        os.path.join(out, "server", "tiny.yaml"),
        "version: 1\nname: tiny\nsteps:\n  - id: one\n    exec: [true]\n",
    )
    tokens = os.path.join(out, "server", "tokens")
    write(tokens, token + "\n")
    os.chmod(tokens, 0o600)
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "runbook",
        "groupKey": '{}:{alertname="BenchAlert"}',
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": "BenchAlert"},
        "commonLabels": {"alertname": "BenchAlert", "instance": "bench-1"},
        "commonAnnotations": {"summary": "a benchmark alert"},
        "externalURL": "http://alertmanager.invalid",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "BenchAlert", "instance": "bench-1", "severity": "page"},
                "annotations": {"summary": "a benchmark alert"},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.invalid/graph",
                "fingerprint": "b3nc4a1e7f000001",
            }
        ],
    }
    write(os.path.join(out, "server", "payload.json"), json.dumps(payload))


def server_config(out, port):
    """Written apart from server_files: the port is picked just before the server starts."""
    path = os.path.join(out, "server", "server.yaml")
    write(
        path,
        f"listen: 127.0.0.1:{port}\n"
        "state_dir: state\n"
        "runbooks_dir: .\n"
        "auth:\n"
        "  bearer_tokens_file: tokens\n"
        "alerts:\n"
        "  - name: bench\n"
        "    match: {alertname: BenchAlert}\n"
        "    runbook: tiny.yaml\n",
    )
    return path


def wrk_script(out, token):
    """A wrk script that POSTs the payload with the token: every request after the first dedups."""
    with open(os.path.join(out, "server", "payload.json"), encoding="utf-8") as f:
        body = f.read()
    path = os.path.join(out, "server", "post.lua")
    write(
        path,
        'wrk.method = "POST"\n'
        f"wrk.body = {lua_string(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n',
    )
    return path


def lua_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(out, sizes):
    """Writes every workload into out; returns a dict of the paths the runner needs."""
    os.makedirs(out, exist_ok=True)
    paths = {}
    dags = {
        "wide": (wide_steps(sizes.wide), 2),
        "chain": (chain_steps(sizes.chain), 2),
        "diamond": (layered_steps(sizes.diamond_layers, sizes.diamond_width), 2),
        "startup": (wide_steps(1), None),
    }
    for name, (steps, max_parallel) in dags.items():
        paths[name + ".yaml"] = os.path.join(out, name + ".yaml")
        write(paths[name + ".yaml"], runbook(name, steps, max_parallel))
        paths[name + ".ninja"] = os.path.join(out, name + ".ninja")
        write(paths[name + ".ninja"], ninja(steps))

    paths["ansible.yaml"] = os.path.join(out, "ansible.yaml")
    write(paths["ansible.yaml"], runbook("ansible", chain_steps(sizes.ansible)))
    paths["playbook.yml"] = os.path.join(out, "playbook.yml")
    write(paths["playbook.yml"], playbook(sizes.ansible))

    paths["scale.yaml"] = os.path.join(out, "scale.yaml")
    write(paths["scale.yaml"], runbook("scale", scale_steps(sizes.scale, sizes.scale_width)))

    paths["output.yaml"] = os.path.join(out, "output.yaml")
    write(paths["output.yaml"], output_runbook(sizes.output_bytes, sizes.output_line))
    paths["output.sh"] = output_shell(sizes.output_bytes, sizes.output_line)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--quick", action="store_true", help="the small sizes")
    args = parser.parse_args()
    paths = generate(args.outdir, QUICK if args.quick else FULL)
    for key in sorted(paths):
        print(f"{key}: {paths[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
