"""The floor for bench/callback.py: a Flask app that only verifies, decrypts with wechatpy and answers an
encrypted text reply (no database, no Redis, no routing). Run under gunicorn with the project's settings:

    gunicorn --workers 2 --threads 4 bench.bare_app:app
"""

from __future__ import annotations

import time

from flask import Flask, Response, request
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from tests.callbacks import AES_KEY, CORP_ID, TOKEN

app = Flask(__name__)
crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)


@app.post("/wecom/callback")
def callback() -> Response:
    a = request.args
    msg = parse_message(crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"], a["nonce"]))
    xml = TextReply(source=msg.target, target=msg.source, content="收到", time=int(time.time())).render()
    return Response(crypto.encrypt_message(xml, a["nonce"], str(int(time.time()))), mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
