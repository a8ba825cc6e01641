"""Declared models of every input and response body (see `app.schemas.base`)."""
