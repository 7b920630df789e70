"""Technical security elements (TSE) for German fiscal signing: the signer back-ends (adapters).

`make_signer(config)` picks the back-end named by `[fiscal] signer`; `sign(...)` (pos.tse.signer) runs one
journal line's TSE transaction within `[fiscal] timeout_ms` and answers a Signature or an Outage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pos.tse.signer import Signer, TseError, TseUnavailable, sign

if TYPE_CHECKING:
    from pos.config import Config

__all__ = [
    "Signer",
    "TseError",
    "TseUnavailable",
    "client_serial",
    "make_signer",
    "sign",
    "simulated_key_path",
]


def client_serial(config: Config) -> str:
    """The cash register's serial as the TSE and the receipt know it: `[fiscal] cash_register_serial`, else
    the terminal name."""
    return config.fiscal.cash_register_serial or config.terminal.name


def simulated_key_path(config: Config) -> Path:
    from pos.config import default_data_dir

    if config.fiscal.key_path:
        return Path(config.fiscal.key_path).expanduser()
    from pos.tse.simulated import KEY_FILE

    return default_data_dir() / KEY_FILE


def make_signer(config: Config, *, clock: Callable[[], datetime] | None = None) -> Signer | None:
    """The signer `[fiscal] signer` names, or None for `none` (no fiscal data, nothing printed)."""
    fiscal = config.fiscal
    if fiscal.signer == "none":
        return None
    if fiscal.signer == "simulated":
        from pos.tse.simulated import SimulatedSigner

        return SimulatedSigner(simulated_key_path(config), client_serial(config), clock=clock)
    from pos.tse.fiskaly import FiskalySigner

    return FiskalySigner(
        api_key=fiscal.api_key.get_secret_value(),
        api_secret=fiscal.api_secret.get_secret_value(),
        tss_id=fiscal.tss_id,
        client_id=fiscal.client_id,
        base_url=fiscal.base_url,
        timeout_s=fiscal.timeout_ms / 1000,
    )
