"""The demo organisation used by `make run`: a committee with three branches and ~30 members.

`seed(session)` imports `content/demo/branches.csv` and `content/demo/roster.csv` through the normal
importers when the database has no members yet. The constants name demo userids for the banner.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot import texts
from bot.models import Member
from bot.services.roster.core import RosterError, import_branches, import_roster, read_table

DEMO_DIR = texts.CONTENT / "demo"
BRANCHES_FILE = DEMO_DIR / "branches.csv"
ROSTER_FILE = DEMO_DIR / "roster.csv"

DEMO_COMMITTEE_BRANCH = "dw"  # 示范公司党委
DEMO_BRANCH = "jg1"  # 机关第一党支部
DEMO_SECRETARY = "zhangwei"  # 张伟, secretary of jg1
DEMO_DEPUTY = "wangfang"  # 王芳, deputy secretary of jg1
DEMO_MEMBER = "lina"  # 李娜, a regular member of jg1
DEMO_COMMITTEE = "liuyang"  # 刘洋, committee member (jg1)
DEMO_EDITOR = "yangfan"  # 杨帆
DEMO_REVIEWER = "zhaolei"  # 赵磊
DEMO_ADMIN = "huangmin"  # 黄敏, roster role admin (the console login is created separately)
DEMO_ACTOR = "demo"


def seed(session: Session) -> bool:
    """Import the demo branches and roster if there are no members; True when it seeded.

    Flushes, the caller commits. A broken demo file raises RosterError with its `line N: reason`s.
    """
    if session.exec(select(Member.id).limit(1)).first() is not None:
        return False
    for path, importer in ((BRANCHES_FILE, import_branches), (ROSTER_FILE, import_roster)):
        result = importer(session, read_table(path), DEMO_ACTOR)
        if not result.ok:
            raise RosterError([f"{path.name} {error}" for error in result.errors])
    return True
