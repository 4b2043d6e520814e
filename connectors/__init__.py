"""Platform connectors: the only code that knows the platforms' field names."""

from connectors.base import Connector
from connectors.facebook import FacebookConnector
from connectors.twitter import TwitterConnector
from connectors.whatsapp import WhatsAppConnector

REGISTRY: dict[str, Connector] = {
    connector.name: connector for connector in (WhatsAppConnector(), FacebookConnector(), TwitterConnector())
}


def get_connector(platform: str) -> Connector | None:
    """The connector of a platform name, or None."""
    return REGISTRY.get(platform)
