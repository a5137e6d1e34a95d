"""Points: `core` (the append-only ledger, caps, totals: `award`), `ranking` (status, bands,
standings, 排行) and `admin` (加分/扣分, veto, ranking switch, approval of requests).

Import the module you need (`from bot.services.points import core`); this package re-exports nothing.
"""
