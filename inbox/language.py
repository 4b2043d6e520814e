"""The language of a customer's short message: French, English, standard Arabic, or Moroccan Darija written in
Arabic script or in Latin letters with digits ("Arabizi": 3afak, bghit, wach).

Short texts defeat statistical detectors trained on long prose, and none knows Arabizi; this one reads the
script first, then weighs words typical of each language (function words and the utility's vocabulary),
and for Latin text the digits used as Arabic letters inside words. Measured on a labelled set in
tests/data/language/ (README "Languages").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FRENCH, ENGLISH, ARABIC, DARIJA = "fr", "en", "ar", "ary"  # ISO 639 codes; ary is Moroccan Arabic
LANGUAGES = (FRENCH, ENGLISH, ARABIC, DARIJA)
CLEAR = 0.6  # a detection at least this sure sets a conversation's language
MIN_WORDS_TO_CHANGE = 3  # ... and changes it only from a message this long

_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTER = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WORD = re.compile(r"[\w']+", re.UNICODE)
# Arabizi: a digit standing for an Arabic sound inside a word (3afak, 7na, m9at3a, sa2el), not an amount.
_ARABIZI_DIGIT = re.compile(r"(?:[a-z][2356789]|[2356789][a-z])", re.IGNORECASE)

DARIJA_ARABIC_WORDS = set(
    """
    بغيت بغينا بغا بغات واش ديال ديالي ديالك ديالنا ديالو ديالها شحال كاين كاينة ماكاينش ماكاين مكاينش دابا
    عافاك عفاك علاش فين فاين كيفاش مزيان بزاف شي شوية راه راني راك غادي غادية غانخلص هادشي هاد هادي هادو
    الضو ضو الما ماشي والو ولا مازال مزال خاصني خصني خاص كنخلص خلصت خلصنا جات جا مشا مشات تقطع تقطعات
    مقطوع مقطوعة كيجي كتجي كنسول عندي عندنا عندكم ليا ليك ليكم حتى حيت لحقاش باش واخا صافي شكون فوقاش
    إمتى امتى يمكن نقدر تقدر تقدرو كيقطع كتقطع الكونتور لكونتور لفاتورة الفاتورا فاتورة البلان دغيا زربة
    نعرف بلا خويا ختي يخليك يحفظك بصح كولشي كلشي غير حنا نتوما
    هوما هادا هادشي ديما عاود عاودو صيفطت صيفط صيفطو نصيفط خدمة الخدمة كيخدم ماخدامش خدام مخدامش
    لكريدي القنت قنت صافي زعما يعني مكتوب سير سيرو جيب جيبو كنتسنى كنتسناو تسنيت نتسنى فالدار فالحومة
    الحومة الدرب دارنا الدار شهر الشهر هاد الشهر دالشهر ديال الشهر بلاصة البلاصة
    """.split()
)
ARABIC_STANDARD_WORDS = set(
    """
    أريد أرغب أود نرجو أرجو يرجى هل لماذا متى كيف أين الذي التي الذين هذا هذه ذلك تلك لقد قد سوف لن لم ليس
    ليست إن أن إلى على عن في من منذ حول بخصوص بشأن نظرا حيث لدي لدينا لديكم لكم منكم شكرا جزيلا تحية طيبة
    السيد السيدة المحترم المحترمين تفضلوا بقبول فائق الاحترام التقدير الرجاء المرجو عاجل العاجل إصلاح العطب
    انقطاع الماء الكهرباء التيار فاتورة الفاتورة مبلغ المبلغ أداء الأداء تسديد عداد العداد قراءة استهلاك
    الاستهلاك مرتفع مرتفعة جدا الشكاية شكاية شكوى طلب الطلب رقم الزبون العقد المنزل منزلي الحي اليوم منذ أمس
    ساعات ساعة أيام يوم كل لا نعم كذلك أيضا ولكن لكن غير مقبول الخدمة خدمة الزبناء الوكالة مواعيد العمل
    أوقات متى تفتح يمكنني هل يمكن أستطيع نستطيع إرسال أرسلت تم قمت وصلت وصل تسجيل التسجيل الإلكترونية
    """.split()
)
FRENCH_WORDS = set(
    """
    le la les un une des du de au aux et est sont je j' tu il elle nous vous ils elles mon ma mes ton ta votre
    vos notre nos ce cet cette ces qui que quoi quand comment pourquoi où ou mais pas ne plus rien jamais avec
    sans pour par sur dans chez depuis avant après très trop bien merci bonjour bonsoir salut svp stp
    s'il plait plaît facture factures compteur coupure eau électricité electricite courant payer paiement
    payé paye montant cher chère chere élevée elevee agence rendez-vous rdv demande réclamation reclamation
    numéro numero contrat client abonnement branchement fuite relevé releve index mois semaine aujourd'hui
    hier demain ai as avons avez ont suis es sommes êtes été etais était fait faire peut peux pouvez voudrais
    veux besoin aide toujours encore déjà deja reçu recu envoyé envoye quartier maison appartement coupé coupe
    panne retour réponse reponse attente dossier madame monsieur cordialement n'ai n'est c'est j'ai qu'il
    d'eau l'eau l'électricité moi mais oui non ok d'accord voilà voila combien alors donc car parce
    """.split()
)
ENGLISH_WORDS = set(
    """
    the a an is are was were be been am i i'm my me you your we our they their he she it its this that these
    those what when where why how who which and or but not no yes with without for from to of in on at by
    about please pls thanks thank hello hi hey dear bill bills billing meter reading water electricity power
    outage cut pay paid payment amount high expensive office branch request complaint number account contract
    customer connection leak month week today yesterday tomorrow have has had do does did can could would
    should will need help still again already received sent house flat apartment area neighborhood reply
    answer waiting any news update sorry there here since so too very much many just only also get got
    """.split()
)
# Darija in Latin letters: the words people type in Arabizi (several spellings each).
DARIJA_LATIN_WORDS = set(
    """
    wa3alaykom bghit bghina bgha bghat wach wash ach ash chno chnou chnu achno dyal dial diyal
    dyali diali dyalk dialek dyalna dialna dyalo dialo chhal ch7al shhal kayn kayna kain makaynch makaynch
    makaynach makayn daba dba 3afak afak 3lach 3lash lach fin kifach kifash mzyan mzyana mezyan bzaf bezaf
    chi chwiya chwia rah raha rani rak ghadi ghadiya gha ghan had hadi hada hadchi hadshi hado lma lmae dou
    dow ddou ddaw machi walo wla ola mazal mzal khassni khasni khsni khas kan kant kanu kankhles khlsst khlest
    khallast jat ja mcha mchat t9at3 tqat3 m9tou3 m9at3a maqtou3 kayji katji 3andi 3ndi 3andna 3andkom liya
    lik likom 7ta 7it l7a9ach bach wakha waxa safi chkoun fo9ach imta emta imkn n9der n9dar t9der t9dro
    lfatura lfatoura fatoura fatura lfactura lkontor lcompteur l3adad dghya zerba n3ref bla khoya khouya
    khti akhi allah ykhlik llah y7fdk baraka chokran choukran shukran bsa7 kolchi kulchi ghir 7na ntoma homa
    dima 3awd 3awdo sifet sift sifto nsifet khdma lkhedma kaykhdem makhdamch khdam lkridi lqant lyom lyoum
    lbare7 ghda ghedda ddar lhouma derb chhar ch7ar lchhar blasa lblasa afak iyeh iyah
    lah ychafi lah yrham mashi machi hna tma temma kifkom labas bikhir hamdullah l7amdulah nta nti ana howa
    hiya 3lik 3likom m3a m3ak mn men f fl fel dak dik dok
    """.split()
)


@dataclass(frozen=True)
class Detection:
    """A message's language (fr, en, ar, ary), the script it is written in (Arab, Latn), and how sure."""

    language: str | None
    script: str | None
    confidence: float


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # Arabic tatweel and short vowels vary from writer to writer and carry no language signal.
    return re.sub(r"[\u0640\u064b-\u065f\u0670]", "", text).lower()


