#!/usr/bin/python3
"""Development check of knowledge-base list files (data/kb/lists/*.tsv) with Debian's python3-rdkit.

    /usr/bin/python3 scripts/kb_check.py [FILE...]      (default: every list file)

For each row: the SMILES parses; the formula written in the row equals the formula of the SMILES;
mono_mass equals the monoisotopic mass of that formula (to 0.001); the row's name or a synonym that
matches a SWGDRUG entry (case-insensitive, ignoring a trailing salt word) has the same formula there.
The authoritative check is the C++ test (which also compares InChIKeys); this one is for authors.
"""
import csv, glob, os, re, sys
from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors, Descriptors

RDLogger.DisableLog("rdApp.*")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["name", "synonyms", "cas", "smiles", "formula", "mono_mass", "schedule", "status",
           "in_force", "citation"]
HEADER_KEYS = {"jurisdiction", "instrument", "source", "licence", "short"}
SALT = re.compile(r"\s+(hcl|hydrochloride|hbr|hydrobromide|citrate|oxalate|fumarate|sulfate|"
                  r"tartrate|maleate|phosphate|base)$", re.I)


def norm(name):
    return SALT.sub("", name.strip().lower())


def swgdrug_formulas():
    path = os.path.join(ROOT, "..", "shared", "data", "spectra", "swgdrug-3.4.msp")
    out = {}
    name = None
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("Name:"):
                name = norm(line[5:])
            elif line.startswith("Formula:") and name:
                out.setdefault(name, line[8:].strip())
    return out


def mono_mass_of_formula(formula):
    m = Chem.MolFromSmiles("")
    table = Chem.GetPeriodicTable()
    total = 0.0
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        iso = table.GetMostCommonIsotope(el)
        total += table.GetMassForIsotope(el, iso) * (int(n) if n else 1)
    return total


def check(path, swg):
    errors = 0
    rows = 0
    header = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    body = []
    for i, line in enumerate(lines, 1):
        if line.startswith("#"):
            m = re.match(r"#\s*(\w+):\s*(.*)", line)
            if m and m.group(1) in HEADER_KEYS:
                header[m.group(1)] = m.group(2)
            continue
        if line.strip():
            body.append((i, line))
    missing = HEADER_KEYS - header.keys()
    if missing:
        print(f"{path}: header lacks {sorted(missing)}")
        errors += 1
    if not body or body[0][1].split("\t") != COLUMNS:
        print(f"{path}: first non-comment line must be the column names: {' '.join(COLUMNS)}")
        return errors + 1
    for lineno, line in body[1:]:
        rows += 1
        cells = line.split("\t")
        where = f"{path}:{lineno}"
        if len(cells) != len(COLUMNS):
            print(f"{where}: {len(cells)} cells, want {len(COLUMNS)}")
            errors += 1
            continue
        r = dict(zip(COLUMNS, cells))
        mol = Chem.MolFromSmiles(r["smiles"])
        if mol is None:
            print(f"{where}: {r['name']}: SMILES does not parse: {r['smiles']}")
            errors += 1
            continue
        formula = rdMolDescriptors.CalcMolFormula(mol)
        if formula != r["formula"]:
            print(f"{where}: {r['name']}: formula column {r['formula']} but SMILES gives {formula}")
            errors += 1
        try:
            if abs(float(r["mono_mass"]) - mono_mass_of_formula(r["formula"])) > 0.001:
                print(f"{where}: {r['name']}: mono_mass {r['mono_mass']} but formula gives "
                      f"{mono_mass_of_formula(r['formula']):.4f}")
                errors += 1
        except ValueError:
            print(f"{where}: {r['name']}: mono_mass is not a number")
            errors += 1
        if r["status"] not in ("controlled", "precursor"):
            print(f"{where}: {r['name']}: status must be controlled or precursor")
            errors += 1
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["in_force"]):
            print(f"{where}: {r['name']}: in_force must be YYYY-MM-DD")
            errors += 1
        if r["cas"] and not re.fullmatch(r"\d{2,7}-\d\d-\d", r["cas"]):
            print(f"{where}: {r['name']}: CAS {r['cas']} is malformed")
            errors += 1
        elif r["cas"]:
            digits = r["cas"].replace("-", "")
            check_digit = sum(int(d) * (i + 1) for i, d in enumerate(reversed(digits[:-1]))) % 10
            if check_digit != int(digits[-1]):
                print(f"{where}: {r['name']}: CAS {r['cas']} fails its check digit")
                errors += 1
        for n in [r["name"]] + [s for s in r["synonyms"].split("|") if s]:
            sf = swg.get(norm(n))
            if sf and sf != formula:
                print(f"{where}: {r['name']}: SWGDRUG '{n}' has formula {sf}, SMILES gives {formula}")
                errors += 1
                break
    print(f"{path}: {rows} rows, {errors} problems")
    return errors


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "data", "kb", "lists", "*.tsv")))
    swg = swgdrug_formulas()
    total = sum(check(p, swg) for p in files)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
