"""The drug library: every drug and pump value present, cited, parsed to integers; unknown drugs refused."""

import json

import tmpname

from firmware.errors import PumpError
from firmware.therapy import druglib

REQUIRED = (
    "morphine",
    "hydromorphone",
    "fentanyl",
    "sufentanil",
    "bupivacaine",
    "clonidine",
    "ziconotide",
    "baclofen",
)


def _code(f, *a):
    try:
        f(*a)
    except PumpError as e:
        return e.code
    return None


def test_every_required_drug_loads_with_cited_limits():
    names = druglib.names()
    for n in REQUIRED:
        assert n in names, n
        d = druglib.load(n)
        assert d.max_conc > 0 and d.max_daily > 0 and d.max_bolus > 0
        assert d.max_bolus < d.max_daily, n
        for k in druglib.FIELDS:
            assert len(d.sources[k]) > 10, (n, k)


def test_sources_name_pacc_or_label_and_ranges_cite_their_top():
    with open(druglib._path()) as f:
        lib = json.load(f)["drugs"]
    for n, entry in lib.items():
        for k in druglib.FIELDS:
            src = entry[k]["source"]
            assert "PACC 2017" in src or "label" in src, (n, k, src)
            if "-" in src.split("(")[0] and "trial" not in src and "maintenance" not in src:
                continue
            if "range" in src:
                assert "top of range" in src, (n, k, src)


def test_spec_values():
    assert druglib.load("morphine").max_daily == 15000000  # 15 mg in ng (SPEC 4)
    assert druglib.load("ziconotide").max_daily == 19200  # 19.2 mcg, parsed without float
    assert druglib.load("bupivacaine").max_daily == 20000000  # 15-20 mg: the top, cited as such


def test_pump_wide_limits():
    pl = druglib.pump_limits()
    assert pl.max_bolus_nl == 1000000 and pl.max_rate_nl > pl.max_bolus_nl
    for k in ("max_rate", "max_bolus", "max_prime"):
        assert pl.sources[k]


def test_unknown_drug_refused():
    assert _code(druglib.load, "aspirin") == "E_LIMIT"
    assert _code(druglib.load, "") == "E_LIMIT"


def test_drug_without_defensible_limit_refused():
    path = tmpname.path("_itpump_druglib_test") + ".json"
    lib = {
        "pump": {"max_rate": {"value": "1mL", "source": "x"}},
        "drugs": {
            "nolimit": {
                "max_conc": {"value": "10mg", "source": "PACC 2017 max concentration"},
                "max_daily": {"value": None, "source": "PACC 2017: no known upper limit"},
                "max_bolus": {"value": "1mg", "source": "PACC 2017 trial bolus"},
            },
            "uncited": {
                "max_conc": {"value": "10mg", "source": ""},
                "max_daily": {"value": "1mg", "source": "PACC 2017"},
                "max_bolus": {"value": "1mg", "source": "PACC 2017"},
            },
        },
    }
    with open(path, "w") as f:
        f.write(json.dumps(lib))
    assert _code(druglib.load, "nolimit", path) == "E_LIMIT"
    assert _code(druglib.load, "uncited", path) == "E_LIMIT"
