"""The house rules, checked on the source: data flows one way, faces call only the application layer, only
the settings module reads the environment.  Fast: it parses the code, runs none of it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("digitize", "codes", "signing", "storage")
# What each part may import of the project (its own modules always).
ALLOWED = {
    "codes": set(),
    "signing": set(),
    "storage": set(),
    "digitize": {"codes"},
    "workflow": {"digitize", "codes", "signing", "storage"},
    "web": {"workflow"},
    "worker": {"workflow"},
    "cli": {"workflow", "web", "worker"},
}
PROJECT = {*ROOMS, "workflow", "web", "worker", "cli", "settings", "api"}


def sources(part: str) -> list[Path]:
    return [ROOT / "cli.py"] if part == "cli" else sorted((ROOT / part).rglob("*.py"))


def project_imports(path: Path) -> list[tuple[int, str]]:
    """Top-level names of the project's modules that ``path`` imports, with the line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PROJECT]
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_what_is_below_it(part):
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path in sources(part)
             for line, name in project_imports(path) if name != part and name not in ALLOWED[part]]
    assert wrong == []


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for part in (*ROOMS, "workflow", "web", "worker", "cli"):
        for path in sources(part):
            if path == ROOT / "workflow" / "settings.py":
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv", "unsetenv"} \
                        and isinstance(node.value, ast.Name) and node.value.id == "os":
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno} os.{node.attr}")
    assert readers == []


def test_the_rules_above_can_fail(tmp_path):
    """The checks see a forbidden import and an environment read when there is one."""
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom storage import Index\nvalue = os.environ.get('X')\n")
    assert project_imports(sample) == [(2, "storage")]
    assert any(isinstance(n, ast.Attribute) and n.attr == "environ" for n in ast.walk(ast.parse(sample.read_text())))


def test_faces_reach_no_room_through_the_composition_root():
    """cli.py and web/ call workflow functions; they never use the index, archive, store or signer themselves."""
    reached = []
    for path in (*sources("cli"), *sources("web"), *sources("worker")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"index", "archive", "store", "signer", "verify"} \
                    and isinstance(node.value, ast.Name) and node.value.id == "rooms":
                reached.append(f"{path.relative_to(ROOT)}:{node.lineno} rooms.{node.attr}")
    assert reached == []
