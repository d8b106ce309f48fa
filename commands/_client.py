"""What every command shares: the API's address, credentials, one HTTP call, one line per error,
and output for people or ``--json`` (DESIGN.md, The whole picture: ``pdw`` is a client of the API).

Standard library and typer only: ``pdw`` must start at once, so nothing here loads pydantic,
temporalio or SQLModel (a test keeps it so).
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from commands._help import chinese_help

try:  # typer ≥ 0.29 carries its own click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer on click
    from click import exceptions as click_errors  # type: ignore[no-redef]

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 60

JSON_OPT = typer.Option("--json", help="以 JSON 输出")
AS_OPT = typer.Option("--as", help="开发环境：示例人员（或 PDW_ACTOR）")
LIMIT_OPT = typer.Option("--limit", min=1, max=1000, help="最多列出多少件（分页）")
OFFSET_OPT = typer.Option("--offset", min=0, help="跳过前多少件（分页）")


def past_the_end(offset: int) -> str:
    """What an empty page says when it skipped rows: not "nothing at all"."""
    return f"跳过前 {offset} 条后没有更多了（去掉 --offset 从头查看）" if offset else ""


INPUT_OPT = typer.Option("--input", help="从 JSON 文件（- 为标准输入）读取各项")


class CliError(Exception):
    """A reason for staff, printed as one line on stderr."""


# ---- where the API is, and who is calling -----------------------------------------------------------


def api_url() -> str:
    url = (os.environ.get("PDW_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"PDW_API_URL 无效：“{url[:100]}”须以 http:// 或 https:// 开头（如 {DEFAULT_API_URL}）")
    return url


def token_path() -> Path:
    """The file ``pdw login`` writes: $XDG_CONFIG_HOME/pdw/token (default ~/.config/pdw/token)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pdw" / "token"


def dev_tokens_path() -> Path:
    return Path(os.environ.get("PDW_HOME") or ".pdw") / "dev-tokens.json"


