"""Headless sub-commands: one module per area, each with ``register(subparsers)``.

``COMMANDS`` names every sub-command, the module that registers it and the
catalogue key of its one-line help. ``kehu`` reads it to import only the module
of the command being run (``kehu --version``, ``kehu --help`` and the TUI import
none), so starting stays fast however many commands there are.
``tests/test_cli_commands.py`` checks the table against what the modules register.
"""
from __future__ import annotations

#: command → (module in kehu.tui.cmd, help message key), in ``kehu --help`` order
COMMANDS: dict[str, tuple[str, str]] = {
    "agenda": ("agenda", "agenda.cli_help"),
    "automations": ("automations", "cmd_automations.help"),
    "bench": ("bench", "cmd_bench.help"),
    "completion": ("completion", "completion.help"),
    "contact": ("contact", "cli16.contact_help"),
    "demo": ("demo", "demo.help"),
    "due": ("due", "due.cli_help"),
    "verify": ("due", "verify.cli_help"),
    "import": ("io", "io.import_help"),
    "imports": ("io", "io.imports_help"),
    "export": ("io", "io.export_help"),
    "backup": ("io", "io.backup_help"),
    "restore": ("io", "io.restore_help"),
    "dedupe": ("io", "io.dedupe_help"),
    "merge": ("io", "io.merge_help"),
    "log": ("log", "cli16.log_help"),
    "quality": ("quality", "cli.quality_help"),
    "satisfaction": ("quality", "cli.satisfaction_help"),
    "query": ("query", "cmd_query.help"),
    "report": ("report", "cli.report_help"),
    "segments": ("report", "cli.segments_help"),
    "schema": ("schema", "schema.help"),
    "user": ("security", "cmd_user.help"),
    "audit": ("security", "cmd_audit.help"),
    "encrypt": ("security", "cmd_crypto.encrypt_help"),
    "decrypt": ("security", "cmd_crypto.decrypt_help"),
    "team": ("security", "cmd_team.help"),
    "migrate": ("security", "cmd_team.migrate_help"),
    "roles": ("security", "cmd_team.roles_help"),
    "role": ("security", "cmd_team.role_help"),
    "update": ("update", "cmd_update.help"),
    "views": ("views", "page.views_help"),
}
