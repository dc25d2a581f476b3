"""Duplicates: the likely pairs, best first; a pair side by side, a pick per field, merge.

``DedupeScreen`` scans in a worker (``models.dedupe.find_duplicates``) and lists
the pairs; Enter opens ``MergeScreen`` with both records field by field: ← and →
choose whose value is kept, x swaps which record survives, m merges (contacts
and timeline move over; ``kehu merge --undo`` or u here undoes it).
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models.errors import KehuError
from kehu.models import dedupe
from kehu.models.i18n import tr
from kehu.models.validate import display
from kehu.tui.widgets.keyed import DataTable
from kehu.tui.widgets.footer import KehuFooter


class DedupeScreen(Screen):
    BINDINGS = [
        Binding("enter", "review", tr("dedupe_ui.review"), id="dedupe.review", priority=True),
        Binding("n", "not_duplicate", tr("dedupe_ui.not_duplicate"), id="dedupe.not_duplicate"),
        Binding("u", "undo", tr("dedupe_ui.undo"), id="dedupe.undo"),
        Binding("escape", "close", tr("dedupe_ui.close"), id="dedupe.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.candidates: dict[str, dedupe.Candidate] = {}
        self.last_merge: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tr("dedupe_ui.scanning"), id="dedupe-status")
        yield DataTable(id="pairs", cursor_type="row")
        yield KehuFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(tr("dedupe_ui.score"), key="score", width=5)
        table.add_column(tr("dedupe_ui.first"), key="a", width=30)
        table.add_column(tr("dedupe_ui.second"), key="b", width=30)
        table.add_column(tr("dedupe_ui.why"), key="why", width=50)
        table.focus()
        self.run_worker(self._scan, thread=True, exclusive=True)

    def _scan(self) -> None:
        try:
            result = dedupe.find_duplicates(self.app.store)
        except dedupe.DedupeError as exc:
            self.app.call_from_thread(self._status, str(exc))
            return
        self.app.call_from_thread(self._show, result)

    def _status(self, text: str) -> None:
        self.query_one("#dedupe-status", Static).update(text)

    def _customer_label(self, cid: int) -> str:
        try:
            row = self.app.store.get_customer(cid)
        except Exception:  # noqa: BLE001 - merged away meanwhile
            return f"#{cid}"
        company = f" · {row.company}" if getattr(row, "company", None) else ""
        return f"#{cid} {row.name}{company}"

    def _show(self, result: dedupe.ScanResult) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.candidates.clear()
        for cand in result.candidates[:1000]:
            key = f"{cand.a}-{cand.b}"
            self.candidates[key] = cand
            table.add_row(str(cand.score), self._customer_label(cand.a), self._customer_label(cand.b), cand.why, key=key)
        self._status(tr("io.dedupe_summary", pairs=len(result.candidates), scanned=result.scanned))

    def _current(self) -> tuple[str, dedupe.Candidate] | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key, self.candidates[key]

    def action_review(self) -> None:
        current = self._current()
        if current is None:
            return
        key, cand = current

        def merged(record_id: int | None) -> None:
            if record_id:
                self.last_merge = record_id
                self.query_one(DataTable).remove_row(key)
                self.candidates.pop(key, None)
                self._status(tr("dedupe_ui.left", pairs=len(self.candidates)))
                self.notify(tr("dedupe_ui.merged", id=record_id))

        self.app.push_screen(MergeScreen(cand), merged)

    def action_not_duplicate(self) -> None:
        current = self._current()
        if current is None:
            return
        key, cand = current
        dedupe.dismiss(self.app.store, cand.a, cand.b)
        self.query_one(DataTable).remove_row(key)
        self.candidates.pop(key, None)
        self._status(tr("dedupe_ui.left", pairs=len(self.candidates)))
        self.notify(tr("dedupe_ui.dismissed"))

    def action_undo(self) -> None:
        if self.last_merge is None:
            self.notify(tr("dedupe_ui.nothing_to_undo"), severity="warning")
            return
        try:
            dedupe.undo_merge(self.app.store, self.last_merge)
        except dedupe.DedupeError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(tr("dedupe_ui.undone", id=self.last_merge))
        self.last_merge = None
        self.run_worker(self._scan, thread=True, exclusive=True)

    def action_close(self) -> None:
        self.dismiss()


class MergeScreen(Screen):
    """Two customers side by side; the kept value of each field is marked ✓."""

    BINDINGS = [  # merge first: the footer is cut at the right on an 80-column terminal
        Binding("m", "merge", tr("dedupe_ui.merge"), id="merge.do"),
        Binding("left", "pick('a')", tr("dedupe_ui.pick_left"), id="merge.pick_left", priority=True),
        Binding("right", "pick('b')", tr("dedupe_ui.pick_right"), id="merge.pick_right",
                priority=True),
        Binding("x", "swap", tr("dedupe_ui.swap"), id="merge.swap"),
        Binding("escape", "close", tr("dedupe_ui.cancel"), id="merge.close"),
    ]

    def __init__(self, candidate: dedupe.Candidate) -> None:
        super().__init__()
        self.candidate = candidate
        self.survivor, self.other = candidate.a, candidate.b
        self.picks: dict[str, str] = {}  # field key → 'a' (survivor), 'b' (other), 'both'

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="merge-title")
        yield DataTable(id="merge-fields", cursor_type="row")
        yield KehuFooter()

    def on_mount(self) -> None:
        self._load()
        self.query_one(DataTable).focus()

    def _load(self) -> None:
        store = self.app.store
        self.plan = dedupe.merge_plan(store, self.survivor, self.other)
        self.picks = {}
        for choice in self.plan:
            if choice.value == choice.survivor:
                self.picks[choice.spec.key] = "a"
            elif choice.value == choice.other:
                self.picks[choice.spec.key] = "b"
            else:
                self.picks[choice.spec.key] = "both"
        self.query_one("#merge-title", Static).update(tr(
            "dedupe_ui.merge_title", survivor=self.survivor, other=self.other,
            why=self.candidate.why))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(tr("dedupe_ui.field"), key="field", width=16)
        table.add_column(tr("dedupe_ui.keep_record", id=self.survivor), key="a", width=36)
        table.add_column(tr("dedupe_ui.merged_record", id=self.other), key="b", width=36)
        for choice in self.plan:
            if choice.survivor in (None, "") and choice.other in (None, ""):
                continue
            table.add_row(*self._cells(choice), key=choice.spec.key)

    def _cells(self, choice) -> tuple[str, str, str]:
        pick = self.picks[choice.spec.key]
        mark_a = "✓ " if pick in ("a", "both") else "  "
        mark_b = "✓ " if pick in ("b", "both") else "  "
        return (choice.spec.label(), mark_a + display(choice.spec, choice.survivor),
                mark_b + display(choice.spec, choice.other))

    def action_pick(self, side: str) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.picks[key] = side
        choice = next(c for c in self.plan if c.spec.key == key)
        for column, text in zip(("field", "a", "b"), self._cells(choice)):
            table.update_cell(key, column, text)

    def action_swap(self) -> None:
        self.survivor, self.other = self.other, self.survivor
        self._load()

    def values(self) -> dict:
        out = {}
        for choice in self.plan:
            pick = self.picks[choice.spec.key]
            out[choice.spec.key] = {"a": choice.survivor, "b": choice.other}.get(pick, choice.value)
        return out

    def action_merge(self) -> None:
        try:
            record = dedupe.merge(self.app.store, self.survivor, self.other, self.values(),
                                  score=self.candidate.score, reasons=self.candidate.why,
                                  expected_versions=self.plan.versions)
        except KehuError as exc:   # refused, merged meanwhile, gone: said; a bug goes to the app
            self.notify(str(exc), severity="error")
            return
        self.dismiss(record.id)

    def action_close(self) -> None:
        self.dismiss(None)