def credential(as_: str | None) -> str:
    """The bearer token: --as (or PDW_ACTOR) picks a dev token; else PDW_TOKEN; else pdw login's file."""
    person = as_ or os.environ.get("PDW_ACTOR")
    if person:
        try:
            tokens = json.loads(dev_tokens_path().read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CliError(
                "--as 只用于开发环境（make dev 为示例人员生成开发令牌）：请用 pdw login 登录或设置 PDW_TOKEN"
            ) from err
        if not isinstance(tokens, dict) or not isinstance(tokens.get(person), str):
            raise CliError(f"开发令牌中没有人员“{person}”：--as 须为示例县的备案人员编号（pdw dept list 查看）")
        return str(tokens[person])
    if os.environ.get("PDW_TOKEN"):
        return os.environ["PDW_TOKEN"].strip()
    try:
        saved = token_path().read_text(encoding="utf-8").strip()
    except OSError:
        saved = ""
    if not saved:
        raise CliError("尚未登录：请用 pdw login 登录或设置 PDW_TOKEN（开发环境可用 --as 示例人员）")
    return saved


def save_token(token: str) -> Path:
    """Write the token readable by its owner only (directory 700, file 600)."""
    path = token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file may have been created with other modes
        os.write(fd, (token.strip() + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return path


# ---- one HTTP call ----------------------------------------------------------------------------------


def call(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    as_: str | None = None,
    public: bool = False,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    as_bytes: bool = False,
) -> Any:
    """Call the API and return its JSON answer; every failure becomes a CliError of one line.

    ``public`` routes (calendar due, the open system's) are called without credentials; ``as_bytes``
    returns the answer's bytes as they are (a report's html or xlsx).
    """
    import http.client
    import urllib.error
    import urllib.parse
    import urllib.request

    base = api_url()
    url = base + path
    if query:
        pairs = {k: _query_value(v) for k, v in query.items() if v is not None}
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs)
    headers = {"Accept": "application/json", **(headers or {})}  # extra: a public receipt's token
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if not public:
        headers["Authorization"] = f"Bearer {token or credential(as_)}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    opener = _opener(urllib.parse.urlsplit(base).hostname or "")
    try:
        with opener(request, timeout=TIMEOUT_SECONDS) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as err:
        raise CliError(_problem(err.code, err.read() if err.fp else b"", base)) from err
    except (urllib.error.URLError, OSError) as err:  # refused, timed out, DNS, reset
        raise CliError(f"无法连接 pdw 接口 {base}：请先运行 make dev（或 pdw hook），或设置 PDW_API_URL") from err
    except http.client.HTTPException as err:  # something answered, but not in HTTP
        raise CliError(f"pdw 接口 {base} 的应答无法识别（{type(err).__name__}）：请检查 PDW_API_URL") from err
    if as_bytes:
        return raw
    if status == 204 or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as err:
        raise CliError(f"pdw 接口 {base} 的应答（HTTP {status}）不是 JSON") from err


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _opener(host: str) -> Callable[..., Any]:
    """urlopen, but never through an HTTP proxy for the local API."""
    import urllib.request

    if host in ("127.0.0.1", "localhost", "::1"):
        return urllib.request.build_opener(urllib.request.ProxyHandler({})).open
    return urllib.request.urlopen


def _problem(status: int, raw: bytes, base: str) -> str:
    """The one line an API error comes down to: problem+json's ``detail`` as it is."""
    try:
        problem = json.loads(raw)
    except ValueError:
        return f"pdw 接口 {base} 返回 HTTP {status}（应答不是 JSON）"
    detail = problem.get("detail") if isinstance(problem, dict) else None
    if isinstance(detail, list):  # a framework's own validation answer: field and message
        detail = "；".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}：{d.get('msg')}" if isinstance(d, dict) else str(d)
            for d in detail
        )
    if not detail and isinstance(problem, dict):
        detail = problem.get("title")
    return " ".join(str(detail).split()) if detail else f"pdw 接口 {base} 返回 HTTP {status}"


def path_part(value: str | int, zh: str = "编号") -> str:
    """A value placed in a URL path, quoted; an empty one is refused here, naming what it is, rather
    than reaching a route that does not exist."""
    from urllib.parse import quote

    if not str(value).strip():
        raise CliError(f"{zh}不能为空")
    return quote(str(value), safe="")


# ---- input and output -------------------------------------------------------------------------------


# The operating system's reasons, as staff read them (its own are in English).
OS_ERRORS_ZH = {errno.ENOENT: "目录或文件不存在", errno.EISDIR: "这是一个目录，不是文件", errno.EACCES: "没有权限",
                errno.ENOSPC: "磁盘空间不足", errno.EROFS: "只读文件系统", errno.ENOTDIR: "路径中有一段不是目录"}


def os_error_zh(err: OSError) -> str:
    return OS_ERRORS_ZH.get(err.errno or 0, "无法访问")


