"""No secret, PIN or customer e-mail in any file the product writes, except where they belong.

A run of CLI commands (the real console script) with its home, data and working directories in a temporary
tree: set-up, sales with customers and cart links, refusals that name customers, printing to a file printer,
promo codes to a file. Afterwards every file in the tree is read and searched. Only the database (which holds
the customers), the config (which holds the secrets) and the files this test wrote itself may contain them.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from pos.domain.cart_link import b64url, signature

PIN = "987654"
EMAILS = ("anna.leak@example.org", "guest.leak@example.org", "link.leak@example.org", "csv.leak@example.org")


def test_files_written_by_the_cli_hold_no_secrets_pins_or_emails(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    config = work / "pos.toml"
    database = work / "db" / "pos.db"
    printer = work / "printer.bin"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "PYTHONUTF8": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("POS_DB", None)
    env["POS_CONFIG"] = str(config)
    exe = str(Path(sys.executable).with_name("pos"))

    def pos(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [exe, *args], env=env, cwd=work, input=input, capture_output=True, text=True, timeout=120
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1, 2), (args, result.returncode, result.stderr)
        return result

    def ok(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = pos(*args, input=input)
        assert result.returncode == 0, (args, result.stderr)
        return result

    ok("init", str(config), "--database", f"sqlite:///{database}", "--printer-file", str(printer))
    from pos.config import load_config

    secrets = load_config(config)
    brand_secret, link_secret = secrets.brand.secret or "", secrets.cart_links.secret or ""
    ok("db", "upgrade")
    ok("operator", "add", "boss", "--role", "admin", "--pin-stdin", input=f"{PIN}\n")
    ok("operator", "set-pin", "boss", "--pin-stdin", input=f"{PIN}\n")
    pos("operator", "add", "boss", "--pin-stdin", input=f"{PIN}\n")  # refused: exists
    ok("article", "add", "Gig", "--price", "20", "--ticket", "--available", "50")
    ok("article", "add", "Bier", "--price", "3.50")
    ok("customer", "add", "Anna", "--email", EMAILS[0])
    pos("customer", "add", "Anna", "--email", "not an address " + EMAILS[0])  # refused
    imported = work / "customers.csv"
    imported.write_text(f"name,email\nCsv,{EMAILS[3]}\nBad,{EMAILS[3]}@@\n", encoding="utf-8")
    pos("customer", "import", str(imported))  # refused: line 3
    ok("sell", "Gig:2", "--customer", "1")
    ok("sell", "Gig", "--customer-name", "Guest", "--customer-email", EMAILS[1])
    pos("sell", "Gig:51", "--customer-name", "Guest", "--customer-email", EMAILS[1])  # refused: sold out
    payload = {
        "v": 1,
        "id": "leak-1",
        "exp": "2099-01-01T00:00:00Z",
        "lines": [{"article": "Gig", "qty": 1}],
        "customer": {"name": "Linda", "email": EMAILS[2]},
    }
    content = b64url(json.dumps(payload).encode())
    link = f"pos://cart?v=1&c={content}&s={signature(link_secret.encode(), content)}"
    ok("sell", "--cart-link", link)
    pos("sell", "--cart-link", link)  # refused: paid already
    ok("cart-link", "create", "Gig", "--customer-email", EMAILS[2])
    ok("promo", "generate", "--count", "5", "--amount", "5", "-o", str(work / "codes.csv"))
    ok("order", "reprint", "1")
    ok("export", "attendance", "--format", "json")  # to stdout, not a file
    ok("report", "sales")
    ok("mail", "list")
    pos("--db", f"postgresql+psycopg://boss:{PIN}@127.0.0.1:1/pos", "article", "list")  # refused
    ok("db", "check")

    allowed = {config, imported, database, Path(f"{database}-wal"), Path(f"{database}-shm")}
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path not in allowed]
    assert printer in written and work / "codes.csv" in written
    needles = [brand_secret, link_secret, PIN, *EMAILS]
    for path in written:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"{needle!r} found in {path}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
