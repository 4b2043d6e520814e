"""X connector: Direct Messages and mentions through the Account Activity API, sent with tweepy."""

from connectors.base import DIRECT, PUBLIC_REPLY, Connector
from connectors.twitter import client, webhook


class TwitterConnector(Connector):
    name = "twitter"
    MAX_TEXT_LENGTH = 10000  # DM text (tweepy Client.create_direct_message docs)
    MAX_PUBLIC_REPLY_LENGTH = 280
    SIGNATURE_HEADER = webhook.SIGNATURE_HEADER
    CHALLENGE_SECRET = "app_secret"  # the CRC is signed with the consumer secret (fixtures README B)
    REPLY_MODES = (DIRECT, PUBLIC_REPLY)

    def challenge(self, args, app_secrets):
        return webhook.challenge(args, app_secrets)

    def verify(self, headers, body, app_secrets):
        return webhook.verify(headers, body, app_secrets)

    def parse(self, payload):
        return webhook.parse(payload)

    def send(self, account, message):
        return client.send(account, message)

    def fetch_media(self, account, media_ref):
        return client.fetch_media(account, media_ref)

    def hide(self, account, external_id, hidden=True):
        client.hide_reply(account, external_id, hidden)
