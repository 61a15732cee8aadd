"""README.md runs as written: every Python block and shell command, in order, in a fresh
``$CRYPTOFORECAST_HOME`` and an empty working directory.

A block is marked by an HTML comment on the line(s) just before it, visible in the markdown:

- ``<!-- readme-test: network -->``: needs the internet; skipped (tests never touch the network).
- ``<!-- readme-test: skip REASON -->``: not run here, for the reason given.
- ``<!-- readme-test: file NAME -->``: written to NAME in the working directory, not run.

Python blocks share one namespace, like a session typed top to bottom; shell commands run with
``cryptoforecast`` meaning this checkout's command line. A line ``NAME=$(command)`` runs the
command and keeps its stripped output; later lines have ``$NAME`` (``"$NAME"``, ``${NAME}``)
replaced by it, as a shell would. The registry is not empty when the README starts: it already
holds two models, so a command that names a model by an id of an empty registry fails here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)=\$\((.*)\)\s*(?:#.*)?$")
MARK = re.compile(r"<!--\s*readme-test:\s*(network|skip|file)\b\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass
class Block:
    line: int
    lang: str
    text: str
    mark: str | None = None
    arg: str = ""


def readme_blocks(text: str) -> list[Block]:
    """The fenced python/bash blocks of ``text`` with the mark just before each."""
    blocks, lines, i = [], text.splitlines(), 0
    pending: tuple[str, str] | None = None
    while i < len(lines):
        mark = MARK.search(lines[i])
        fence = FENCE.match(lines[i])
        if mark:
            pending = (mark.group(1), mark.group(2))
        elif fence and fence.group(1):
            lang, start = fence.group(1), i
            i += 1
            body = []
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if lang in ("python", "bash"):
                kind, arg = pending or (None, "")
                blocks.append(Block(start + 1, lang, "\n".join(body), kind, arg))
            pending = None
        elif lines[i].strip():
            pending = None  # a mark applies to the block right after it only
        i += 1
    return blocks


def shell_commands(block: str) -> list[str]:
    """One command per line (backslash continuations joined), comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        if assigned := ASSIGN.match(line):
            name, command = assigned.groups()
            commands.append(f"{name}=$({shlex.join(shlex.split(command, comments=True))})")
            continue
        words = shlex.split(line, comments=True)
        if words:
            commands.append(shlex.join(words))
    return commands


def with_variables(command: str, variables: dict[str, str]) -> str:
    """``command`` with ``$NAME`` and ``${NAME}`` of every name in ``variables`` replaced by its
    value (values are ids and names: no quote in them); other ``$`` words are left as they are."""
    for name, value in variables.items():
        assert "'" not in value and '"' not in value, f"${name} holds a quote: {value!r}"
        command = re.sub(rf"\$(?:{name}\b|\{{{name}\}})", value, command)
    return command


def seed_registry() -> list[int]:
    """Register two models by hand, as a registry in use would hold before the README starts."""
    from cryptoforecast.registry import ModelRegistry

    registry = ModelRegistry()
    try:
        registry.artifact_root.mkdir(parents=True, exist_ok=True)
        ids = []
        for coin, model_type, horizon in (("bitcoin", "lightgbm", 1), ("dogecoin", "xgboost", 3)):
            path = registry.artifact_root / "seed" / f"{coin}-{model_type}-h{horizon}"
            path.mkdir(parents=True)
            (path / "manifest.json").write_text('{"model_type": "seed"}', encoding="utf-8")
            ids.append(
                registry.register_model(
                    model_type=model_type,
                    crypto_id=coin,
                    horizon=horizon,
                    model_path=path,
                    config={"note": "there before the README"},
                )
            )
        return ids
    finally:
        registry.close()


def test_the_parser_sees_marks_files_and_continuations() -> None:
    text = (
        "<!-- readme-test: network -->\n```bash\nx --a \\\n   --b  # note\n```\n\n"
        "prose\n```python\nprint(1)\n```\n<!-- readme-test: file m.py -->\n```python\nz = 1\n```\n"
    )
    net, plain, file = readme_blocks(text)
    assert (net.mark, plain.mark, file.mark, file.arg) == ("network", None, "file", "m.py")
    assert shell_commands(net.text) == ["x --a --b"]


def test_a_command_output_is_kept_in_a_variable_for_the_lines_after_it() -> None:
    block = (
        'ID=$(cf list --crypto bitcoin \\\n  --ids --latest)   # the newest\ncf show "$ID"  # it\n'
    )
    assign, show = shell_commands(block)
    assert assign == "ID=$(cf list --crypto bitcoin --ids --latest)"
    assert ASSIGN.match(assign).groups() == ("ID", "cf list --crypto bitcoin --ids --latest")  # type: ignore[union-attr]
    assert ASSIGN.match(show) is None
    assert with_variables(show, {"ID": "12"}) == "cf show '12'"  # quoted, as the shell reads it
    assert with_variables("a ${ID} $IDS $HOME", {"ID": "3"}) == "a 3 $IDS $HOME"


def test_every_skipped_block_says_why_in_the_readme() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert sum(b.mark is None for b in blocks) >= 10
    for b in blocks:
        if b.mark == "skip":
            assert len(b.arg) > 10, f"README line {b.line}: a skip mark needs its reason"
    assert "readme-test: network" in README.read_text(encoding="utf-8")


@pytest.mark.slow
def test_readme_runs_in_order(
    tmp_path: Path, cf_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    bin_dir = tmp_path / "bin"
    work.mkdir()
    bin_dir.mkdir()
    shim = bin_dir / "cryptoforecast"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cryptoforecast "$@"\n')
    shim.chmod(0o755)
    src = str(REPO / "src")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.chdir(work)
    assert seed_registry() == [1, 2]
    namespace: dict[str, object] = {"__name__": "__readme__"}
    variables: dict[str, str] = {}
    ran = 0
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if block.mark in ("network", "skip"):
            continue
        if block.mark == "file":
            (work / block.arg).write_text(block.text + "\n", encoding="utf-8")
            continue
        if block.lang == "python":
            code = compile(block.text, f"README.md:{block.line}", "exec")
            exec(code, namespace)  # noqa: S102 - the README's own code, run as a reader would
            ran += 1
            continue
        for line in shell_commands(block.text):
            assigned = ASSIGN.match(line)
            command = with_variables(assigned.group(2) if assigned else line, variables)
            done = subprocess.run(
                command, shell=True, cwd=work, capture_output=True, text=True, timeout=900
            )
            assert done.returncode == 0, (
                f"README.md:{block.line}: `{command}` exited {done.returncode}\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            )
            if assigned:
                variables[assigned.group(1)] = done.stdout.strip()
            ran += 1
    assert ran >= 15
