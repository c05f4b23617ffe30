"""Turning what a practitioner types into a tantivy query, and running it.

Text never reaches tantivy's query parser: it is cut into folded words here, so quotes,
operators, emoji or 10,000 characters can only produce words or nothing. Every word must match
somewhere (exactly, as a prefix of an indexed word, or through a profession synonym); scores
are constants, not frequencies, so that exact last-name matches come first. Only when that
finds nothing do we retry with edit-distance (typo) matching.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from .index import SCHEMA, IndexGenerations, open_index
from .practitioner import MAX_RESULTS, Practitioner, SearchPage
from .synonyms import expansions
from .text import MAX_WORD, words

MAX_WORDS = 12
STOP_WORDS = frozenset(
    {
        "dr",
        "docteur",
        "pr",
        "professeur",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "d",
        "l",
        "et",
        "en",
        "a",
        "au",
        "aux",
        "m",
        "mme",
        "madame",
        "monsieur",
        "mr",
        "chez",
        "sur",
        "pour",
    }
)
# A word scores by its best way of matching anything (`all`): exact 3, synonym 3, prefix 1,
# typo 0.5; plus a bonus when it is the person's name, so that an exact last-name match
# outranks a first-name match, which outranks a name prefix, whatever the word frequencies.
EXACT, SYNONYM, PREFIX, TYPO = 3.0, 3.0, 1.0, 0.5
NAME_BONUS = (("last", 8.0, 3.0, 1.0), ("first", 4.0, 1.5, 0.5))  # exact, prefix, typo
COMMON_SHARE, COMMON_MIN = 0.01, 1000  # a word in more documents than this is "common"
MIN_PREFIX = 3
MIN_FUZZY = 4


@dataclass(frozen=True)
class Filters:
    profession: str | None = None
    specialty: str | None = None
    city: str | None = None


def query_words(text: str) -> list[str]:
    """The words of `text` that take part in the search (stop words dropped unless alone)."""
    found = words(text[: MAX_WORDS * (MAX_WORD + 8)])[: MAX_WORDS * 2]
    kept = [w for w in found if w not in STOP_WORDS]
    return (kept or found)[:MAX_WORDS]


def _term(field: str, word: str) -> Query:
    return Query.term_query(SCHEMA, field, word)


def _all_of(field: str, terms: tuple[str, ...]) -> Query:
    if len(terms) == 1:
        return _term(field, terms[0])
    return Query.boolean_query([(Occur.Must, _term(field, t)) for t in terms])


def _prefix(field: str, word: str) -> Query:
    return Query.fuzzy_term_query(SCHEMA, field, word, 0, True, True)


def _typo(field: str, word: str, distance: int) -> Query:
    return Query.fuzzy_term_query(SCHEMA, field, word, distance, True, False)


def _distance(word: str, fuzzy: bool) -> int:
    if not fuzzy or len(word) < MIN_FUZZY or word.isdigit():
        return 0
    return 1 if len(word) < 8 else 2


def _word_clause(word: str, fuzzy: bool, common: bool = False) -> Query:
    """Documents where `word` appears: exact, prefix, synonyms, and typos when `fuzzy`.

    A `common` word (found as such in many documents: "infirmier", "paris") is taken as
    itself only: as a prefix it would add little and cost a lot in every intersection.
    """
    alternatives = [Query.const_score_query(_term("all", word), EXACT)]
    if len(word) >= MIN_PREFIX and not common:
        alternatives.append(Query.const_score_query(_prefix("all", word), PREFIX))
    distance = _distance(word, fuzzy)
    if distance:
        alternatives.append(Query.const_score_query(_typo("all", word, distance), TYPO))
    for field, terms in expansions(word):
        alternatives.append(Query.const_score_query(_all_of(field, terms), SYNONYM))
    return Query.disjunction_max_query(alternatives)


def _name_bonus(word: str, fuzzy: bool) -> Query:
    """Extra score when `word` is (the start of) the last or first name; never filters."""
    alternatives = []
    distance = _distance(word, fuzzy)
    for field, exact, prefix, typo in NAME_BONUS:
        alternatives.append(Query.const_score_query(_term(field, word), exact))
        if len(word) >= MIN_PREFIX:
            alternatives.append(Query.const_score_query(_prefix(field, word), prefix))
        if distance:
            alternatives.append(Query.const_score_query(_typo(field, word, distance), typo))
    return Query.disjunction_max_query(alternatives)


def _field_filter(value: str, fields: tuple[str, ...]) -> Query | None:
    """Every word of `value` must be found in one of `fields` (or stand for a word there)."""
    clauses = []
    for word in words(value)[:MAX_WORDS]:
        alternatives = []
        for field in fields:
            alternatives.append(_term(field, word))
            if len(word) >= 5 and not word.isdigit():
                alternatives.append(_prefix(field, word))
        alternatives += [
            _all_of(f, t) for f, t in expansions(word) if f in fields or "spec" in fields
        ]
        clauses.append((Occur.Must, Query.boolean_query([(Occur.Should, q) for q in alternatives])))
    return Query.boolean_query(clauses) if clauses else None


def _place_filter(value: str) -> Query | None:
    place_words = words(value)[:MAX_WORDS]
    if not place_words:
        return None
    return Query.boolean_query([(Occur.Must, _term("place", w)) for w in place_words])


def build_query(
    text: str, filters: Filters, *, fuzzy: bool, common: Callable[[str], bool] = lambda _word: False
) -> Query | None:
    """The whole query, or None when there is nothing to look for.

    `common(word)` tells whether a word is frequent enough to be matched exactly only.
    """
    clauses: list[tuple[Occur, Query]] = []
    found = query_words(text)
    for word in found:
        clauses.append((Occur.Must, _word_clause(word, fuzzy, len(found) > 1 and common(word))))
        clauses.append((Occur.Should, _name_bonus(word, fuzzy)))
    wanted = [
        _field_filter(filters.profession, ("prof", "spec")) if filters.profession else None,
        _field_filter(filters.specialty, ("spec",)) if filters.specialty else None,
        _place_filter(filters.city) if filters.city else None,
    ]
    given = [bool(filters.profession), bool(filters.specialty), bool(filters.city)]
    for query, asked in zip(wanted, given):
        if asked and query is None:
            return None  # a filter made only of punctuation matches nothing
        if query is not None:
            clauses.append((Occur.Must, Query.const_score_query(query, 0.0)))
    if not clauses:
        return None
    return Query.boolean_query(clauses)


class IndexReader:
    """Searches the current generation; notices a new generation or a CPTS update by itself."""

    CHECK_EVERY = 0.5  # seconds between looks at the pointer file

    def __init__(self, generations: IndexGenerations) -> None:
        self.generations = generations
        self._index: tantivy.Index | None = None
        self._path: Path | None = None
        self._meta_mtime = 0.0
        self._checked = 0.0

    def _refresh(self) -> tantivy.Index | None:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.CHECK_EVERY:
            return self._index
        self._checked = now
        path = self.generations.current()
        if path is None:
            self._index, self._path = None, None
            return None
        try:
            mtime = (path / "meta.json").stat().st_mtime
        except FileNotFoundError:
            return self._index
        if path != self._path:
            self._index, self._path, self._meta_mtime = open_index(path), path, mtime
        elif mtime != self._meta_mtime:
            self._index.reload()
            self._meta_mtime = mtime
        return self._index

    def invalidate(self) -> None:
        self._checked = 0.0

    def count(self) -> int:
        index = self._refresh()
        return index.searcher().num_docs if index is not None else 0

    def search(
        self, text: str, filters: Filters = Filters(), *, page: int = 1, page_size: int = 10
    ) -> SearchPage:
        """One page of results (never raises on odd text; an empty page when nothing fits)."""
        page_size = max(1, min(int(page_size), MAX_RESULTS))
        page = max(1, int(page))
        index = self._refresh()
        empty = SearchPage(total=0, page=page, pages=0, page_size=page_size)
        if index is None:
            return empty
        searcher = index.searcher()
        offset = (page - 1) * page_size
        limit = min(page_size, MAX_RESULTS - offset)
        typo_words = [w for w in query_words(text) if len(w) >= MIN_FUZZY and not w.isdigit()]
        threshold = max(COMMON_MIN, searcher.num_docs * COMMON_SHARE)

        def common(word: str) -> bool:
            return searcher.doc_freq("all", word) >= threshold

        fuzzy = False
        for fuzzy in (False, True):
            query = build_query(text, filters, fuzzy=fuzzy, common=common)
            if query is None:
                return empty
            result = searcher.search(
                query, limit=max(limit, 1), count=True, offset=min(offset, MAX_RESULTS)
            )
            if result.count or not typo_words:
                break
        total = result.count or 0
        pages = math.ceil(min(total, MAX_RESULTS) / page_size)
        hits = result.hits if limit > 0 else []
        results = [_practitioner(searcher, address) for _, address in hits]
        return SearchPage(
            total=total,
            page=page,
            pages=pages,
            page_size=page_size,
            results=results,
            fuzzy=fuzzy and total > 0,
        )

    def get(self, national_id: str) -> Practitioner | None:
        index = self._refresh()
        if index is None:
            return None
        searcher = index.searcher()
        result = searcher.search(_term("nid", national_id), limit=1, count=False)
        return _practitioner(searcher, result.hits[0][1]) if result.hits else None


def _practitioner(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Practitioner:
    stored = searcher.doc(address).get_first("doc")
    return Practitioner.from_payload(stored.decode())
