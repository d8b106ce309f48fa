"""Local administrative commands: ``pdw dev``, ``pdw setup``, ``pdw hook``.

They run the stack itself, so they talk to Temporal and the database; their heavy modules are
imported inside each command, never when ``pdw`` starts.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands._client import JSON_OPT, emit

app = typer.Typer()


@app.command()
def dev() -> None:
    """在前台运行整套开发环境；Ctrl-C 停止。

    \b
    Temporal 开发服务器与界面、数据库（迁移并载入示例县）、
    worker 和 pdw 接口；为示例人员生成开发令牌
    （$PDW_HOME/dev-tokens.json，供 --as 使用）。

    例：make dev
    """
    import devstack

    devstack.main()


@app.command()
def hook() -> None:
    """运行 pdw 接口（PDW_HOOK_HOST:PDW_HOOK_PORT）。

    供 pdw 和其他系统调用；OpenAPI 文档在 /docs。

    \b
    例：PDW_HOOK_KEYS='{"erp": {"secret": "密钥",
          "departments": ["jyj"]}}' pdw hook
    """
    import hook as api

    api.serve()


@app.command()
def setup(
    seed: Annotated[bool, typer.Option("--seed", help="同时写入示例县的部门、人员和目录")] = False,
    admin: Annotated[str | None, typer.Option("--admin", help="为该人员签发第一个令牌（中心管理员）")] = None,
    dev_tokens: Annotated[bool, typer.Option("--dev-tokens", help="为示例人员生成开发令牌（供 --as）")] = False,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """迁移数据库、注册搜索属性、建立日报计划任务。

    用于已有集群，可重复运行。

    例：pdw setup --seed --admin dsj.zhouwei
    """
    import devstack

    result: dict[str, Any] = devstack.setup_command(seed=seed, admin=admin, dev_tokens=dev_tokens)
    emit(result, as_json, lambda: setup_text(result))


def setup_text(result: dict[str, Any]) -> str:
    added = result.get("search_attributes_added") or []
    lines = [f"数据库已迁移到最新；搜索属性新注册 {len(added)} 个；领导日报计划任务已就绪"]
    if result.get("namespace_retention_days"):
        lines.append(f"Temporal 保留已办结案件 {result['namespace_retention_days']} 天（之后由数据库中的案件投影提供查询）")
    if result.get("seed"):
        lines.append(f"示例县：{result['seed'].get('departments')} 个部门，{result['seed'].get('entries')} 条目录")
    if result.get("dev_tokens"):
        lines.append(f"开发令牌已写入 {result['dev_tokens']}（pdw --as 示例人员）")
    if result.get("admin_token"):
        lines += ["管理员令牌（只显示这一次，请立即用 pdw login 保存）：", str(result["admin_token"])]
    return "\n".join(lines)
