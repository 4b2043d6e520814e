"""WhatsApp Cloud API connector."""

from connectors.base import Connector
from connectors.whatsapp import client, webhook


class WhatsAppConnector(Connector):
    name = "whatsapp"
    MAX_TEXT_LENGTH = 4096  # text.body limit (fixtures README C.1)
    MAX_CAPTION_LENGTH = 1024

    def challenge(self, args, verify_tokens):
        return webhook.challenge(args, verify_tokens)

    def verify(self, headers, body, app_secrets):
        return webhook.verify(headers, body, app_secrets)

    def parse(self, payload):
        return webhook.parse(payload)

    def send(self, account, message):
        return client.send(account, message)

    def fetch_media(self, account, media_ref):
        return client.fetch_media(account, media_ref)
