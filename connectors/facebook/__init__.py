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
    # Under the 40 messages/s at which a Page's new messages stop showing (fixtures README D; the Send API
    # itself takes 300 calls/s), leaving room for the agents' replies.
    CAMPAIGN_RATE = 30.0
    CAMPAIGN_TAGS = client.CAMPAIGN_TAGS
    CAMPAIGN_WINDOW = True
    IDENTITY = "Messenger"  # a PSID of the Page

    def campaign_refusal(self, last_inbound_at, now, tag):
        return client.campaign_refusal(last_inbound_at, now, tag)

    def reply_refusal(self, last_inbound_at, now, mode=DIRECT):
        return client.reply_refusal(last_inbound_at, now, mode)

    def hide(self, account, external_id, hidden=True):
        client.hide_comment(account, external_id, hidden)

    def fetch_thread(self, account, thread_ref):
        return client.fetch_post(account, thread_ref)
