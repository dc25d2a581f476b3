"""One handler for user errors, a log file for bugs, quiet pipes (issue 14)."""
import os
import subprocess
import sys

from kehu.models.errors import KehuError
from kehu.models.query import QueryError
from kehu.models.validate import FieldError
from kehu.tui import cli


def test_every_user_error_class_is_a_kehu_error():
    from kehu.models import (audit, backup, chain, config, db, dedupe, exporter, importer,
                             reports, schema, security, segments, store, timeline, verify, views)
    classes = [audit.RevertError, backup.BackupError, chain.ChainError, config.ConfigError,
               db.DatabaseError, dedupe.DedupeError, exporter.ExportFailed,
               importer.ImportFailed, reports.ReportError, schema.SchemaError,
               security.PermissionDenied, security.RolesError, segments.SegmentsError,
               store.SchemaMigrationError, store.ConflictError, store.NotFound,
               timeline.TimelineError, verify.PolicyError, views.ViewsError, QueryError,
               FieldError]
    assert all(issubclass(cls, KehuError) for cls in classes)


def test_a_bug_is_one_sentence_naming_the_log_file(monkeypatch, capsys, tmp_path):
    def broken(args, ctx):
        raise RuntimeError("boom in a handler")

    parser = cli.build_parser()
    real_parse = parser.parse_args

    def parse(argv):
        args = real_parse(argv)
        args.func = broken
        return args

    monkeypatch.setattr(parser, "parse_args", parse)
    monkeypatch.setattr(cli, "build_parser", lambda argv=None: parser)
    assert cli.main(["user", "whoami"]) == 1
    err = capsys.readouterr().err.strip()
    log = tmp_path / "log" / "kehu.log"
    assert err.count("\n") == 0 and "internal error (RuntimeError)" in err and str(log) in err
    text = log.read_text()
    assert "Traceback" in text and "boom in a handler" in text


def test_a_user_error_is_one_line_and_exit_2(capsys):
    assert cli.main(["--db", "nosuch://x", "user", "whoami"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kehu: ") and err.count("\n") == 1 and "Traceback" not in err


def test_piping_into_head_is_quiet(tmp_path):
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    env = dict(os.environ, KEHU_DB=url)
    subprocess.run([sys.executable, "-m", "kehu.tui.cli", "demo", "--customers", "300",
                    "--seed", "3"], env=env, check=True, capture_output=True, timeout=120)
    for args in (["query", "", "--json"], ["query", "", "--limit", "300"]):
        proc = subprocess.run(
            f"{sys.executable} -m kehu.tui.cli {' '.join(repr(a) for a in args)} | head -c 300",
            shell=True, env=env, capture_output=True, text=True, timeout=120)
        assert len(proc.stdout.encode()) >= 250
        assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
