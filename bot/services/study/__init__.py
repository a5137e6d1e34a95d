"""晨学三分钟 (morning study): `core` (which item a workday publishes, `[study]` settings), `push` (the morning
card, 学习's answer, reminders), `checkin` (签到, streaks, 答, 心得), `makeup` (补签), `content` (`import-content`) with
`items` (one item checked by pydantic), and `workflow` (编辑 → 审核 → 排期, the console's library).

Import the module you need (`from bot.services.study import checkin`); this package re-exports nothing.
"""
