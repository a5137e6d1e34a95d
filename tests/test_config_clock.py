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


@pytest.mark.parametrize(("day", "expected", "name"), [
    (dt.date(2027, 1, 1), False, "元旦"),            # beyond chinese-calendar: holidays.China
    (dt.date(2027, 2, 8), False, "春节"),            # Spring Festival Monday
    (dt.date(2027, 2, 10), False, "春节（补假）"),   # an "(observed)" day is a day off too
    (dt.date(2027, 10, 4), False, "国庆节（补假）"),  # National Day week, observed Monday
    (dt.date(2027, 10, 8), True, None),              # a plain Friday after it
    (dt.date(2027, 2, 20), False, None),             # a Saturday: no 调休 known without the operator
])
def test_a_year_without_official_data_uses_holidays_china(day, expected, name):
    assert not clock.has_official_data(day.year)
    assert clock.is_workday(day) is expected
    assert clock.holiday_name(day) == name


def test_extra_days_correct_the_fallback_year_and_holidays_win():
    saturday = dt.date(2027, 2, 20)
    clock.configure("Asia/Shanghai", None, extra_workdays=[saturday, dt.date(2027, 10, 6)],
                    extra_holidays=[dt.date(2027, 10, 6), dt.date(2027, 10, 7)])
    assert clock.is_workday(saturday)  # a 调休 Saturday the operator listed
    assert not clock.is_workday(dt.date(2027, 10, 6))  # in both lists: extra_holidays win
    assert not clock.is_workday(dt.date(2027, 10, 7))
    assert clock.next_workday(dt.date(2027, 10, 1)) == dt.date(2027, 10, 8)
    assert clock.next_workday(dt.date(2027, 2, 19)) == saturday


@pytest.mark.parametrize(("day", "status"), [
    (dt.date(2026, 10, 31), "ok"),            # 2026 has data; November has not come yet
    (dt.date(2026, 11, 1), "missing 2027"),   # from November: next year's table is missing
    (dt.date(2026, 12, 31), "missing 2027"),
    (dt.date(2027, 6, 1), "missing 2027"),    # this year's table is missing
    (dt.date(2025, 11, 29), "ok"),            # 2026 is in the table
])
def test_calendar_status_names_the_missing_year(day, status):
    assert clock.calendar_status(day) == status
    assert (clock.calendar_warning(day) is None) is (status == "ok")


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
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "config.example.toml"
    cfg = config.load(path, environ={})
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in ("app", "database", "redis", "wecom", "wechat", "delivery", "retention", "study",
                    "tickets", "commitments", "calendar",
                    "theme_day", "points"):
        fields = set(type(getattr(cfg, section)).model_fields)
        documented = set(data[section])
        if section == "points":
            documented.add("rules")
        assert fields == documented, section
    assert set(data["schedule"]) == set(config.default_schedule())
    assert set(data["robot"]) == {"per_minute", "webhooks"}
    assert set(data["points"]["rules"]) == set(config.DEFAULT_RULES)
