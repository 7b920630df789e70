"""`pos sell --json` with a TSE, `pos fiscal status`, `pos export dsfinvk` through the real CLI (simulated Test-TSE)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from pos.runtime import Runtime
from tests.conftest import CONFIG_TOML, PosCommand
from tests.factories import add_article


@pytest.fixture
def tse(tmp_path: Path, sqlite_url: str, sqlite_rt: Runtime) -> PosCommand:
    add_article(sqlite_rt, name="Bier", price_cents=450)
    config = tmp_path / "fiscal.toml"
    key = json.dumps(str(tmp_path / "tse" / "key.pem"))
    config.write_text(CONFIG_TOML + f'\n[fiscal]\nsigner = "simulated"\nkey_path = {key}\n', encoding="utf-8")
    return PosCommand(sqlite_url, config)


def test_signed_sales_status_and_the_dsfinvk_export(tse: PosCommand, tmp_path: Path) -> None:
    none = tse.json("fiscal", "status")
    assert none["signer"] == "simulated" and none["reachable"] is True and none["test"] is True
    tse.json("shift", "open", "--float", "50")
    sold = tse.json("sell", "Bier:2", "--no-print")
    fiscal = sold["fiscal"]
    assert set(fiscal) >= {
        "tx_number",
        "signature_counter",
        "start",
        "end",
        "serial",
        "algorithm",
        "signature",
        "qr",
    }
    assert fiscal["qr"].startswith("V0;") and ";Kassenbeleg-V1;Beleg^" in fiscal["qr"]
    assert tse.json("order", "show", str(sold["id"]))["fiscal"]["signature"] == fiscal["signature"]
    tse.json("shift", "close", "--counted", "59")
    status = tse.json("fiscal", "status")
    assert status["outages"] == 0 and status["tx_number"] >= 3  # float, sale, difference
    target = tmp_path / "out" / "dsfinvk.zip"
    written = tse.json("export", "dsfinvk", "-o", str(target))
    assert written["closings"] == 1 and written["transactions"] == 3
    with zipfile.ZipFile(target) as archive:
        assert "transactions_tse.csv" in archive.namelist()
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    nothing = tse(
        "export", "dsfinvk", "--from", "2020-01-01", "--to", "2020-01-02", "-o", str(tmp_path / "x.zip")
    )
    assert nothing.returncode == 2 and nothing.stderr.strip() == (
        "Error: No Z report was closed in that period; nothing to export."
    )
