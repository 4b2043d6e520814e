"""Facebook connector: Messenger conversations and the Page's comments (field "feed")."""

from connectors.base import DIRECT, PRIVATE_REPLY, PUBLIC_REPLY, Connector
from connectors.facebook import client, webhook


class FacebookConnector(Connector):
    name = "facebook"
    webhook = webhook
    client = client
    MAX_TEXT_LENGTH = 2000  # Send API text limit (fixtures README C.2)
    MAX_FILE_BYTES = 25 * 1024 * 1024  # Send API attachment limit (fixtures README C.2)
    SIGNATURE_HEADER = "X-Hub-Signature-256"
    REPLY_MODES = (DIRECT, PUBLIC_REPLY, PRIVATE_REPLY)

    def reply_refusal(self, last_inbound_at, now, mode=DIRECT):
        return client.reply_refusal(last_inbound_at, now, mode)

    def hide(self, account, external_id, hidden=True):
        client.hide_comment(account, external_id, hidden)

    def fetch_thread(self, account, thread_ref):
        return client.fetch_post(account, thread_ref)
