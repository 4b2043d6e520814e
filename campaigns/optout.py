"""Opting out: a message that is only a stop word (STOP, ARRET, "توقف", "baraka"...) on any channel takes its
sender off every campaign, effective for the sends not yet made; a start word puts them back."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, select

from inbox.db import insert_ignoring_conflicts, session, utcnow
from inbox.models import OptOut, StopWord

# Shipped at first start; marketing and admins edit the list (/api/v1/stop-words).
MAX_WORDS_LENGTH = 40  # a longer message is a sentence, never a stop word
DEFAULT_WORDS = {
    "stop": "stop",
    "stop svp": "stop",
    "stop stp": "stop",
    "stop please": "stop",
    "arret": "stop",
    "arreter": "stop",
    "desabonner": "stop",
    "desinscrire": "stop",
    "unsubscribe": "stop",
    "baraka": "stop",
    "safi baraka": "stop",
    "bla msajat": "stop",
    "توقف": "stop",
    "قف": "stop",
    "الغاء": "stop",
    "بركة": "stop",
    "باركة": "stop",
    "start": "start",
    "reprendre": "start",
    "abonner": "start",
    "ابدأ": "start",
}
CONFIRMATIONS = {
    "stop": {
        "fr": "C'est noté : vous ne recevrez plus nos messages d'information. "
        "Écrivez START pour les recevoir à nouveau.",
        "ar": "تم تسجيل طلبك: لن تتوصل بعد الآن برسائلنا الإعلامية. اكتب START لاستقبالها من جديد.",
        "ary": "تسجل الطلب ديالك: مابقاتش غادي توصلك الميساجات ديالنا. كتب START باش ترجع توصلك.",
        "en": "Done: you will no longer receive our information messages. Write START to receive them again.",
    },
    "start": {
        "fr": "C'est noté : vous recevrez à nouveau nos messages d'information.",
        "ar": "تم تسجيل طلبك: ستتوصل من جديد برسائلنا الإعلامية.",
        "ary": "تسجل الطلب ديالك: غادي ترجع توصلك الميساجات ديالنا.",
        "en": "Done: you will receive our information messages again.",
    },
}


def normalise(text: str | None) -> str:
    """Lower case, accents and punctuation removed, single spaces: "Arrêt !" -> "arret"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c) or "\u0600" <= c <= "\u06ff")
    words = re.sub(r"[^\w\s]", " ", bare.lower()).split()
    return " ".join(words)


def seed_stop_words() -> int:
    """Add the default words when the list is empty (the caller commits)."""
    db = session()
    if db.scalar(select(StopWord.id).limit(1)):
        return 0
    db.add_all(StopWord(word=word, action=action) for word, action in DEFAULT_WORDS.items())
    return len(DEFAULT_WORDS)


def action_for(text: str | None) -> str | None:
    """`stop` or `start` when the whole message is one of the list's words, else None."""
    words = normalise(text)
    if not words or len(words) > MAX_WORDS_LENGTH:
        return None
    return session().scalar(select(StopWord.action).where(StopWord.word == words))


def apply(platform: str, address: str, contact_id: int | None, action: str, word: str) -> bool:
    """Opt the address out (or back in); True when that changed something."""
    db = session()
    if action == "start":
        return db.execute(delete(OptOut).where(OptOut.platform == platform, OptOut.address == address)).rowcount > 0
    statement = insert_ignoring_conflicts(OptOut, ("platform", "address"), returning=OptOut.id)
    values = {
        "platform": platform,
        "address": address,
        "contact_id": contact_id,
        "word": word[:100],
        "created_at": utcnow(),
    }
    return db.scalar(statement, values) is not None


def is_opted_out(platform: str, address: str) -> bool:
    """Whether the address is on the suppression list."""
    return bool(session().scalar(select(OptOut.id).where(OptOut.platform == platform, OptOut.address == address)))
