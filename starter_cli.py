"""``pdw``: staff start and decide cases and look things up, through the pdw API (docs/api.md).

A thin client: the commands live in ``commands/``, one module per group, and talk HTTP to the API;
only ``pdw dev``, ``pdw setup`` and ``pdw hook`` run parts of the stack here. Output is for people by
default and JSON with ``--json``; exit 0 on success, otherwise one Chinese line on stderr and exit 1.
"""

from __future__ import annotations

import sys

import typer

from commands import (
    access,
    applicants,
    audit,
    auth,
    calendar,
    cases,
    catalog,
    correction,
    dept,
    local,
    notices,
    rectification,
    report,
    share,
)
from commands import open as open_data
from commands._client import PdwGroup, plain_coercion

plain_coercion()
app = typer.Typer(
    name="pdw",
    cls=PdwGroup,
    help="pdw：永嘉县公共数据共享开放流程（Temporal 工作流）。\n\n\b\n"
    "经 pdw 接口办理（PDW_API_URL，默认 http://127.0.0.1:8000）。\n"
    "先 pdw login 登录；开发环境可用 --as 示例人员。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,  # typer's completion installer speaks English and edits ~/.bashrc
    rich_markup_mode=None,
)

for module, names in ((cases, ("show", "decide", "inbox", "overdue", "stuck")), (auth, ("login", "logout")),
                      (local, ("dev", "setup", "hook"))):
    for name in names:
        app.command(name)(getattr(module, name))
for group, name in (
    (catalog.update_app, "catalog-update"),
    (share.app, "share"),
    (share.dispute_app, "dispute"),
    (correction.app, "correction"),
    (open_data.app, "open"),
    (catalog.app, "catalog"),
    (share.grant_app, "grant"),
    (dept.app, "dept"),
    (calendar.app, "calendar"),
    (notices.app, "notices"),
    (applicants.app, "applicants"),
    (auth.token_app, "token"),
    (audit.app, "audit"),
    (cases.case_app, "case"),
    (access.app, "access"),  # Art. 25
    (rectification.app, "rectification"),  # Art. 46
    (report.app, "report"),  # Art. 41
):
    app.add_typer(group, name=name)
# Cases first, then the processes, the records, the account, and the local administration.
PdwGroup.order = ("show", "decide", "case", "inbox", "overdue", "stuck", "catalog-update", "share", "dispute", "correction",
                  "open", "rectification", "report", "catalog", "grant", "access", "dept", "calendar", "notices", "applicants", "audit", "login", "logout",
                  "token", "dev", "setup", "hook")


def main() -> None:
    """The ``pdw`` entry: run a command, then leave at once (runtime.exit_now)."""
    from runtime import exit_now

    code = 1
    try:
        app(prog_name="pdw")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as err:  # noqa: BLE001 - PdwGroup turns errors into one line; this is the last net
        sys.stderr.write(f"错误：意外错误（{type(err).__name__}）：{err}\n")
    exit_now(code)


if __name__ == "__main__":
    main()
