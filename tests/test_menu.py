"""`dangjian wecom-menu` publishes content/menu.toml to the (fake) WeCom API."""

import os
import subprocess
import sys

from tests.fakewecom import wecom_sections


def run(url, fake, *args, extra=None):
    sections = wecom_sections(fake)
    env = {**os.environ, "DANGJIAN_DATABASE_URL": url, "DANGJIAN_WECOM_CORP_ID": "wwfake",
           "DANGJIAN_WECOM_SECRET": "fake-secret", "DANGJIAN_WECOM_AGENT_ID": "1000002",
           "DANGJIAN_WECOM_API_BASE_URL": sections["wecom"]["api_base_url"], **(extra or {})}
    env.pop("DANGJIAN_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_menu_is_published_with_the_contract_keys(sqlite_url, fake_wecom):
    out = run(sqlite_url, fake_wecom, "wecom-menu")
    assert out.returncode == 0, out.stderr
    assert "menu published: 5 items" in out.stdout
    menu = fake_wecom.menus["1000002"]
    keys = [b.get("key") for b in menu["button"] if "key" in b]
    keys += [s["key"] for b in menu["button"] for s in b.get("sub_button", []) if "key" in s]
    assert sorted(keys) == ["checkin", "help", "my_points", "study_today"]
    views = [s for b in menu["button"] for s in b.get("sub_button", []) if s["type"] == "view"]
    assert views == [{"type": "view", "name": "管理后台", "url": "http://127.0.0.1:8000/admin/login/wecom"}]
    assert fake_wecom.gettoken_calls == 1


def test_bad_menu_file_exits_2(sqlite_url, fake_wecom, tmp_path):
    bad = tmp_path / "menu.toml"
    bad.write_text('[[button]]\nname = "x"\nkey = "nosuch"\n', encoding="utf-8")
    out = run(sqlite_url, fake_wecom, "wecom-menu", "--file", str(bad))
    assert out.returncode == 2
    assert "nosuch" in out.stderr
    assert "menu" not in str(fake_wecom.menus)


def test_menu_needs_wecom_configuration(sqlite_url, fake_wecom):
    out = run(sqlite_url, fake_wecom, "wecom-menu", extra={"DANGJIAN_WECOM_CORP_ID": ""})
    assert out.returncode == 2
    assert "[wecom]" in out.stderr
