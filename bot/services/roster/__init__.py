"""The roster: `core` (`import_roster`), `io` (reading CSV/XLSX tables), `cells` (header mapping, cell
parsing), `row` (one row checked by pydantic), `branches` (`import_branches`), `forget` (erasing a member)
and `sweep` (forget's last step over every text column).

Import the module you need (`from bot.services.roster import core`); this package re-exports nothing.
"""
