"""Points: `core` (the append-only ledger, caps, totals, bands: `award`) and `admin` (加分/扣分, veto,
ranking switch, approval of requests).

Import the module you need (`from bot.services.points import core`); this package re-exports nothing.
"""
