"""The Streamlit dashboard: a router (``app.py``), thin pages, one cached data module, login and roles."""
