"""The `kehu` command: headless sub-commands, one-line errors, no tracebacks."""
import os
import subprocess
import sys


from kehu.tui.cli import main


def run(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "kehu.tui.cli", *args], capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_version_and_help():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("kehu ")
    result = run("--help")
    assert "demo" in result.stdout and "schema" in result.stdout and "--db URL" in result.stdout


def test_help_in_chinese():
    assert "数据库地址" in run("--lang", "zh", "--help").stdout


def test_demo_fills_the_database_given_by_KEHU_DB(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("KEHU_DB", url)
    assert main(["demo", "--customers", "300", "--seed", "7"]) == 0
    assert "300 demo customers" in capsys.readouterr().out
    from kehu.models.store import Store

    store = Store.open(url)
    assert store.count_customers() == 300
    assert store.Contact.select().count() > 0
    purchases = store.Interaction.select().where(store.Interaction.kind == "purchase")
    assert purchases.count() > 0
    # the computed totals agree with the timeline
    for row in store.customers().where(store.Customer.purchase_count > 0).limit(20):
        total = sum(i.amount for i in purchases.where(store.Interaction.customer == row.id))
        assert total == row.purchase_total
    store.close()


def test_default_database_lives_in_the_data_dir(tmp_path, capsys):
    assert main(["demo", "--customers", "5"]) == 0
    assert (tmp_path / "data" / "kehu.db").exists()


def test_schema_check_ok_and_pending_changes(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'k.db'}"
    assert main(["--db", db, "demo", "--customers", "3"]) == 0
    user = tmp_path / "config" / "schema.yaml"
    user.write_text("extends: default\nfields:\n  - {key: vip, label: VIP, type: boolean, group: business}\n"
                    "drop: [age]\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", db, "schema", "check"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "new columns to add: vip" in out
    assert "no longer in the schema" in out and "age" in out


def test_a_broken_schema_stops_kehu_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: txt, group: g}\n")
    result = run("--db", f"sqlite:///{tmp_path / 'x.db'}", "--schema", str(bad), "schema", "check")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"kehu: {bad}:3: field 'name': unknown type 'txt' (known: text, "
                                     "longtext, integer, money, decimal, date, datetime, boolean, "
                                     "choice, tags, phone, email, url)")
    assert "Traceback" not in result.stderr
    result = run("--db", f"sqlite:///{tmp_path / 'x.db'}", "--schema", str(bad))  # the TUI too
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_a_bad_database_url_is_one_line():
    result = run("--db", "oracle://x", "demo", "--customers", "1")
    assert result.returncode == 2
    assert "unknown database URL 'oracle://x'" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_show_lists_fields_by_group(capsys):
    assert main(["schema", "show"]) == 0
    out = capsys.readouterr().out
    assert "[contact] Contact" in out and "mobile" in out and "sensitive" in out


def test_broken_config_is_one_line(tmp_path, capsys):
    (tmp_path / "config" / "config.yaml").write_text("theme: [unclosed\n")
    assert main(["schema", "show"]) == 2
    err = capsys.readouterr().err
    assert "config.yaml:" in err and "not valid YAML" in err


def test_python_dash_m_kehu_is_the_kehu_command():
    result = subprocess.run([sys.executable, "-m", "kehu", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("kehu ")


def test_shared_options_work_after_the_sub_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'after.db'}"
    assert main(["demo", "--customers", "50", "--seed", "2", "--db", url]) == 0
    capsys.readouterr()
    assert main(["query", "", "--limit", "1", "--db", url, "--lang", "zh"]) == 0
    assert "显示 1 / 共 50 位客户" in capsys.readouterr().out
    # before the sub-command still works, and the sub-command does not reset it
    assert main(["--db", url, "query", "", "--limit", "1"]) == 0
    assert "of 50 customers" in capsys.readouterr().out
