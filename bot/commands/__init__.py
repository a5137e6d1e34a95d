"""Every `dangjian` subcommand, listed once: name -> "module:attribute" of its click command.

The group imports a command's module only when that command runs (or `--help` lists it), so start-up
costs one module, not all of them. A new command: write it in a module here with `@command("name")`
from bot.cli, then add its line below (a `report` table: to `REPORTS`). tests/test_cli_registry.py
checks that every line resolves to a command of that name.
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "init-db": "bot.commands.core:init_db",
    "import-branches": "bot.commands.roster:import_branches",
    "import-roster": "bot.commands.roster:import_roster",
    "import-content": "bot.commands.study:import_content",
    "import-duty": "bot.commands.duty:import_duty",
    "create-admin": "bot.commands.admin:create_admin",
    "serve": "bot.commands.serve:serve",
    "scheduler": "bot.commands.scheduler:scheduler_cmd",
    "worker": "bot.commands.outbox:worker",
    "jobs": "bot.commands.scheduler:jobs_cmd",
    "run-job": "bot.commands.scheduler:run_job_cmd",
    "say": "bot.commands.chat:say",
    "report": "bot.commands.report:report",
    "wecom-menu": "bot.commands.menu:wecom_menu",
    "forget": "bot.commands.roster:forget",
    "demo": "bot.commands.serve:demo",
}

REPORTS: dict[str, str] = {  # `dangjian report <name>`
    "points": "bot.commands.report:points_report",
    "ledger": "bot.commands.report:ledger_report",
    "study": "bot.commands.report_study:study_report",
    "attendance": "bot.commands.duty:attendance_report",
    "commitments": "bot.commands.report_cases:commitments_report",
    "tickets": "bot.commands.report_cases:tickets_report",
}
