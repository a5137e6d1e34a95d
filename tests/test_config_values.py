"""Bad configuration values: each is named as `[section] key` with the reason, all in one message."""

from pathlib import Path

import pytest

from bot import config
from tests.conftest import make_config

BAD = [
    # (section data, the key named, words of the reason)
    ({"delivery": {"poll_seconds": -1}}, "[delivery] poll_seconds", "greater than 0"),
    ({"delivery": {"poll_seconds": 0}}, "[delivery] poll_seconds", "greater than 0"),
    ({"delivery": {"daily_budget": -1}}, "[delivery] daily_budget", "at least 0"),
    ({"delivery": {"daily_budget": True}}, "[delivery] daily_budget", "expected an integer"),
    ({"delivery": {"quiet_hours": "2130-0700"}}, "[delivery] quiet_hours", "HH:MM"),
    ({"delivery": {"quiet_hours": "21:30"}}, "[delivery] quiet_hours", "21:30-07:00"),
    ({"delivery": {"digest_at": "8 am"}}, "[delivery] digest_at", "HH:MM"),
    ({"delivery": {"batch_size": 5000}}, "[delivery] batch_size", "at most 1000"),
    ({"delivery": {"backoff_seconds": 60, "backoff_max_seconds": 30}}, "[delivery] backoff_max_seconds",
     "at least backoff_seconds"),
    ({"robot": {"per_minute": 0}}, "[robot] per_minute", "at least 1"),
    ({"robot": {"webhooks": {"b1": "ftp://x"}}}, "[robot] webhooks.b1", "http"),
    ({"points": {"pass_line": 70}}, "[points] pass_line", "below warning_line (70)"),
    ({"points": {"pass_line": 80, "warning_line": 70}}, "[points] pass_line", "below warning_line"),
    ({"points": {"bands": [10, 20, 60]}}, "[points] bands", "add up to 100"),
    ({"points": {"bands": [110, -10]}}, "[points] bands", "non-negative"),
    ({"points": {"category_caps": {"study": -1}}}, "[points] category_caps.study", "at least 0"),
    ({"points": {"rules": {"study_checkin": {"daily_cap": -1}}}}, "[points.rules.study_checkin] daily_cap",
     "at least 0"),
    ({"points": {"rules": {"theme_day_absent": {"exempt_types": ["old"]}}}},
     "[points.rules.theme_day_absent] exempt_types", "unknown member type 'old'"),
    ({"points": {"rules": {"x": 3}}}, "[points.rules.x]", "must be a table"),
    ({"study": {"remind_exclude": ["elderly"]}}, "[study] remind_exclude", "unknown member type"),
    ({"study": {"reflection_min": 600}}, "[study] reflection_max", "at least reflection_min"),
    ({"study": {"makeup_days": -1}}, "[study] makeup_days", "at least 0"),
    ({"theme_day": {"day": 31}}, "[theme_day] day", "at most 28"),
    ({"theme_day": {"rule": "weekly"}}, "[theme_day] rule", "fixed, free"),
    ({"app": {"timezone": "Mars/Base"}}, "[app] timezone", "unknown time zone"),
    ({"app": {"public_url": "example.com"}}, "[app] public_url", "http://"),
    ({"app": {"reply_timeout": 9}}, "[app] reply_timeout", "at most 4.5"),
    ({"app": {"political_birthday": "birthday"}}, "[app] political_birthday", "joined_on, full_member_on"),
    ({"app": {"secret_key": 42}}, "[app] secret_key", "expected a string"),
    ({"app": "x"}, "[app]", "must be a table"),
    ({"database": {"url": "mysql://x"}}, "[database] url", "postgresql"),
    ({"redis": {"url": "localhost:6379"}}, "[redis] url", "redis://"),
    ({"wecom": {"encoding_aes_key": "short"}}, "[wecom] encoding_aes_key", "43 characters"),
    ({"wecom": {"timeout": 0}}, "[wecom] timeout", "greater than 0"),
    ({"retention": {"inbound_days": 0}}, "[retention] inbound_days", "at least 1"),
    ({"tickets": {"urgent_days": 0}}, "[tickets] urgent_days", "at least 1"),
    ({"commitments": {"satisfaction_threshold": 101}}, "[commitments] satisfaction_threshold", "at most 100"),
    ({"calendar": {"workdays_only": "maybe"}}, "[calendar] workdays_only", "true or false"),
    ({"schedule": {"morning_study": "7:50"}}, "[schedule] morning_study", "HH:MM"),
    ({"schedule": {"nightly": "01:00"}}, "[schedule] nightly", "unknown key"),
    ({"schedule": {"morning_study": 750}}, "[schedule] morning_study", "expected a string"),
]


