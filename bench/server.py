"""The server workload: `runbook serve` with one alert rule, under wrk on loopback.

The first Alertmanager POST starts a run; wrk then POSTs the same payload for
ctx.server_seconds, so that every request is answered `deduplicated` (the
receiver's whole path, nothing started), then GETs /healthz as long.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import gen
from harness import BenchError, Row, at_least, below, fmt_seconds

RPS_TARGET = 5000
P99_TARGET = 0.010  # seconds


def server(ctx):
    token = os.urandom(16).hex()
    gen.server_files(ctx.work, token)
    port = free_port()
    config = gen.server_config(ctx.work, port)
    lua = gen.wrk_script(ctx.work, token)
    with open(os.path.join(ctx.work, "server", "payload.json"), "rb") as f:
        payload = f.read()
    base = f"http://127.0.0.1:{port}"
    alerts_url = f"{base}/v1/alerts/alertmanager"
    with open(os.path.join(ctx.work, "server", "serve.log"), "wb") as log:
        proc = subprocess.Popen(
            [ctx.runbook, "serve", "--config", config],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        try:
            wait_healthy(base, proc)
            code, answer = post(alerts_url, payload, token)
            if code == 404:
                ctx.report.notes.append("server: skipped: server has no alert receiver")
                return
            expect_decision(code, answer, "started")
            alerts = wrk(ctx, alerts_url, lua)
            healthz = wrk(ctx, f"{base}/healthz")
            code, answer = post(alerts_url, payload, token)
            expect_decision(code, answer, "deduplicated")
        finally:
            stop(proc)
    add_rows(ctx, "server: alert POST", alerts, enforce=True)
    add_rows(ctx, "server: GET /healthz", healthz, enforce=False)
    ctx.report.rounds.append(
        f"server (wrk, 1 thread, {ctx.wrk_connections} connections, {ctx.server_seconds} s): "
        f"alert POST {alerts[0]:,.0f} requests/s, p99 {fmt_seconds(alerts[1])}; "
        f"/healthz {healthz[0]:,.0f} requests/s, p99 {fmt_seconds(healthz[1])}"
    )


def add_rows(ctx, label, figures, enforce):
    rps, p99, errors = figures
    note = f" ({errors:,} not 2xx)" if errors else ""
    rps_target = rps_result = p99_target = p99_result = "—"
    if enforce:
        rps_target, p99_target = f"≥ {RPS_TARGET:,}/s", f"< {fmt_seconds(P99_TARGET)}"
        rps_result = at_least(rps, RPS_TARGET) if not errors else "missed: answers not 2xx"
        p99_result = below(p99, P99_TARGET)
    ctx.report.rows += [
        Row(f"{label}, requests/s", f"{rps:,.0f}{note}", target=rps_target, result=rps_result),
        Row(f"{label}, p99 latency", fmt_seconds(p99), target=p99_target, result=p99_result),
    ]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base, proc):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"runbook serve exited {proc.returncode} at start (see serve.log)")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise BenchError("runbook serve did not answer /healthz within 15 s")


def post(url, body, token):
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def expect_decision(code, answer, decision):
    try:
        got = json.loads(answer)["alerts"][0]["decision"]
    except (ValueError, KeyError, IndexError, TypeError):
        got = None
    if code != 202 or got != decision:
        raise BenchError(f"alert POST answered {code} {answer!r}; expected 202 and {decision}")


def wrk(ctx, url, script=None):
    """wrk against url: (requests/s, p99 latency in seconds, answers that were not 2xx)."""
    seconds = ctx.server_seconds
    argv = ["wrk", "-t1", f"-c{ctx.wrk_connections}", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if out.returncode != 0:
        raise BenchError(f"`{shlex.join(argv)}` exited {out.returncode}:\n{out.stderr}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out.stdout, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out.stdout, re.M)
    if not rps or not p99:
        raise BenchError(f"cannot read wrk's report:\n{out.stdout}")
    socket_errors = re.search(r"Socket errors:.*", out.stdout)
    if socket_errors:
        ctx.report.rounds.append(f"wrk {url}: {socket_errors.group(0)}")
    not_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out.stdout)
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[p99.group(2)]
    return float(rps.group(1)), float(p99.group(1)) * unit, int(not_2xx.group(1)) if not_2xx else 0


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
