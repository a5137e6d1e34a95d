import datetime as dt

import pytest

from bot import clock, config
from tests.conftest import make_config


def test_defaults_load_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.load(None, environ={})
    assert cfg.app.timezone == "Asia/Shanghai"
    assert cfg.delivery.daily_budget == 3
    assert cfg.schedule["morning_study"] == "07:50"
    assert cfg.points.rules["problem_reported"].monthly_cap == 3
    assert cfg.source == "defaults"


def test_file_merges_key_by_key_and_env_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[wecom]\ncorp_id = "ww1"\n[schedule]\nmorning_study = "08:00"\n'
                    '[points.rules.study_checkin]\npoints = 2\n', encoding="utf-8")
    cfg = config.load(path, environ={"DANGJIAN_WECOM_SECRET": "s3", "DANGJIAN_THEME_DAY_DAY": "20",
                                     "DANGJIAN_DATABASE_URL": "sqlite:///x.db",
                                     "DANGJIAN_NOW": "2026-11-25T08:00"})
    assert cfg.wecom.corp_id == "ww1"
    assert cfg.wecom.secret == "s3"
    assert cfg.wecom.api_base_url == "https://qyapi.weixin.qq.com"
    assert cfg.theme_day.day == 20
    assert cfg.database.url == "sqlite:///x.db"
    assert cfg.schedule["morning_study"] == "08:00"
    assert cfg.schedule["study_reminder"] == "12:00"
    assert cfg.points.rules["study_checkin"].points == 2
    assert cfg.points.rules["study_checkin"].daily_cap == 1
    assert cfg.now == dt.datetime(2026, 11, 25, 8, 0, tzinfo=clock.tz())


@pytest.mark.parametrize(("data", "named"), [
    ({"wecom": {"corpid": "x"}}, "[wecom] corpid"),
    ({"delivery": {"daily_budget": "three"}}, "[delivery] daily_budget"),
    ({"app": {"timezone": "Mars/Base"}}, "[app]"),
    ({"schedule": {"morning_study": "25:00"}}, "[schedule] morning_study"),
    ({"schedule": {"nightly": "01:00"}}, "[schedule] nightly"),
    ({"points": {"bands": [10, 20, 30]}}, "[points]"),
    ({"points": {"rules": {"x": {"pointz": 1}}}}, "[points.rules.x] pointz"),
    ({"nosuch": {}}, "[nosuch]"),
    ({"calendar": {"extra_holidays": ["2026-13-01"]}}, "[calendar] extra_holidays"),
])
def test_bad_keys_and_values_name_the_key(data, named):
    with pytest.raises(config.ConfigError) as err:
        make_config(data)
    assert named in str(err.value)


def test_env_typo_is_an_unknown_key():
    with pytest.raises(config.ConfigError, match=r"\[wecom\] secrett"):
        config.from_dict({}, {"DANGJIAN_WECOM_SECRETT": "x"})


def test_triggers():
    assert config.parse_trigger("every 10m") == ("interval", 600)
    assert config.parse_trigger("07:50") == ("daily", dt.time(7, 50))


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2026, 11, 28), False),   # Saturday
    (dt.date(2026, 10, 1), False),    # National Day
    (dt.date(2026, 10, 10), True),    # 调休 make-up Saturday
    (dt.date(2026, 2, 14), True),     # 调休 make-up Saturday
    (dt.date(2027, 1, 4), True),      # beyond chinese-calendar: a Monday
    (dt.date(2027, 1, 9), False),     # beyond chinese-calendar: a Saturday
])
def test_workdays(day, expected):
    assert clock.is_workday(day) is expected


def test_calendar_overrides_win():
    clock.configure("Asia/Shanghai", None, extra_holidays=[dt.date(2026, 11, 25)],
                    extra_workdays=[dt.date(2027, 1, 9)])
    assert not clock.is_workday(dt.date(2026, 11, 25))
    assert clock.is_workday(dt.date(2027, 1, 9))


def test_loops_crossing_into_2027_do_not_crash():
    assert clock.is_workday(clock.next_workday(dt.date(2026, 12, 31)))
    assert clock.add_workdays(dt.date(2026, 12, 28), 10) > dt.date(2027, 1, 1)


def test_frozen_clock_is_what_everything_reads(pinned_clock):
    assert clock.now() == pinned_clock
    assert clock.today() == dt.date(2026, 11, 25)
    clock.freeze(dt.datetime(2026, 1, 1, 0, 30, tzinfo=clock.tz()))
    assert clock.now().tzinfo is not None
    assert clock.now().hour == 0


def test_example_file_documents_every_key_and_loads():
    import dataclasses
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "config.example.toml"
    cfg = config.load(path, environ={})
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in ("app", "database", "redis", "wecom", "wechat", "delivery", "retention", "study",
                    "tickets", "commitments", "calendar",
                    "theme_day", "points"):
        fields = {f.name for f in dataclasses.fields(getattr(cfg, section))}
        documented = set(data[section])
        if section == "points":
            documented.add("rules")
        assert fields == documented, section
    assert set(data["schedule"]) == set(config.DEFAULT_SCHEDULE)
    assert set(data["robot"]) == {"per_minute", "webhooks"}
    assert set(data["points"]["rules"]) == set(config.DEFAULT_RULES)
