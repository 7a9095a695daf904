"""diagnose never asks for, nor stores, a password or a one-time code.

Support never needs them (FAQ: support verifies ownership itself), and a ticket draft
or a saved session is a file that may be mailed around. Anything that looks like one
is refused with a sentence saying why, before it reaches memory that is written out.

What counts as a secret, after normalising the text (NFKC, casefold, zero-width
characters removed, typographic apostrophes and dashes unified):

* a password or code keyword followed, within a few characters ("is", ":", "=", a dash,
  "это", a space), by a token that looks like a value. Keywords are matched loosely
  ("p@ssw0rd", Latin letters mixed into "пароль") and in their Russian case forms
  (пароль/пароля/паролем, код/кода/кодом); a few qualifiers may stand between the
  keyword and the value ("code from SMS 4821", "password for root: x", "код
  подтверждения: 123456");
* for a code keyword (code, код, PIN, OTP, TOTP, 2FA, one-time) the value must be 4 to
  8 digits, possibly grouped ("123 456", "55 12 90", "123-456"), so "error code 500"
  and "the code 404 page" pass; "error", "status", "zip", "promo" and the like before
  "code" say it is no secret;
* for a password keyword the value is any token but a common word ("reset", "never",
  "не", "expired"); after a bare space (no ":", "=", "is" or dash) it must look like a
  password (hold a digit or a symbol) unless "my"/"мой" comes before the keyword, so
  "password manager" and "пароль неверный" pass while "мой пароль qwerty123" does not.
  A masked value ("password: ****") is no secret;
* a one-time code typed on its own: the whole answer is 4 to 8 digits, or 3 + 3 digits
  grouped by a space or a hyphen. A number inside a sentence without a code keyword
  ("order 12345678 invoice", "port 5432", "ticket 123456789012") is not refused: an
  invoice or order number is what support asks for, and refusing every 4-8 digit
  number in prose would refuse them all. The same 8 digits typed alone are refused.

No well-kept library does this job: detect-secrets (the best known) looks for API keys
and ``password = "..."`` assignments in source code, and finds neither prose ("my
password is hunter2") nor Russian nor one-time codes, so this module uses patterns.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final, Literal

from diagnose.exceptions import SecretRefused
from diagnose.i18n import _

Kind = Literal["password", "code"]


def _words(text: str) -> list[str]:
    """The words of a list written as text."""
    return text.split()


# --- normalisation -----------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff",
    ),
    None,
)
_UNIFY: dict[int, str] = {
    **{ord(c): "'" for c in "\u2018\u2019\u02bc\u0060\u00b4"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2212"},
    **{ord(c): "\u2014" for c in "\u2013\u2015"},
    ord("ё"): "е",
}


def normalise(text: str) -> str:
    """The form that is matched: NFKC, casefolded, without zero-width characters, with one
    apostrophe, one hyphen and one dash, and ё read as е."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return text.casefold().translate(_UNIFY)


# --- keywords ----------------------------------------------------------------------------

# Characters typed in place of a keyword's letters: leet forms and Latin/Cyrillic twins.
_LOOKALIKE = {
    "a": "a@4а",
    "e": "e3е",
    "o": "o0о",
    "s": "s$5",
    "i": "i1!",
    "c": "cс",
    "p": "pр",
    "k": "kк",
    "y": "yу",
    "а": "аa@",
    "е": "еe",
    "о": "оo0",
    "р": "рp",
    "с": "сc",
    "к": "кk",
    "у": "уy",
}


def _loose(words: list[str]) -> str:
    """An alternation of ``words``, longest first, each letter matching its look-alikes
    and each space matching a space, a hyphen or nothing (a hyphen: itself or nothing)."""
    parts = []
    for word in sorted(words, key=len, reverse=True):
        pattern = ""
        for ch in word:
            if ch == " ":
                pattern += r"[-\s]?"
            elif ch == "-":
                pattern += "-?"
            elif ch in _LOOKALIKE:
                pattern += "[" + re.escape(_LOOKALIKE[ch]) + "]"
            else:
                pattern += re.escape(ch)
        parts.append(pattern)
    return "|".join(parts)


