"""Whether a reply without a workbook is a question for a person, or a secretario who forgot the attachment.

A question must reach a person (planeación's contact); a forgotten attachment gets the automatic "no trae adjunto".
Only the new text counts: the quoted mail below it (our own mailing, full of question-like instructions) and the
signature are cut first.
"""

from __future__ import annotations

import re
from typing import Final

from mailbot.domain.classify import fold

#: Lines that start the quoted original or a forwarded copy: everything from there down is not the new text.
_QUOTE_HEADERS: Final = re.compile(
    r"^(?:"
    r"-{2,}\s*(?:mensaje original|original message|forwarded message|mensaje reenviado)\s*-{2,}"
    r"|(?:el|on)\s.{0,200}(?:escribio|wrote)\s*:"
    r"|(?:de|from)\s*:\s.*"
    r"|_{10,}"
    r")\s*$"
)
#: Lines that end a message: a signature delimiter, a closing, a phone's footer.
_SIGNATURE: Final = re.compile(
    r"^(?:--\s*|cordialmente,?|atentamente,?|saludos(?: cordiales)?,?|un saludo,?|gracias,?|muchas gracias,?|"
    r"quedo atent[oa],?|best regards,?|regards,?|kind regards,?|thanks,?|thank you,?|sincerely,?|"
    r"enviado desde (?:mi|outlook).*|sent from my .*|get outlook for .*)$"
)
_QUESTION_WORDS: Final = re.compile(
    r"(?:^|[,;:]\s*)(?:cual|cuales|cuando|donde|cuanto|cuantos|cuantas|por que|quien|quienes|"
    r"puedo|podemos|podria|podrian|debo|debemos|es posible|se puede|"
    r"what|how|which|when|where|why|who|can i|can we|could|should|is it)\b"
)
_ASKING: Final = re.compile(
    r"\b(?:tengo (?:una|unas|la|las) (?:duda|dudas|pregunta|preguntas|inquietud|inquietudes|consulta)|"
    r"(?:quisiera|quisieramos|quiero|queremos|necesito|necesitamos) (?:saber|consultar|preguntar|aclarar)|"
    r"(?:me|nos) (?:pueden|podrian|puede|podria) (?:indicar|aclarar|explicar|decir|confirmar|orientar|ayudar)|"
    r"(?:agradezco|agradeceria|agradecemos|agradeceriamos) (?:indicar|aclarar|explicar|confirmar|orientar|"
    r"me indiquen|nos indiquen|su ayuda|su orientacion)|no (?:entiendo|es claro|me queda claro|sabemos|se como)|"
    r"(?:could|can|would) you (?:tell|clarify|explain|confirm|help|advise)|"
    r"i (?:have a question|would like to know|do not understand|don't understand)|please (?:clarify|explain|advise))"
)
_ATTACHMENT_WORDS: Final = re.compile(
    r"\b(?:adjunt\w*|anex\w*|remit\w*|envio (?:el|la)|enviamos (?:el|la)|aqui (?:esta|va)|attached|attaching|"
    r"please find|here is)\b"
)
#: More words than this, with no mention of an attachment, is a message for a person even without a "?".
LONG_TEXT_WORDS: Final = 40


def new_text(body: str) -> str:
    """The text the sender wrote in this message: above the quote, without quoted lines and the signature."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        folded = fold(stripped)
        if stripped.startswith(">"):
            continue
        if _QUOTE_HEADERS.match(folded):
            break
        if _SIGNATURE.match(folded) and kept:
            break
        kept.append(stripped)
    return "\n".join(kept).strip()


def is_question(body: str) -> bool:
    """A probable question: a question mark, a question word or an asking phrase, or a long text about something
    other than the attachment. "Adjunto el plan" with nothing attached stays the forgotten-attachment case."""
    text = new_text(body)
    if not text:
        return False
    folded = fold(text)
    if "?" in text or "¿" in text or _ASKING.search(folded):
        return True
    sentences = [s.strip() for s in re.split(r"[.!\n]+", folded) if s.strip()]
    if any(_QUESTION_WORDS.search(s) and len(s.split()) >= 4 for s in sentences):
        return not _ATTACHMENT_WORDS.search(folded) or len(folded.split()) > 12
    return len(folded.split()) > LONG_TEXT_WORDS and not _ATTACHMENT_WORDS.search(folded)
