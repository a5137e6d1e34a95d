"""问题与建议 (tickets): `core` (filing, handling, rating, forget scrub), `categories` (keyword categories) and
`escalation` (overdue tickets up the branch chain).

Import the module you need (`from bot.services.tickets import core`); this package re-exports nothing.
"""