_RU_PASSWORD = ["пароль", "пароля", "паролю", "паролем", "пароле", "пароли", "паролей"]
_RU_PASSWORD += ["паролям", "паролями", "паролях", "пассворд", "пасворд"]
_PASSWORD_WORDS = ["password", "passwords", "passwd", "passwrd", "passphrase", "passcode"]
_PASSWORD_WORDS += ["parol", *_RU_PASSWORD]
# Short forms that are words or commands too ("boarding pass", "pwd"): only before ":",
# "=", a dash or "is".
_WEAK_PASSWORD_WORDS = ["pass", "pw", "pwd", "пасс"]
_CODE_WORDS = ["code", "codes", "kod", "код", "кода", "коду", "кодом", "коде", "коды", "кодов"]
_CODE_WORDS += ["otp", "totp", "hotp", "mfa", "2fa", "one-time", "pin", "pincode"]
_CODE_WORDS += ["пин", "пинкод"]

# Not preceded or followed by a letter or a digit (an underscore counts as a break:
# "db_password=...").
_START = r"(?<![^\W_])"
_END = r"(?![^\W_])"


@functools.cache
def _keyword_re() -> re.Pattern[str]:
    # Compiled on first use, not at import: the look-alike alternations take about 20 ms
    # to compile, and most runs never screen a text (README.md, "Performance").
    return re.compile(
        rf"{_START}(?:(?P<password>{_loose(_PASSWORD_WORDS)})"
        rf"|(?P<weak>{_loose(_WEAK_PASSWORD_WORDS)})"
        rf"|(?P<code>{_loose(_CODE_WORDS)})){_END}"
    )


# The same look-alikes, each group folded to one letter, character for character (so
# a folded text has the original's length): a cheap test that a text may hold a keyword
# at all, before the costly patterns are compiled or run. Every text a look-alike
# pattern matches, folded, holds one of the folded stems below.
_FOLD: dict[int, str] = {}
for _key, _members in _LOOKALIKE.items():
    _latin = _key if _key.isascii() else next(c for c in _members if c.isascii() and c.isalpha())
    _FOLD.update((ord(c), _latin) for c in _members)
_STEMS = tuple(
    stem.translate(_FOLD)
    for stem in _words("pass pw parol парол пас code kod код otp mfa 2fa time pin пин")
)


