"""pos/domain stays pure: no UI, database or printer library, so its rules can be tested and reused anywhere."""

import ast
from pathlib import Path

FORBIDDEN = {
    "textual",
    "sqlmodel",
    "sqlalchemy",
    "escpos",
    "typer",
    "rich",
    "pos.db",
    "pos.screens",
    "pos.printing",
}


def test_domain_imports_no_io_libraries() -> None:
    offenders = []
    for path in Path("pos/domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                    offenders.append(f"{path}: {name}")
    assert offenders == []
