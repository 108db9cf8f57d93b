"""Every drug of firmware/drugs.json, one step (1 ng, 1 ng/mL, 1 s) each side of each limit, through
the shell: accepted at the limit, refused with its code one step past it (issue 18, limits as data).

"One step" is the resolution each check works in: 1 ng/mL for a concentration, 1 ng for a hard
limit (checked on the dose asked for), one pump step for the soft daily and the pump's bolus
volume (both checked on whole steps), 1 s for a bolus duration. The limits are read from the
library here and restated as shell lines; the firmware's own checks (firmware/therapy/limits.py)
are not called. Both interpreters, every drug.
"""

import json

from therapy_kit import TKit

from firmware.therapy import druglib

DAY_S = 86400
NL_PER_ML = 1000000


def _mcg(ng):
    return "%d.%03dmcg" % (ng // 1000, ng % 1000)


def _lib():
    with open(druglib._path()) as f:
        return json.load(f)


def _ng(text):
    from firmware.therapy.units import parse_mass

    return parse_mass(text)


def _sweep(name):
    lib = _lib()
    e = lib["drugs"][name]
    conc, daily, bolus = (_ng(e[k]["value"]) for k in ("max_conc", "max_daily", "max_bolus"))
    max_rate_nl = _ng_vol(lib["pump"]["max_rate"]["value"])
    max_bolus_nl = _ng_vol(lib["pump"]["max_bolus"]["value"])
    k = TKit(drug=None)
    spm = k.pump.steps_per_ml
    # concentration: the hard maximum is taken, one ng/mL more is not
    assert k.code("rx drug %s %s/mL" % (name, _mcg(conc + 1))) == "E_LIMIT"
    # the pump's volume and rate limits, at a concentration where 1 mL is half the hard bolus
    # (a bolus runs over=60s at the least, so the rate limit is reached only with a large volume);
    k.ok("rx drug %s %s/mL" % (name, _mcg(bolus // 2)))
    k.ok("rx limit max_daily=%s max_bolus=%s" % (_mcg(daily), _mcg(bolus)))
    k.ok("program continuous %s" % _mcg(daily // 10))
    k.ok("program confirm")
    k.ok("start")
    assert (
        k.code("bolus %d.%06dmL over=10m override" % divmod(max_bolus_nl + NL_PER_ML // spm, NL_PER_ML))
        == "E_LIMIT"
    ), name
    steps = max_bolus_nl * spm // NL_PER_ML
    dur = 60
    while (steps * DAY_S + dur - 1) // dur * NL_PER_ML > max_rate_nl * spm:
        dur += 1
    assert dur > 60, name  # the limit lies inside the durations a bolus may take
    one = "%d.%06dmL" % divmod(max_bolus_nl, NL_PER_ML)
    assert k.code("bolus %s over=%ds override" % (one, dur - 1)) == "E_LIMIT", name
    k.ok("bolus %s over=%ds override" % (one, dur))
    # the drug's own limits on a fresh pump: the 1 mL above fills its window, and its line
    # would hold the weaker drug
    k = TKit(drug=None)
    k.ok("rx drug %s %s/mL" % (name, _mcg(conc)))
    # soft limits: at most the hard ones
    assert k.code("rx limit max_daily=%s" % _mcg(daily + 1)) == "E_LIMIT"
    assert k.code("rx limit max_bolus=%s" % _mcg(bolus + 1)) == "E_LIMIT"
    k.ok("rx limit max_daily=%s max_bolus=%s" % (_mcg(daily), _mcg(bolus)))
    # hard daily: no override past it
    assert k.code("program continuous %s" % _mcg(daily + 1)) == "E_LIMIT", name
    k.ok("program continuous %s" % _mcg(daily))
    k.ok("program confirm")
    # soft daily at half the hard one: at it confirms plainly, one pump step over needs override
    # (the soft check counts the program's whole steps, so 1 ng over rounds back onto it)
    assert conc % spm == 0, name  # a whole number of ng a step: the soft limit sits on a step
    step_ng = conc // spm
    soft = daily // 2 // step_ng * step_ng
    k.ok("rx limit max_daily=%s max_bolus=%s" % (_mcg(soft), _mcg(bolus // 2)))
    k.ok("program continuous %s" % _mcg(soft + step_ng))
    assert k.code("program confirm") == "E_CONFIRM", name
    k.ok("program continuous %s" % _mcg(soft))
    k.ok("program confirm")
    k.ok("start")
    # boluses: soft max_bolus (E_CONFIRM without override), hard max_bolus (E_LIMIT with it)
    sb = bolus // 2
    assert k.code("bolus %s" % _mcg(sb + 1)) == "E_CONFIRM", name
    assert k.code("bolus %s override" % _mcg(bolus + 1)) == "E_LIMIT", name
    k.ok("bolus %s" % _mcg(sb))
    k.ok("stop")


def _ng_vol(text):
    from firmware.therapy.units import parse_amount

    kind, v = parse_amount(text)
    assert kind == "nl"
    return v


def test_the_library_has_drugs_to_sweep():
    assert len(_lib()["drugs"]) >= 8


def test_morphine():
    _sweep("morphine")


def test_hydromorphone():
    _sweep("hydromorphone")


def test_fentanyl():
    _sweep("fentanyl")


def test_sufentanil():
    _sweep("sufentanil")


def test_bupivacaine():
    _sweep("bupivacaine")


def test_clonidine():
    _sweep("clonidine")


def test_ziconotide():
    _sweep("ziconotide")


def test_baclofen():
    _sweep("baclofen")


def test_every_drug_of_the_library_is_swept():
    names = sorted(_lib()["drugs"])
    swept = sorted(n[5:] for n in globals() if n.startswith("test_") and n[5:] in names)
    assert swept == names, names  # a drug added to the library needs its test here
