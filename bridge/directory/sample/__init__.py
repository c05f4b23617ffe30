"""The bundled sample of the national directory extract (98 rows, real format).

`confrere up` imports it on first start when the directory is empty, so a newcomer can search
and verify right away; everything that shows results says it is a sample until the national
extract is imported (`confrere directory import`).
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_EXTRACT = Path(__file__).with_name("ps_libreacces_sample.txt")


def is_sample(source: str | None) -> bool:
    """Whether an import's recorded source is this bundled sample."""
    return bool(source) and Path(source).name == SAMPLE_EXTRACT.name


async def import_sample_if_empty(directory) -> bool:
    """Import the sample into an empty directory; True when it did."""
    if await directory.count() > 0:
        return False
    await directory.import_extract(SAMPLE_EXTRACT, progress=False)
    return True
