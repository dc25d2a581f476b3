"""`kehu contact add/list` and `kehu log` (issue 16): what only the TUI could do."""
import datetime as dt
import json

from kehu.models import timeline
from kehu.models.store import Store
from kehu.tui.cli import main
from kehu.tui.cmd.log import follow_up_date


def _seed(url):
    store = Store.open(url, user="tester")
    a = store.create_customer({"name": "李娜", "company": "广州市粤海物流有限公司"})
    b = store.create_customer({"name": "李强", "company": "深圳前海科技有限公司"})
    ids = a.id, b.id
    store.close()
    return ids


def run(capsys, url, *argv):
    code = main(["--db", url, "--user", "tester", "--lang", "en", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_contacts_added_by_query_and_listed_as_a_tree(db_url, capsys):
    a, _ = _seed(db_url)
    code, out, _ = run(capsys, db_url, "contact", "add", "粤海", "王总", "--title", "总经理",
                       "--mobile", "13911112222")
    assert code == 0 and f"to #{a} 李娜" in out
    code, out, _ = run(capsys, db_url, "contact", "add", str(a), "小张", "--reports-to", "王总",
                       "--email", "Z@X.cn")
    assert code == 0
    code, out, _ = run(capsys, db_url, "contact", "list", f"#{a}", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["depth"], r["title"], r["phone"]) for r in rows] == [
        ("王总", 0, "总经理", "+8613911112222"), ("小张", 1, None, None)]
    assert rows[1]["reports_to"] == rows[0]["id"] and rows[1]["email"] == "Z@x.cn"
    code, out, _ = run(capsys, db_url, "contact", "list", "粤海")
    assert out.splitlines()[1:] == [f"  #{rows[0]['id']} 王总  总经理  +8613911112222",
                                    f"    #{rows[1]['id']} 小张  Z@x.cn"]


def test_an_ambiguous_customer_lists_the_candidates(db_url, capsys):
    a, b = _seed(db_url)
    code, out, err = run(capsys, db_url, "log", "李", "call", "hello")
    assert code == 2 and "matches 2 customers" in err
    assert f"#{a} 李娜 · 广州市粤海物流有限公司" in err and f"#{b} 李强" in err
    code, _, err = run(capsys, db_url, "contact", "list", "nobody-here")
    assert code == 2 and "no customer matches 'nobody-here'" in err
    code, _, err = run(capsys, db_url, "contact", "add", str(a), "X", "--reports-to", "Boss")
    assert code == 2 and "has no contact 'Boss'" in err


def test_log_a_call_with_a_follow_up_and_a_purchase(db_url, capsys):
    a, _ = _seed(db_url)
    code, out, _ = run(capsys, db_url, "log", "李娜", "call", "谈了报价", "--follow-up", "+7d")
    due = dt.date.today() + dt.timedelta(days=7)
    assert code == 0 and f"follow up on {due.isoformat()}" in out
    code, out, _ = run(capsys, db_url, "log", str(a), "采购", "首单", "--amount", "12000")
    assert code == 0 and "amount 12,000.00" in out
    store = Store.open(db_url, user="tester")
    entries = list(timeline.entries(store, a))
    assert sorted((e.kind, e.summary, e.next_follow_up) for e in entries) == [
        ("call", "谈了报价", due), ("purchase", "首单", None)]
    assert store.get_customer(a).purchase_total == 12000
    store.close()
    code, _, err = run(capsys, db_url, "log", str(a), "fly", "x")
    assert code == 2 and "'fly' is not one of" in err
    code, _, err = run(capsys, db_url, "log", str(a), "call", "x", "--amount", "5")
    assert code == 2 and err.startswith("kehu: ")


def test_follow_up_words():
    today = dt.date(2026, 1, 31)
    assert follow_up_date("+7d", today) == dt.date(2026, 2, 7)
    assert follow_up_date("+2w", today) == dt.date(2026, 2, 14)
    assert follow_up_date("+1m", today) == dt.date(2026, 2, 28)
    assert follow_up_date("+3", today) == dt.date(2026, 2, 3)
    assert follow_up_date("2026-03-01", today) == "2026-03-01"   # left to the timeline
