"""Synthetic extracts in the real PS_LibreAcces format, any size, from a seed.

For tests and benchmarks: realistic shares of professions, French names (accents, compound
and hyphenated names, particles), doctors' specialties, several sites per person (one row per
activity), ADELI rows, empty fields, cities with their postal codes and départements. Written
line by line (a 1.9-million-row file needs no more memory than a 1,000-row one). No real
person is described: names are drawn independently.
"""

from __future__ import annotations

import bisect
import itertools
import random
from pathlib import Path

from .text import luhn_complete

HEADER_52 = [
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Code civilité d'exercice",
    "Libellé civilité d'exercice",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Libellé catégorie professionnelle",
    "Code type savoir-faire",
    "Libellé type savoir-faire",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Libellé mode exercice",
    "Numéro SIRET site",
    "Numéro SIREN site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Libellé commune (coord. structure)",
    "Code pays (coord. structure)",
    "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)",
    "Code Département (structure)",
    "Libellé Département (structure)",
    "Ancien identifiant de la structure",
    "Autorité d'enregistrement",
    "Code secteur d'activité",
    "Libellé secteur d'activité",
    "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens",
]
# The later variant: four columns added after the mode of practice, a few headers respelled.
HEADER_56 = (
    HEADER_52[:19]
    + ["Code fonction", "Libellé fonction", "Code genre d'activité", "Libellé genre d'activité"]
    + HEADER_52[19:]
)
RESPELLED_56 = {
    "Code mode exercice": "Code mode d'exercice",
    "Libellé mode exercice": "Libellé mode d'exercice",
    "Code Département (structure)": "Code département (coord. structure)",
    "Libellé Département (structure)": "Libellé département (coord. structure)",
    "Libellé Voie (coord. structure)": "Libellé voie (coord. structure)",
    "Adresse e-mail (coord. structure)": "Adresse e-mail (coord.structure)",
}
HEADER_56 = [RESPELLED_56.get(h, h) for h in HEADER_56]

