"""The cashier app. Screens call services in pos/db; nothing here talks SQL."""

from __future__ import annotations

from textual.app import App

from pos.runtime import Runtime
from pos.screens.sale import SaleScreen


class PosApp(App[None]):
    TITLE = "pos"
    CSS_PATH = "pos.tcss"

    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt

    def on_mount(self) -> None:
        self.sub_title = self.rt.config.venue.name
        self.push_screen(SaleScreen(self.rt))
