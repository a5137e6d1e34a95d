"""The CLI subcommands, one module per area.

`MODULES` names the module that defines each top-level command, so that a one-shot command imports only
its own module (start-up time: `dangjian jobs` need not load Flask, jieba or openpyxl). A command missing
here still works (bot.cli loads every module to find it); tests/test_cli_startup.py keeps the table complete.
"""

MODULES: dict[str, str] = {
    "create-admin": "admin",
    "demo": "serve",
    "forget": "roster",
    "import-branches": "roster",
    "import-content": "study",
    "import-duty": "duty",
    "import-roster": "roster",
    "init-db": "core",
    "jobs": "scheduler",
    "run-job": "scheduler",
    "say": "chat",
    "scheduler": "scheduler",
    "serve": "serve",
    "wecom-menu": "menu",
    "worker": "outbox",
    # "report" is a group whose subcommands live in several modules: it loads them all
}