@pytest.mark.parametrize(("data", "named", "reason"), BAD, ids=[b[1] + " " + b[2] for b in BAD])
def test_a_bad_value_is_named_with_its_reason(data, named, reason):
    with pytest.raises(config.ConfigError) as err:
        config.from_dict(data, {})
    message = str(err.value)
    assert f"{named}: " in message
    assert reason in message.split(f"{named}: ", 1)[1].splitlines()[0]


def test_every_problem_is_listed_in_one_message():
    with pytest.raises(config.ConfigError) as err:
        config.from_dict({"delivery": {"poll_seconds": -1}, "robot": {"per_minute": 0}, "nosuch": {}},
                         {"DANGJIAN_WECOM_AGENT_ID": "ten"}, source="c.toml")
    message = str(err.value)
    assert message.startswith("bad configuration in c.toml (4 problems):")
    for named in ("[delivery] poll_seconds", "[robot] per_minute", "[nosuch]: unknown section",
                  "[wecom] agent_id: expected an integer"):
        assert named in message


def test_environment_strings_are_converted_by_the_field_type():
    cfg = config.from_dict({}, {"DANGJIAN_STUDY_REMIND_EXCLUDE": "mobile, frail", "DANGJIAN_THEME_DAY_DAY": "20",
                                "DANGJIAN_CALENDAR_WORKDAYS_ONLY": "no", "DANGJIAN_DELIVERY_POLL_SECONDS": "0.5",
                                "DANGJIAN_CALENDAR_EXTRA_HOLIDAYS": "2026-12-31,2027-01-02"})
    assert cfg.study.remind_exclude == ("mobile", "frail")
    assert cfg.theme_day.day == 20
    assert cfg.calendar.workdays_only is False
    assert cfg.delivery.poll_seconds == 0.5
    assert [d.isoformat() for d in cfg.calendar.extra_holidays] == ["2026-12-31", "2027-01-02"]


def test_sections_are_frozen_and_replace_validates():
    cfg = make_config()
    with pytest.raises(ValueError, match="frozen"):
        cfg.app.public_url = "http://x"  # type: ignore[misc]
    assert cfg.app.replace(spool_max_mb=2).spool_max_mb == 2
    with pytest.raises(ValueError, match="spool_max_mb"):
        cfg.app.replace(spool_max_mb=0)


def test_frail_and_retired_are_exempt_and_not_reminded_by_default():
    cfg = make_config()
    assert cfg.points.rules["theme_day_absent"].exempt_types == ("frail", "retired")
    assert cfg.points.rules["theme_day_late"].exempt_types == ()
    assert cfg.study.remind_exclude == ("frail", "retired")
    everyone = make_config(study={"remind_exclude": []}, points={"rules": {"theme_day_absent": {"exempt_types": []}}})
    assert everyone.study.remind_exclude == ()
    assert everyone.points.rules["theme_day_absent"].exempt_types == ()
    assert everyone.points.rules["theme_day_absent"].points == -5


def test_the_cli_prints_the_problems_and_exits_2(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "c.toml"
    path.write_text('[delivery]\npoll_seconds = -1\n[points]\npass_line = 75\n', encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "jobs"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "[delivery] poll_seconds: must be greater than 0, got -1" in done.stderr
    assert "[points] pass_line: must be below warning_line (70), got 75" in done.stderr


def test_schedule_keys_are_the_registered_jobs():
    from scheduler import jobs

    assert set(config.default_schedule()) == set(jobs.load())
    cfg = make_config(schedule={"secretary_digest": "every 30m"})
    assert {job.id: job.trigger(cfg) for job in jobs.load().values()}["secretary_digest"] == "every 30m"
