"""`!annuaire` says when the directory is empty or the bundled sample (#16 item 1)."""

from __future__ import annotations

from types import SimpleNamespace

from bridge.directory.notice import EMPTY_FR, SAMPLE_FR, search_notice
from bridge.directory.sample import SAMPLE_EXTRACT
from bridge.features import build_router
from tests.directory.conftest import SAMPLE, sample_lines, write_extract


class NotVerified:
    async def state_for_rules(self, user_id: str) -> dict:
        return {"verification": "unverified", "administrator": False}


class Results:
    """The last results of each conversation, in memory (the service keeps them durably)."""

    def __init__(self) -> None:
        self.kept: dict = {}

    async def put(self, user_id: str, room_id: str, last) -> None:
        self.kept[(user_id, room_id)] = last

    async def get(self, user_id: str, room_id: str):
        return self.kept.get((user_id, room_id))


async def _ask(service, text: str) -> str:
    services = SimpleNamespace(directory=service, verification=NotVerified(), results=Results(),
                               settings=SimpleNamespace(administrators=()))
    answers: list[str] = []

    async def reply(body: str, html: str | None = None) -> None:
        answers.append(body)

    await build_router(services).dispatch("@lea:localhost", "!dm:localhost", text, reply)
    return answers[0]


async def test_empty_directory_is_not_a_no_match(service):
    assert (await search_notice(service)).empty
    answer = await _ask(service, "!annuaire cardiologue")
    assert "pas encore importé" in answer and "Aucun praticien" not in answer


async def test_sample_is_labelled_in_results_and_misses(service):
    await service.import_extract(SAMPLE_EXTRACT, progress=False)
    notice = await search_notice(service)
    assert notice is not None and not notice.empty and notice.text == SAMPLE_FR
    found = await _ask(service, "!annuaire faure")
    assert "FAURE" in found and "échantillon de démonstration" in found
    missed = await _ask(service, "!annuaire zzzyxw")
    assert "Aucun praticien" in missed and "échantillon de démonstration" in missed


async def test_national_extract_has_no_notice(service, tmp_path):
    extract = write_extract(tmp_path / "PS_LibreAcces_Personne_activite.txt", sample_lines())
    await service.import_extract(extract, progress=False)
    assert SAMPLE.name != extract.name
    assert await search_notice(service) is None
    assert EMPTY_FR not in await _ask(service, "!annuaire faure")