class _Lazy:
    """A regular expression compiled on first use: the screen's patterns are built at
    import but compiled only when a text is screened (a consultation that types nothing
    never pays for them; about 5 ms of start-up)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(*self._args)

    def search(self, text: str, *args: int) -> re.Match[str] | None:
        return self.compiled.search(text, *args)

    def match(self, text: str, *args: int) -> re.Match[str] | None:
        return self.compiled.match(text, *args)


def _may_name_secret(text: str) -> bool:
    """Whether the normalised ``text`` may hold a password or code keyword (no false
    negatives: a False means none of the keyword patterns can match)."""
    folded = text.translate(_FOLD)
    return any(stem in folded for stem in _STEMS)


#: Names of fields that would hold a secret; the knowledge-base loader rejects them too.
SECRET_NAME: Final = _Lazy(
    r"(?<![^\W\d_])(?:pass(?:words?|wd|phrase|code)?|pwd|pw|h?otp|totp|mfa|2fa"
    r"|one[-_ ]?time(?:[-_ ]?(?:code|password|pin))?|pin(?:[-_ ]?code)?"
    r"|(?:sms|verification|confirmation|auth|security|login|access)[-_ ]?code"
    r"|парол[а-я]*|пин[-_ ]?код)(?![^\W\d_])",
    re.I,
)

# --- what follows a keyword -----------------------------------------------------------

# ":" and "=" are form-like; "is", a dash, "это" and a bare space are prose.
_FORM_SEP = r"\s*[:=]\s*"
_PROSE_SEP = r"\s*\u2014\s*|\s+-\s*|\s+(?:is|was|это|будет)" + _END + r"\s*(?:[:=\u2014-]\s*)?"
_STRONG_SEP = rf"(?P<form>{_FORM_SEP})|(?P<prose>{_PROSE_SEP})"

# Between a code keyword and its value: where the code came from or what it is for.
_CODE_QUALIFIER = (
    r"\s+(?:(?:from|in|via|by|из|в|во|по|от|через)\s+(?:(?:the|your|my|an?)\s+)?[^\W\d_][\w-]*"
    r"|подтверждения|авторизации|аутентификации|доступа|верификации|безопасности|проверки"
    r"|для\s+входа|(?:that\s+|which\s+)?(?:i|we)\s+(?:got|received|get|have)|received"
    r"|sent\s+to\s+(?:me|my\s+phone)|(?:который|что)\s+(?:пришел|пришла|пришло|прислали)"
    r"|sms|смс)" + _END
)
_CODE_VALUE = _Lazy(rf"(?:{_CODE_QUALIFIER}){{0,2}}(?:{_STRONG_SEP}|\s+)(?P<value>\d+(?:[ -]\d+)*)")

# Between a password keyword and a ":", "=", dash or "is": what the password is for.
_PASSWORD_QUALIFIER = r"\s+(?:for|to|from|of|on|at|для|от|к|на)(?:\s+[^\s:=\u2014]+){1,3}?"
_PASSWORD_VALUE = _Lazy(rf"(?:{_PASSWORD_QUALIFIER})?(?:{_STRONG_SEP})(?P<value>\S+)")
_PASSWORD_VALUE_SPACE = _Lazy(r"\s+(?P<value>\S+)")

# Words before "code" that make it no secret: "error code 500", "zip code 10001".
_NOT_SECRET_CODES = frozenset(
    _words("""error status exit http https response return source zip postal post area country
    region promo promotional discount coupon gift invite invitation referral project
    product order ticket colour color qr bar dial dialing tax bank swift html python
    почтовый промо телефонный исходный программный""")
)
# Words after "код" that make it no secret: "код ошибки", "код страны".
_NOT_SECRET_CODES_AFTER = frozenset(
    _words("""ошибки ошибка ответа страны региона города заказа товара продукта проекта скидки
    купона приглашения статуса возврата программы""")
)
_POSSESSIVES = frozenset(_words("my our мой моя мое мои наш наша"))

# Words that follow "password" in prose and are no password.
_COMMON_WORDS = frozenset(
    _words("""a an the and or but not no never none nothing nope is was were be been being are am
    has have had does do did doesn't don't didn't isn't wasn't aren't weren't won't can't
    cannot couldn't wouldn't shouldn't hasn't haven't dont doesnt didnt isnt wasnt wont
    cant will would should could can may might must to too for from of on in at by with
    without into onto as if so that this these those it its it's i i'm me my mine you
    your yours you're we our us they their them he she his her someone somebody anyone
    anybody everyone every each all any some also only just now then here there when
    where which who what why how again already still yet even ever very really definitely
    probably maybe perhaps always sometimes usually correct incorrect wrong right invalid
    valid expired expires expiring outdated old new current previous same different reset
    resets resetting recovery recover recovered change changed changes changing update
    updated manager policy policies requirement requirements rules rule hint field form
    page screen window button prompt dialog link links email e-mail mail letter message
    sms text request reminder protected protection required needed necessary accepted
    rejected denied refused blocked locked unlocked disabled enabled lost forgotten
    forgot stolen compromised leaked hacked set saved stored known unknown empty blank
    missing ok okay fine good bad weak strong long short simple complex secure insecure
    safe unsafe works work working worked fail fails failed failing error problem issue
    length strength complexity rotation authentication auth login log sign signin sign-in
    entry input prompted asked requested sent received arrived arrives please help see
    attached below above later yesterday today twice once case-sensitive sensitive like
    such because since after before while until about over under more less least most
    redacted hidden removed censored omitted masked withheld sharing shared n/a na tbd
    не ни нет и или а но да же ли бы от для к ко на в во с со из по при про о об у за до
    после без через был была было были будет есть уже еще снова опять тоже также все
    всегда никак никогда точно правильно неправильно верно неверно верный неверный
    неверен правильный неправильный сброшен сброс сбросить сбросил сбросила сброса
    забыт забыл забыла утерян потерян украден изменен изменился изменить поменять
    поменял сменить сменил смены восстановить восстановления восстановление подходит
    подошел принимает принимается принят устарел истек просрочен заблокирован
    скомпрометирован слабый сложный простой длинный короткий ввожу вводил вводила ввел
    ввела введен требования менеджер политика поле форма ссылка ссылку письмо смс
    приходит пришел пришла пришло который которым которого что чтобы когда потому так
    как я мне меня мой моя мое мои он она оно они его ее их вы вам вас ваш мы нам нас это
    этот эта тот та сам здесь там сейчас теперь потом вчера сегодня работает работал
    скрыт удален пожалуйста""")
)
# Prose forms that are rarely passwords: English participles and adjectives, Russian
# adjectives and verbs ("is expired", "is accepted", "— неверный", "не подходит").
_PROSE_ENDINGS = _Lazy(
    r"(?:ed|ing|ly|able|ible|ive|ful|less|ous|ent|ant|ect)$"
    r"|(?:ый|ий|ой|ая|яя|ое|ее|ые|ие|ен|ена|ено|ены|ан|ана|ано|аны|ит|ет|ют|ут|ал|ала|ало|ли)$"
)
_MASK = frozenset("*•·●#-\u2014_")
_EDGES_BEFORE = "\"'«“„([{<"
_EDGES_AFTER = "\"'»”“)]}>.,;:!?…"


def _prev_word(text: str, start: int) -> str:
    found = re.search(r"([^\W\d_]+)[\s-]+$", text[max(0, start - 40) : start])
    return found.group(1) if found else ""


def _next_word(text: str, end: int) -> str:
    found = re.match(r"\s+([^\W\d_]+)", text[end : end + 40])
    return found.group(1) if found else ""


def _is_code(text: str, value_start: int, value: str) -> bool:
    """4 to 8 digits, alone or in groups ("123 456", "55 12 90"), not part of a longer
    number, a version, an address or a time."""
    groups = re.split(r"[ -]", value)
    after = text[value_start + len(groups[0]) : value_start + len(groups[0]) + 2]
    if re.match(r"[^\W_]|[.,:/]\d", after):
        return False
    if 4 <= len(groups[0]) <= 8:
        return True
    total = 0
    for group in groups:
        if not 2 <= len(group) <= 4:
            return False
        total += len(group)
        if 4 <= total <= 8:
            return True
    return False


def _is_password(token: str, separator: str, possessive: bool) -> bool:
    """Whether ``token`` after a password keyword and ``separator`` ("form", "prose" or
    "space") looks like a password rather than the rest of a sentence."""
    token = token.lstrip(_EDGES_BEFORE).rstrip(_EDGES_AFTER)
    if not token or set(token) <= _MASK or "://" in token or token.startswith("www."):
        return False
    if token in _COMMON_WORDS or (token.isdigit() and len(token) <= 2):
        return False
    symbols = any(ch.isdigit() or not (ch.isalpha() or ch in "'-") for ch in token)
    if symbols or separator == "form":
        return True
    prose = _PROSE_ENDINGS.search(token) is not None
    if separator == "space":
        return possessive and not prose
    return not prose


def find_secret(value: str) -> tuple[Kind, str] | None:
    """The kind of secret ``value`` seems to contain and the keyword before it (as typed,
    normalised), ``("code", "")`` for a code typed on its own, or None."""
    text = normalise(value)
    if re.fullmatch(r"\s*(?:\d{4,8}|\d{3}[ -]\d{3})\s*", text):
        return "code", ""
    if not _may_name_secret(text):
        return None
    for keyword in _keyword_re().finditer(text):
        if keyword.group("code") is not None:
            if _prev_word(text, keyword.start()) in _NOT_SECRET_CODES:
                continue
            found = _CODE_VALUE.match(text, keyword.end())
            if found and _is_code(text, found.start("value"), found.group("value")):
                return "code", keyword.group()
            continue
        separator = "form"
        found = _PASSWORD_VALUE.match(text, keyword.end())
        if found is not None and found.group("form") is None:
            separator = "prose"
        elif found is None and keyword.group("password") is not None:
            found = _PASSWORD_VALUE_SPACE.match(text, keyword.end())
            separator = "space"
        if found is None:
            continue
        possessive = _prev_word(text, keyword.start()) in _POSSESSIVES
        if _is_password(found.group("value"), separator, possessive):
            return "password", keyword.group()
    return None


# --- prompts that ask for a secret ----------------------------------------------------

_ASK_VERBS = _words("""enter re-enter reenter type input give provide send tell share paste write
    supply submit specify include dictate введите введи вводите укажите укажи указывайте
    напишите напиши пишите пришлите пришли присылайте отправьте отправь отправляйте
    сообщите сообщи сообщайте скажите скажи назовите назови продиктуйте продиктуй вставьте
    вставь дайте дай наберите набери""")
_ASK_PHRASES = [r"type\s+in", r"write\s+down", r"read\s+out", r"let\s+us\s+know", r"fill\s+in"]
_WHAT = (
    r"(?:what|which|what's|какой|какая|каков|какое|какие)(?:\s+(?:is|was|are|у\s+вас|у\s+тебя))?"
)
# Words that may stand between "enter" and "password": "enter your new password".
_FILLERS = _words("""your the a an us me here below again now please new current old existing
    account vk cloud received one-time sms text 2fa mfa otp totp two-factor verification
    confirmation security auth authentication login sign-in access pin root admin user ssh
    console temporary six-digit four-digit ваш вашу ваше свой свою нам мне сюда здесь ниже
    еще снова сейчас пожалуйста новый текущий старый полученный присланный одноразовый
    проверочный временный смс пин двухфакторный шестизначный""")
_FILLER = "(?:" + "|".join(map(re.escape, _FILLERS)) + r"|\d+-digit|\d+-значный)"
_ANY_KEYWORD = rf"{_loose(_PASSWORD_WORDS + _WEAK_PASSWORD_WORDS + _CODE_WORDS)}"


@functools.cache
def _asking_re() -> re.Pattern[str]:
    return re.compile(  # about 23 ms to compile: on first use only
        rf"{_START}(?P<ask>(?:{'|'.join([*_ASK_PHRASES, *_ASK_VERBS])}|{_WHAT}))"
        rf"\s+(?:{_FILLER}\s+){{0,3}}(?P<keyword>{_ANY_KEYWORD}){_END}"
    )


@functools.cache
def _label_re() -> re.Pattern[str]:
    return re.compile(  # about 22 ms to compile: on first use only
        rf"\s*(?:{_FILLER}\s+){{0,3}}(?P<keyword>{_ANY_KEYWORD})"
        rf"(?:{_CODE_QUALIFIER})?\s*[:?]?\s*"
    )


# Words after the keyword that make it part of another noun: "the password reset link".
_COMPOUND = frozenset(
    _words("""reset recovery recover policy policies manager requirements rules hint strength
    length change expiry expiration field form page link email mail letter history
    generator protected protection""")
)
_NEGATION = _Lazy(
    r"(?:^|\s)(?:not|never|no|don't|dont|shouldn't|mustn't|without|не|никогда|нельзя|без)"
    r"(?:\s+\S+){0,2}\s*$"
)


def names_secret(name: str) -> bool:
    """Whether an id (a field's, a question's) names a password or a code: the cheap
    stem test first, so the pattern is compiled only for a name that may be one."""
    folded = normalise(name)
    return _may_name_secret(folded) and SECRET_NAME.search(folded) is not None


def asks_for_secret(prompt: str) -> str | None:
    """The phrase (normalised) in which ``prompt`` asks the user to type, give or send a
    password or a one-time code ("Enter the code from SMS", "What is your password?",
    "Введите пароль", a bare "Password:"), or None. Prompts that only mention one ("Did
    you lose your password?", "Do not type your password", "Enter the error code") pass.
    """
    text = normalise(prompt)
    if not _may_name_secret(text):
        return None  # the usual prompt: no keyword, and nothing compiled for it
    asking = _asking_re()
    candidates = list(asking.finditer(text))
    label = _label_re().fullmatch(text)
    if label is not None:
        candidates.append(label)
    for found in candidates:
        after = _next_word(text, found.end("keyword"))
        if after in _COMPOUND or after in _NOT_SECRET_CODES_AFTER:
            continue
        if _prev_word(text, found.start("keyword")) in _NOT_SECRET_CODES:
            continue
        if found.re is asking and _NEGATION.search(text[: found.start()]):
            continue
        return found.group().strip(" :?")
    return None


# --- the screen ---------------------------------------------------------------------------


def refuse_secret(field_id: str, value: str, *, bare_codes: bool = True) -> None:
    """Raise SecretRefused when ``value`` (for ``field_id``) looks like a secret.

    ``bare_codes=False``: a bare number is a legitimate value there (a project named
    "2024", "64" vCPU), so only a code or password named as such is refused."""
    if names_secret(field_id):
        raise SecretRefused(
            _(
                "diagnose does not store the field '{id}', because support never needs "
                "a password or a one-time code."
            ).format(id=field_id)
        )
    found = find_secret(value)
    if found is None:
        return
    kind, keyword = found
    if kind == "code" and not keyword and not bare_codes:
        return
    if kind == "code" and not keyword:
        raise SecretRefused(
            _(
                "That looks like a one-time code; diagnose never stores one and support never "
                "asks for it. Describe the problem in words instead."
            )
        )
    if kind == "code":
        raise SecretRefused(
            _(
                'That text seems to contain a one-time code (after "{keyword}"); remove it. '
                "Support never asks for a code."
            ).format(keyword=keyword)
        )
    raise SecretRefused(
        _(
            'That text seems to contain a password (after "{keyword}"); remove it. '
            "Support never needs your password."
        ).format(keyword=keyword)
    )
