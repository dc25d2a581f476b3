"""What every kehu screen relies on: keymap, theme, language, help, palette,
and the one place errors are handled.

``KehuApp`` derives from ``KehuBaseApp``, which on mount applies the keymap
and theme named by ``self.keymap_name`` / ``self.theme_name`` and reports
anything wrong with them as notifications — never as a crash.

Errors: a ``KehuError`` that escapes an action (a key, the palette), a worker or a
screen's handler is shown as its sentence; anything else is a bug, written with
its traceback by ``errors.log_bug`` and shown as one sentence naming the log
file. The app keeps running where that is safe: after an action or a worker
always; after a handler of a screen above the workbench that screen is closed
(its message loop has stopped); only a failure of the app itself or of the
workbench ends kehu — with that sentence, not a traceback.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.worker import WorkerFailed

from kehu.models import i18n
from kehu.models.errors import KehuError, log_bug
from kehu.models.i18n import tr
from kehu.tui import themes
from kehu.tui.commands import KehuCommands
from kehu.tui.keymap import (Keymap, check_keymap, clash_ids, clash_message, load_keymap,
                             translate_bindings)

i18n.register_folder(Path(__file__).parent)

WARN_SECONDS = 12
#: the longest keys wait for a screen to open or close before they are routed anyway
HOLD_SECONDS = 5.0
#: keys that only move a list's cursor (a table, a tree, an option list)
CURSOR_KEYS = frozenset({"up", "down", "left", "right", "pageup", "pagedown", "home", "end",
                         "space"})


class KehuBaseApp(App):
    COMMANDS = {KehuCommands}
    BINDINGS = [
        Binding("f1,question_mark", "help", tr("app.help"), id="app.help"),
        Binding("ctrl+p", "command_palette", tr("app.palette"), show=False, priority=True,
                id="app.palette"),
        # Tab moves the focus at once, before the keys typed after it are routed:
        # as a screen's ordinary binding it ran later, in the field's own queue, and
        # a fast typist's next word landed in the field before (quick entry).
        Binding("tab", "focus_next", tr("app.focus_next"), show=False, priority=True,
                id="app.focus_next"),
        Binding("shift+tab", "focus_previous", tr("app.focus_previous"), show=False,
                priority=True, id="app.focus_previous"),
    ]

    keymap_name: str = "default"
    theme_name: str = themes.DEFAULT_THEME

    def __init__(self, *args, **kwargs):
        translate_bindings()  # before App.__init__ copies the app's own bindings
        self.keymap = Keymap()
        self._sequences: dict[tuple[str, ...], list[str]] = {}
        self._pending: tuple[str, ...] = ()
        self._clashes_reported: set[frozenset[str]] = set()
        self._held: list[events.Key | events.Paste] | None = None   # keys waiting (_settle)
        #: the bugs reported while running (tests look here: a bug never passes quietly)
        self.bugs: list[BaseException] = []
        super().__init__(*args, **kwargs)

    # -- settings ----------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return themes.variable_defaults()

    def on_mount(self) -> None:
        for problem in themes.register_themes(self):
            self.warn(problem)
        self.use_theme(self.theme_name, remember=False)
        self.use_keymap(self.keymap_name)

    def warn(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=WARN_SECONDS)

    def use_theme(self, name: str, *, remember: bool = True) -> None:
        """Switch to theme ``name`` (an unknown one falls back to the default)."""
        if name not in self.available_themes:
            self.warn(tr("theme.unknown", name=name, fallback=themes.DEFAULT_THEME,
                         names=", ".join(themes.theme_names(self))))
            name = themes.DEFAULT_THEME
        self.theme = name
        self.theme_name = name
        if remember:
            self._remember("theme", name)

    def use_keymap(self, name: str, *, remember: bool = False) -> None:
        """Load keymap ``name`` + the user's keymap.yaml; report what is wrong."""
        keymap = load_keymap(name)
        self.keymap = keymap
        self.keymap_name = keymap.name
        self._sequences = keymap.sequences()
        self._pending = ()
        # a keymap with Meta keys on punctuation (emacs: M-< M->) reads ESC < as one key;
        # the others read it as Esc, then < (tui/terminal_input.py)
        from kehu.tui.terminal_input import EscapeSplittingParser
        EscapeSplittingParser.split_escape = keymap.name != "emacs"
        self._clashes_reported.clear()
        self.set_keymap(keymap.textual_keymap())
        for problem in keymap.problems:
            self.warn(problem)
        # Checking ids and clashes imports every screen; do it after the first
        # paint so start-up shows the table sooner.
        self.call_after_refresh(self._check_keymap, keymap)
        if remember:
            self._remember("keymap", keymap.name)

    def _check_keymap(self, keymap: Keymap) -> None:
        for problem in check_keymap(keymap):
            self.warn(problem)

    def use_language(self, lang: str, *, remember: bool = True) -> None:
        i18n.set_lang(lang)
        translate_bindings(self)
        for screen in list(self.screen_stack):   # every open screen, at once
            relabel = getattr(screen, "language_changed", None)
            if callable(relabel):
                relabel()
            else:
                screen.refresh(layout=True)
        if remember:
            self._remember("lang", i18n.get_lang())
        self.notify(tr("lang.switched"))

    def _remember(self, setting: str, value: str) -> None:
        config = getattr(self, "config", None)
        if config is None:
            return
        setattr(config, setting, value)
        try:
            config.save()
        except OSError as exc:
            self.warn(tr("config.not_saved", path=config.path, error=exc))

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        ids = clash_ids(clashed_bindings)
        if len(ids) < 2 or ids in self._clashes_reported:  # Textual asks on every key press
            return
        self._clashes_reported.add(ids)
        self.warn(clash_message(clashed_bindings))

    # -- key sequences (vim's ``g g``, ``d d``) ----------------------------------
    def _chain(self) -> list[DOMNode]:
        focused = self.screen.focused
        return list(focused.ancestors_with_self) if focused else [self.screen, self]

    def _find_first(self, binding_ids: list[str]) -> tuple[DOMNode, Binding] | None:
        """The nearest node (focused widget first) with one of ``binding_ids``."""
        for node in self._chain():
            for _key, binding in node._bindings:
                if binding.id in binding_ids:
                    return node, binding
        return None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._held is not None:   # a screen is changing: keep the keys in order
                self._held.append(event)
                return
            await self._route_input(event)
            return
        await super().on_event(event)

    async def _route_input(self, event: events.Key | events.Paste) -> None:
        if isinstance(event, events.Key):
            hold = self._may_change_screen(event)
            if self._sequences and await self._sequence_key(event):
                pass
            elif (own := self._own_binding(event)) is not None:
                own.node.call_later(self._run_own_binding, own, event)
            else:
                await super().on_event(event)
            if hold:
                self._hold_keys()
            return
        await super().on_event(event)

    # -- keys typed after a key that changes the screen ----------------------------
    # Enter on a row, Esc back, F2-F12, Ctrl+T … open or close a screen, or move the
    # focus, in the queues of the widgets that take them; Textual routes the keys
    # typed after them at once, to the widget focused *then*: '/name Enter Enter'
    # sent the second Enter to the search box, 'Enter End X' put the X in the
    # table, 'F6 Down' moved nothing. After such a key the app holds the keys that
    # follow until the screens' queues are empty and the focus stays put (and the
    # screen on top has nothing loading, see ``holds_keys``), then routes them.

    def _may_change_screen(self, event: events.Key) -> bool:
        """Every key but a character typed into a field, or a list's cursor key (those
        never change screens, and typing and arrowing stay as fast as they were)."""
        focused = self.focused
        if focused is None:
            return True
        if focused.check_consume_key(event.key, event.character):
            return False
        return not (event.key in CURSOR_KEYS and isinstance(focused, ScrollView)
                    and not isinstance(focused, (Input, TextArea)))

    def _hold_keys(self) -> None:
        self._held = []
        self.run_worker(self._settle(), group="kehu-held-keys")

    def _screen_state(self):
        try:
            screen = self.screen
        except Exception:  # noqa: BLE001 - no screen (closing): nothing to wait for
            return None, None
        return screen, screen.focused

    async def _settle(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_SECONDS
        last = None
        try:
            while loop.time() < deadline and self.is_running:
                await self._queues_drained(deadline - loop.time())
                screen, focused = state = self._screen_state()
                if screen is None:
                    break
                holds = getattr(screen, "holds_keys", None)
                if callable(holds) and holds():
                    last = None
                    await asyncio.sleep(0.005)
                    continue
                pumps = [self, *screen.walk_children(with_self=True)]
                if state == last and not any(p.message_queue_size for p in pumps):
                    break
                last = state
        finally:
            self.call_later(self._release_keys)

    async def _queues_drained(self, timeout: float) -> None:
        """Until the app, the screen and its widgets have handled what they hold now."""
        _screen, _focused = self._screen_state()
        pumps = [self, *(_screen.walk_children(with_self=True) if _screen else [])]
        waiting = [asyncio.Event() for _ in pumps]
        posted = [event for pump, event in zip(pumps, waiting) if pump.call_later(event.set)]
        if _screen is not None:   # and what waits for the next paint (a tree's cursor …)
            painted = asyncio.Event()
            if _screen.call_after_refresh(painted.set):
                posted.append(painted)
        if posted:
            await asyncio.wait([asyncio.ensure_future(e.wait()) for e in posted],
                               timeout=max(timeout, 0.01))

    async def _release_keys(self) -> None:
        held, self._held = self._held or [], None
        for index, event in enumerate(held):
            await self._route_input(event)
            if self._held is not None:   # that key changes the screen too: hold the rest
                self._held[:0] = held[index + 1:]
                return

    # -- the one error handler ----------------------------------------------------
    def report_error(self, error: BaseException) -> str:
        """Show ``error`` as one sentence (a bug: logged first); returns the sentence."""
        if isinstance(error, KehuError):
            sentence = str(error)
        else:
            self.bugs.append(error)
            path = log_bug(error)
            name = type(error).__name__
            sentence = (tr("tui_errors.bug_logged", error=name, path=path) if path is not None
                        else tr("tui_errors.bug_unlogged", error=f"{name}: {error}"))
        self.notify(sentence, severity="error", timeout=WARN_SECONDS, markup=False)
        return sentence

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:
        """Every key binding and palette command comes here: what it raises is
        reported, and the app goes on (the action ran in the app's own loop)."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:  # noqa: BLE001 - the one handler: sentence or logged bug
            self.report_error(error)
            return True

    def _handle_exception(self, error: Exception) -> None:
        """Textual's last resort (it ends the app) for what a worker, a handler or a
        timer raised: reported, and the app kept running where that is safe."""
        if isinstance(error, WorkerFailed):  # the worker is over; nothing else stopped
            self.report_error(error.error)
            return
        screen = self._broken_screen()
        if screen is not None:
            self.report_error(error)
            self.notify(tr("tui_errors.screen_closed"), severity="warning", timeout=WARN_SECONDS)
            self.pop_screen()
            return
        if self.is_headless:  # under test: Textual's own way, so the test sees the traceback
            self.bugs.append(error)
            super()._handle_exception(error)
            return
        sentence = self.report_error(error)
        self.exit(return_code=1, message=f"{sentence} {tr('tui_errors.must_close')}")

    def _broken_screen(self) -> Screen | None:
        """The top screen, when what failed belongs to it and there is a screen under
        it to go back to: its message loop has stopped, so it is closed."""
        try:
            from textual._context import active_message_pump  # the loop that failed
        except ImportError:  # another Textual: end kehu, as Textual would
            return None
        pump = active_message_pump.get(None)
        if not isinstance(pump, Widget):  # the app itself, or unknown
            return None
        try:
            screen = pump if isinstance(pump, Screen) else pump.screen
        except Exception:  # noqa: BLE001 - NoScreen and kin: a widget already gone
            return None
        stack = self.screen_stack
        if screen is None or len(stack) < 2 or screen is not stack[-1]:
            return None
        return screen

    # -- keys in the order they were typed ------------------------------------------
    # Textual runs a focused Input's or TextArea's own bindings (an Input's End, Ctrl+U,
    # Backspace) only once the key has bubbled back up to the app, while the
    # characters typed after it are inserted by the widget as soon as it takes them
    # from its queue. A burst ``End Ctrl+U 13912340000 Ctrl+S`` then inserted the
    # digits first and cleared them after: quick entry saved an empty mobile. Such
    # a key is run in the widget's own queue instead, after the keys before it.

    def _own_binding(self, event: events.Key):
        """The ``ActiveBinding`` (keymap applied) when the key is bound by the
        focused widget itself, not with priority, and by nothing above it with
        priority; else None."""
        focused = self.focused
        # only a widget that types characters itself can see its keys out of order
        if not isinstance(focused, (Input, TextArea)) or event.is_printable:
            return None
        active = self.active_bindings.get(event.key)  # ~0.7 ms: paid on such keys only
        if (active is None or active.node is not focused or active.binding.priority
                or not active.enabled):
            return None
        return active

    async def _run_own_binding(self, own, event: events.Key) -> None:
        if own.node.is_attached and await self.run_action(own.binding.action, own.node):
            return
        await super().on_event(event)  # not taken there after all: on the usual way

    async def _sequence_key(self, event: events.Key) -> bool:
        """True when ``event`` was part of a key sequence (and so is used up)."""
        key = event.key
        if self._pending:
            sequence = self._pending + (key,)
            self._pending = ()
            if sequence in self._sequences:
                found = self._find_first(self._sequences[sequence])
                if found and found[1].id in self.keymap.confirm:
                    self._confirm_then_run(*found)
                elif found:
                    await self.run_action(found[1].action, found[0])
                return True
            if any(s[:len(sequence)] == sequence for s in self._sequences):
                self._pending = sequence
                return True
            return key == "escape"
        focused = self.screen.focused
        if focused is not None and focused.check_consume_key(key, event.character):
            return False  # typing into an input: "g" is a letter
        starts = [bid for seq, bids in self._sequences.items() if seq[0] == key for bid in bids]
        if self._find_first(starts):
            self._pending = (key,)
            return True
        return False

    def _confirm_then_run(self, node: DOMNode, binding: Binding) -> None:
        from kehu.tui.screens.confirm import ConfirmScreen

        async def answered(choice: str | None) -> None:
            if choice == "yes":
                await self.run_action(binding.action, node)

        self.push_screen(ConfirmScreen(tr("keymap.confirm", action=binding.description)),
                         answered)

    # -- help, palette and keys ----------------------------------------------
    def action_focus_next(self) -> None:
        """Tab: a field that completes what was typed (the import's path) does that
        first (``complete_on_tab()`` is True when it did); else the next field."""
        complete = getattr(self.focused, "complete_on_tab", None)
        if callable(complete) and complete():
            return
        super().action_focus_next()

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder=tr("palette.placeholder")))

    def action_help(self) -> None:
        from kehu.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def keys_for(self, binding_id: str) -> str:
        """How the live keymap reaches ``binding_id``, e.g. ``^s`` or ``g g``.

        Screens use this for hints and legends so they always tell the truth.
        """
        from kehu.tui.keymap import keys_display

        return keys_display(self, binding_id)
