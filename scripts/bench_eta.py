"""bench_eta: does calibration make the ETAs better, honestly measured?

Trips are simulated from a hidden ground-truth speed profile (per road-distance band, not
the default one), with multiplicative noise (lognormal) and a share of outliers (a stop
on the way: the drive takes 2 to 4 times as long). They are split into training and
held-out trips; the calibration (fieldapi.eta.calibration.fit) sees only the training
ones. On the held-out trips, it prints the mean absolute error in minutes of

  the default model, the calibrated model (trained on all the training trips, and on only
  a few of them, to show the shrinkage), and the noise floor: the hidden truth itself.

Exits 1 when the calibrated model is not better than the default one.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapi.eta.calibration import Trip, calibrated_model, fit  # noqa: E402
from fieldapi.eta.model import EtaModel, estimate_minutes, travel_hours  # noqa: E402

HIDDEN_BANDS = ((3.0, 14.0), (15.0, 28.0), (math.inf, 85.0))  # km: km/h


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench_eta", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--trips", type=int, default=600)
    parser.add_argument("--held-out", type=float, default=0.3, help="share of the trips")
    parser.add_argument("--noise", type=float, default=0.15, help="lognormal sigma")
    parser.add_argument("--outliers", type=float, default=0.05, help="share of the trips")
    parser.add_argument("--few", type=int, default=15, help="trips of the small training set")
    parser.add_argument("--seed", type=int, default=15)
    return parser.parse_args(argv)


def true_minutes(distance_m: float, detour: float) -> float:
    return travel_hours(distance_m / 1000 * detour, HIDDEN_BANDS) * 60


def simulate(args: argparse.Namespace, detour: float) -> list[tuple[Trip, float]]:
    """(the observed trip, its noiseless duration)."""
    rng = random.Random(args.seed)
    out = []
    for _ in range(args.trips):
        distance = math.exp(rng.uniform(math.log(400), math.log(45_000)))  # short trips common
        truth = true_minutes(distance, detour)
        observed = truth * math.exp(rng.gauss(0, args.noise))
        if rng.random() < args.outliers:
            observed *= rng.uniform(2, 4)
        out.append((Trip(distance, observed), truth))
    return out


def mae(model: EtaModel, trips: Sequence[Trip]) -> float:
    return sum(abs(estimate_minutes(t.distance_m, model) - t.minutes) for t in trips) / len(trips)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    default = EtaModel(min_minutes=0)
    simulated = simulate(args, default.detour_factor)
    cut = int(len(simulated) * (1 - args.held_out))
    training = [trip for trip, _truth in simulated[:cut]]
    held_out = simulated[cut:]
    held_trips = [trip for trip, _truth in held_out]
    calibrated = calibrated_model(default, fit(training, default))
    few = calibrated_model(default, fit(training[: args.few], default))
    floor = sum(abs(truth - trip.minutes) for trip, truth in held_out) / len(held_out)
    results = {
        "default model": mae(default, held_trips),
        f"calibrated, {args.few} training trips": mae(few, held_trips),
        f"calibrated, {len(training)} training trips": mae(calibrated, held_trips),
        "noise floor (the hidden truth)": floor,
    }
    print(
        f"bench_eta: {args.trips} simulated trips, {len(held_trips)} held out; noise sigma "
        f"{args.noise:g}, {args.outliers:.0%} outliers; hidden km/h by band "
        + ", ".join(f"{'*' if math.isinf(k) else f'{k:g}'}:{v:g}" for k, v in HIDDEN_BANDS)
    )
    print("  fitted km/h by band: " + ", ".join(f"{s:.1f}" for _k, s in calibrated.bands))
    for label, value in results.items():
        print(f"  {label:<38} MAE {value:6.2f} min")
    better = results[f"calibrated, {len(training)} training trips"] < results["default model"]
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
