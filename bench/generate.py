"""Synthetic, realistic detection data with a fixed seed.

Plates follow state formats; how often a vehicle is re-read follows a heavy-tailed (Zipf-like)
distribution, as real ALPR networks see a few vehicles daily and most once; reads fall on camera
sites spread over a city (Houston's bounding box by default).
"""

import random
import string
from datetime import UTC, datetime, timedelta

STATE_FORMATS = {  # L = letter, D = digit
    "TX": "LLLDDDD",
    "CA": "DLLLDDD",
    "NY": "LLLDDDD",
    "FL": "LLLLDD",
    "LA": "LLLDDD",
    "OK": "LLLDDD",
}
CITY = {"lat": (29.60, 29.95), "lon": (-95.65, -95.15)}
SOURCES = ("flock", "rekor", "motorola-vigilant")
START = datetime(2026, 1, 1, tzinfo=UTC)


class Generator:
    def __init__(self, seed: int = 20260101, vehicles: int = 200_000, cameras: int = 400):
        self.random = random.Random(seed)
        self.plates = [self._plate() for _ in range(vehicles)]
        self.cameras = [
            (f"cam-{i:04d}", round(self.random.uniform(*CITY["lat"]), 5), round(self.random.uniform(*CITY["lon"]), 5))
            for i in range(cameras)
        ]
        # Heavy-tailed (shifted Zipf) weights: over a million reads the busiest vehicles are read a
        # few hundred times (daily commuters past several cameras), most vehicles once or twice.
        self._weights = [1.0 / (k + 1000) for k in range(vehicles)]
        self._cumulative = None
        self._counter = 0

    def _plate(self) -> tuple[str, str]:
        state = self.random.choice(list(STATE_FORMATS))
        chars = [
            self.random.choice(string.ascii_uppercase if c == "L" else string.digits) for c in STATE_FORMATS[state]
        ]
        return "".join(chars), state

    def vehicle(self) -> tuple[str, str]:
        """A plate drawn with heavy-tailed repeat frequency."""
        return self.random.choices(self.plates, cum_weights=self._cum())[0]

    def _cum(self) -> list[float]:
        if self._cumulative is None:
            total, self._cumulative = 0.0, []
            for weight in self._weights:
                total += weight
                self._cumulative.append(total)
        return self._cumulative

    def alpr_alert(self, run: str = "bench") -> dict:
        """One ALPR read as ``POST /api/v1/alerts`` takes it."""
        self._counter += 1
        plate, state = self.vehicle()
        camera, lat, lon = self.random.choice(self.cameras)
        at = START + timedelta(seconds=self.random.randrange(0, 300 * 86400))
        return {
            "source": "alpr",
            "source_system": self.random.choice(SOURCES),
            "source_event_id": f"{run}-{self._counter}",
            "occurred_at": at.isoformat(),
            "location": {"lat": lat, "lon": lon},
            "payload": {
                "plate": plate,
                "plate_state": state,
                "camera_id": camera,
                "confidence": round(self.random.uniform(80, 99.9), 1),
            },
        }
