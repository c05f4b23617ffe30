"""First names in their usual case wherever the directory's names are shown (#16 item 11)."""

from __future__ import annotations

import pytest

from bridge.directory.practitioner import Practitioner
from bridge.directory.text import first_name_case


@pytest.mark.parametrize("extract, shown", [
    ("EMMANUEL", "Emmanuel"),
    ("JEAN-PIERRE", "Jean-Pierre"),
    ("MARIE-HÉLÈNE", "Marie-Hélène"),
    ("ÉLOÏSE", "Éloïse"),
    ("ŒDIPE", "Œdipe"),
    ("N'GOLO", "N'Golo"),
    ("N’GOLO", "N’Golo"),
    ("D'ARTAGNAN", "D'Artagnan"),
    ("JEAN DE DIEU", "Jean de Dieu"),
    ("JEANNE D'ARC", "Jeanne d'Arc"),
    ("ANNE-LAURE  DU PONT", "Anne-Laure du Pont"),
    ("françois", "François"),
    ("Camille", "Camille"),  # typed by a person: kept
    ("McKENNA", "McKENNA"),  # mixed case: kept as written
    ("", ""),
])
def test_first_name_case(extract, shown):
    assert first_name_case(extract) == shown


def test_display_name_cases_first_name_and_capitalises_last_name():
    person = Practitioner(national_id="810000575141", civilite_exercice_code="DR",
                          first_name="EMMANUEL", last_name="Faure de la Tour")
    assert person.display_name == "Dr Emmanuel FAURE DE LA TOUR"
    person = Practitioner(national_id="1", civilite_code="MME", first_name="MARIE-HÉLÈNE",
                          last_name="D'ALEMBERT")
    assert person.display_name == "Mme Marie-Hélène D'ALEMBERT"
