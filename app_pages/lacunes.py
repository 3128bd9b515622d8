"""Page « Lacunes »: priority territories without a pole, ranked, on a map, downloadable."""

import streamlit as st

from ptce_geo.ui import common, lacunes

st.title("Lacunes : territoires prioritaires sans pôle")
st.caption(
    "Une commune est couverte quand elle est dans le périmètre déclaré d'un pôle ou quand son point "
    "représentatif (sa mairie) est à moins du rayon choisi d'un pôle ; un quartier prioritaire (QPV), quand un "
    "pôle est dans le quartier, à moins du rayon de son contour ou que sa commune est dans un périmètre déclaré. "
    "Classement par population prioritaire, dans l'unité de chaque zonage."
)
common.missing_layers_notice()
lacunes.lacunes_view()
