"""Pilot tests of the decision chain, timeline and due screens: keys in, screen out."""
import datetime as dt

import pytest

from kehu.models import chain, timeline, verify
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.chain import ChainScreen
from kehu.tui.screens.due import DueScreen
from kehu.tui.screens.timeline import TimelineScreen


@pytest.fixture
def store(sqlite_url):
    s = Store.open(sqlite_url, user="tester")
    yield s
    s.close()


@pytest.fixture
def acme(store):
    return store.create_customer({"name": "Acme"})


def tree_lines(screen):
    """The chain as the user reads it: (indent, label) of every visible node."""
    tree = screen.tree
    out = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        out.append((depth, tree.render_label(node, tree.rich_style, tree.rich_style).plain))
    return out


def list_lines(paged_list):
    """The rows on screen, as the user reads them."""
    shown = min(paged_list.row_count, paged_list.scrollable_content_region.height)
    return [paged_list.render_line(y).text.rstrip() for y in range(shown)]


def status(screen, selector):
    return str(screen.query_one(selector).render())


async def add_contact(pilot, name, *more_keys):
    await pilot.press("a")
    await pilot.pause()
    await pilot.press(*name, *more_keys, "enter")
    await pilot.pause()


async def test_build_a_chain_of_four_levels_move_and_refuse_a_loop(store, acme):
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(ChainScreen(acme.id))
        await pilot.pause()
        for name in ("CEO", "VP", "Mgr", "Dev"):
            await add_contact(pilot, name)  # each under the one just added
        screen = app.screen
        assert [(depth, label) for depth, label in tree_lines(screen)] == [
            (0, "Acme"), (1, "CEO"), (2, "VP"), (3, "Mgr"), (4, "Dev")]

        # move Dev (selected) to the top: m, go to the customer, m
        await pilot.press("m", "home", "m")
        await pilot.pause()
        assert "Dev now reports to nobody" in status(screen, "#chain-status")
        assert [label for _, label in tree_lines(screen)] == ["Acme", "CEO", "VP", "Mgr", "Dev"]
        assert [d for d, _ in tree_lines(screen)] == [0, 1, 2, 3, 1]

        # CEO under Mgr would be a loop: refused, with the reason, nothing changed
        await pilot.press("home", "down", "m", "down", "down", "m")
        await pilot.pause()
        assert "cannot move CEO under Mgr" in status(screen, "#chain-status")
        assert [d for d, _ in tree_lines(screen)] == [0, 1, 2, 3, 1]
        rows = {c.name: c.reports_to_id for c in store.contacts(acme.id)}
        assert rows["CEO"] is None


async def test_contact_form_shows_errors_at_the_field_and_keeps_input(store, acme):
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(ChainScreen(acme.id))
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("tab", "tab", "tab", *"12", "enter")  # no name, bad phone
        await pilot.pause()
        form = app.screen
        assert "Name: is required" in status(form, "#error-name")
        assert "not a valid phone number" in status(form, "#error-phone")
        assert form.query_one("#field-phone").value == "12"
        assert store.contacts(acme.id).count() == 0


async def test_key_person_delete_and_warnings(store, acme):
    boss = chain.add_contact(store, acme.id, name="Boss", role="decision_maker",
                             stance="opponent")
    chain.add_contact(store, acme.id, boss.id, name="Aide")
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(ChainScreen(acme.id))
        await pilot.pause()
        screen = app.screen
        assert "decision maker opposes us: Boss" in status(screen, "#chain-warnings")
        await pilot.press("down", "k")
        await pilot.pause()
        assert tree_lines(screen)[1][1].startswith("⚑ Boss")
        await pilot.press("d")
        await pilot.pause()
        assert [(d, label) for d, label in tree_lines(screen)] == [(0, "Acme"), (1, "Aide")]
        assert "no decision maker" in status(screen, "#chain-warnings")
        await pilot.press("u")
        await pilot.pause()
        assert [label for _, label in tree_lines(screen)][1].endswith("Opponent")


async def add_entry(pilot, kind_keys, when, summary, amount=""):
    await pilot.press("a")
    await pilot.pause()
    await pilot.press("enter", *kind_keys, "enter", "tab", "ctrl+u", *when, "tab", "tab",
                      *summary, "tab", *amount, "enter")
    await pilot.pause()