def read_input(source: str | None) -> dict[str, Any]:
    """JSON from a file or ``-`` (stdin), with the same fields as the API's body."""
    if source is None:
        return {}
    where = "标准输入" if source == "-" else f"文件 {source}"
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CliError(f"--input：找不到{where}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"--input：无法读取{where}（须为 UTF-8 编码的 JSON）") from err
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:  # the position helps; the parser's English message does not
        raise CliError(f"--input：{where}不是有效的 JSON（第 {err.lineno} 行第 {err.colno} 列附近；"
                       "字符串中不能含控制字符，字段名须用双引号）") from err
    if not isinstance(data, dict):
        raise CliError("--input 须为 JSON 对象")
    return data


def body_of(source: str | None, **options: Any) -> dict[str, Any]:
    """A start's body: the --input JSON, overridden by the options given (None, [] and False are not given)."""
    body = read_input(source)
    body.update({k: v for k, v in options.items() if v is not None and v != [] and v is not False})
    return body


def emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    """JSON only on stdout with --json; otherwise the text for people."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo(text())


_SHANGHAI: Any = None


def shanghai() -> Any:
    global _SHANGHAI
    if _SHANGHAI is None:
        try:
            from zoneinfo import ZoneInfo

            _SHANGHAI = ZoneInfo("Asia/Shanghai")
        except Exception:  # noqa: BLE001 - no tz database: Shanghai has kept UTC+8 without DST since 1991
            _SHANGHAI = timezone(timedelta(hours=8), "CST")
    return _SHANGHAI


def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time from the API, shown in Asia/Shanghai; anything else as it is."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(shanghai()).strftime(fmt)


def until(value: Any) -> str:
    """A deadline's end from the API (24:00 of its last working day, i.e. the next day's 00:00) as
    staff say it: "2026-12-03 24时"."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(shanghai())
    except ValueError:
        return str(value)
    if (moment.hour, moment.minute) == (0, 0):
        return f"{(moment - timedelta(days=1)):%Y-%m-%d} 24时"
    return f"{moment:%Y-%m-%d %H:%M}"


def zh(obj: dict[str, Any], field: str) -> str:
    """A value's Chinese label when the API gave one (``field_zh``), else the value itself."""
    value = obj.get(f"{field}_zh") or obj.get(field)
    if isinstance(value, list):
        return "、".join(str(x) for x in value)
    return "" if value is None else str(value)


# ---- the one wrapper: every failure is one Chinese line -----------------------------------------------


class PdwGroup(TyperGroup):
    """The root group: runs a command and turns whatever goes wrong into one line on stderr."""

    order: tuple[str, ...] = ()  # the commands as ``pdw --help`` lists them

    def list_commands(self, ctx: Any) -> list[str]:
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(super().list_commands(ctx), key=lambda name: rank.get(name, len(rank)))

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        chinese_help(self)  # 用法、选项、命令: the help pages in Chinese
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = code if isinstance(code, int) else 0
        except click_errors.NoArgsIsHelpError as err:
            typer.echo(err.format_message(), nl=False)  # ``pdw`` or ``pdw GROUP`` alone: the help
            code = 0
        except click_errors.UsageError as err:
            typer.echo(f"错误：{usage_zh(err)}", err=True)
            if err.ctx is not None:
                typer.echo(f"（{err.ctx.command_path} --help 查看用法）", err=True)
            code = 1
        except CliError as err:
            typer.echo(f"错误：{err}", err=True)
            code = 1
        except click_errors.ClickException as err:
            typer.echo(f"错误：{err.format_message()}", err=True)
            code = 1
        except (typer.Abort, EOFError):
            typer.echo("错误：已取消", err=True)
            code = 1
        except KeyboardInterrupt:
            code = 130
        except SystemExit as exit_:  # a local command's sys.exit("错误：…")
            if isinstance(exit_.code, str):
                typer.echo(exit_.code if exit_.code.startswith("错误：") else f"错误：{exit_.code}", err=True)
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception as err:  # noqa: BLE001 - still one line, never a traceback
            typer.echo(f"错误：意外错误（{type(err).__name__}）：{' '.join(str(err).split())}", err=True)
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


_BOOLS = {"true": True, "1": True, "yes": True, "y": True, "on": True, "t": True,
          "false": False, "0": False, "no": False, "n": False, "off": False, "f": False, "": False}
_NUMBER_ZH = {"int": "整数", "float": "数字", "bool": "是否（true/false）"}
# An option's bounds (typer's min/max, checked by pydantic): the rule in Chinese.
_BOUND_ZH = {"greater_than_equal": ("ge", "不能小于"), "less_than_equal": ("le", "不能大于"),
             "greater_than": ("gt", "须大于"), "less_than": ("lt", "须小于")}


