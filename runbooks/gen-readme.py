#!/usr/bin/env python3
"""Write runbooks/README.md from the runbooks in runbooks/*.yaml.

    python3 runbooks/gen-readme.py            # (re)write runbooks/README.md
    python3 runbooks/gen-readme.py --check    # exit 1, with a diff, if it is stale
    python3 runbooks/gen-readme.py --stdout   # print it instead

For each runbook the README shows its name, the What / When / Changes /
Rollback sections of its header comment, its steps and a table of its params.
The header comment every runbook here starts with:

    # NAME: one-line summary
    #
    # What: ...
    # When: ...
    # Changes: ...
    # Rollback: ...

Each section may go on over several `# ` lines; a line `#` alone starts a new
paragraph; lines indented by two more spaces (`#   runbook run ...`) are
shown as code. A runbook whose header lacks a section, repeats one, names
another runbook, or has a param without a description is an error (exit 2):
the README must not silently lose what the header says.

Values are shown as written in the YAML (a default `yes` stays `yes`), read
with PyYAML's composer, so the README says what the engine reads.
"""

import argparse
import difflib
import pathlib
import re
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
README = HERE / "README.md"
SECTIONS = ("What", "When", "Changes", "Rollback")
SECTION_LINE = re.compile(r"^# (%s): ?(.*)$" % "|".join(SECTIONS))
TITLE_LINE = re.compile(r"^# ([a-z0-9][a-z0-9_-]*): (\S.*)$")

INTRO = """\
# Runbooks

Ready runbooks for day-one operations, written the way we want runbooks to be
written: a header that says what each one does, when to use it, what it
changes and how to undo it; typed params with descriptions and patterns;
timeouts and retries on every step; rollbacks where a change can be undone;
`confirm` on destructive steps; and no step that does harm when run twice.
Each one is validated in CI and run for real, in a sandbox, by an integration
test (`tests/integration/runbooks_*_test.cpp`).

```sh
runbook run runbooks/NAME.yaml --help-params                # its params, with their defaults
runbook run runbooks/NAME.yaml -p KEY=VALUE ... --dry-run   # the engine's plan; nothing runs
runbook run runbooks/NAME.yaml -p KEY=VALUE ...             # run it (--yes to answer its questions)
```

(`runbook` is `./build/bin/runbook` in a build tree.) Runbooks that change
things take a `dry_run` param (`-p dry_run=true`, the default where it makes
sense): unlike the engine's `--dry-run`, the runbook then runs, reading what
it would change and reporting it without changing anything. Read what it
reports before running for real. A runbook with `confirm:` steps needs `--yes`
when there is no terminal to ask on, even in its own dry run.

This file is generated from the runbooks by `python3 runbooks/gen-readme.py`
(do not edit it by hand); CI runs `python3 runbooks/gen-readme.py --check`,
which fails when it is out of date.
"""


class RunbookError(Exception):
    pass


# --- reading a runbook -------------------------------------------------------


def parse_header(path, lines):
    """The title line and the four sections of the leading comment."""
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line.rstrip("\n"))
    if not header:
        raise RunbookError(f"{path.name}: no header comment; it must start with '# {path.stem}: summary'")
    title = TITLE_LINE.match(header[0])
    if not title:
        raise RunbookError(f"{path.name}:1: the header's first line must be '# {path.stem}: summary', not {header[0]!r}")
    name, summary = title.group(1), title.group(2).strip()
    sections = {}
    current = None
    for number, line in enumerate(header[1:], start=2):
        found = SECTION_LINE.match(line)
        if found:
            current = found.group(1)
            if current in sections:
                raise RunbookError(f"{path.name}:{number}: section '{current}:' appears twice in the header")
            sections[current] = [found.group(2)]
        elif line in ("#", "# "):
            if current:
                sections[current].append("")
        elif line.startswith("# "):
            if current is None:
                raise RunbookError(
                    f"{path.name}:{number}: text before the header's 'What:' section: {line!r}")
            sections[current].append(line[2:])
        else:
            raise RunbookError(f"{path.name}:{number}: header lines start with '# ', not {line!r}")
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise RunbookError(
            f"{path.name}: the header comment lacks {', '.join(s + ':' for s in missing)}; "
            f"every runbook says {', '.join(s + ':' for s in SECTIONS)}")
    for section, text in sections.items():
        if not "".join(text).strip():
            raise RunbookError(f"{path.name}: section '{section}:' of the header is empty")
    return name, summary, sections


