"""The report: what machine and build the figures are from, the table, every round."""

import datetime
import os
import platform
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["workload", "runbook", "peer", "ratio", "target", "result"]
NOTES_HEADING = "## Notes"


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def commit():
    def git(*args):
        try:
            out = subprocess.run(
                ["git", "-C", REPO, *args], capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    rev = git("rev-parse", "--short", "HEAD")
    if not rev:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return rev + (" with local changes" if dirty else "")


def filesystem(path):
    """The type of the filesystem holding path, from /proc/self/mounts; for ext4, whether
    it has a journal (without one, creating a file can cost a millisecond)."""
    best, kind, device = "", "unknown", ""
    path = os.path.realpath(path)
    with open("/proc/self/mounts", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            mount = fields[1].replace("\\040", " ")
            inside = path == mount or path.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                best, kind, device = mount, fields[2], fields[0]
    if kind == "ext4" and os.path.isdir("/proc/fs/jbd2"):
        name = os.path.basename(device)
        journaled = any(j.startswith(name + "-") for j in os.listdir("/proc/fs/jbd2"))
        kind += "" if journaled else " without a journal"
    elif kind == "ext4":
        kind += " without a journal"
    return f"{kind} ({best})"


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return f"{argv[0]} missing"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else f"{argv[0]} (unknown version)"


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def header(ctx, command):
    """(key, value) pairs that say where the figures come from."""
    peers = [
        "ninja " + version(["ninja", "--version"]),
        version(["ansible-playbook", "--version"]),
        version(["hyperfine", "--version"]),
        version(["wrk", "-v"]).split(" [")[0],
    ]
    sizes = "quick sizes (the targets are for the full sizes)" if ctx.quick else "full sizes"
    return [
        ("command", f"`{command}`"),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}"),
        ("runbook", f"commit {commit()}"),
        ("peers", ", ".join(peers)),
        ("state directory on", filesystem(ctx.work)),
        ("rounds", f"{ctx.rounds}, runbook and peer alternately; medians; {sizes}"),
        ("load average at start", load_average()),
    ]


def cells(row):
    return [row.workload, row.engine, row.peer, row.ratio, row.target, row.result]


def text_table(rows):
    table = [COLUMNS] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def print_report(info, report):
    for key, value in info:
        print(f"{key}: {value.strip('`')}")
    print()
    for line in text_table(report.rows):
        print(line)
    for line in report.notes:
        print(line)
    print()
    print("every round:")
    for line in report.rounds:
        print(f"  {line}")


def write_markdown(path, info, report):
    """Writes the report to path. A '## Notes' section already in the file is kept, so
    that explanations written by hand survive a refresh."""
    kept = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
        at = old.find("\n" + NOTES_HEADING + "\n")
        if at >= 0:
            kept = old[at + 1:]
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in info]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in report.rows]
    if report.notes:
        lines += [""] + [f"- {line}" for line in report.notes]
    lines += ["", "Every round:", ""] + [f"- {line}" for line in report.rounds]
    text = "\n".join(lines) + "\n"
    if kept:
        text += "\n" + kept
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
