"""The website: a Flask app factory over the compiled store, with Plotly figures."""
