"""The dispatcher console at /app/ and the API reference at /docs, served by the API process."""
