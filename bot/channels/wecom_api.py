"""The outbox's WeCom sender: `message/send` through our platform client (`bot.channels.platform`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.channels.platform import PlatformClient, wecom_client
from bot.channels.senders import SEND_EXCEPTIONS, ConfigurationError, SendError, SendResult, classify

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# "taskid has existed or empty or exceed max len" (WeCom global error code 42014). The outbox only sends
# non-empty task_ids of at most 128 bytes, so for us it means: this batch's card was sent already.
TASK_ID_EXISTS = frozenset({42014})


def send_message(client: PlatformClient, agent_id: int, duplicate_check_interval: int, kind: str,
                 payload: dict[str, Any], userids: list[str]) -> dict[str, Any]:
    """POST message/send to up to 1000 userids with the platform's duplicate check on."""
    return client.post("message/send", {
        "touser": "|".join(userids), "toparty": "", "totag": "", "agentid": agent_id,
        "msgtype": kind, kind: payload, "enable_duplicate_check": 1,
        "duplicate_check_interval": duplicate_check_interval})


def _ids(value: Any) -> set[str]:
    if not value:
        return set()
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return {v for v in str(value).split("|") if v}


class WecomSender:
    """One message/send per batch, invaliduser/unlicenseduser failed alone; a template card refused with
    "task id exists" (42014) was delivered by an earlier send of its batch."""

    def __init__(self, runtime: Runtime) -> None:
        self.client = wecom_client(runtime)
        self.agent_id = runtime.config.wecom.agent_id
        self.duplicate_check_interval = runtime.config.delivery.duplicate_check_interval
        self.batch_size = runtime.config.delivery.batch_size

    def close(self) -> None:
        self.client.close()

    def send(self, kind: str, payload: dict[str, Any], recipients: list[str]) -> SendResult:
        try:
            answer = send_message(self.client, self.agent_id, self.duplicate_check_interval, kind, payload,
                                  list(recipients))
        except (SendError, *SEND_EXCEPTIONS) as exc:
            error = classify(exc)
            if kind == "template_card" and error.code in TASK_ID_EXISTS:
                # this batch's card went out before (a resend after a crash or a lost answer): done
                log.info("template card task_id %s was already sent: %d recipients counted as sent",
                         payload.get("task_id"), len(recipients))
                return SendResult(sent=list(recipients))
            raise error from exc
        invalid = _ids(answer.get("invaliduser"))
        unlicensed = _ids(answer.get("unlicenseduser"))
        result = SendResult()
        for userid in recipients:
            if userid in invalid:
                result.failed[userid] = "invaliduser"
            elif userid in unlicensed:
                result.failed[userid] = "unlicenseduser"
            else:
                result.sent.append(userid)
        if not result.sent and result.failed:
            raise ConfigurationError("all recipients invalid", 81013)
        return result
