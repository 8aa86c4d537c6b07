#!/usr/bin/env python3
"""GNPy as the oracle for Strata's optical model.

Reads JSON routes on stdin:

  [{"name", "tx_dbm", "tx_osnr_db", "baud_hz", "channels",
    "fibers": [{"spans_km": [...], "loss_db_per_km", "dispersion_s_m2",
                "effective_area_m2", "pmd_coef_s_sqrt_m", "nf_db",
                "launch_dbm", "con_out_db"}, ...]}]

and prints, per route, what GNPy computes for a fully loaded 75 GHz band
(every channel at the route's baud rate): the worst channel's GSNR in 0.1 nm
with the transmitter's noise added, its ASE-only OSNR, and the largest
accumulated chromatic dispersion (ps/nm) and PMD (ps) over the channels.

Fibers are GNPy `Fiber` elements (its NLI solver, default method
'gn_model_analytic', no Raman); `con_out_db` is loss after each span
(connectors and the end-of-life allowance). Amplifiers are flat-gain,
flat-NF EDFAs: the noise GNPy's `Edfa.propagate` adds (h*f*B*NF at its
input) and a gain restoring the fiber's launch power, applied to GNPy's own
SpectralInformation, because GNPy's Edfa needs a whole equipment library for
what is here a constant NF. The first amplifier is the booster, from the
transceiver's power to the first fiber's launch power; a route's fibers
follow each other with no loss between them (an ideal express path).
"""
import json
import sys

from numpy import abs as npabs, max as npmax, min as npmin
from scipy.constants import h

from gnpy.core.elements import Fiber
from gnpy.core.info import create_input_spectral_information
from gnpy.core.utils import db2lin, lin2db


def amplify(si, nf_db, gain_db):
    si.add_ase(h * si.baud_rate * si.frequency * db2lin(nf_db))
    si.apply_gain_db(gain_db)


def route_result(r):
    n = r["channels"]
    f_min = 191.3e12
    si = create_input_spectral_information(
        f_min=f_min, f_max=f_min + (n - 1) * 75e9, roll_off=0.0, baud_rate=r["baud_hz"],
        spacing=75e9, tx_osnr=r["tx_osnr_db"], tx_power=1e-3 * db2lin(r["tx_dbm"]))
    first = r["fibers"][0]
    amplify(si, first["nf_db"], first["launch_dbm"] - r["tx_dbm"])
    level = first["launch_dbm"]
    for k, f in enumerate(r["fibers"]):
        # line amplifiers hold each fiber at its own launch power
        si.apply_gain_db(f["launch_dbm"] - level)
        level = f["launch_dbm"]
        for i, span in enumerate(f["spans_km"]):
            fiber = Fiber(uid=f"{r['name']}-{k}-{i}", params={
                "length": span, "length_units": "km", "loss_coef": f["loss_db_per_km"],
                "con_in": 0, "con_out": f["con_out_db"], "att_in": 0,
                "dispersion": f["dispersion_s_m2"], "effective_area": f["effective_area_m2"],
                "pmd_coef": f["pmd_coef_s_sqrt_m"]})
            # bookkeeping GNPy's network builder normally fills in
            fiber.ref_pch_in_dbm = level
            si = fiber(si)
            amplify(si, f["nf_db"], span * f["loss_db_per_km"] + f["con_out_db"])
    b = si.baud_rate
    ratio01 = lin2db(b / 12.5e9)
    gsnr = si.gsnr_db  # in the signal bandwidth, ASE + NLI
    tx_nsr = db2lin(-r["tx_osnr_db"]) * b / 12.5e9
    gsnr_tx = -lin2db(db2lin(-gsnr) + tx_nsr) + ratio01
    ase = si.snr_lin_db + ratio01
    return {
        "name": r["name"],
        "gsnr_db": float(npmin(gsnr_tx)),
        "ase_osnr_db": float(npmin(ase)),
        # s/m → ps/nm is ×1e3; s → ps is ×1e12
        "cd_ps_nm": float(npmax(npabs(si.chromatic_dispersion))) * 1e3,
        "pmd_ps": float(npmax(si.pmd)) * 1e12,
    }


def main():
    routes = json.load(sys.stdin)
    json.dump([route_result(r) for r in routes], sys.stdout)


if __name__ == "__main__":
    main()
