"""`kehu bench` never writes to a database it did not create (issue 20)."""
from kehu.models.store import Store
from kehu.tui.cli import main


def _count(url):
    store = Store.open(url)
    try:
        return store.count_customers()
    finally:
        store.close()


def test_bench_measures_a_users_database_as_it_is(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    assert main(["demo", "--customers", "40", "--seed", "1", "--db", url]) == 0
    capsys.readouterr()
    assert main(["bench", "--db", url, "--customers", "120", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert "measuring the 40 customers already in" in out and "--grow" in out
    assert _count(url) == 40
    assert main(["bench", "--db", url, "--customers", "60", "--repeat", "3", "--grow"]) == 0
    assert _count(url) == 60


def test_bench_builds_and_later_grows_its_own_database(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    assert main(["bench", "--db", url, "--customers", "30", "--repeat", "3"]) == 0
    assert _count(url) == 30
    assert main(["bench", "--db", url, "--customers", "50", "--repeat", "3"]) == 0
    assert "building 20 demo customers" in capsys.readouterr().out
    assert _count(url) == 50
