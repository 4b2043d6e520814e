"""WhatsApp Cloud API connector."""

from connectors.base import DIRECT, Connector
from connectors.whatsapp import client, webhook


class WhatsAppConnector(Connector):
    name = "whatsapp"
    webhook = webhook
    client = client
    MAX_TEXT_LENGTH = 4096  # text.body limit (fixtures README C.1)
    MAX_CAPTION_LENGTH = 1024
    CHOICES = True  # interactive reply buttons and lists
    SENDS_TEMPLATES = True
    CAMPAIGN_FILES = True  # a media id serves every send for 30 days
    PHONE_ADDRESSES = True

    def reply_refusal(self, last_inbound_at, now, mode=DIRECT):
        return client.reply_refusal(last_inbound_at, now)

    def list_templates(self, account):
        return client.list_templates(account)