async def test_timeline_entries_of_several_kinds_in_order_and_filtered(store, acme):
    app = KehuApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.push_screen(TimelineScreen(acme.id))
        await pilot.pause()
        await add_entry(pilot, "call", "2024-03-01 10:00", "first call")
        await add_entry(pilot, "pur", "2024-05-01 09:00", "big order", "12000")
        await add_entry(pilot, "vis", "2024-04-01 15:30", "site visit")
        screen = app.screen
        lines = list_lines(screen.list)
        assert [line.split()[1] for line in lines] == ["2024-05-01", "2024-04-01", "2024-03-01"]
        assert "Purchase" in lines[0] and "¥12,000.00" in lines[0]
        assert "Visit" in lines[1] and "Call" in lines[2]
        assert "purchases ¥12,000.00" in status(screen, "#timeline-head")

        # a call cannot carry an amount: the form says so and stays open
        await add_entry(pilot, "call", "2024-06-01 10:00", "odd", "5")
        assert "Call has no amount" in status(app.screen, "#error-amount")
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("f")  # only visits
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert [line.split()[1] for line in list_lines(screen.list)] == ["2024-04-01"]


async def test_deleting_a_purchase_takes_it_out_of_the_totals(store, acme):
    timeline.add_entry(store, acme.id, "purchase", amount=100, summary="small")
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(TimelineScreen(acme.id))
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.list.row_count == 0
        assert store.get_customer(acme.id).purchase_count == 0
        await pilot.press("u")
        await pilot.pause()
        assert store.get_customer(acme.id).purchase_count == 1


async def test_ten_thousand_entries_open_a_page_at_a_time(store, acme):
    base = dt.datetime(2000, 1, 1)
    store.Interaction.insert_many([
        {"customer": acme.id, "kind": "note", "summary": f"note {i}",
         "occurred_at": base + dt.timedelta(hours=i)} for i in range(10_000)]).execute()
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(TimelineScreen(acme.id))
        await pilot.pause()
        lst = app.screen.list
        assert lst.row_count == 10_000
        assert len(lst._pages) == 1  # only the first page was read
        assert "note 9999" in list_lines(lst)[0]
        await pilot.press("end")
        await pilot.pause()
        assert lst.current.summary == "note 0"
        assert len(lst._pages) <= 3


async def test_due_view_shows_follow_ups_and_marks_them_done(store, acme):
    today = dt.date.today()
    timeline.add_entry(store, acme.id, "call", summary="call back",
                       next_follow_up=today - dt.timedelta(days=2))
    other = store.create_customer({"name": "Beta"})
    timeline.add_entry(store, other.id, "visit", summary="bring samples", next_follow_up=today)
    app = KehuApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DueScreen)
        assert "Overdue (1)" in status(screen, "#due-tabs")
        assert "Acme" in list_lines(screen.active_list())[0]
        await app.workers.wait_for_complete()  # the verification count runs in a thread
        await pilot.pause()
        assert "Verification due (0)" in status(screen, "#due-tabs")
        await pilot.press("2")
        await pilot.pause()
        assert "Beta" in list_lines(screen.active_list())[0]
        await pilot.press("1", "x")
        await pilot.pause()
        assert screen.active_list().row_count == 0
        assert "Overdue (0)" in status(screen, "#due-tabs")


async def test_mark_verified_and_the_customer_leaves_the_verification_view(store, acme):
    C = store.Customer
    C.update(created_at=dt.datetime.now() - dt.timedelta(days=200)).execute()
    fresh = store.create_customer({"name": "Fresh"})
    app = KehuApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t", "4")
        await pilot.pause()
        screen = app.screen
        lines = list_lines(screen.active_list())
        assert len(lines) == 1 and lines[0].startswith("Acme")
        assert "Credit status: never" in lines[0]
        await pilot.press("v")
        await pilot.pause()
        assert screen.active_list().row_count == 0
        assert "Verification due (0)" in status(screen, "#due-tabs")
        assert "Acme verified" in status(screen, "#due-status")
    seen = {s.kind.key: s.verified_by for s in verify.status(store, acme.id)}
    assert seen == {"base": "tester", "credit": "tester", "decision_makers": "tester"}
    assert fresh.id not in [d.id for d in verify.due_for_verification(store)]
