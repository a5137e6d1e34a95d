"""主题党日 (theme day): `core` (publish / postpone / cancel, RSVP, sign-in, 出勤), `agenda` (rules, agenda,
guests, `ThemeDayError`), `edit` (the console's agenda form), `fix` (补签到 / 准假 / 销假 corrections) and
`jobs` (reminders, closing, attendance rules).

Import the module you need (`from bot.services.theme_day import core`); this package re-exports nothing.
"""
