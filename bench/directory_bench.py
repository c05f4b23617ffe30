"""Directory benchmark: import of a full-size extract, then a fixed mix of 1,000 queries.

    .venv/bin/python bench/directory_bench.py [--rows 1900000] [--extract FILE] [--no-whoosh]

Prints import rate, elapsed time, peak RSS of the import (run in a child process so that
nothing else counts), index size, and p50/p95/p99 latencies of the query mix through
`DirectoryService.search` (thread hop included) and through the bare index reader; then the
same mix against a whoosh index of the same people, and the ratio. Not part of the tests.
Targets (issue 3): import <= 90 s, peak <= 1.5 GB, p50 <= 2 ms, p95 <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.directory import synthetic
from bridge.directory.extract import Extract
from bridge.directory.payload import P, S
from bridge.directory.query import query_words
from bridge.directory.service import DirectoryService
from bridge.storage.database import Database

NOUNS = [
    "cardiologue",
    "kiné",
    "infirmière",
    "pédiatre",
    "généraliste",
    "dentiste",
    "psychiatre",
    "sage-femme",
    "pharmacien",
    "orthophoniste",
    "dermatologue",
    "ophtalmo",
    "radiologue",
    "gynécologue",
    "médecin",
    "infirmier",
    "kinésithérapeute",
]
CITY_NAMES = [
    "lyon",
    "douai",
    "lille",
    "paris",
    "marseille",
    "nantes",
    "toulouse",
    "bordeaux",
    "59500",
    "69003",
    "75015",
    "Saint-Étienne",
    "Ajaccio",
    "rennes",
    "nice",
]
CPTS_NAMES = ["CPTS Grand Douai", "CPTS Lyon Centre", "CPTS Paris 15"]


def query_mix(seed: int, count: int = 1000) -> list[tuple[str, dict]]:
    """A fixed, realistic mix: names, noun + city, fragments, typos, places, CPTS, filters."""
    rng = random.Random(seed)
    names = synthetic.LAST_NAMES
    firsts = synthetic.FIRST_NAMES
    out: list[tuple[str, dict]] = []
    for i in range(count):
        kind = i % 20
        name = rng.choice(names[:120]).lower() if rng.random() < 0.7 else rng.choice(names)
        if kind < 6:
            out.append((name, {}))
        elif kind < 8:
            out.append((f"{rng.choice(firsts)} {name}", {}))
        elif kind < 11:
            out.append((f"{rng.choice(NOUNS)} {rng.choice(CITY_NAMES)}", {}))
        elif kind < 14:
            out.append((name.replace("-", "")[: rng.randint(4, 6)], {}))
        elif kind < 16:
            word = name.replace(" ", "")
            pos = rng.randrange(1, len(word))
            out.append(
                (
                    word[:pos] + word[pos + 1 :]
                    if rng.random() < 0.5
                    else word[:pos] + rng.choice("aeiou") + word[pos:],
                    {},
                )
            )
        elif kind == 16:
            out.append((rng.choice(CPTS_NAMES), {}))
        elif kind == 17:
            out.append(
                (
                    rng.choice(["centre hospitalier", "chu", "msp", "clinique saint"])
                    + " "
                    + rng.choice(CITY_NAMES),
                    {},
                )
            )
        elif kind == 18:
            out.append((name, {"city": rng.choice(CITY_NAMES)}))
        else:
            out.append(("", {"profession": rng.choice(NOUNS), "city": rng.choice(CITY_NAMES)}))
    return out


def _import_child(db_url: str, root: str, extract: str, out: str) -> None:
    async def run() -> dict:
        db = Database(db_url)
        await db.migrate()
        report = await DirectoryService(Path(root), db).import_extract(Path(extract), progress=True)
        await db.close()
        return report.to_json(listed=5)

    result = asyncio.run(run())
    result["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    Path(out).write_text(json.dumps(result))


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
    return (
        f"p50 {pick(0.50):.2f} ms  p95 {pick(0.95):.2f} ms  p99 {pick(0.99):.2f} ms  "
        f"mean {statistics.mean(ordered) * 1000:.2f} ms"
    )


async def run_queries(service: DirectoryService, mix) -> tuple[list[float], list[float], int]:
    for text, kw in mix[:50]:  # warm-up: open the index, touch the caches
        await service.search(text, **kw)
    through_service, bare, empty = [], [], 0
    for text, kw in mix:
        started = time.perf_counter()
        page = await service.search(text, **kw)
        through_service.append(time.perf_counter() - started)
        empty += page.total == 0
    from bridge.directory.query import Filters

    for text, kw in mix:
        started = time.perf_counter()
        service.reader.search(text, Filters(**kw))
        bare.append(time.perf_counter() - started)
    return through_service, bare, empty


def whoosh_bench(
    extract: Path, workdir: Path, mix, cpts: dict[str, list[str]], limit: int | None, budget: float
):
    try:
        from whoosh import fields, index
        from whoosh import query as wq
        from whoosh.analysis import CharsetFilter, StandardAnalyzer
        from whoosh.support.charset import accent_map
    except ImportError:
        print("whoosh: not installed (pip install whoosh) - skipped")
        return None
    analyzer = StandardAnalyzer(stoplist=None, minsize=1) | CharsetFilter(accent_map)
    text = lambda: fields.TEXT(analyzer=analyzer, phrase=False)
    schema = fields.Schema(
        nid=fields.ID(stored=True, unique=True),
        last=text(),
        first=text(),
        prof=text(),
        spec=text(),
        org=text(),
        place=text(),
        cpts=text(),
    )
    path = workdir / "whoosh"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    ix = index.create_in(str(path), schema)
    members: dict[str, list[str]] = {}
    for name, ids in cpts.items():
        for nid in ids:
            members.setdefault(nid, []).append(name)
    started = time.perf_counter()
    writer = ix.writer(limitmb=512)
    extract_file = Extract(extract)
    count = 0
    for record in extract_file.persons():
        if record.continued:
            continue
        p = record.person
        writer.add_document(
            nid=record.national_id,
            last=p[P["last_name"]],
            first=p[P["first_name"]],
            prof=f"{p[P['prof']]} {p[P['prof_code']]}",
            spec=" ".join(f"{s[1]} {s[0]}" for s in record.specialties),
            org=" ".join(
                {x for s in record.sites for x in (s[S["raison_sociale"]], s[S["enseigne"]])}
            ),
            place=" ".join(
                {
                    x
                    for s in record.sites
                    for x in (s[S["city"]], s[S["postal_code"]], s[S["dept_code"]], s[S["dept"]])
                }
            ),
            cpts=" ".join(members.get(record.national_id, ())),
        )
        count += 1
        if limit and count >= limit:
            break
    writer.commit()
    built = time.perf_counter() - started
    print(f"whoosh: indexed {count:,} people in {built:.1f} s ({count / built:,.0f} people/s)")
    names = ("last", "first", "prof", "spec", "org", "place", "cpts")
    samples = []
    deadline = time.perf_counter() + budget
    with ix.searcher() as searcher:
        for text_q, kw in mix:
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            words = query_words(text_q) + query_words(" ".join(kw.values()))
            if words:

                def clause(w, fuzzy):
                    alts = [wq.Term(f, w) for f in names]
                    if len(w) >= 3:
                        alts += [wq.Prefix(f, w) for f in names]
                    if fuzzy and len(w) >= 4:
                        alts += [wq.FuzzyTerm(f, w, maxdist=1) for f in names]
                    return wq.Or(alts)

                hits = searcher.search(wq.And([clause(w, False) for w in words]), limit=10)
                if hits.scored_length() == 0:
                    hits = searcher.search(wq.And([clause(w, True) for w in words]), limit=10)
                [h["nid"] for h in hits]
            samples.append(time.perf_counter() - started)
    return count / built, samples


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_900_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--extract", type=Path, help="use this extract instead of generating one")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/confrere-directory-bench"))
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in the workdir)")
    parser.add_argument("--no-whoosh", action="store_true")
    parser.add_argument("--whoosh-limit", type=int, default=None, help="index only N people")
    parser.add_argument(
        "--whoosh-budget", type=float, default=120.0, help="stop whoosh queries after S seconds"
    )
    args = parser.parse_args()
    workdir = args.workdir
    shutil.rmtree(workdir / "directory", ignore_errors=True)
    (workdir / "bench.db").unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    extract = args.extract
    if extract is None:
        extract = workdir / f"PS_LibreAcces_Personne_activite_synthetic_{args.rows}.txt"
        started = time.perf_counter()
        persons = synthetic.generate(extract, args.rows, seed=args.seed)
        print(
            f"generated {args.rows:,} rows ({persons:,} people, "
            f"{extract.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
    db_url = args.database or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    root = workdir / "directory"
    out = workdir / "import.json"
    child = multiprocessing.get_context("spawn").Process(
        target=_import_child, args=(db_url, str(root), str(extract), str(out))
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        print("import failed")
        return 1
    report = json.loads(out.read_text())
    print(
        f"import: {report['rows']:,} rows, {report['persons']:,} people in "
        f"{report['elapsed']:.1f} s = {report['rows'] / report['elapsed']:,.0f} rows/s; "
        f"peak RSS {report['peak_rss'] / 2**30:.2f} GiB; index {report['index_bytes'] / 1e6:.0f} MB; "
        f"bad rows {report['bad_count']}, bad RPPS keys {report['bad_key_count']}"
    )

    db = Database(db_url)
    service = DirectoryService(root, db)
    cpts_file = workdir / "cpts.csv"
    async with db.engine.connect() as conn:
        ids = [
            r[0]
            for r in (
                await conn.exec_driver_sql(
                    "SELECT national_id FROM directory_people ORDER BY content_hash LIMIT 1500"
                )
            ).all()
        ]
    cpts = {name: ids[i::3] for i, name in enumerate(CPTS_NAMES)}
    cpts_file.write_text(
        "cpts;identifiant\n"
        + "".join(f"{name};{nid}\n" for name, members in cpts.items() for nid in members),
        encoding="utf-8",
    )
    started = time.perf_counter()
    cpts_report = await service.import_cpts(cpts_file)
    print(
        f"CPTS: {cpts_report.members} memberships re-indexed in {time.perf_counter() - started:.2f} s"
    )

    mix = query_mix(args.seed)
    through_service, bare, empty = await run_queries(service, mix)
    print(
        f"tantivy, {len(mix)} queries ({empty} with no result), DirectoryService.search: "
        f"{percentiles(through_service)}"
    )
    print(f"tantivy, bare index reader (no thread hop):            {percentiles(bare)}")
    await db.close()
    if not args.no_whoosh:
        result = whoosh_bench(extract, workdir, mix, cpts, args.whoosh_limit, args.whoosh_budget)
        if result is not None:
            whoosh_rate, samples = result
            ours_sub = bare[: len(samples)]  # same queries, same order (the mix is interleaved)
            ours = report["persons"] / report["elapsed"]
            print(
                f"whoosh, first {len(samples)} queries of the same mix "
                f"(time budget {args.whoosh_budget:.0f} s): {percentiles(samples)}"
            )
            print(f"tantivy, the same {len(samples)} queries:            {percentiles(ours_sub)}")
            print(
                f"ratio whoosh/tantivy: indexing {ours / whoosh_rate:.1f}x slower per person "
                f"(our figure includes the database writes); queries p50 "
                f"{statistics.median(samples) / statistics.median(ours_sub):.0f}x, "
                f"mean {statistics.mean(samples) / statistics.mean(ours_sub):.0f}x slower"
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
