"""config.yaml: every key's type checked, unknown keys named with file and line."""
import pytest

from kehu.models.config import ConfigError, config_dir, load_config
from kehu.models.errors import KehuError


def write(text):
    path = config_dir() / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_loads():
    write("db: sqlite:///x.db\nlang: zh\ntheme: kehu-light\nphone_region: us\nuser: ana\n"
          "backup_keep: 3\nverification: {credit: 30}\ndefault_role: viewer\nkeymap: default\n")
    cfg = load_config()
    assert (cfg.lang, cfg.phone_region, cfg.backup_keep) == ("zh", "US", 3)
    assert cfg.extra == {"verification": {"credit": 30}, "default_role": "viewer"}


def test_an_empty_or_null_setting_keeps_the_default():
    write("# nothing yet\n")
    assert load_config().theme == "kehu-dark"
    write("theme:\nbackup_keep: ~\n")
    cfg = load_config()
    assert cfg.theme == "kehu-dark" and cfg.backup_keep == 10


@pytest.mark.parametrize("text, line, words", [
    ("theme: kehu-dark\nphone_region: 12\n", 2, ["'phone_region' must be a text, not 12"]),
    ("theme: kehu-dark\nuser: ana\nlnag: zh\n", 3, ["unknown key 'lnag'", "did you mean 'lang'?"]),
    ("them: x\n", 1, ["did you mean 'theme'?"]),
    ("colour: red\n", 1, ["unknown key 'colour'", "known: db, lang"]),
    ("backup_keep: 0\n", 1, ["'backup_keep' must be a whole number of at least 1, not 0"]),
    ("backup_keep: '5'\n", 1, ["'backup_keep'", "not '5'"]),
    ("backup_keep: true\n", 1, ["'backup_keep'", "not true"]),
    ("lang: fr\n", 1, ["lang must be one of zh, en, not 'fr'"]),
    ("lang: [zh]\n", 1, ["'lang' must be a text"]),
    ("phone_region: XX\n", 1, ["two-letter region code", "'XX'"]),
    ("db: {a: 1}\n", 1, ["'db' must be a text"]),
    ("verification: 30\n", 1, ["'verification' must be a mapping"]),
    ("theme: a\ntheme: b\n", 2, ["'theme' appears twice (first on line 1)"]),
    ("- lang\n", 1, ["must be a YAML mapping"]),
    ("lang: zh\ntheme: [x\n", 3, ["not valid YAML"]),
    ("? [a, b]\n: 1\n", 1, ["not valid YAML"]),
    ("1: x\n", 1, ["unknown key '1'"]),
])
def test_a_bad_config_is_one_config_error_naming_file_line_and_key(text, line, words):
    path = write(text)
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert isinstance(err.value, KehuError)
    assert message.startswith(f"{path}:{line}: "), message
    for word in words:
        assert word in message


def test_the_cli_says_one_sentence_for_a_bad_config(capsys, sqlite_url):
    from kehu.tui.cli import main

    write("phone_region: 12\nlnag: zh\n")
    assert main(["--db", sqlite_url, "query", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.yaml:1: 'phone_region' must be a text" in err


def test_saving_keeps_the_other_settings():
    write("lang: zh\ndefault_role: viewer\n")
    cfg = load_config()
    cfg.theme = "kehu-light"
    cfg.save()
    again = load_config()
    assert (again.lang, again.theme, again.extra) == ("zh", "kehu-light", {"default_role": "viewer"})
