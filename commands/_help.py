"""``pdw --help`` in Chinese: click's usage line, section headings and its few built-in help texts.

click writes every help page through its context's ``formatter_class`` (a documented extension
point); ``chinese_help`` gives each command of the tree a context class with this formatter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

try:  # typer ≥ 0.29 carries its own click
    from typer._click.core import Context
    from typer._click.formatting import HelpFormatter
except ImportError:  # pragma: no cover - older typer on click
    from click import Context  # type: ignore[assignment]
    from click.formatting import HelpFormatter  # type: ignore[assignment]

HEADINGS = {"Usage": "用法", "Options": "选项", "Arguments": "参数", "Commands": "命令"}
# The English texts click and typer write themselves, whole or in part.
TEXTS = (
    ("Show this message and exit.", "显示本帮助并退出。"),
    ("Install completion for the current shell.", "为当前 shell 安装命令补全。"),
    ("Show completion for the current shell, to copy it or customize the installation.",
     "显示当前 shell 的命令补全脚本，以便复制或自行安装。"),
    ("[OPTIONS]", "[选项]"),
    ("COMMAND [ARGS]...", "命令 [参数]..."),
    ("[required]", "[必填]"),
    ("[default: ", "[默认："),
    ("default: ", "默认："),
    ("; required]", "；必填]"),
    ("<str>", "<文本>"),
    ("<int>", "<整数>"),
    ("<list[str]>", "<文本>"),
    ("<path>", "<文件>"),
)


def chinese(text: str) -> str:
    for english, chinese_text in TEXTS:
        text = text.replace(english, chinese_text)
    return text


def cells(text: str) -> int:
    """Terminal cells a text takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_cells(text: str, width: int) -> list[str]:
    """Greedy wrapping at ``width`` cells: between words, or between any two Chinese characters."""
    lines, line = [], ""
    for token in re.findall(r"[\x21-\x7e]+|\s+|.", " ".join(text.split())):
        if line and cells(line + token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() or not lines else lines


class ChineseHelpFormatter(HelpFormatter):
    """click's formatter, writing its own words in Chinese."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, chinese(args), f"{HEADINGS['Usage']}：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        """click's paragraphs (blank-line separated; one opened by a ``\\b`` line is kept as written),
        the others wrapped in terminal cells."""
        indent, blocks, lines = self.current_indent, [], []
        for line in [*text.expandtabs().splitlines(), ""]:
            if line:
                lines.append(line)
                continue
            if not lines:
                continue
            first = lines[0]
            pad = " " * (indent + len(first) - len(first.lstrip()))
            if first.strip() == "\b":
                body = [lines[1].lstrip(), *lines[2:]] if len(lines) > 1 else []
            else:
                body = wrap_cells(" ".join(x.strip() for x in lines), max(self.width - len(pad), 10))
            blocks.append("\n".join(pad + x for x in body))
            lines = []
        self.write("\n\n".join(blocks) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        """Terms and their help in two columns, measured in terminal cells (a Chinese character takes
        two), so that the columns line up."""
        pairs = [(chinese(term), chinese(text)) for term, text in rows]
        first_col = min(max((cells(term) for term, _ in pairs), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for term, text in pairs:
            self.write(f"{indent}{term}")
            if not text:
                self.write("\n")
                continue
            if cells(term) <= first_col - col_spacing:
                self.write(" " * (first_col - cells(term)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_cells(text, max(self.width - first_col - self.current_indent - 2, 10))
            self.write(("\n" + " " * (first_col + self.current_indent)).join(lines) + "\n")


class ChineseContext(Context):
    formatter_class = ChineseHelpFormatter


def _tree(command: Any) -> Iterator[Any]:
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _tree(sub)


def chinese_help(root: Any) -> None:
    """Every command under ``root`` (itself too) writes its help in Chinese."""
    for command in _tree(root):
        command.context_class = ChineseContext
