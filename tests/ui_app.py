"""Building a KehuApp over a small SQLite database, for Pilot tests."""
from __future__ import annotations

from kehu.models import i18n
from kehu.models.config import load_config
from kehu.models.schema import load_schema
from kehu.models.store import Store


def open_store(tmp_path, customers: int = 0) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'ui.db'}", load_schema())
    if customers:
        from kehu.models.demo import generate

        generate(store, customers=customers, seed=6)
    return store


def make_app(tmp_path, *, lang: str = "en", customers: int = 0, keymap: str | None = None,
             theme: str | None = None):
    """A KehuApp as the CLI builds it: language first, then the app."""
    i18n.set_lang(lang)
    from kehu.tui.app import KehuApp

    return KehuApp(open_store(tmp_path, customers), load_config(), keymap=keymap, theme=theme)


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def notes(app) -> list[str]:
    """The notifications the user has been shown."""
    return [str(n.message) for n in app._notifications]


def keys_at_once(app, *keys: str) -> None:
    """Queue ``keys`` in one go, as a terminal delivers fast typing (Pilot's
    ``press`` waits after each key, which hides how keys are routed). A key is a
    character ("z", "/", "张") or a key name ("tab", "escape", "ctrl+n")."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(_character_to_key(key), key))
        else:
            app.post_message(events.Key(key, None))


async def run_palette(app, pilot, typed: str) -> None:
    """Ctrl+P, type ``typed``, Enter on the first match, and let the app settle."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*typed)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await settle(app, pilot)
