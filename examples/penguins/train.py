"""Train the classifier on a few Palmer Penguins measurements and pickle it to model.pkl.

python train.py    # rewrites model.pkl (the app loads it at start)
"""

from __future__ import annotations

import pickle
from pathlib import Path

from model import NearestCentroid

# (bill length, bill depth, flipper length, body mass), species: rows of the Palmer Penguins data.
SAMPLES = [
    ((39.1, 18.7, 181, 3750), "Adelie"),
    ((39.5, 17.4, 186, 3800), "Adelie"),
    ((40.3, 18.0, 195, 3250), "Adelie"),
    ((36.7, 19.3, 193, 3450), "Adelie"),
    ((38.9, 17.8, 181, 3625), "Adelie"),
    ((46.5, 17.9, 192, 3500), "Chinstrap"),
    ((50.0, 19.5, 196, 3900), "Chinstrap"),
    ((51.3, 19.2, 193, 3650), "Chinstrap"),
    ((45.4, 18.7, 188, 3525), "Chinstrap"),
    ((52.7, 19.8, 197, 3725), "Chinstrap"),
    ((46.1, 13.2, 211, 4500), "Gentoo"),
    ((50.0, 16.3, 230, 5700), "Gentoo"),
    ((48.7, 14.1, 210, 4450), "Gentoo"),
    ((50.0, 15.2, 218, 5700), "Gentoo"),
    ((47.6, 14.5, 215, 5400), "Gentoo"),
]


def main() -> None:
    model = NearestCentroid.fit([row for row, _label in SAMPLES], [label for _row, label in SAMPLES])
    Path(__file__).with_name("model.pkl").write_bytes(pickle.dumps(model, protocol=4))


if __name__ == "__main__":
    main()
