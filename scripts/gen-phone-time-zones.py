#!/usr/bin/env python3
"""Regenerate api/data/phone_time_zones.tsv from Google's libphonenumber
time-zone map (timezones/map_data.txt), as shipped in the `phonenumbers`
Python package. Run by hand when updating; the build never downloads.

    python3 -m pip install --target /tmp/pn phonenumbers==9.0.43
    PYTHONPATH=/tmp/pn python3 scripts/gen-phone-time-zones.py > api/data/phone_time_zones.tsv
"""
import phonenumbers
from phonenumbers.tzdata import TIMEZONE_DATA

print(f"# Phone-number prefix -> IANA time zones (longest prefix wins).")
print(f"# Source: Google libphonenumber, resources/timezones/map_data.txt,")
print(f"# via the phonenumbers {phonenumbers.__version__} Python package (Apache-2.0).")
print(f"# Regenerate with scripts/gen-phone-time-zones.py.")
for prefix in sorted(TIMEZONE_DATA, key=lambda p: (len(p), p)):
    zones = TIMEZONE_DATA[prefix]
    if zones == ("Etc/Unknown",):
        continue
    print(f"{prefix}\t{','.join(zones)}")
