"""Hello Streamlit: a small but real app used as the collection's example.

A cached data load, a widget and a chart. It reads an optional greeting from
``st.secrets`` so a deploy can show that secrets reach the app without printing them.
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

APP_VERSION = "v1"


@st.cache_data
def load_data(rows: int, seed: int = 42) -> pd.DataFrame:
    """Simulate an expensive load: a random walk per city, cached per argument."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    frames = [
        pd.DataFrame({"day": days, "city": city, "temperature": 10 + rng.normal(0, 1, rows).cumsum()})
        for city in ("Lisbon", "Oslo", "Tunis")
    ]
    return pd.concat(frames, ignore_index=True)


st.set_page_config(page_title="Hello Streamlit", page_icon=":wave:")
st.title("Hello Streamlit")
st.caption(f"Release {APP_VERSION}")

rows = st.slider("Days of data", min_value=30, max_value=365, value=90, step=15)
data = load_data(rows)
cities = st.multiselect("Cities", sorted(data["city"].unique()), default=["Lisbon", "Oslo"])
shown = data[data["city"].isin(cities)]

chart = (
    alt.Chart(shown)
    .mark_line()
    .encode(x="day:T", y=alt.Y("temperature:Q", title="Temperature (°C)"), color="city:N")
    .properties(height=320)
)
st.altair_chart(chart, width="stretch")
st.dataframe(shown.groupby("city")["temperature"].describe())

try:
    has_greeting = "greeting" in st.secrets
except StreamlitSecretNotFoundError:
    has_greeting = False
if has_greeting:
    st.success("A greeting is configured in the app's secrets.")