def _words(text: str) -> list[str]:
    words = []
    for raw in _WORD.findall(text):
        word = raw.strip("'_")
        if not word or word.isdigit():
            continue
        words.append(word)
        if "'" in word:  # j'ai, l'eau, c'est: the elided article counts as French
            head, _, rest = word.partition("'")
            words.extend([f"{head}'", rest])
    return words


def _arabic_prefixes_stripped(word: str) -> list[str]:
    """A word and its forms without the article and one-letter clitics (و ف ب ل ك), as lexicons list them."""
    forms = [word]
    for prefix in ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل"):
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            forms.append(word[len(prefix) :])
    return forms


def _darija_verb(word: str) -> bool:
    """Darija verbs take a ka-/ta- present prefix (كنخلص، كيقطع، تيجي) and a -ch negation (ماخدامش)."""
    present = len(word) >= 4 and word[:2] in ("كن", "كي", "كت", "تن", "تي")
    negated = len(word) >= 4 and word.startswith("ما") and word.endswith("ش")
    return present or negated


def _arabic_language(words: list[str]) -> tuple[str, float]:
    darija = standard = 0.0
    for word in words:
        forms = _arabic_prefixes_stripped(word)
        if any(form in DARIJA_ARABIC_WORDS for form in forms):
            darija += 1
        if any(form in ARABIC_STANDARD_WORDS for form in forms):
            standard += 0.8  # standard words (في، من، على) appear in Darija too: they weigh less
        elif _darija_verb(word):
            darija += 0.7
    total = darija + standard
    if darija > standard:
        return DARIJA, darija / total
    return ARABIC, (standard / total) if total else 0.5


def _latin_language(text: str, words: list[str]) -> tuple[str, float]:
    scores = {FRENCH: 0.0, ENGLISH: 0.0, DARIJA: 0.0}
    for word in words:
        scores[FRENCH] += word in FRENCH_WORDS
        scores[ENGLISH] += word in ENGLISH_WORDS
        scores[DARIJA] += 1.2 * (word in DARIJA_LATIN_WORDS)
        if _ARABIZI_DIGIT.search(word):
            scores[DARIJA] += 1.5
    # French accents are a strong sign (é è ê à ç ù); English has none.
    scores[FRENCH] += 1.5 * len(re.findall(r"[éèêàçùâîôûë]", text))
    best = max(scores, key=lambda lang: (scores[lang], lang == FRENCH))  # ties go to French, the default
    total = sum(scores.values())
    return best, (scores[best] / total) if total else 0.34


def detect(text: str | None) -> Detection:
    """The language of a short message; language None when the text has no letters (a number, an emoji)."""
    if not text:
        return Detection(None, None, 0.0)
    normal = _normalise(text)
    arabic = len(_ARABIC_LETTER.findall(normal))
    latin = len(_LATIN_LETTER.findall(normal))
    if not arabic and not latin:
        return Detection(None, None, 0.0)
    words = _words(normal)
    if arabic >= latin:
        arabic_words = [w for w in words if _ARABIC_LETTER.search(w)]
        language, confidence = _arabic_language(arabic_words)
        return Detection(language, "Arab", round(confidence, 2))
    language, confidence = _latin_language(normal, [w for w in words if _LATIN_LETTER.search(w)])
    return Detection(language, "Latn", round(confidence, 2))
