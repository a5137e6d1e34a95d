"""[wecom], [wechat] and [robot]: the chat platforms."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from bot.config.app import HttpUrl
from bot.config.base import Float, Int, Section, Str


def _aes_key(value: str) -> str:
    if value and len(value) != 43:
        raise ValueError("must be 43 characters")
    return value


AesKey = Annotated[Str, AfterValidator(_aes_key)]


class WecomConfig(Section):
    corp_id: Str = ""
    agent_id: Int = 0
    secret: Str = ""
    token: Str = ""
    encoding_aes_key: AesKey = ""
    api_base_url: HttpUrl = "https://qyapi.weixin.qq.com"
    oauth_url: HttpUrl = "https://open.weixin.qq.com/connect/oauth2/authorize"  # console login inside WeCom
    sso_url: HttpUrl = "https://login.work.weixin.qq.com/wwlogin/sso/login"  # console login by QR elsewhere
    timeout: Annotated[Float, Field(gt=0)] = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id)


class WechatConfig(Section):
    app_id: Str = ""
    app_secret: Str = ""
    token: Str = ""
    encoding_aes_key: AesKey = ""
    api_base_url: HttpUrl = "https://api.weixin.qq.com"
    timeout: Annotated[Float, Field(gt=0)] = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.app_id)


class RobotConfig(Section):
    webhooks: dict[str, HttpUrl] = Field(default_factory=dict)  # branch code = group robot URL
    per_minute: Annotated[Int, Field(ge=1)] = 20

    @field_validator("webhooks", mode="before")
    @classmethod
    def _table(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("expected a table of branch code = URL")
        return {str(k): v for k, v in value.items()}
