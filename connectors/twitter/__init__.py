"""X connector: Direct Messages and mentions through the Account Activity API, sent with tweepy."""

from connectors.base import DIRECT, PUBLIC_REPLY, Connector
from connectors.twitter import client, webhook


class TwitterConnector(Connector):
    name = "twitter"
    webhook = webhook
    client = client
    MAX_TEXT_LENGTH = 10000  # DM text (tweepy Client.create_direct_message docs)
    MAX_PUBLIC_REPLY_LENGTH = 280
    SIGNATURE_HEADER = webhook.SIGNATURE_HEADER
    CHALLENGE_SECRET = "app_secret"  # the CRC is signed with the consumer secret (fixtures README B)
    REPLY_MODES = (DIRECT, PUBLIC_REPLY)
    # X DM limits (fixtures README D): 200 sends per 15 minutes per user and 15,000 per 24 hours per app.
    # Campaigns take three quarters of each by default (one DM every 6 s, 12,000 a day), leaving the rest to
    # the agents' replies; both are per-account settings (`flask campaign-limits`).
    CAMPAIGN_RATE = 1 / 6
    CAMPAIGN_DAILY_CAP = 12_000
    IDENTITY = "X"  # an X user id that wrote to the account

    def hide(self, account, external_id, hidden=True):
        client.hide_reply(account, external_id, hidden)
