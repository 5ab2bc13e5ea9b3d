#!/usr/bin/env python3
"""Regenerate api/data/nanp_regions.tsv: each North American area code of
the United States and Canada -> the state or province (ISO 3166-2) its
numbers were assigned in, from Google libphonenumber's English geocoding
data (resources/geocoding/en/1.txt) as shipped in the `phonenumbers` Python
package. An area code whose entries name more than one region lists them
all. Run by hand when updating; the build never downloads.

    python3 -m pip install --target /tmp/pn phonenumbers==9.0.43
    PYTHONPATH=/tmp/pn python3 scripts/gen-nanp-regions.py > api/data/nanp_regions.tsv
"""
import re
import sys

import phonenumbers
from phonenumbers.geodata import GEOCODE_DATA

US = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR",
    "California": "CA", "Colorado": "CO", "Connecticut": "CT",
    "Delaware": "DE", "Washington D.C.": "DC", "Florida": "FL",
    "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY",
    "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH",
    "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD",
    "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington State": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY",
}
CA = {
    "Alberta": "AB", "British Columbia": "BC", "British Colombia": "BC",
    "Manitoba": "MB", "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL", "Nova Scotia": "NS",
    "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC",
    "Saskatchewan": "SK", "Northwest Territories": "NT", "Nunavut": "NU",
    "Yukon": "YT",
}
CA_CODES = set(CA.values())
US_CODES = set(US.values())


def regions(name, country):
    """The ISO 3166-2 codes a geocoding name points at."""
    out = set()
    for part in name.split("/"):
        part = part.strip()
        m = re.search(r", ([A-Z]{2})$", part)
        if m:
            code = m.group(1)
            if country == "CA" and code in CA_CODES:
                out.add("CA-" + code)
            elif country == "US" and code in US_CODES:
                out.add("US-" + code)
        elif country == "US" and part in US:
            out.add("US-" + US[part])
        elif country == "CA" and part in CA:
            out.add("CA-" + CA[part])
    return out


found = {}
for prefix, names in GEOCODE_DATA.items():
    if not prefix.startswith("1") or len(prefix) < 4:
        continue
    area = prefix[1:4]
    # The country an area code belongs to, from a sample number in it.
    country = phonenumbers.region_code_for_number(
        phonenumbers.parse("+1" + area + "2345678")
    )
    if country not in ("US", "CA"):
        continue
    name = names.get("en")
    if not name:
        continue
    found.setdefault(area, set()).update(regions(name, country))

print("# North American area code -> state or province (ISO 3166-2).")
print("# Source: Google libphonenumber, resources/geocoding/en/1.txt,")
print(f"# via the phonenumbers {phonenumbers.__version__} Python package (Apache-2.0).")
print("# Regenerate with scripts/gen-nanp-regions.py.")
for area in sorted(found):
    if found[area]:
        print(f"{area}\t{','.join(sorted(found[area]))}")
    else:
        print(f"unresolved area code {area}", file=sys.stderr)
