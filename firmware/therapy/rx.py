"""Prescription changes: the drug, the catheter, and what a refill put in the reservoir.

Imported at the first `rx drug`, `rx catheter` or refill, not at boot (each import costs the Pico
tens of ms of the 2 s of SPEC 8); the state stays on the therapy service (firmware/therapy/service.py).
"""

from firmware.errors import E_STATE, PumpError
from firmware.pump import STOPPED
from firmware.therapy import druglib, limits
from firmware.therapy.units import parse_conc


def set_drug(t, name, conc_text, who, confirm=False):
    drug = druglib.load(name)
    conc, unit = parse_conc(conc_text)
    limits.check_conc(drug, conc, unit)
    if t.pump.state not in (STOPPED,):
        raise PumpError(E_STATE, "stop the pump before changing the drug (a refill changes concentration)")
    if t.drug is not None and t.drug.name == drug.name:
        from firmware.therapy.boluses import conc_slip  # the same drug again: a slip?

        conc_slip(t, conc, unit, confirm)
    if t.drug is not None and t.conc != conc:
        t.note_conc(conc)
    t.drug, t.conc, t.unit = drug, conc, unit
    t.soft_daily, t.soft_bolus = drug.max_daily, drug.max_bolus
    t.ptm_dose = 0
    t.clear_pending("drug")
    t.drop_program("drug changed")
    t.stamp(who)
    t.pump.event("rx_drug", drug=name, conc=conc, unit=unit)


def refilled(t, left_nl=0, added_nl=0, conc=None):
    """A refill was confirmed: priming may fill the line again. The reservoir holds what the
    refill added (`conc`, None: the same drug) and what the withdrawal left (`left_nl`) of
    the drug before it, or of a cancelled refill's: where that was stronger, the mixture is
    what the governor values from here (the line still by what went in)."""
    t.primed_nl = 0
    old = t.conc if t.conc > t.suspect_conc else t.suspect_conc
    new = conc if conc is not None else t.conc
    mix = 0
    n = left_nl + added_nl
    if left_nl > 0 and old > new:
        mix = (left_nl * old + added_nl * new + n - 1) // n
    t.suspect_conc = mix if mix > new else 0
    if t.suspect_conc:
        t.pump.event("refill_mixed", left_nl=left_nl, conc=t.suspect_conc)


def stage_conc(t, conc):
    """`refill add` took a drug of `conc`: until a refill is confirmed, it may be in there."""
    if conc > t.suspect_conc and conc != t.conc:
        t.suspect_conc = conc


def set_catheter(t, nl, who):
    if nl != t.catheter_nl:
        t.primed_nl = 0  # a new catheter volume is primed anew; the same one typed again is not
    t.catheter_nl = nl
    t.stamp(who)
    t.pump.event("rx_catheter", nl=nl)
