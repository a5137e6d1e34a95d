"""问题与建议 (tickets): `core` (filing, who may see and handle a ticket, telling the reporter, forget scrub),
`handling` (定级 / 指派 / 回复 / 办结 / 采纳 and the reporter's rating), `categories` (keyword categories) and
`escalation` (overdue tickets up the branch chain).

Import the module you need (`from bot.services.tickets import core`); this package re-exports nothing.
"""