LAST_NAMES = (
    (
        "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL "
        "LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE "
        "ROUSSEAU VINCENT MULLER LEFÈVRE FAURE ANDRÉ MERCIER BLANC GUÉRIN BOYER GARNIER CHEVALIER "
        "FRANÇOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLÉMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU "
        "GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOËL MEYER DUFOUR MEUNIER BRUN "
        "BLANCHARD GIRAUD JOLY RIVIÈRE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GÉRARD ROCHE "
        "RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS "
        "LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOÎT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME "
        "LECOMTE LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN LOUIS "
        "DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS POIRIER MARTY "
        "AUBRY GUYOT CARRÉ CHARLES RENAULT CHARPENTIER MÉNARD MAILLARD BARON BERTIN BAILLY HERVÉ "
        "SCHNEIDER FERNANDEZ LE\u00a0GALL COLLET LÉGER BOUVIER JULIEN PRÉVOST MILLET PERROT DANIEL "
        "KARIM KARIMO BENALI BENAÏSSA HADDAD MANSOURI NGUYEN N'GUYEN TRAN DIALLO TRAORÉ COULIBALY "
        "DIOP HAMIDI CHÉRIF RUYTOOR DANQUIGNY CANU LUCET PRUVOST LESAGE ASSARINI DELATTRE DELEBARRE "
        "DEMAILLY WAUQUIER LEFRANC DUHAMEL CAUDRON DELCROIX DEVAUX LEBLOND HOCHART"
    )
    .replace("\u00a0", " ")
    .split(" ")
)
LAST_NAMES = [n.replace("LE GALL", "LE-GALL") for n in LAST_NAMES if n]
PARTICLES = ["DE", "DU", "DE LA", "LE", "D'"]
FIRST_NAMES = [
    "Marie",
    "Jean",
    "Pierre",
    "Michel",
    "Philippe",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Catherine",
    "Nicolas",
    "Julien",
    "Camille",
    "Léa",
    "Chloé",
    "Manon",
    "Emma",
    "Inès",
    "Zoé",
    "Lucas",
    "Hugo",
    "Louis",
    "Arthur",
    "Gabriel",
    "Raphaël",
    "Jules",
    "Élodie",
    "Hélène",
    "Cécile",
    "Gaëlle",
    "Anaïs",
    "Maëlle",
    "Noé",
    "Mathéo",
    "Théo",
    "Clément",
    "Jérôme",
    "Stéphane",
    "François",
    "Frédéric",
    "Sébastien",
    "Thierry",
    "Valérie",
    "Véronique",
    "Sandrine",
    "Laurence",
    "Aurélie",
    "Céline",
    "Émilie",
    "Jean-Baptiste",
    "Jean-Pierre",
    "Marie-Hélène",
    "Anne-Sophie",
    "Pierre-Yves",
    "Marie-Claire",
    "Jean-Luc",
    "Abdelhak",
    "Abdu",
    "Hicham",
    "Karim",
    "Nadia",
    "Fatima",
    "Yasmine",
    "Mohamed",
    "Amer",
    "Sara",
    "Thị",
    "Hoa",
    "Moussa",
    "Aïcha",
    "Paul",
    "Laura",
    "Antoine",
    "Thomas",
    "Alexandre",
    "Maxime",
    "Guillaume",
    "Vincent",
    "Caroline",
    "Audrey",
    "Pauline",
    "Charlotte",
    "Margaux",
    "Juliette",
    "Lucie",
    "Mélanie",
    "Océane",
    "Benoît",
    "Loïc",
    "Gaël",
    "Yannick",
    "Ronan",
    "Morgane",
]
# (code, label, weight, share of ADELI rows)
PROFESSIONS = [
    ("60", "Infirmier", 640, 0.35),
    ("10", "Médecin", 235, 0.0),
    ("70", "Masseur-Kinésithérapeute", 100, 0.1),
    ("21", "Pharmacien", 74, 0.0),
    ("40", "Chirurgien-dentiste", 45, 0.0),
    ("28", "Opticien-Lunetier", 40, 1.0),
    ("98", "Manipulateur ERM", 38, 1.0),
    ("91", "Orthophoniste", 27, 0.3),
    ("50", "Sage-Femme", 24, 0.0),
    ("80", "Pédicure-Podologue", 15, 0.2),
    ("94", "Ergothérapeute", 15, 1.0),
    ("96", "Psychomotricien", 14, 1.0),
    ("95", "Diététicien", 12, 1.0),
    ("92", "Orthoptiste", 6, 0.5),
    ("26", "Audioprothésiste", 4, 1.0),
]
SPECIALTIES = [  # doctors' specialties (code, label, weight)
    ("SM54", "Médecine générale (SM)", 45),
    ("SM04", "Cardiologie et maladies vasculaires", 3),
    ("SM02", "Anesthésie-réanimation", 5),
    ("SM15", "Dermatologie et vénéréologie", 2),
    ("SM20", "Gynécologie-obstétrique", 3),
    ("SM38", "Ophtalmologie", 3),
    ("SM40", "Pédiatrie", 4),
    ("SM42", "Psychiatrie", 7),
    ("SM44", "Radio-diagnostic", 4),
    ("SM41", "Pneumologie", 2),
    ("SM24", "Gastro-entérologie et hépatologie", 2),
    ("SM47", "Rhumatologie", 1.5),
    ("SM32", "Neurologie", 1.5),
    ("SM39", "Oto-rhino-laryngologie et chirurgie cervico-faciale", 1.5),
    ("SM12", "Chirurgie orthopédique et traumatologie", 2),
    ("SM16", "Endocrinologie, diabétologie, maladies métaboliques", 1),
    ("SM31", "Néphrologie", 1),
    ("SM59", "Médecine d'urgence", 4),
    ("SM22", "Gériatrie", 2),
    ("SM37", "Oncologie médicale", 1),
    ("SM26", "Médecine interne", 1.5),
]
# (city, postal codes, département code, département label, population weight)
CITIES = [
    ("PARIS", [f"750{i:02d}" for i in range(1, 21)], "75", "Paris", 210),
    ("MARSEILLE", [f"130{i:02d}" for i in range(1, 17)], "13", "Bouches-du-Rhône", 87),
    ("LYON", [f"6900{i}" for i in range(1, 10)], "69", "Rhône", 52),
    ("TOULOUSE", ["31000", "31100", "31200", "31300", "31400", "31500"], "31", "Haute-Garonne", 50),
    ("NICE", ["06000", "06100", "06200", "06300"], "06", "Alpes-Maritimes", 34),
    ("NANTES", ["44000", "44100", "44200", "44300"], "44", "Loire-Atlantique", 32),
    ("STRASBOURG", ["67000", "67100", "67200"], "67", "Bas-Rhin", 29),
    ("MONTPELLIER", ["34000", "34070", "34080", "34090"], "34", "Hérault", 30),
    ("BORDEAUX", ["33000", "33100", "33200", "33300", "33800"], "33", "Gironde", 26),
    ("LILLE", ["59000", "59160", "59260", "59777", "59800"], "59", "Nord", 24),
    ("RENNES", ["35000", "35200", "35700"], "35", "Ille-et-Vilaine", 22),
    ("REIMS", ["51100"], "51", "Marne", 18),
    ("SAINT-ÉTIENNE", ["42000", "42100"], "42", "Loire", 17),
    ("TOULON", ["83000", "83100", "83200"], "83", "Var", 17),
    ("LE HAVRE", ["76600", "76610", "76620"], "76", "Seine-Maritime", 17),
    ("GRENOBLE", ["38000", "38100"], "38", "Isère", 16),
    ("DIJON", ["21000"], "21", "Côte-d'Or", 16),
    ("ANGERS", ["49000", "49100"], "49", "Maine-et-Loire", 15),
    ("NÎMES", ["30000", "30900"], "30", "Gard", 15),
    ("VILLEURBANNE", ["69100"], "69", "Rhône", 15),
    ("CLERMONT-FERRAND", ["63000", "63100"], "63", "Puy-de-Dôme", 15),
    ("AIX-EN-PROVENCE", ["13090", "13100"], "13", "Bouches-du-Rhône", 14),
    ("BREST", ["29200"], "29", "Finistère", 14),
    ("TOURS", ["37000", "37100", "37200"], "37", "Indre-et-Loire", 14),
    ("AMIENS", ["80000", "80080", "80090"], "80", "Somme", 13),
    ("LIMOGES", ["87000", "87100"], "87", "Haute-Vienne", 13),
    ("PERPIGNAN", ["66000", "66100"], "66", "Pyrénées-Orientales", 12),
    ("METZ", ["57000", "57050"], "57", "Moselle", 12),
    ("BESANÇON", ["25000"], "25", "Doubs", 12),
    ("ORLÉANS", ["45000", "45100"], "45", "Loiret", 12),
    ("ROUEN", ["76000", "76100"], "76", "Seine-Maritime", 11),
    ("CAEN", ["14000"], "14", "Calvados", 11),
    ("NANCY", ["54000", "54100"], "54", "Meurthe-et-Moselle", 10),
    ("SAINT-DENIS", ["93200"], "93", "Seine-Saint-Denis", 11),
    ("SAINT-DENIS", ["97400", "97490"], "974", "La Réunion", 15),
    ("ARGENTEUIL", ["95100"], "95", "Val-d'Oise", 11),
    ("ROUBAIX", ["59100"], "59", "Nord", 10),
    ("TOURCOING", ["59200"], "59", "Nord", 10),
    ("DOUAI", ["59500"], "59", "Nord", 6),
    ("SIN-LE-NOBLE", ["59450"], "59", "Nord", 3),
    ("CUINCY", ["59553"], "59", "Nord", 1),
    ("WAZIERS", ["59119"], "59", "Nord", 1),
    ("VALENCIENNES", ["59300"], "59", "Nord", 5),
    ("LENS", ["62300"], "62", "Pas-de-Calais", 5),
    ("ARRAS", ["62000"], "62", "Pas-de-Calais", 5),
    ("AJACCIO", ["20000", "20090"], "2A", "Corse-du-Sud", 5),
    ("BASTIA", ["20200", "20600"], "2B", "Haute-Corse", 4),
    ("FORT-DE-FRANCE", ["97200"], "972", "Martinique", 8),
    ("PAU", ["64000"], "64", "Pyrénées-Atlantiques", 8),
    ("BAYONNE", ["64100"], "64", "Pyrénées-Atlantiques", 5),
    ("LA ROCHELLE", ["17000"], "17", "Charente-Maritime", 8),
    ("ANNECY", ["74000", "74960"], "74", "Haute-Savoie", 13),
    ("AVIGNON", ["84000"], "84", "Vaucluse", 9),
    ("POITIERS", ["86000"], "86", "Vienne", 9),
    ("VALENCE", ["26000"], "26", "Drôme", 6),
    ("COULOMMIERS", ["77120"], "77", "Seine-et-Marne", 2),
    ("LEVALLOIS-PERRET", ["92300"], "92", "Hauts-de-Seine", 6),
    ("BOULOGNE-BILLANCOURT", ["92100"], "92", "Hauts-de-Seine", 12),
    ("VERSAILLES", ["78000"], "78", "Yvelines", 8),
    ("CRÉTEIL", ["94000"], "94", "Val-de-Marne", 9),
    ("L'ISLE-SUR-LA-SORGUE", ["84800"], "84", "Vaucluse", 2),
    ("SAINT-MALO", ["35400"], "35", "Ille-et-Vilaine", 4),
    ("HELFAUT", ["62570"], "62", "Pas-de-Calais", 1),
    ("FLERS-EN-ESCREBIEUX", ["59128"], "59", "Nord", 1),
]
STREETS = [
    "JEAN JAURÈS",
    "DE LA PAIX",
    "DES ÉCOLES",
    "VICTOR HUGO",
    "DU GÉNÉRAL DE GAULLE",
    "PASTEUR",
    "DE LA RÉPUBLIQUE",
    "GAMBETTA",
    "DES LILAS",
    "SAINT-MICHEL",
    "D'AUBY",
    "DU MOULIN",
    "DE L'ÉGLISE",
    "NATIONALE",
    "ÉMILE ZOLA",
    "DES TILLEULS",
    "FOCH",
]
STREET_TYPES = [
    ("R", "Rue"),
    ("AV", "Avenue"),
    ("BD", "Boulevard"),
    ("PL", "Place"),
    ("CHE", "Chemin"),
    ("ALL", "Allée"),
]
ORG_PATTERNS = [
    "CABINET DU DR {last}",
    "CENTRE HOSPITALIER DE {city}",
    "CHU DE {city}",
    "MSP {street}",
    "CABINET INFIRMIER {street}",
    "CENTRE DE SANTÉ {city}",
    "CLINIQUE SAINT-{first}",
    "SELARL {last}",
    "EHPAD LES {street}",
    "PHARMACIE {street}",
    "CABINET MÉDICAL {street}",
    "CPTS GRAND {city}",
]
SITE_COUNTS = [(1, 70), (2, 20), (3, 7), (4, 2), (5, 1)]


