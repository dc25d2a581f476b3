"""`kehu due` and `kehu verify` from the shell."""
import datetime as dt

from kehu.models import timeline, verify
from kehu.models.store import Store
from kehu.tui.cli import main


def test_due_lists_follow_ups_and_verify_records_them(sqlite_url, capsys, monkeypatch):
    monkeypatch.setenv("KEHU_DB", sqlite_url)
    store = Store.open(sqlite_url, user="t")
    acme = store.create_customer({"name": "Acme"})
    store.Customer.update(created_at=dt.datetime(2020, 1, 1)).execute()
    timeline.add_entry(store, acme.id, "call", summary="ring back",
                       next_follow_up=dt.date.today() - dt.timedelta(days=1))
    store.close()

    assert main(["due", "--bucket", "overdue"]) == 0
    out = capsys.readouterr().out
    assert "Overdue (1)" in out and "Acme" in out and "ring back" in out

    assert main(["verify", "--due"]) == 0
    assert "1 customer due" in capsys.readouterr().out
    assert main(["--user", "alice", "verify", str(acme.id), "--kind", "credit"]) == 0
    assert "Acme verified: Credit status" in capsys.readouterr().out
    assert main(["verify", str(acme.id), "--kind", "weather"]) == 2
    assert "'weather' is not a verification kind" in capsys.readouterr().err
    assert main(["verify", "999"]) == 2

    store = Store.open(sqlite_url)
    seen = {s.kind.key: s.verified_by for s in verify.status(store, acme.id)}
    assert seen["credit"] == "alice" and seen["base"] is None
    store.close()
