"""The Textual application: screens over one open ``Store``.

App-wide actions (new customer, log a call, due follow-ups, help) are bound
here with dotted binding ids so keymaps can remap them; each screen adds its
own. Screens get everything through ``self.app.store`` — the headless API.
"""
from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from kehu.models import i18n
from kehu.models.config import Config
from kehu.models.i18n import tr
from kehu.models.store import Store
from kehu.tui.base import KehuBaseApp

i18n.register_folder(Path(__file__).parent)


class KehuApp(KehuBaseApp):
    """kehu 客户 — the customer workbench.

    ``KehuBaseApp`` applies ``keymap_name`` / ``theme_name`` on mount and adds
    help (``app.help``), the command palette (``app.palette``) and languages.
    """

    CSS_PATH = "kehu.tcss"
    TITLE = "kehu 客户"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", tr("app.quit"), id="app.quit", priority=True),
        # priority, and the screen mounted before the next key is routed: a name typed
        # right after Ctrl+N goes into the name field, not to the table underneath
        Binding("ctrl+n", "new_customer", tr("app.new_customer"), id="app.new_customer",
                priority=True),
        Binding("ctrl+l", "log_call", tr("app.log_call"), id="app.log_call", priority=True),
        Binding("ctrl+t", "show_due", tr("app.due"), id="app.due"),
        Binding("f10,ctrl+y", "show_agenda", tr("app.agenda"), id="app.agenda", show=False),
        Binding("ctrl+o", "import_file", tr("app.import"), id="app.import", show=False,
                priority=True),
        Binding("f3", "export", tr("app.export"), id="app.export", show=False),
        Binding("f12", "duplicates", tr("app.duplicates"), id="app.duplicates", show=False),
        Binding("f6", "show_chain", tr("app.chain"), id="app.chain", show=False),
        Binding("f7", "show_timeline", tr("app.timeline"), id="app.timeline", show=False),
        Binding("f2", "show_history", tr("app.history"), id="app.history", show=False),
        Binding("f9", "show_deleted", tr("app.deleted"), id="app.deleted", show=False),
        Binding("f4", "show_reports", tr("app.reports"), id="app.reports", show=False),
        Binding("f5", "meeting", tr("app.meeting"), id="app.meeting", show=False),
        Binding("q", "leave_screen", tr("page.leave"), id="app.leave", show=False,
                priority=True),   # steps aside where q is typed or a screen's own key
    ]
    #: App actions the user's role must allow (models/roles.yaml); off otherwise.
    ROLE_ACTIONS = {"new_customer": "create", "log_call": "edit", "import_file": "import",
                    "export": "export", "duplicates": "delete", "show_deleted": "delete"}
    #: App actions that change data: off while a read-only screen (meeting mode) is up.
    EDITING_ACTIONS = {"new_customer", "log_call", "show_deleted", "show_due", "show_agenda",
                       "show_chain", "show_timeline"}

    def __init__(self, store: Store, config: Config | None = None, *, keymap: str | None = None,
                 theme: str | None = None):
        super().__init__()
        self.store = store
        self.config = config or Config()
        self.keymap_name = keymap or self.config.keymap
        self.theme_name = theme or self.config.theme

    def on_mount(self) -> None:
        from kehu.tui.screens.workbench import WorkbenchScreen

        self.push_screen(WorkbenchScreen())
        if getattr(self.config, "extra", {}).get("start") == "agenda":   # config.yaml start: agenda
            self.action_show_agenda()

    # -- app-wide actions; screens fill these in as they are built --------
    async def action_leave_screen(self) -> None:
        """``q``: as Escape on a screen over the workbench (tui/page_keys.py)."""
        from kehu.tui.page_keys import leave_screen

        await leave_screen(self)

    def open_customer(self, customer_id: int) -> None:
        """Open the detail editor of one customer."""
        from kehu.tui.screens.detail import open_detail

        open_detail(self, customer_id)

    async def action_new_customer(self) -> None:
        from kehu.tui.screens.quick_entry import QuickEntryScreen

        if not isinstance(self.screen, QuickEntryScreen):
            await self.push_screen(QuickEntryScreen())

    async def action_log_call(self) -> None:
        """Log a call with the customer the current screen shows, else pick one."""
        from kehu.tui.screens.log_call import LogCallScreen

        if not isinstance(self.screen, LogCallScreen):
            await self.push_screen(LogCallScreen(getattr(self.screen, "current_customer_id", None)))

    def action_show_deleted(self) -> None:
        from kehu.tui.screens.deleted import DeletedScreen

        if not isinstance(self.screen, DeletedScreen):
            self.push_screen(DeletedScreen())

    # -- data in and out (screens/import_screen, dedupe_screen) -----------------
    async def action_import_file(self) -> None:
        from kehu.tui.screens.import_screen import ImportScreen

        if not isinstance(self.screen, ImportScreen):
            await self.push_screen(ImportScreen())  # the path typed next goes in its field

    def action_export(self) -> None:
        """Export the rows and columns the current screen shows (its view and search)."""
        from kehu.tui.screens.import_screen import ExportScreen

        if not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen(getattr(self.screen, "view", None),
                                          getattr(self.screen, "search_text", "") or ""))

    def action_duplicates(self) -> None:
        from kehu.tui.screens.dedupe_screen import DedupeScreen

        if not isinstance(self.screen, DedupeScreen):
            self.push_screen(DedupeScreen())

    # -- decision chain, timeline, what is due (screens/chain, timeline, due) --
    def action_show_due(self) -> None:
        from kehu.tui.screens.due import DueScreen

        if not isinstance(self.screen, DueScreen):
            self.push_screen(DueScreen())

    def action_show_agenda(self) -> None:
        from kehu.tui.screens.agenda import AgendaScreen

        if not isinstance(self.screen, AgendaScreen):
            self.push_screen(AgendaScreen())

    def _current_customer(self) -> int | None:
        customer_id = getattr(self.screen, "current_customer_id", None)
        if customer_id is None:
            self.notify(tr("app.pick_customer"), severity="warning")
        return customer_id

    def action_show_chain(self) -> None:
        from kehu.tui.screens.chain import ChainScreen

        customer_id = self._current_customer()
        if customer_id is not None:
            self.push_screen(ChainScreen(customer_id))

    def action_show_timeline(self) -> None:
        from kehu.tui.screens.timeline import TimelineScreen

        customer_id = self._current_customer()
        if customer_id is not None:
            self.push_screen(TimelineScreen(customer_id))

    def action_show_history(self) -> None:
        from kehu.tui.screens.history import HistoryScreen

        customer_id = self._current_customer()
        if customer_id is not None:
            self.push_screen(HistoryScreen(customer_id))

    # -- reports and meeting mode (screens/reports, screens/meeting) -------------
    def check_action(self, action: str, parameters):
        if action in self.EDITING_ACTIONS and getattr(self.screen, "READ_ONLY", False):
            return False
        if action in self.ROLE_ACTIONS and not self.store.guard.can(self.ROLE_ACTIONS[action]):
            return False
        return super().check_action(action, parameters)

    def action_show_reports(self) -> None:
        """Reports over what the workbench shows now (its view and search)."""
        from kehu.tui.screens.reports import ReportsScreen, workbench_scope

        if not isinstance(self.screen, ReportsScreen):
            self.push_screen(ReportsScreen(workbench_scope(self)))

    def action_meeting(self) -> None:
        from kehu.tui.screens.meeting import MeetingScreen

        if not isinstance(self.screen, MeetingScreen):
            self.push_screen(MeetingScreen(start=getattr(self.screen, "view", None)))
