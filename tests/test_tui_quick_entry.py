"""Quick entry keeps what is on screen, even when a fast typist's keys arrive at once."""
from __future__ import annotations

from kehu.tui.app import KehuApp
from kehu.tui.screens.quick_entry import QuickEntryScreen
from tests.ui_app import keys_at_once, notes

SIZE = (80, 24)


async def test_a_fixed_mobile_typed_in_one_burst_is_the_one_stored(store):
    """Ctrl+N, name, a wrong mobile, Ctrl+S (refused); then End Ctrl+U, the right
    number and Ctrl+S in one burst: the number on screen is the one saved."""
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        keys_at_once(app, *"王小明", "tab", "tab", *"1391234", "ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, QuickEntryScreen)  # refused: the number is too short
        assert store.count_customers() == 0
        keys_at_once(app, "end", "ctrl+u", *"13912340000", "ctrl+s")
        for _ in range(4):
            await pilot.pause()
        assert not isinstance(app.screen, QuickEntryScreen), notes(app)
    [row] = list(store.customers())
    assert (row.name, row.mobile) == ("王小明", "+8613912340000")
