"""Penguins: a trained model, pickled with the app, loaded once at start, used on every rerun.

The shape of the classic "penguin classifier" app: the model file ships with the code, the
app unpickles it when it starts (cached for every session) and predicts from four sliders.
"""

import pickle
from pathlib import Path

import streamlit as st
from model import NearestCentroid

MODEL_FILE = Path(__file__).with_name("model.pkl")


@st.cache_resource
def load_model() -> NearestCentroid:
    # The app's own file, shipped with its code: the only pickle it ever loads.
    with MODEL_FILE.open("rb") as handle:
        return pickle.load(handle)


model = load_model()
st.set_page_config(page_title="Penguin classifier", page_icon=":penguin:")
st.title("Penguin classifier")
st.caption(f"Model: {type(model).__name__} over {len(model.centroids)} species, loaded from {MODEL_FILE.name}")

bill_length = st.slider("Bill length (mm)", 30.0, 60.0, 48.0)
bill_depth = st.slider("Bill depth (mm)", 13.0, 22.0, 15.0)
flipper_length = st.slider("Flipper length (mm)", 170.0, 235.0, 220.0)
body_mass = st.slider("Body mass (g)", 2700.0, 6300.0, 5200.0)

species = model.predict((bill_length, bill_depth, flipper_length, body_mass))
st.subheader(f"Predicted species: {species}")
