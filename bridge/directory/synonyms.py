"""What practitioners type versus what the extract says ("cardiologue" -> "Cardiologie ...").

The extract names specialties by discipline ("Cardiologie et maladies vasculaires") and
professions by their legal title ("Masseur-Kinésithérapeute"); people search with the noun of
the practitioner, often feminine or plural. Each query word may thus stand for extra words in
the profession (`prof`) or specialty (`spec`) field; a tuple of several words must all match.
"""

from __future__ import annotations

Expansion = tuple[str, tuple[str, ...]]  # (field, words that must all be present)

_TABLE: dict[str, list[Expansion]] = {
    "generaliste": [("spec", ("medecine", "generale"))],
    "omnipraticien": [("spec", ("medecine", "generale"))],
    "mg": [("spec", ("medecine", "generale"))],
    "urgentiste": [("spec", ("medecine", "urgence"))],
    "kine": [("prof", ("kinesitherapeute",))],
    "kinesi": [("prof", ("kinesitherapeute",))],
    "physiotherapeute": [("prof", ("kinesitherapeute",))],
    "ide": [("prof", ("infirmier",))],
    "idel": [("prof", ("infirmier",))],
    "maieuticien": [("prof", ("sage", "femme"))],
    "maieuticienne": [("prof", ("sage", "femme"))],
    "sagefemme": [("prof", ("sage", "femme"))],
    "dentiste": [("prof", ("dentiste",))],
    "pharmacie": [("prof", ("pharmacien",))],
    "orl": [("spec", ("laryngologie",))],
    "ophtalmo": [("spec", ("ophtalmologie",))],
    "ophtalmologiste": [("spec", ("ophtalmologie",))],
    "gyneco": [("spec", ("gynecologie",))],
    "cardio": [("spec", ("cardiologie",))],
    "dermato": [("spec", ("dermatologie",))],
    "pneumo": [("spec", ("pneumologie",))],
    "rhumato": [("spec", ("rhumatologie",))],
    "endocrino": [("spec", ("endocrinologie",))],
    "nephro": [("spec", ("nephrologie",))],
    "neuro": [("spec", ("neurologie",))],
    "onco": [("spec", ("oncologie",))],
    "gastro": [("spec", ("gastro",))],
    "gastroenterologue": [("spec", ("gastro", "enterologie"))],
    "hepatologue": [("spec", ("hepatologie",))],
    "radiologue": [("spec", ("radiologie",)), ("spec", ("radio", "diagnostic"))],
    "radio": [("spec", ("radiologie",)), ("spec", ("radio", "diagnostic"))],
    "anesthesiste": [("spec", ("anesthesie",))],
    "reanimateur": [("spec", ("reanimation",))],
    "chirurgien": [("spec", ("chirurgie",))],
    "psy": [("spec", ("psychiatrie",)), ("prof", ("psychologue",))],
    "obstetricien": [("spec", ("obstetrique",))],
    "interniste": [("spec", ("medecine", "interne"))],
    "biologiste": [("spec", ("biologie",))],
    "orthodontiste": [("spec", ("orthopedie", "dento"))],
    "podologue": [("prof", ("podologue",))],
    "pedicure": [("prof", ("pedicure",))],
}


def expansions(word: str) -> list[Expansion]:
    """Extra matches a folded query word stands for (empty when it stands only for itself)."""
    found: list[Expansion] = []
    candidates = [word]
    if len(word) > 4 and word.endswith("s"):
        candidates.append(word[:-1])  # plural
    for w in candidates:
        found.extend(_TABLE.get(w, ()))
        if w.endswith("logue") and len(w) > 7:  # cardiologue -> cardiologie
            found.append(("spec", (w[:-2] + "ie",)))
        elif w.endswith("iatre") and len(w) > 6:  # pediatre -> pediatrie
            found.append(("spec", (w[:-1] + "ie",)))
        elif w.endswith("iere") and len(w) > 6:  # infirmiere -> infirmier
            found.append(("prof", (w[:-1],)))
        elif w.endswith("ienne") and len(w) > 7:  # pharmacienne -> pharmacien
            found.append(("prof", (w[:-2],)))
        if w != word:
            found.append(("prof", (w,)))
            found.append(("spec", (w,)))
    return list(dict.fromkeys(found))