def plain(node, depth=0):
    """A composed YAML node as Python values, scalars kept as written (str)."""
    if depth > 64:
        raise RunbookError("nested too deep")
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [plain(item, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        result = {}
        merged = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge" or (isinstance(key, yaml.ScalarNode) and key.value == "<<"
                                                         and key.style is None):
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in reversed(sources):  # earlier maps win
                    merged.update(plain(source, depth + 1))
            else:
                result[plain(key, depth + 1)] = plain(value, depth + 1)
        return {**merged, **result}
    raise RunbookError(f"unexpected YAML node {node!r}")


def load_runbook(path):
    text = path.read_text(encoding="utf-8")
    name, summary, sections = parse_header(path, text.splitlines())
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        raise RunbookError(f"{path.name}: invalid YAML: {e}") from e
    doc = plain(root) if root is not None else {}
    if not isinstance(doc, dict):
        raise RunbookError(f"{path.name}: not a map")
    if doc.get("name") != path.stem:
        raise RunbookError(f"{path.name}: its name is {doc.get('name')!r}; a runbook here is named like its file, {path.stem!r}")
    if name != path.stem:
        raise RunbookError(f"{path.name}:1: the header names {name!r}, not {path.stem!r}")
    params = doc.get("params") or {}
    if not isinstance(params, dict):
        raise RunbookError(f"{path.name}: 'params' is not a map")
    for pname, spec in params.items():
        if not isinstance(spec, dict):
            raise RunbookError(f"{path.name}: param {pname!r} is not a map")
        if not str(spec.get("description", "")).strip():
            raise RunbookError(f"{path.name}: param {pname!r} has no description; every param here says what it is")
    steps = doc.get("steps") or []
    return {
        "file": path.name,
        "name": path.stem,
        "summary": summary,
        "description": doc.get("description", ""),
        "sections": sections,
        "params": params,
        "steps": [s for s in steps if isinstance(s, dict)],
    }


# --- writing Markdown --------------------------------------------------------


def cell(text):
    """Plain text (a description) for Markdown, on one line: the characters
    Markdown would read as markup are escaped, so `\\.` in a pattern stays."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\*_\[\]<>|])", r"\\\1", text)


def code(text):
    """Inline code in a table cell, with a fence longer than any backtick run inside."""
    text = " ".join(str(text).split())
    runs = re.findall(r"`+", text)
    fence = "`" * (max((len(r) for r in runs), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return (fence + pad + text + pad + fence).replace("|", "\\|")


def value_text(value):
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if value == "":
        return "''"
    return str(value)


def section_markdown(lines):
    """Header lines of a section as Markdown paragraphs and code blocks."""
    out, paragraph, block = [], [], []

    def flush_paragraph():
        if paragraph:
            out.append(" ".join(paragraph))
            out.append("")
            paragraph.clear()

    def flush_block():
        if block:
            out.append("```")
            out.extend(block)
            out.append("```")
            out.append("")
            block.clear()

    for line in lines:
        if line.startswith("  ") and line.strip():
            flush_paragraph()
            block.append(line[2:])
        elif not line.strip():
            flush_paragraph()
            flush_block()
        else:
            flush_block()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_block()
    while out and out[-1] == "":
        out.pop()
    return out


def constraints(spec):
    parts = []
    if "pattern" in spec:
        parts.append("pattern " + code(spec["pattern"]))
    if "allowed" in spec:
        allowed = spec["allowed"] if isinstance(spec["allowed"], list) else [spec["allowed"]]
        parts.append("one of " + ", ".join(code(value_text(a)) for a in allowed))
    kind = str(spec.get("type", "string"))
    unit = {"string": " chars", "list": " items"}.get(kind, "")
    if "min" in spec:
        parts.append(f"min {spec['min']}{unit}")
    if "max" in spec:
        parts.append(f"max {spec['max']}{unit}")
    for source in ("env", "file"):
        if source in spec:
            parts.append(f"from {source} {code(spec[source])}")
    return "; ".join(parts) if parts else ""


def runbook_markdown(rb):
    out = [f"## {rb['name']}", "", f"[`{rb['file']}`]({rb['file']}): {rb['summary']}", ""]
    if rb["description"]:
        out += [cell(rb["description"]), ""]
    for section in SECTIONS:
        body = section_markdown(rb["sections"][section])
        out.append(f"**{section}:** " + body[0])
        out += body[1:]
        out.append("")
    steps = []
    for step in rb["steps"]:
        text = code(step.get("id", "?"))
        if "confirm" in step:
            text += " (asks first)"
        steps.append(text)
    if steps:
        out += ["**Steps**, in the order written: " + ", ".join(steps), ""]
    params = rb["params"]
    if params:
        out += [
            "| param | type | default | required | description | constraints |",
            "|---|---|---|---|---|---|",
        ]
        for pname, spec in params.items():
            default = code(value_text(spec["default"])) if "default" in spec else ""
            required = "yes" if str(spec.get("required", "false")).lower() == "true" else "no"
            out.append(
                f"| `{pname}` | {cell(spec.get('type', 'string'))} | {default} | {required} "
                f"| {cell(spec.get('description', ''))} | {constraints(spec)} |")
        out.append("")
        required = [p for p, s in params.items()
                    if str(s.get("required", "false")).lower() == "true" and "default" not in s]
        example = " ".join(f"-p {p}=…" for p in required)
        out += ["```sh", f"runbook run runbooks/{rb['file']}" + (f" {example}" if example else ""), "```", ""]
    else:
        out += ["No params.", ""]
    return out


def generate(directory=HERE):
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RunbookError(f"no runbooks (*.yaml) in {directory}")
    runbooks = [load_runbook(f) for f in files]
    out = INTRO.splitlines() + [""]
    out += ["| runbook | what it is for |", "|---|---|"]
    for rb in runbooks:
        out.append(f"| [{rb['name']}](#{rb['name']}) | {cell(rb['summary'])} |")
    out.append("")
    for rb in runbooks:
        out += runbook_markdown(rb)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Write runbooks/README.md from runbooks/*.yaml.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 with a diff when README.md is not what would be written")
    mode.add_argument("--stdout", action="store_true", help="print the README instead of writing it")
    args = parser.parse_args()
    try:
        text = generate()
    except RunbookError as e:
        print(f"gen-readme: error: {e}", file=sys.stderr)
        return 2
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = README.read_text(encoding="utf-8") if README.exists() else ""
        if current == text:
            print("gen-readme: runbooks/README.md is up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(keepends=True), text.splitlines(keepends=True),
                                    "runbooks/README.md (as it is)", "runbooks/README.md (as generated)")
        sys.stdout.writelines(diff)
        print("gen-readme: runbooks/README.md is out of date: run python3 runbooks/gen-readme.py",
              file=sys.stderr)
        return 1
    README.write_text(text, encoding="utf-8")
    print(f"gen-readme: wrote runbooks/README.md ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
