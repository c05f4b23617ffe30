"""The verified badge shown by every client."""

from bridge.directory.practitioner import Practitioner, Site, Specialty
from bridge.verification.badge import badge, fallback_badge


def test_badge_from_directory_entry():
    person = Practitioner(
        national_id="810001045367", civilite_exercice_code="DR", civilite_code="MME",
        first_name="Camille", last_name="BERNARD", profession="Médecin",
        specialties=(Specialty(code="SM04", label="Cardiologie et maladies vasculaires"),),
        sites=(Site(city=""), Site(city="DOUAI")),
    )
    assert badge(person) == "Dr Camille BERNARD — Cardiologie et maladies vasculaires, Douai"


def test_badge_without_specialty_or_site():
    nurse = Practitioner(national_id="899700771191", civilite_code="M", first_name="Jean",
                         last_name="TESTEUR", profession="Infirmier")
    assert badge(nurse) == "M. Jean TESTEUR — Infirmier"
    assert fallback_badge("Élodie", "d'Arc") == "Élodie D'ARC"
