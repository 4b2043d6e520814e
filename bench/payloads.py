"""Signed WhatsApp Cloud API deliveries shaped like tests/data/whatsapp/text.json, one message each."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time

WABA_ID = "102345678901234"
DISPLAY_PHONE = "212522334455"
NAMES = ("Youssef El Amrani", "Fatima Zahra Bennani", "Karim Tazi", "Salma Alaoui", "Mehdi Chraibi", "Imane Idrissi")
TEXTS = (
    "Salam 👋 bghit n3ref wach la commande dyali wslat? / السلام عليكم، واش الطلبية ديالي وصلات؟",
    "Bonjour, ma facture d'octobre est trop élevée, contrat 4471 2290",
    "الضو مقطوع عندنا من الصباح فحي المعاريف",
    "Coupure d'eau depuis 8h à Hay Hassani, c'est prévu jusqu'à quand ?",
    "Merci 🙏",
    "Je voudrais changer l'adresse de facturation de mon CIL 30019876",
)


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header Meta sends: sha256=<hex HMAC-SHA256(app secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Deliveries:
    """Builds unique deliveries: a share from a pool of returning senders, the rest from new ones."""

    def __init__(self, phone_number_id: str, run_tag: str, returning: int = 500, returning_share: float = 0.6,
                 seed: int = 1):
        self.phone_number_id = phone_number_id
        self.run_tag = run_tag
        self.random = random.Random(seed)
        self.pool = [f"2126{self.random.randrange(10**8):08d}" for _ in range(returning)]
        self.returning_share = returning_share
        self.serial = 0

    def next(self) -> tuple[str, bytes]:
        """(message id, raw JSON body) of one more delivery; never the same message id twice."""
        self.serial += 1
        if self.random.random() < self.returning_share:
            sender = self.random.choice(self.pool)
        else:
            sender = f"2127{self.serial % 10**8:08d}"
        digest = hashlib.sha256(f"{self.run_tag}:{self.serial}".encode()).digest()
        message_id = "wamid." + base64.b64encode(b"\x15\x02\x00\x12\x18" + digest[:27]).decode()
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": DISPLAY_PHONE,
                                    "phone_number_id": self.phone_number_id,
                                },
                                "contacts": [{"profile": {"name": self.random.choice(NAMES)}, "wa_id": sender}],
                                "messages": [
                                    {
                                        "from": sender,
                                        "id": message_id,
                                        "timestamp": str(int(time.time())),
                                        "text": {"body": self.random.choice(TEXTS)},
                                        "type": "text",
                                    }
                                ],
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }
        # Meta's wire format: compact, non-ASCII as \u escapes.
        return message_id, json.dumps(payload, separators=(",", ":")).encode()
