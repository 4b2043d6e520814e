"""What self-service says, in the four languages of the contract: French, classical Arabic, Darija, English.

Button titles stay within WhatsApp's 20 characters and list rows within 24 (connectors/whatsapp/client.py)."""

from __future__ import annotations

MENU_ORDER = ("information", "claim", "meter", "agent")

WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ar": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
    "ary": ("التنين", "التلات", "لاربع", "الخميس", "الجمعة", "السبت", "الحد"),
}

TEXTS = {
    "closed": {
        "fr": "Bonjour, nos conseillers sont absents pour le moment. Ils seront de retour {when}. "
        "Votre message est bien reçu et sera traité dès leur retour.",
        "ar": "مرحبا، مستشارونا غير متواجدين حاليا. سيعودون {when}. لقد توصلنا برسالتك وستتم معالجتها فور عودتهم.",
        "ary": "السلام، المستشارين ديالنا ماكاينينش دابا. غادي يرجعو {when}. "
        "الميساج ديالك وصلنا وغادي يتجاوبو عليه ملي يرجعو.",
        "en": "Hello, our agents are away right now. They will be back {when}. "
        "Your message has been received and will be answered as soon as they are back.",
    },
    "when_today": {
        "fr": "aujourd'hui à {time}",
        "ar": "اليوم على الساعة {time}",
        "ary": "اليوم مع {time}",
        "en": "today at {time}",
    },
    "when_tomorrow": {
        "fr": "demain à {time}",
        "ar": "غدا على الساعة {time}",
        "ary": "غدا مع {time}",
        "en": "tomorrow at {time}",
    },
    "when_day": {
        "fr": "{day} {date} à {time}",
        "ar": "يوم {day} {date} على الساعة {time}",
        "ary": "نهار {day} {date} مع {time}",
        "en": "on {day} {date} at {time}",
    },
    "menu": {
        "fr": "Bienvenue au service client. Que souhaitez-vous faire ? Un conseiller peut aussi vous répondre "
        "à tout moment.",
        "ar": "مرحبا بكم في خدمة الزبناء. ماذا تريد أن تفعل؟ يمكن لأحد مستشارينا أيضا الرد عليك في أي وقت.",
        "ary": "مرحبا بيك فخدمة الزبناء. شنو بغيتي دير؟ المستشار يقدر حتى هو يجاوبك فأي وقت.",
        "en": "Welcome to customer service. What would you like to do? An agent can also answer you at any time.",
    },
    "menu_button": {"fr": "Choisir", "ar": "اختر", "ary": "ختار", "en": "Choose"},
    "option_menu_information": {"fr": "Information", "ar": "معلومات", "ary": "معلومات", "en": "Information"},
    "describe_menu_information": {
        "fr": "Une question sur nos services",
        "ar": "سؤال حول خدماتنا",
        "ary": "سؤال على الخدمات ديالنا",
        "en": "A question about our services",
    },
    "option_menu_claim": {"fr": "Réclamation", "ar": "شكاية", "ary": "شكاية", "en": "Claim"},
    "describe_menu_claim": {
        "fr": "Signaler un problème",
        "ar": "الإبلاغ عن مشكل",
        "ary": "نبلغ على شي مشكل",
        "en": "Report a problem",
    },
    "option_menu_meter": {
        "fr": "Relevé de compteur",
        "ar": "قراءة العداد",
        "ary": "قراية الكونتور",
        "en": "Meter reading",
    },
    "describe_menu_meter": {
        "fr": "Envoyer votre index",
        "ar": "إرسال مؤشر العداد",
        "ary": "نصيفط الرقم ديال الكونتور",
        "en": "Send your meter index",
    },
    "option_menu_agent": {
        "fr": "Parler à un conseiller",
        "ar": "التحدث إلى مستشار",
        "ary": "نهضر مع مستشار",
        "en": "Talk to an agent",
    },
    "chose_information": {
        "fr": "Très bien : écrivez votre question, un conseiller vous répond dès que possible.",
        "ar": "حسنا: اكتب سؤالك وسيجيبك أحد مستشارينا في أقرب وقت.",
        "ary": "مزيان: كتب السؤال ديالك والمستشار غادي يجاوبك فأقرب وقت.",
        "en": "Fine: write your question and an agent will answer you as soon as possible.",
    },
    "chose_claim": {
        "fr": "Très bien : décrivez le problème (adresse, depuis quand, une photo si utile). Un conseiller prend "
        "votre réclamation en charge dès que possible.",
        "ar": "حسنا: صف المشكل (العنوان، منذ متى، صورة إن أمكن). سيتكفل أحد مستشارينا بشكايتك في أقرب وقت.",
        "ary": "مزيان: شرح لينا المشكل (العنوان، من امتى، تصويرة يلا قدرتي). "
        "المستشار غادي يتكلف بالشكاية ديالك فأقرب وقت.",
        "en": "Fine: describe the problem (address, since when, a photo if useful). An agent will take up your "
        "claim as soon as possible.",
    },
    "chose_agent": {
        "fr": "Un conseiller va vous répondre dès que possible. Merci de patienter.",
        "ar": "سيجيبك أحد مستشارينا في أقرب وقت. شكرا على صبرك.",
        "ary": "المستشار غادي يجاوبك فأقرب وقت. شكرا على الصبر ديالك.",
        "en": "An agent will answer you as soon as possible. Thank you for waiting.",
    },
    "ask_contract": {
        "fr": "Quel est votre numéro de contrat ? Il figure sur votre facture.",
        "ar": "ما هو رقم عقدك؟ تجده في فاتورتك.",
        "ary": "شنو هو الرقم ديال العقد ديالك؟ كاين فالفاتورة.",
        "en": "What is your contract number? It is on your bill.",
    },
    "bad_contract": {
        "fr": "Nous ne trouvons pas ce contrat. Vérifiez le numéro sur votre facture et écrivez-le à nouveau.",
        "ar": "لم نعثر على هذا العقد. تحقق من الرقم في فاتورتك واكتبه من جديد.",
        "ary": "مالقيناش هاد العقد. شوف الرقم فالفاتورة وكتبو عاوتاني.",
        "en": "We cannot find this contract. Check the number on your bill and write it again.",
    },
    "ask_meter": {
        "fr": "Quel compteur voulez-vous relever ?",
        "ar": "أي عداد تريد قراءته؟",
        "ary": "أشمن كونتور بغيتي تقرا؟",
        "en": "Which meter are you reading?",
    },
    "ask_meter_known": {
        "fr": "Relevé pour le contrat {contract}. Quel compteur voulez-vous relever ?",
        "ar": "قراءة للعقد {contract}. أي عداد تريد قراءته؟",
        "ary": "القراية ديال العقد {contract}. أشمن كونتور بغيتي تقرا؟",
        "en": "Reading for contract {contract}. Which meter are you reading?",
    },
    "option_meter_water": {"fr": "Eau", "ar": "الماء", "ary": "الما", "en": "Water"},
    "option_meter_electricity": {"fr": "Électricité", "ar": "الكهرباء", "ary": "الضو", "en": "Electricity"},
    "meter_water": {"fr": "eau", "ar": "الماء", "ary": "الما", "en": "water"},
    "meter_electricity": {"fr": "électricité", "ar": "الكهرباء", "ary": "الضو", "en": "electricity"},
    "ask_index": {
        "fr": "Écrivez l'index affiché sur le compteur, en chiffres uniquement (sans les chiffres après la virgule).",
        "ar": "اكتب المؤشر الظاهر على العداد، بالأرقام فقط (بدون الأرقام بعد الفاصلة).",
        "ary": "كتب الرقم اللي باين فالكونتور، غير بالأرقام (بلا داكشي اللي من بعد الفاصلة).",
        "en": "Write the index shown on the meter, in digits only (without the digits after the decimal point).",
    },
    "bad_index": {
        "fr": "L'index s'écrit en chiffres uniquement, par exemple 004512. Écrivez-le à nouveau.",
        "ar": "يكتب المؤشر بالأرقام فقط، مثلا 004512. اكتبه من جديد.",
        "ary": "الرقم كيتكتب غير بالأرقام، بحال 004512. كتبو عاوتاني.",
        "en": "The index is written in digits only, for example 004512. Write it again.",
    },
    "index_below": {
        "fr": "Cet index est inférieur au dernier relevé connu ({last}). Vérifiez le compteur et écrivez l'index "
        "à nouveau.",
        "ar": "هذا المؤشر أقل من آخر قراءة معروفة ({last}). تحقق من العداد واكتب المؤشر من جديد.",
        "ary": "هاد الرقم صغر من آخر قراية عندنا ({last}). شوف الكونتور وكتب الرقم عاوتاني.",
        "en": "This index is below the last known reading ({last}). Check the meter and write the index again.",
    },
    "index_unusual": {
        "fr": "L'index {index} indique une consommation inhabituelle depuis le dernier relevé ({last}). "
        "Le confirmez-vous ?",
        "ar": "المؤشر {index} يدل على استهلاك غير معتاد منذ آخر قراءة ({last}). هل تؤكده؟",
        "ary": "الرقم {index} كيبين استهلاك ماشي عادي من آخر قراية ({last}). واش متأكد؟",
        "en": "The index {index} means an unusual consumption since the last reading ({last}). Do you confirm it?",
    },
    "option_index_confirm": {"fr": "Confirmer", "ar": "تأكيد", "ary": "أكد", "en": "Confirm"},
    "option_index_correct": {"fr": "Corriger", "ar": "تصحيح", "ary": "صحح", "en": "Correct it"},
    "ask_photo": {
        "fr": "Vous pouvez envoyer une photo du compteur, ou passer cette étape.",
        "ar": "يمكنك إرسال صورة للعداد، أو تخطي هذه الخطوة.",
        "ary": "تقدر تصيفط تصويرة ديال الكونتور، ولا تفوت هاد المرحلة.",
        "en": "You may send a photo of the meter, or skip this step.",
    },
    "option_photo_skip": {"fr": "Passer", "ar": "تخطي", "ary": "فوت", "en": "Skip"},
    "receipt": {
        "fr": "Merci ! Votre relevé {index} ({meter}) du contrat {contract} est enregistré sous le numéro {receipt}.",
        "ar": "شكرا! تم تسجيل قراءتك {index} ({meter}) للعقد {contract} تحت الرقم {receipt}.",
        "ary": "شكرا! القراية ديالك {index} ({meter}) ديال العقد {contract} تسجلات بالرقم {receipt}.",
        "en": "Thank you! Your reading {index} ({meter}) for contract {contract} is recorded as number {receipt}.",
    },
    "handed_over": {
        "fr": "Un conseiller va reprendre votre demande dès que possible.",
        "ar": "سيتابع أحد مستشارينا طلبك في أقرب وقت.",
        "ary": "المستشار غادي يكمل معاك الطلب ديالك فأقرب وقت.",
        "en": "An agent will take up your request as soon as possible.",
    },
}
