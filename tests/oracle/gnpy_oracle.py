#!/usr/bin/env python3
"""GNPy as the oracle for Strata's optical model.

Reads JSON routes on stdin: [{"name", "spans_km": [...], "loss_db_per_km",
"nf_db", "launch_dbm", "tx_dbm", "tx_osnr_db", "baud_hz", "channels"}] and
prints, per route, GNPy's worst-channel GSNR (0.1 nm) over a fully loaded
75 GHz band, plus the ASE-only OSNR, on stdout as JSON.

Fibers are GNPy `Fiber` elements (its NLI solver, default method
'gn_model_analytic', no Raman). Amplifiers are flat-gain, flat-NF EDFAs: the
noise GNPy's `Edfa.propagate` adds (h*f*B*NF at the input) and a gain equal
to the span loss, applied to GNPy's own SpectralInformation, because GNPy's
Edfa needs a whole equipment library for what is here a constant NF.
"""
import json
import sys

from numpy import min as npmin, log10
from scipy.constants import h

from gnpy.core.elements import Fiber
from gnpy.core.info import create_input_spectral_information
from gnpy.core.utils import db2lin, lin2db


def route_gsnr(r):
    n = r["channels"]
    f_min = 191.3e12
    si = create_input_spectral_information(
        f_min=f_min, f_max=f_min + (n - 1) * 75e9, roll_off=0.0, baud_rate=r["baud_hz"],
        spacing=75e9, tx_osnr=r["tx_osnr_db"], tx_power=1e-3 * db2lin(r["tx_dbm"]))
    nf = db2lin(r["nf_db"])

    def amp(si, gain_db):
        si.add_ase(h * si.baud_rate * si.frequency * nf)
        si.apply_gain_db(gain_db)

    # booster: from the transceiver's power to the line's launch power
    amp(si, r["launch_dbm"] - r["tx_dbm"])
    for i, span in enumerate(r["spans_km"]):
        fiber = Fiber(uid=f"{r['name']}-{i}", params={
            "length": span, "length_units": "km", "loss_coef": r["loss_db_per_km"],
            "con_in": 0, "con_out": 0, "att_in": 0,
            "dispersion": 1.67e-5, "effective_area": 83e-12, "pmd_coef": 1.265e-15})
        # bookkeeping GNPy's network builder normally fills in
        fiber.ref_pch_in_dbm = r["launch_dbm"]
        si = fiber(si)
        amp(si, span * r["loss_db_per_km"])
    b = si.baud_rate
    ratio01 = lin2db(b / 12.5e9)
    gsnr = si.gsnr_db  # in the signal bandwidth
    tx_nsr = db2lin(-r["tx_osnr_db"]) * b / 12.5e9
    gsnr_tx = -lin2db(db2lin(-gsnr) + tx_nsr) + ratio01
    ase = si.snr_lin_db + ratio01
    return {"name": r["name"], "gsnr_db": float(npmin(gsnr_tx)),
            "ase_osnr_db": float(npmin(ase))}


def main():
    routes = json.load(sys.stdin)
    json.dump([route_gsnr(r) for r in routes], sys.stdout)


if __name__ == "__main__":
    main()
