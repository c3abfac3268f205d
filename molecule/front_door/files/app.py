"""The scenario's Streamlit app: a widget whose answer only the websocket delivers, and an upload."""

import streamlit as st

st.title("Front door test app")
number = st.number_input("Number", value=1, step=1)
st.write(f"Doubled: {number * 2}")
st.write(f"Forwarded proto: {st.context.headers.get('X-Forwarded-Proto', 'none')}")
upload = st.file_uploader("Upload a file")
if upload is not None:
    st.write(f"Received {len(upload.getvalue())} bytes")
