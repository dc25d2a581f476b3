"""The workbench at 80x24 and wider: the columns that matter on screen, the name
frozen, widths that follow the terminal, a footer and status lines that fit."""
from __future__ import annotations

import pytest
from rich.cells import cell_len

from kehu.models import i18n
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.widgets.customer_table import CustomerTable
from tests.test_tui_bursts import settle

PEOPLE = [
    {"name": "西安中科能源有限公司", "company": "西安中科能源有限公司", "mobile": "15951790092",
     "region": "西北", "acquired_on": "2022-03-09", "grade": "A", "stage": "growth",
     "owner": "王芳"},
    {"name": "Elizabeth Anderson", "company": "Morris-Henry International Trading Ltd",
     "mobile": "15094756409", "region": "海外", "acquired_on": "2019-11-22", "grade": "B",
     "stage": "maturity", "owner": "Li Lei"},
]
MATTER = ["name", "company", "mobile", "purchase_total", "grade", "stage", "owner"]


@pytest.fixture
def store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    for data in PEOPLE:
        customer = store.create_customer(dict(data))
        store.add_interaction(customer.id, "purchase", amount=1250000)
    store.bulk_insert_customers({"name": f"Filler {i:03d}", "company": "Bulk Co",
                                 "region": "华东"} for i in range(60))
    yield store
    store.close()


def table(app) -> CustomerTable:
    return app.screen.query_one(CustomerTable)


def line(app, y: int) -> str:
    return table(app).render_line(y).text


def on_screen(app) -> list[str]:
    """The keys of the columns wholly on screen."""
    t = table(app)
    edge, keys = 0, []
    for column in t.columns:
        edge += column.width + 1
        if edge - 1 <= t.scrollable_content_region.width:
            keys.append(column.key)
    return keys


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_columns_that_matter_are_on_screen_at_80_columns(store, lang):
    """Purchases, grade, stage and owner were past the right edge at 80x24."""
    i18n.set_lang(lang)
    async with KehuApp(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert set(MATTER) <= set(on_screen(pilot.app))
        header = line(pilot.app, 0)
        schema = store.schema
        for key in MATTER:
            assert schema[key].label()[:2] in header
        assert "1,250,000.00" in line(pilot.app, 1)   # the purchase total, whole
        assert "159 5179 0092" in line(pilot.app, 1)   # the mobile, whole
        # what does not fit is one → away, not gone
        assert {c.key for c in table(pilot.app).columns} == \
            {f.key for f in schema.table_fields}
        t = table(pilot.app)
        assert t.total_width > t.scrollable_content_region.width


async def test_the_name_stays_when_scrolling_right_and_scroll_resets_on_a_new_search(store):
    i18n.set_lang("en")
    async with KehuApp(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(12):
            await pilot.press("right")
        await settle(pilot)
        t = table(pilot.app)
        assert t.scroll_offset.x > 0
        assert line(pilot.app, 0).startswith("Name")
        assert line(pilot.app, 1).startswith("西安中科")
        assert "Acquired" in line(pilot.app, 0)   # the column past the edge, reached
        await pilot.press("slash", *"Eliz")
        await settle(pilot)
        assert t.scroll_offset.x == 0
        assert line(pilot.app, 0).startswith("Name") and "Company" in line(pilot.app, 0)


async def test_widths_follow_the_terminal_and_its_resizes(store):
    """At 120 columns ~12 stayed empty while names and companies were cut at 14."""
    i18n.set_lang("en")
    async with KehuApp(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        narrow = {c.key: c.width for c in table(pilot.app).columns}
        await pilot.resize_terminal(160, 35)
        await settle(pilot)
        t = table(pilot.app)
        wide = {c.key: c.width for c in t.columns}
        assert t.total_width <= t.scrollable_content_region.width   # no scrolling
        for y in range(4):   # cells to spare: nothing is cut
            assert "…" not in line(pilot.app, y)
        assert wide["name"] > 14 and wide["company"] > 22 > narrow["company"]
        assert "Morris-Henry International Trading Ltd" in line(pilot.app, 2)
        await pilot.resize_terminal(120, 35)
        await settle(pilot)
        assert "Elizabeth Anderson" in line(pilot.app, 2)   # was 'Elizabeth And…' at 14
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert {c.key: c.width for c in table(pilot.app).columns} == narrow


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_footer_keeps_help_and_quit_and_lines_fit_at_80(store, lang):
    from textual.widgets._footer import FooterKey

    i18n.set_lang(lang)
    async with KehuApp(store).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        keys = {k.action: k for k in pilot.app.screen.query(FooterKey)}
        for action in ("help", "quit"):
            assert action in keys and keys[action].region.right <= 80, action
        for selector in ("#summary", "#status"):
            text = str(pilot.app.screen.query_one(selector).render())
            assert cell_len(text) <= 78 and "…" not in text[-2:], (selector, text)
        status = str(pilot.app.screen.query_one("#status").render())
        assert ("Row 1 of 62" if lang == "en" else "第 1 行，共 62") in status
        summary = str(pilot.app.screen.query_one("#summary").render())
        assert ("Purchases Σ 2.5M" if lang == "en" else "采购总额合计 250万") in summary \
            or ("2,500,000.00" in summary)


def test_layout_moves_the_column_wanted_least_past_the_edge():
    from kehu.models.schema import load_schema
    from kehu.tui.widgets.customer_table import Column
    from kehu.tui.widgets.table_layout import layout

    i18n.set_lang("en")
    schema = load_schema()
    wanted = [Column(f, f.display_width) for f in schema.table_fields]
    fitted = layout(wanted, 79)
    assert [c.key for c in fitted][:1] == ["name"]
    assert [c.key for c in fitted][-2:] == ["region", "acquired_on"]   # choices, dates last
    assert sum(c.width + 1 for c in fitted[:-2]) <= 79
    # a width the user chose is kept
    fixed = [Column(c.spec, 30, True) if c.key == "company" else c for c in wanted]
    assert next(c for c in layout(fixed, 79) if c.key == "company").width == 30
    # plenty of room: the text columns take it
    roomy = layout(wanted, 200)
    assert sum(c.width + 1 for c in roomy) > 150
    assert next(c for c in roomy if c.key == "mobile").width == 15
