"""The command palette: every action of the screen with its key, plus settings.

Actions come from the same live bindings the help screen shows, so a
remapped key shows up here too. Settings (theme, language, keymap) are
remembered in config.yaml.
"""
from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from kehu.models.i18n import tr


class KehuCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        """(title, help line, callback) for everything the palette offers.

        An action's help line names its group and binding id — the id is what
        a user writes in keymap.yaml, and typing it finds the action too.
        """
        from kehu.tui import themes
        from kehu.tui.keymap import available_keymaps, describe_keys, live_bindings
        from kehu.tui.screens.help import group_title

        app = self.app
        out: list[tuple[str, str, object]] = []
        for entry in live_bindings(app, self.screen):
            if entry.binding.action in ("command_palette", "app.command_palette"):
                continue
            keys = describe_keys(app, entry)
            title = f"{entry.binding.description}  [{keys}]" if keys else entry.binding.description
            ident = entry.binding.id or entry.binding.action
            out.append((title, f"{group_title(entry.group)} · {ident}",
                        partial(app.run_action, entry.binding.action, entry.node)))
        for name in themes.theme_names(app):
            out.append((tr("palette.theme", name=themes.theme_label(name)),
                        tr("palette.theme_help", name=name),
                        partial(app.use_theme, name)))
        for lang, title in (("zh", "中文"), ("en", "English")):
            out.append((tr("palette.lang", name=title), tr("palette.lang_help"),
                        partial(app.use_language, lang)))
        for name in available_keymaps():
            out.append((tr("palette.keymap", name=name), tr("palette.keymap_help"),
                        partial(app.use_keymap, name, remember=True)))
        return out

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(Text(title), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        found = False
        for title, help_text, callback in self._commands():
            score = max(matcher.match(title), matcher.match(help_text))
            if score > 0:
                found = True
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
        if not found and query.strip():
            # said in the language shown (Textual's own 'No matches found' is English)
            yield Hit(1, Text(tr("palette.no_matches"), style="italic"), _nothing,
                      text=tr("palette.no_matches"), help=tr("palette.no_matches_help"))


def _nothing() -> None:
    """Enter on 'no matching command': the palette closes, nothing else."""