def _picker(rng: random.Random, items: list, weights: list[float]):
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    rand = rng.random

    def pick():
        return items[bisect.bisect(cumulative, rand() * total)]

    return pick


class _Population:
    """Draws people and sites from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        self.last = _picker(rng, LAST_NAMES, [1 / (i + 8) for i in range(len(LAST_NAMES))])
        self.first = _picker(rng, FIRST_NAMES, [1 / (i + 20) for i in range(len(FIRST_NAMES))])
        self.profession = _picker(rng, PROFESSIONS, [p[2] for p in PROFESSIONS])
        self.specialty = _picker(rng, SPECIALTIES, [s[2] for s in SPECIALTIES])
        self.city = _picker(rng, CITIES, [c[4] for c in CITIES])
        self.site_count = _picker(rng, [n for n, _ in SITE_COUNTS], [w for _, w in SITE_COUNTS])
        self.structure = 0

    def last_name(self) -> str:
        rand = self.rng.random()
        if rand < 0.08:
            return f"{self.last()}-{self.last()}"
        if rand < 0.12:
            return (
                f"{self.rng.choice(PARTICLES)}{'' if rand < 0.125 else ' '}{self.last()}".replace(
                    "' ", "'"
                )
            )
        if rand < 0.15:
            return f"{self.last()} {self.last()}"
        if rand < 0.55:  # a long tail of rarer names, like the real directory
            return f"{self.last()}{self.rng.choice(['AUD', 'IER', 'OT', 'ET', 'EAU', 'IN', 'ARD', 'ON'])}"
        return self.last()

    def first_name(self) -> str:
        name = self.first()
        if self.rng.random() < 0.3:
            name = name.upper()
        return name

    def site(self, last: str, first: str, mode: tuple[str, str]) -> list[str]:
        rng = self.rng
        city, codes, dep, dep_label, _ = self.city()
        postal = rng.choice(codes)
        street = rng.choice(STREETS)
        org = rng.choice(ORG_PATTERNS).format(
            last=last, city=city, street=street, first=first.upper()
        )
        self.structure += 1
        phone = (
            f"0{rng.randint(1, 5)}{rng.randint(10000000, 99999999)}" if rng.random() < 0.6 else ""
        )
        email = (
            f"{first.lower()}.{last.lower().replace(' ', '')}@example-sante.fr"
            if rng.random() < 0.15
            else ""
        )
        stype = rng.choice(STREET_TYPES)
        finess = (
            f"{dep[:2]}0{rng.randint(100000, 999999)}"
            if "HOSPITALIER" in org or "CHU" in org
            else ""
        )
        siret = f"{rng.randint(10**13, 10**14 - 1)}" if rng.random() < 0.3 else ""
        return [
            mode[0],
            mode[1],
            siret,
            siret[:9],
            finess,
            finess,
            f"R101{self.structure:011d}",
            org,
            org.split(" ", 1)[1] if rng.random() < 0.05 else "",
            "",
            "",
            str(rng.randint(1, 200)),
            "B" if rng.random() < 0.03 else "",
            stype[0],
            stype[1],
            street,
            "",
            f"{postal} {city}",
            postal,
            f"{dep[:2]}{rng.randint(100, 999)}",
            city,
            "99000",
            "France",
            phone,
            "",
            "",
            email,
            dep,
            dep_label,
            "",
            "CNOM/CNOM/CNOM",
            "SA07",
            "Cabinet individuel",
            "",
            "",
        ]


_EMPTY_SITE = [""] * 35


def generate(out: Path, rows: int, *, seed: int = 1, columns: int = 52) -> int:
    """Write an extract of exactly `rows` activity rows to `out`; returns the person count."""
    if columns not in (52, 56):
        raise ValueError("columns must be 52 or 56")
    pop = _Population(seed)
    rng = pop.rng
    header = HEADER_56 if columns == 56 else HEADER_52
    written = persons = 0
    modes = [("L", "Libéral"), ("S", "Salarié"), ("B", "Bénévole"), ("", "")]
    mode_pick = _picker(rng, modes, [55, 40, 1, 4])
    with open(out, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
        handle.write("|".join(header) + "|\n")
        batch: list[str] = []
        while written < rows:
            persons += 1
            code, label, _, adeli_share = pop.profession()
            is_adeli = rng.random() < adeli_share
            last, first = pop.last_name(), pop.first_name()
            woman = rng.random() < 0.6
            if is_adeli:
                ident = f"{rng.randint(1, 95):02d}{persons:07d}"
                kind, nid = "0", "0" + ident
            else:
                ident = luhn_complete(f"10{(persons * 7919 + seed) % 10**8:08d}")
                kind, nid = "8", "8" + ident
            doctor = code in ("10", "40") or (code == "21" and rng.random() < 0.2)
            civ_ex = ("DR", "Docteur") if doctor else ("", "")
            spec = pop.specialty() if code == "10" else None
            person = [
                kind,
                ident,
                nid,
                civ_ex[0],
                civ_ex[1],
                "MME" if woman else "M",
                "Madame" if woman else "Monsieur",
                last,
                first,
                code,
                label,
                "C",
                "Civil",
            ]
            person += ["S", "Spécialité ordinale", spec[0], spec[1]] if spec else ["", "", "", ""]
            count = min(pop.site_count(), rows - written)
            no_site = rng.random() < 0.04
            for _ in range(count):
                mode = mode_pick()
                site = _EMPTY_SITE if no_site else pop.site(last, first, mode)
                if columns == 56:
                    role = ["FON-01", "Titulaire de cabinet", "GENR01", "Activité standard"]
                    line = person + [mode[0], mode[1]] + role + site[2:]
                else:
                    line = person + [mode[0], mode[1]] + site[2:] if not no_site else person + site
                batch.append("|".join(line) + "|\n")
            written += count
            if len(batch) >= 20000:
                handle.writelines(batch)
                batch.clear()
        handle.writelines(batch)
    return persons
