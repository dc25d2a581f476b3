"""`kehu completion bash|zsh|fish`: a shell completion script made from kehu's own parser.

Every sub-command, nested action, option and fixed choice comes from the argparse
tree, so the script never drifts from ``kehu --help``. Install it with, e.g.,
``kehu completion bash > ~/.local/share/bash-completion/completions/kehu``
(zsh: ``eval "$(kehu completion zsh)"`` in ~/.zshrc; fish:
``kehu completion fish > ~/.config/fish/completions/kehu.fish``).
"""
from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field

from kehu.models.i18n import tr

SHELLS = ("bash", "zsh", "fish")
#: metavars whose values are paths: the shell completes file names there
_PATHS = {"FILE", "PATH", "DIR", "FOLDER", "OUT", "FILE.csv|.xlsx"}


def register(sub) -> None:
    parser = sub.add_parser("completion", help=tr("completion.help"),
                            description=tr("completion.description"))
    parser.add_argument("shell", choices=SHELLS, help=tr("completion.opt_shell"))
    parser.set_defaults(func=run)


@dataclass
class Node:
    """One level of the command tree: ``kehu``, ``kehu user``, ``kehu user add`` …"""
    path: tuple[str, ...]
    help: str = ""
    options: dict[str, str] = field(default_factory=dict)      # flag → help
    values: dict[str, str] = field(default_factory=dict)       # flag → 'file' | 'choices' | 'text'
    choices: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, "Node"] = field(default_factory=dict)


def tree(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help: str = "") -> Node:
    node = Node(path, help)
    for action in parser._actions:  # argparse has no public walk of its actions
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, child in action.choices.items():
                node.children[name] = tree(child, path + (name,), helps.get(name, ""))
            continue
        if action.help == argparse.SUPPRESS:
            continue
        for flag in action.option_strings:
            node.options[flag] = action.help or ""
            if action.nargs == 0:
                continue
            if action.choices:
                node.values[flag] = "choices"
                node.choices[flag] = [str(c) for c in action.choices]
            elif str(action.metavar or action.dest).upper() in _PATHS or flag in ("-o", "--output"):
                node.values[flag] = "file"
            else:
                node.values[flag] = "text"
        if not action.option_strings and action.choices and not isinstance(
                action, argparse._SubParsersAction):
            node.choices[""] = [str(c) for c in action.choices]
    return node


def _walk(node: Node):
    yield node
    for child in node.children.values():
        yield from _walk(child)


def bash(root: Node) -> str:
    key = lambda node: " ".join(("kehu",) + node.path)  # noqa: E731  (bash keys cannot be empty)
    lines = ["# kehu completion for bash (kehu completion bash)",
             "declare -A _kehu_subs _kehu_opts _kehu_vals _kehu_choice"]
    for node in _walk(root):
        k = shlex.quote(key(node))
        lines.append(f"_kehu_subs[{k}]={shlex.quote(' '.join(node.children))}")
        lines.append(f"_kehu_opts[{k}]={shlex.quote(' '.join(node.options))}")
        for flag, kind in node.values.items():
            lines.append(f"_kehu_vals[{shlex.quote(key(node) + '|' + flag)}]={kind}")
        for flag, choices in node.choices.items():
            lines.append(f"_kehu_choice[{shlex.quote(key(node) + '|' + flag)}]="
                         f"{shlex.quote(' '.join(choices))}")
    lines.append(r'''
_kehu() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" path="kehu" w i kind
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if [[ -n "$prev" ]]; then prev=""; continue; fi
        if [[ "$w" == -* ]]; then
            kind="${_kehu_vals["$path|$w"]}"
            [[ -n "$kind" ]] && prev="$w"
            continue
        fi
        if [[ " ${_kehu_subs["$path"]} " == *" $w "* ]]; then
            path="$path $w"
        fi
    done
    if [[ -n "$prev" ]]; then
        kind="${_kehu_vals["$path|$prev"]}"
        case "$kind" in
            choices) COMPREPLY=($(compgen -W "${_kehu_choice["$path|$prev"]}" -- "$cur")) ;;
            file) COMPREPLY=($(compgen -f -- "$cur")) ;;
            *) COMPREPLY=() ;;
        esac
        return 0
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "${_kehu_opts["$path"]}" -- "$cur"))
    elif [[ -n "${_kehu_subs["$path"]}" ]]; then
        COMPREPLY=($(compgen -W "${_kehu_subs["$path"]}" -- "$cur"))
    elif [[ -n "${_kehu_choice["$path|"]}" ]]; then
        COMPREPLY=($(compgen -W "${_kehu_choice["$path|"]}" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}
complete -o filenames -F _kehu kehu''')
    return "\n".join(lines) + "\n"


def zsh(root: Node) -> str:
    return ("# kehu completion for zsh: eval \"$(kehu completion zsh)\"\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash(root))


def fish(root: Node) -> str:
    lines = ["# kehu completion for fish (kehu completion fish)", "complete -c kehu -f"]
    for node in _walk(root):
        if not node.path:
            cond = "__fish_use_subcommand"
        else:
            cond = "; and ".join(f"__fish_seen_subcommand_from {word}" for word in node.path)
        for name, child in node.children.items():
            lines.append(f"complete -c kehu -n {shlex.quote(cond)} -a {shlex.quote(name)} "
                         f"-d {shlex.quote(child.help)}")
        for flag, help_text in node.options.items():
            if flag.startswith("--"):
                spec = f"-l {flag[2:]}"
            elif len(flag) == 2:
                spec = f"-s {flag[1]}"
            else:
                continue
            kind = node.values.get(flag)
            extra = ""
            if kind == "choices":
                extra = f" -x -a {shlex.quote(' '.join(node.choices[flag]))}"
            elif kind == "file":
                extra = " -r -F"
            elif kind == "text":
                extra = " -x"
            lines.append(f"complete -c kehu -n {shlex.quote(cond)} {spec}{extra} "
                         f"-d {shlex.quote(help_text)}")
    return "\n".join(lines) + "\n"


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](tree(parser))


def run(args, ctx) -> int:
    ctx.out.write(script(args.shell, ctx.full_parser()))
    return 0
