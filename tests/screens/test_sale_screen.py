from textual.widgets import DataTable, Static

from pos.db.articles import add_article
from pos.screens.app import PosApp


async def test_sold_out_is_shown_and_not_addable(sqlite_rt) -> None:
    add_article(sqlite_rt, name="Gone", price_cents=1000, stock_limit=0, is_ticket=True)
    add_article(sqlite_rt, name="Beer", price_cents=450, shop_group="Drinks")
    app = PosApp(sqlite_rt)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.screen.query_one("#articles", DataTable)
        rows = {table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["Gone"][3] == "SOLD OUT"
        gone_index = list(rows).index("Gone")
        table.move_cursor(row=gone_index)
        await pilot.press("enter")
        assert app.screen.cart == {}
        assert "sold out" in str(app.screen.query_one("#message", Static).render())
        table.move_cursor(row=list(rows).index("Beer"))
        await pilot.press("enter")
        assert list(app.screen.cart.values()) == [1]