def plain_coercion() -> None:
    """Convert str, int, bool and list[str] parameters without pydantic.

    typer 0.29 converts every value through a pydantic TypeAdapter: importing pydantic for that
    costs each ``pdw`` command 0.1 s, more than the rest of its start-up. These types (all of pdw's
    parameters but a path) need nothing of it; anything else still goes through typer.
    """
    try:
        from typer._coercion import RuntimeParam
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - another typer: it converts as it likes
        return
    original = _TyperParameter.get_runtime_param
    if getattr(original, "plain", False):
        return

    class Plain(RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.annotation is str:
                return str(value)
            if self.annotation is bool:
                text = str(value).strip().lower()
                if isinstance(value, bool) or text in _BOOLS:
                    return value if isinstance(value, bool) else _BOOLS[text]
                raise click_errors.BadParameter(f"“{value}”不是是否（true/false）", ctx=ctx, param=param)
            if self.annotation is int:
                try:
                    return int(value)
                except (TypeError, ValueError):
                    raise click_errors.BadParameter(f"“{value}”不是整数", ctx=ctx, param=param) from None
            return [str(v) for v in value]

    def get_runtime_param(self: Any) -> Any:
        d = self.type_descriptor
        info = d.parameter_info
        if (self._runtime_param is None and d.file_annotation is None and info.parser is None
                and info.min is None and info.max is None and d.annotation in (str, int, bool, list[str])):
            self._runtime_param = Plain(parameter_info=info, annotation=d.annotation)
        return original(self)

    get_runtime_param.plain = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]


def usage_zh(err: Exception) -> str:
    """click's and typer's usage errors, in Chinese, naming the option."""
    message = str(getattr(err, "message", err))
    if isinstance(err, click_errors.MissingParameter):
        name, kind = _param_name(err.param)
        about = getattr(err.param, "help", None)
        return f"缺少{kind} {name}" + (f"（{about}）" if about else "")
    if isinstance(err, click_errors.BadParameter):
        name, _kind = _param_name(err.param)
        cause = err.__cause__
        if cause is not None and hasattr(cause, "errors"):
            first = (cause.errors() or [{}])[0]
            wanted = next((zh for k, zh in _NUMBER_ZH.items() if str(first.get("type", "")).startswith(k)), None)
            value = first.get("input")
            bound = _BOUND_ZH.get(str(first.get("type", "")))
            if bound is not None:
                return f"{name} 的值无效：{value} {bound[1]} {first.get('ctx', {}).get(bound[0], '')}"
            return f"{name} 的值无效：" + (f"“{value}”不是{wanted}" if wanted else f"{first.get('msg', message)}")
        return f"{name} 的值无效：{message}"
    if isinstance(err, click_errors.NoSuchOption):
        likely = sorted(p for p in err.possibilities or () if p != "--help")
        hint = f"；是否想用 {'、'.join(likely)}？" if likely else ""
        return f"没有选项 {err.option_name}{hint}"
    if isinstance(err, click_errors.BadOptionUsage):
        if "requires an argument" in message or "requires" in message:
            return f"选项 {err.option_name} 需要一个值"
        if "does not take a value" in message:
            return f"选项 {err.option_name} 不接受值"
        return f"选项 {err.option_name} 用法错误：{message}"
    found = re.match(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?", message)
    if found:
        hint = f"；是否想用 {found.group(2).replace(chr(39), '')}？" if found.group(2) else ""
        return f"没有命令“{found.group(1)}”{hint}"
    found = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if found:
        return f"多余的参数：{found.group(1)}"
    if message.startswith("Missing command"):
        return "缺少子命令"
    return f"用法错误：{message}"


def _param_name(param: Any) -> tuple[str, str]:
    if param is None:
        return "参数", "参数"
    if getattr(param, "param_type_name", "") == "option":
        return (param.opts or [param.name])[0], "选项"
    return getattr(param, "human_readable_name", None) or str(param.name), "参数"
