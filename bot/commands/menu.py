"""`dangjian wecom-menu`: publish content/menu.toml as the WeCom app menu."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from bot.cli import UserError, command, runtime
from bot.texts import CONTENT

MENU_KEYS = ("study_today", "checkin", "my_points", "help")


def load_menu(path: Path, public_url: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    """The menu as WeCom's menu/create body; refuses what WeCom would refuse, naming the button. A button
    with `path` opens `public_url` + path (the console's WeCom sign-in, say)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: {exc}") from exc
    buttons = data.get("button") or []
    if not 1 <= len(buttons) <= 3:
        raise UserError(f"{path}: 1 to 3 top-level buttons, found {len(buttons)}")
    out = []
    for top in buttons:
        subs = top.get("sub_button") or []
        if len(subs) > 5:
            raise UserError(f"{path}: button {top.get('name')!r} has more than 5 sub-buttons")
        out.append(_button(path, top, True, public_url) if not subs else
                   {"name": _name(path, top, 16),
                    "sub_button": [_button(path, s, False, public_url) for s in subs]})
    return {"button": out}


def _name(path: Path, button: dict[str, Any], limit: int) -> str:
    name = str(button.get("name") or "")
    if not name or len(name.encode()) > limit:
        raise UserError(f"{path}: button name {name!r} must be 1 to {limit} bytes")
    return name


def _button(path: Path, button: dict[str, Any], top_level: bool, public_url: str) -> dict[str, Any]:
    name = _name(path, button, 16 if top_level else 40)
    if "path" in button:
        return {"type": "view", "name": name, "url": public_url.rstrip("/") + "/" + str(button["path"]).lstrip("/")}
    if "url" in button:
        return {"type": "view", "name": name, "url": str(button["url"])}
    key = str(button.get("key") or "")
    if key not in MENU_KEYS:
        raise UserError(f"{path}: button {name!r} has key {key!r}; known keys: {', '.join(MENU_KEYS)}")
    return {"type": "click", "name": name, "key": key}


@command("wecom-menu")
@click.option("--file", "menu_file", type=click.Path(dir_okay=False, path_type=Path),
              default=CONTENT / "menu.toml", show_default=True)
@click.pass_context
def wecom_menu(ctx: click.Context, menu_file: Path) -> None:
    """Publish the app menu from content/menu.toml through the WeCom API."""
    import requests

    from bot.channels.platform import PlatformError, wecom_client

    rt = runtime(ctx)
    menu = load_menu(menu_file, rt.config.app.public_url)
    if not rt.config.wecom.enabled or not rt.config.wecom.secret:
        raise UserError("[wecom] corp_id and secret are needed to publish the menu")
    client = wecom_client(rt)
    try:
        client.post("menu/create", menu, params={"agentid": rt.config.wecom.agent_id})
    except PlatformError as exc:
        click.echo(f"error: WeCom refused the menu: {exc}", err=True)
        raise SystemExit(1) from exc
    except requests.RequestException as exc:
        click.echo(f"error: WeCom could not be reached at {rt.config.wecom.api_base_url}: {exc}", err=True)
        raise SystemExit(1) from exc
    finally:
        client.close()
    click.echo(f"menu published: {sum(len(b.get('sub_button', [b])) for b in menu['button'])} items")
