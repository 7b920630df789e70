from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pos.db.engine import make_engine
from pos.db.models import metadata


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(db_url: str) -> None:
    from pos.db.migrate import upgrade

    upgrade(db_url)
    upgrade(db_url)


def test_sqlite_is_durable_and_strict(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_cli_upgrade_on_a_new_file(tmp_path, config_file) -> None:
    from tests.conftest import PosCommand

    db = tmp_path / "new" / "fresh.db"
    pos = PosCommand(f"sqlite:///{db}", config_file)
    result = pos("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert db.exists()
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_orders_and_shifts_from_before_the_journal_are_carried_over(db_url: str) -> None:
    """A database at the revision before the journal, with a shift, sales, a cancellation and a close: after the
    upgrade the journal holds them in time order and the reports and `pos db check` agree with the old figures."""
    from pos.db.migrate import upgrade
    from pos.domain.roles import Role
    from pos.runtime import Runtime
    from pos.services.base import Actor
    from pos.services.database import check_database
    from pos.services.till import shift_report
    from tests.conftest import test_config

    engine = make_engine(db_url)
    with engine.begin() as connection:
        for table in ("journal_group", "journal_vat", "journal_tender", "journal", "terminal"):
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('69ae48d0fcf5')"))
        for table, column in (
            ("order_line", "returned_quantity"),
            ("orders", "refunded_cents"),
            ("shift", "operator"),
            ("shift", "z_number"),
        ):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        connection.execute(
            text(
                "INSERT INTO operator (id, name, role, pin_hash, active, created_at) "
                "VALUES (1, 'anna', 'cashier', 'x', true, '2026-12-31 18:00:00')"
            )
        )
        connection.execute(
            text(
                'INSERT INTO article (id, name, price_cents, vat_bp, "group", shop_group, assortment, '
                "is_ticket, hidden, sold, repeat, position, created_at) VALUES "
                "(1, 'Bier', 450, 1900, 'Getränke', 'Bar', 'default', false, false, 3, 'none', 0, "
                "'2026-12-31 18:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO shift (id, operator_id, terminal, opened_at, float_cents, closed_at, "
                "counted_cents) VALUES (1, 1, 'kasse', '2026-12-31 19:00:00', 10000, "
                "'2026-12-31 23:00:00', 10900)"
            )
        )
        for order_id, minute, method, given, change, status in (
            (1, 10, "cash", 1000, 100, "paid"),
            (2, 20, "card", 450, 0, "paid"),
            (3, 30, "cash", 450, 0, "cancelled"),
        ):
            quantity = 2 if order_id == 1 else 1
            connection.execute(
                text(
                    "INSERT INTO orders (id, created_at, terminal, operator, shift_id, total_cents, payment_method, "
                    "given_cents, change_cents, status, cancelled_at, link_promo) VALUES "
                    f"({order_id}, '2026-12-31 20:{minute}:00', 'kasse', 'anna', 1, {450 * quantity}, '{method}', "
                    f"{given}, {change}, '{status}', {'NULL' if status == 'paid' else chr(39) + '2026-12-31 21:00:00' + chr(39)}, false)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO order_line (order_id, article_id, article_name, article_group, quantity, "
                    f"unit_price_cents, discount_cents, total_cents, vat_bp) VALUES ({order_id}, 1, 'Bier', 'Getränke', "
                    f"{quantity}, 450, 0, {450 * quantity}, 1900)"
                )
            )
    engine.dispose()
    upgrade(db_url)
    rt = Runtime(test_config(), db_url)
    admin = Actor("admin", Role.ADMIN)
    z = shift_report(rt, admin, 1)
    assert (z.z_number, z.operator, z.sums.sales, z.sums.sales_cents, z.sums.returns_cents) == (
        1,
        "anna",
        3,
        1800,
        -450,
    )
    assert z.expected_cash_cents == 10000 + 900 + 450 - 450 and z.difference_cents == 10900 - 10900
    assert check_database(rt, admin).violations == {}
    rt.engine.dispose()
