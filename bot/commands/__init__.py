"""The CLI subcommands, one module per area.

`MODULES` names the module that defines a one-shot command which needs nothing but its own module, so that
it starts without importing the rest (`dangjian jobs` loads neither the database layer nor Flask, jieba or
openpyxl). Every other command (a long-running process, `say`, `report`, `forget`, `run-job`,
`import-duty`) loads every command module first, as all commands used to: importing the services registers
approval kinds and forget hooks, which those commands rely on. tests/test_cli_startup.py checks the table.
"""

MODULES: dict[str, str] = {
    "create-admin": "admin",
    "import-branches": "roster",
    "import-content": "study",
    "import-roster": "roster",
    "init-db": "core",
    "jobs": "scheduler",
    "wecom-menu": "menu",
}
